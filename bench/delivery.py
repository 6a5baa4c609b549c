"""Putting a corpus into a mailbox, fast: this is setup, not the measurement.

Messages go in over IMAP APPEND, the one way all servers accept. With MULTIAPPEND and
LITERAL+ (RFC 3502, RFC 7888) a whole batch is one command with no waits; without them each
message costs a command and a continuation. TCP_NODELAY (in the access layer) keeps a
literal split over two writes from stalling on the server's delayed ACK.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Iterator

from bench.access import AccessOptions, Endpoint, WireMeter
from bench.access.imap import INBOX, ImapAccess

BATCH = 100


@dataclass
class DeliveryReport:
    messages: int
    bytes: int
    seconds: float

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def _chunks(messages: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    iterator = iter(messages)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _multiappend(access: ImapAccess, messages: list[bytes]) -> None:
    """One ``APPEND INBOX {n+} msg {n+} msg ...`` (RFC 3502 with RFC 7888 literals), sent in
    one write: no continuation to wait for. (IMAPClient.multiappend puts two spaces between
    literals, which Cyrus refuses.)"""
    imap = access.client._imap
    tag = imap._new_tag()
    parts = [tag + b" APPEND " + INBOX.encode()]
    for raw in messages:
        parts.append(b" {%d+}\r\n" % len(raw) + raw)
    imap.send(b"".join(parts) + b"\r\n")
    typ, data = imap._command_complete("APPEND", tag)
    if typ != "OK":
        raise RuntimeError(f"MULTIAPPEND refused: {typ} {data!r}")


def deliver(endpoint: Endpoint, messages: Iterable[bytes]) -> DeliveryReport:
    """APPEND every message to the INBOX of ``endpoint``'s user, in order."""
    start = time.perf_counter()
    count = size = 0
    with ImapAccess(endpoint, WireMeter(), AccessOptions()) as access:
        batched = {"MULTIAPPEND", "LITERAL+"} <= access.capabilities
        for chunk in _chunks(messages, BATCH if batched else 1):
            if batched:
                _multiappend(access, chunk)
            else:
                access.client.append(INBOX, chunk[0])
            count += len(chunk)
            size += sum(len(raw) for raw in chunk)
    return DeliveryReport(count, size, time.perf_counter() - start)
