"""What a fault cost: messages lost, duplicated or left partial, counted from what is really
there after it.

Three independent readings go in, each as digests of the canonical message (as
``bench.corpus.truth`` makes them): the **truth** (what was delivered), what is **on the
server** (read straight from the server), and what the **device** holds: its whole messages
and the files it left unfinished. The counts:

- ``lost``: delivered messages that are neither on the server nor whole on the device;
- ``duplicated``: extra whole copies on the device (two files with the same message);
- ``partial``: files on the device that are not a delivered message: unfinished downloads
  (Maildir ``tmp/``) and finished files whose bytes match nothing delivered (truncated or
  altered);
- ``on_server`` / ``on_device``: delivered messages found there (each counted once).

A message delivered twice (user mail has duplicates) is two messages: the counts work on
multisets.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from bench.corpus.canonical import canonical


def digest(raw: bytes) -> bytes:
    """The digest every reading uses: SHA-256 of the canonical message."""
    return hashlib.sha256(canonical(raw)).digest()


@dataclass(frozen=True)
class LossCount:
    delivered: int
    lost: int
    duplicated: int
    partial: int
    on_server: int
    on_device: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def count_losses(truth: Iterable[bytes], server: Iterable[bytes], device: Iterable[bytes],
                 unfinished: int = 0) -> LossCount:
    """Count from digests: ``truth``, ``server`` and ``device`` (whole files) are iterables
    of digests; ``unfinished`` is the number of files the device never finished."""
    delivered = Counter(truth)
    on_server = Counter(server) & delivered
    whole = Counter(device)
    known = whole & delivered  # at most as many copies as were delivered
    duplicated = sum(count - delivered[key] for key, count in whole.items() if key in delivered and count > delivered[key])
    strangers = sum(count for key, count in whole.items() if key not in delivered)
    # Copies of one message cannot be told apart: a copy is safe while the server or the
    # device holds as many as were delivered.
    lost = sum(max(0, count - max(on_server[key], known[key])) for key, count in delivered.items())
    return LossCount(
        delivered=sum(delivered.values()),
        lost=lost,
        duplicated=duplicated,
        partial=unfinished + strangers,
        on_server=sum(on_server.values()),
        on_device=sum(known.values()),
    )
