"""A client device: its own local store, and the sync policy of its mode.

The store is a Maildir on disk: each message is written to ``tmp/`` and renamed into
``cur/`` when complete, so a message is either wholly on the device or not at all, and
the device never holds more than one batch of messages in memory.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from bench.access import MailAccess, Part
from bench.modes import Mode


class DeviceStore:
    """A Maildir of whole messages, one file each, named after the server's message id."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _filename(message_id: str) -> str:
        return hashlib.sha1(message_id.encode()).hexdigest()[:20] + ":2,"

    def put(self, message_id: str, raw: bytes) -> None:
        name = self._filename(message_id)
        partial = self.root / "tmp" / name
        with open(partial, "wb") as out:
            out.write(raw)
        os.replace(partial, self.root / "cur" / name)

    def __len__(self) -> int:
        return sum(1 for _ in (self.root / "cur").iterdir())

    def __iter__(self) -> Iterator[bytes]:
        for path in sorted((self.root / "cur").iterdir()):
            yield path.read_bytes()

    def bytes_stored(self) -> int:
        return sum(path.stat().st_size for path in (self.root / "cur").iterdir())


@dataclass
class SyncReport:
    messages: int
    message_bytes: int


class Device:
    """One client (a phone, a laptop) syncing one mailbox in one mode."""

    def __init__(self, name: str, mode: Mode, store: DeviceStore) -> None:
        self.name = name
        self.mode = mode
        self.store = store
        self._token: Any = None

    def sync(self, access: MailAccess, part: Part = "full") -> SyncReport:
        """Fetch what is new since this device's last sync; delete it after, in a delete mode."""
        listing = access.list_messages(self._token)
        count = size = 0
        for ref, raw in access.fetch(listing.refs, part):
            self.store.put(ref.id, raw)
            count += 1
            size += len(raw)
        if self.mode.delete_after_fetch:
            access.delete(listing.refs)
        self._token = listing.token
        return SyncReport(count, size)
