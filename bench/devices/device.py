"""A client device: its own local store, and the sync policy of its mode.

The store is a Maildir on disk: each message is written to ``tmp/`` and renamed into
``cur/`` when complete, so a message is either wholly on the device or not at all, and
the device never holds more than one batch of messages in memory.

Two kinds of device:

- ``Device``: downloads what is new (bulk-fetch), deleting it after in a delete mode; or
  finds the messages whose Subject contains a term and keeps those (``search``).
- ``SyncDevice``: keeps a mailbox over time, as phones and laptops do: a local state
  beside the Maildir (SQLite: each message's folder, read and flagged states), a caching
  policy (whole messages, headers only, or nothing: online only), a queue of the actions
  taken on the device, sent at its next session (with conflicts counted), and the
  protocol's way of listing changes (IMAP: QRESYNC, CONDSTORE or a full listing; POP3:
  UIDL). It never asks which protocol it speaks: the access reads out its protocol's record
  (``bench.protocols``: ``keeps_flags``, ``has_folders``, ``mirrors_mailbox``) and raises
  ``Unsupported`` for the rest.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

from bench.access import MailAccess, Part
from bench.access.base import FLAGGED, INBOX, SEEN, FolderSnapshot, MessageRef, MessageState
from bench.corpus.canonical import message_id
from bench.devices.timeline import ACTIONS, ARCHIVE
from bench.modes import Mode
from bench.protocols import CACHE_POLICIES
from bench.search import subject_contains


class DeviceStore:
    """A Maildir of whole messages, one file each, named after the server's message id.

    A message's path is a plain string, not a ``pathlib.Path``: pathlib interns every part
    of a path, so a store of 100,000 messages grew the interpreter's table of interned
    strings by their names while they were in use."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self._tmp = os.path.join(root, "tmp")
        self._cur = os.path.join(root, "cur")

    @staticmethod
    def _filename(message_id: str) -> str:
        return hashlib.sha1(message_id.encode()).hexdigest()[:20] + ":2,"

    def put(self, message_id: str, raw: bytes) -> None:
        name = self._filename(message_id)
        partial = os.path.join(self._tmp, name)
        with open(partial, "wb") as out:
            out.write(raw)
        os.replace(partial, os.path.join(self._cur, name))

    def _file(self, message_id: str) -> str:
        return os.path.join(self._cur, self._filename(message_id))

    def path(self, message_id: str) -> Path:
        return Path(self._file(message_id))

    def get(self, message_id: str) -> bytes | None:
        try:
            with open(self._file(message_id), "rb") as stored:
                return stored.read()
        except FileNotFoundError:
            return None

    def remove(self, message_id: str) -> None:
        try:
            os.unlink(self._file(message_id))
        except FileNotFoundError:
            pass

    def __contains__(self, message_id: object) -> bool:
        return isinstance(message_id, str) and os.path.exists(self._file(message_id))

    def __len__(self) -> int:
        with os.scandir(self._cur) as entries:
            return sum(1 for _ in entries)

    def __iter__(self) -> Iterator[bytes]:
        """Every message, one at a time, in file-name order (names, not messages, are held)."""
        with os.scandir(self._cur) as entries:
            names = sorted(entry.name for entry in entries)
        for name in names:
            with open(os.path.join(self._cur, name), "rb") as stored:
                yield stored.read()

    def unfinished(self) -> int:
        """Files begun and never completed (a download broken while being written)."""
        with os.scandir(self._tmp) as entries:
            return sum(1 for _ in entries)


@dataclass
class SyncReport:
    messages: int
    message_bytes: int


@dataclass
class SearchReport:
    """What a search left on the device (``matches``, ``match_bytes``: the messages found
    and kept) and what it downloaded to find them (``downloaded``, ``downloaded_bytes``)."""

    matches: int
    match_bytes: int
    downloaded: int
    downloaded_bytes: int


class Device:
    """One client (a phone, a laptop) syncing one mailbox in one mode.

    A sync resumes where a broken one stopped, as mail clients do: a message already whole
    in the store is not fetched again, and in a delete mode the device lists the whole
    maildrop and deletes what it holds whole (also what an earlier session fetched but could
    not delete, or deleted in a session that never ended cleanly).
    """

    def __init__(self, name: str, mode: Mode, store: DeviceStore) -> None:
        self.name = name
        self.mode = mode
        self.store = store
        self._token: Any = None

    def sync(self, access: MailAccess, part: Part = "full",
             at: Callable[[str, int], None] | None = None) -> SyncReport:
        """Fetch what is new since this device's last sync; delete it after, in a delete mode.

        ``at(point, stored)`` is called between the session's commands, with the number of
        messages stored so far: ``listed``, ``stored`` (after each message), ``fetched`` and
        ``done`` (before the session ends); a fault injector acts there.
        """
        mark = at or _no_mark
        listing = access.list_messages(None if self.mode.delete_after_fetch else self._token)
        mark("listed", 0)
        count = size = 0
        for ref, raw in access.fetch([ref for ref in listing.refs if ref.id not in self.store], part):
            self.store.put(ref.id, raw)
            count += 1
            size += len(raw)
            mark("stored", count)
        mark("fetched", count)
        if self.mode.delete_after_fetch:
            access.delete([ref for ref in listing.refs if ref.id in self.store])
        mark("done", count)
        self._token = listing.token
        return SyncReport(count, size)

    def search(self, access: MailAccess, term: str) -> SearchReport:
        """Find the inbox's messages whose Subject contains ``term`` (``bench.search``) and
        keep them, whole, in the store, and nothing else.

        Where the server searches (``access.can_search``), it is asked and only its matches
        are downloaded; else every message is downloaded and searched on the device, and
        only the matches are kept. A message already in the store is not downloaded again.
        In a delete mode, what was downloaded is then deleted from the server, as ``sync``
        does.
        """
        if access.can_search:
            wanted = access.search(term)
        else:
            wanted = access.list_messages().refs
        report = SearchReport(0, 0, 0, 0)
        downloaded: list[MessageRef] = []
        for ref, raw in access.fetch([ref for ref in wanted if ref.id not in self.store], "full"):
            downloaded.append(ref)
            report.downloaded += 1
            report.downloaded_bytes += len(raw)
            if access.can_search or subject_contains(raw, term):
                self.store.put(ref.id, raw)
                report.matches += 1
                report.match_bytes += len(raw)
        if self.mode.delete_after_fetch and downloaded:
            access.delete(downloaded)
        return report


def _no_mark(point: str, stored: int) -> None:
    pass


# ---------------------------------------------------------------------------------------
# Devices that sync a mailbox over time: local state, sync policy, offline queue.

_FLAG_ACTIONS = {"read": (SEEN, True), "flag": (FLAGGED, True), "unflag": (FLAGGED, False)}


def cache_policies(mode: Mode) -> tuple[str, ...]:
    """The caching policies a device in ``mode`` can have, least kept first."""
    return mode.protocol.cache_policies


@dataclass(frozen=True)
class SyncPolicy:
    """How a device syncs. ``listing`` is one of ``bench.access.base.LISTINGS`` (IMAP: with
    QRESYNC/CONDSTORE where offered, or always a full listing; POP3 always lists in full);
    ``folders`` are the folders it keeps in step where the protocol has folders."""

    cache: str = "full"
    listing: str = "best"
    delete_after_fetch: bool = False
    folders: tuple[str, ...] = (INBOX, ARCHIVE)

    def __post_init__(self) -> None:
        if self.cache not in CACHE_POLICIES:
            raise ValueError(f"cache must be one of {CACHE_POLICIES}, got {self.cache!r}")

    @classmethod
    def for_mode(cls, mode: Mode, **choices: Any) -> "SyncPolicy":
        if choices.get("cache", "full") not in cache_policies(mode):
            raise ValueError(f"a {mode.name} device cannot cache {choices['cache']!r}")
        return cls(delete_after_fetch=mode.delete_after_fetch, **choices)


@dataclass(frozen=True)
class LocalMessage:
    """A message as the device shows it: folder, read and flagged states, and what of it
    the device holds (``full``, ``headers`` or ``none``)."""

    folder: str
    seen: bool
    flagged: bool
    body: str


@dataclass(frozen=True)
class ServerRow:
    """What the device knows of one message on the server, as of its last session."""

    folder: str
    id: str
    key: str
    size: int
    handle: int
    flags: frozenset[str]

    @property
    def ref(self) -> MessageRef:
        return MessageRef(self.id, self.size, self.handle, self.folder)


class LocalState:
    """The device's own state, in SQLite beside its Maildir: each message it shows (by key,
    its Message-ID), what it knows of the server, the folders' sync tokens, and the queue of
    actions not yet sent to the server."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        # A client's database, not a bank's: no fsync per change (WAL keeps it consistent).
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS messages (
                key TEXT PRIMARY KEY, folder TEXT NOT NULL, seen INTEGER NOT NULL,
                flagged INTEGER NOT NULL, body TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS server (
                folder TEXT NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL,
                handle INTEGER NOT NULL, flags TEXT NOT NULL, PRIMARY KEY (folder, id));
            CREATE INDEX IF NOT EXISTS server_key ON server (key);
            CREATE TABLE IF NOT EXISTS folders (folder TEXT PRIMARY KEY, validity INTEGER, modseq INTEGER,
                state TEXT);
            CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                key TEXT NOT NULL);
            """
        )

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Changes made in the block are written together, or not at all."""
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # what the device shows
    def view(self) -> dict[str, LocalMessage]:
        rows = self._db.execute("SELECT key, folder, seen, flagged, body FROM messages")
        return {key: LocalMessage(folder, bool(seen), bool(flagged), body) for key, folder, seen, flagged, body in rows}

    def get(self, key: str) -> LocalMessage | None:
        row = self._db.execute("SELECT folder, seen, flagged, body FROM messages WHERE key = ?", (key,)).fetchone()
        return LocalMessage(row[0], bool(row[1]), bool(row[2]), row[3]) if row else None

    def put(self, key: str, message: LocalMessage) -> None:
        self._db.execute("INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?)",
                         (key, message.folder, int(message.seen), int(message.flagged), message.body))

    def remove(self, key: str) -> None:
        self._db.execute("DELETE FROM messages WHERE key = ?", (key,))

    # what it knows of the server
    _ROW = "SELECT folder, id, key, size, handle, flags FROM server"

    @staticmethod
    def _rows(cursor: sqlite3.Cursor) -> list[ServerRow]:
        return [ServerRow(f, i, k, s, h, frozenset(filter(None, fl.split(" ")))) for f, i, k, s, h, fl in cursor]

    def rows(self, folder: str | None = None) -> list[ServerRow]:
        if folder is None:
            return self._rows(self._db.execute(self._ROW + " ORDER BY rowid"))
        return self._rows(self._db.execute(self._ROW + " WHERE folder = ? ORDER BY rowid", (folder,)))

    def row_for(self, key: str) -> ServerRow | None:
        found = self._rows(self._db.execute(self._ROW + " WHERE key = ? ORDER BY rowid LIMIT 1", (key,)))
        return found[0] if found else None

    def row(self, folder: str, message_id: str) -> ServerRow | None:
        found = self._rows(self._db.execute(self._ROW + " WHERE folder = ? AND id = ?", (folder, message_id)))
        return found[0] if found else None

    def put_row(self, row: ServerRow) -> None:
        self._db.execute("INSERT OR REPLACE INTO server VALUES (?, ?, ?, ?, ?, ?)",
                         (row.folder, row.id, row.key, row.size, row.handle, " ".join(sorted(row.flags))))

    def remove_row(self, folder: str, message_id: str) -> None:
        self._db.execute("DELETE FROM server WHERE folder = ? AND id = ?", (folder, message_id))

    def snapshot(self, folder: str) -> FolderSnapshot:
        tokens = self._db.execute("SELECT validity, modseq, state FROM folders WHERE folder = ?",
                                  (folder,)).fetchone()
        ids = frozenset(row.id for row in self.rows(folder))
        return FolderSnapshot(tokens[0], tokens[1], ids, tokens[2]) if tokens else FolderSnapshot(ids=ids)

    def save_tokens(self, folder: str, validity: int | None, modseq: int | None, state: str | None = None) -> None:
        """What the server said marks this sync of ``folder``: IMAP's UIDVALIDITY and
        HIGHESTMODSEQ, or JMAP's state string."""
        self._db.execute("INSERT OR REPLACE INTO folders VALUES (?, ?, ?, ?)", (folder, validity, modseq, state))

    # the offline queue
    def queue(self, kind: str, key: str) -> None:
        self._db.execute("INSERT INTO outbox (kind, key) VALUES (?, ?)", (kind, key))

    def outbox(self) -> list[tuple[str, str]]:
        return [(kind, key) for kind, key in self._db.execute("SELECT kind, key FROM outbox ORDER BY seq")]

    def clear_outbox(self) -> None:
        self._db.execute("DELETE FROM outbox")


@dataclass
class SessionReport:
    """What one session of a device did: how each folder was listed, what it downloaded,
    what it sent of its queue, and the conflicts it met doing so."""

    methods: dict[str, str] = field(default_factory=dict)
    downloaded: int = 0
    downloaded_bytes: int = 0
    replayed: int = 0
    conflicts_gone: int = 0
    conflicts_changed: int = 0
    unavailable: int = 0  # listed as new, gone before it could be fetched
    removed: set[str] = field(default_factory=set)  # ids this session deleted or moved away


# Checks one downloaded message against the truth: (key, part, raw); raises when it differs.
Checker = Callable[[str, str, bytes], None]


class SyncDevice:
    """A device that keeps a mailbox over time: it acts locally (read, flag, unflag, move
    to ``Archive``, delete) and queues each action; a session first sends the queue, then
    brings the local state up to date.

    Sending the queue: each queued action the server can hold (flags where the protocol
    keeps flags, moves where it has folders, deletions) is checked against the server's
    message as it is now: gone from where the device last saw it (moved or deleted
    elsewhere) is a conflict and the action is dropped; flags changed elsewhere since the
    device's last sync is a conflict too, and the action is applied anyway (the device's
    action is the later one it knows of). Other actions stay on the device.

    Bringing up to date: each folder is listed (``changes``), new messages are downloaded
    as the caching policy says, and, where the protocol mirrors a mailbox (IMAP), the
    device then shows exactly what the server has; otherwise (POP3) it adds what is new and
    keeps what it has. In a delete mode, everything listed is deleted from the server.
    """

    def __init__(self, name: str, policy: SyncPolicy, root: Path, check: Checker | None = None) -> None:
        self.name = name
        self.policy = policy
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.full = DeviceStore(root / "full")
        self.headers = DeviceStore(root / "headers")
        self.state = LocalState(root / "state.sqlite")
        self.check = check
        self.counters: Counter[str] = Counter()

    # -- the user's side -----------------------------------------------------------------

    def view(self) -> dict[str, LocalMessage]:
        return self.state.view()

    def act(self, kind: str, key: str) -> bool:
        """Do ``kind`` to message ``key`` on the device and queue it; False when the device
        does not show that message (the user could not do it here)."""
        if kind not in ACTIONS:
            raise ValueError(f"unknown action {kind!r}")
        message = self.state.get(key)
        if message is None:
            self.counters["impossible"] += 1
            return False
        self.counters["actions"] += 1
        if kind == "delete":
            self.state.remove(key)
            self._drop_bodies(key)
        elif kind == "move":
            self.state.put(key, replace(message, folder=ARCHIVE))
        else:
            flag, value = _FLAG_ACTIONS[kind]
            field_name = "seen" if flag == SEEN else "flagged"
            self.state.put(key, replace(message, **{field_name: value}))
        self.state.queue(kind, key)
        return True

    def readable(self, key: str) -> bytes | None:
        """The whole message, when the device can show it with no connection."""
        message = self.state.get(key)
        if message is None or message.body != "full":
            return None
        return self.full.get(key)

    # -- a session with the server -----------------------------------------------------

    def session(self, access: MailAccess) -> SessionReport:
        """Send the queue, then bring the device up to date, in one session."""
        self.begin(access)
        return self.sync(access)

    def begin(self, access: MailAccess) -> str:
        """Set the session up (before anything else in it); returns the listing method."""
        return access.prepare_sync(self.policy.listing)

    def sync(self, access: MailAccess) -> SessionReport:
        report = SessionReport()
        with self.state.transaction():
            self._push(access, report)
            self._pull(access, report)
        for name in ("replayed", "conflicts_gone", "conflicts_changed", "downloaded", "downloaded_bytes",
                     "unavailable"):
            self.counters[name] += getattr(report, name)
        self.counters["sessions"] += 1
        return report

    @staticmethod
    def _server_side(kind: str, access: MailAccess) -> bool:
        if kind in _FLAG_ACTIONS:
            return access.keeps_flags
        return access.has_folders if kind == "move" else True

    def _push(self, access: MailAccess, report: SessionReport) -> None:
        queued = self.state.outbox()
        if not queued:
            return
        targets: dict[str, MessageRef] = {}
        for kind, key in queued:
            row = self.state.row_for(key) if self._server_side(kind, access) else None
            if row is not None:
                targets[row.id] = row.ref
        current = access.locate(targets.values()) if targets else {}
        for kind, key in queued:
            if not self._server_side(kind, access):
                continue
            row = self.state.row_for(key)
            if row is None:
                continue  # not on the server as far as the device knows: a local action
            now = current.get(row.id)
            if now is None:
                report.conflicts_gone += 1
                self.state.remove_row(row.folder, row.id)
                continue
            if access.keeps_flags and now.flags != row.flags:
                report.conflicts_changed += 1
            flags = now.flags
            if kind == "delete":
                access.delete([now.ref])
                report.removed.add(now.ref.id)
                self.state.remove_row(row.folder, row.id)
                current.pop(row.id)
                report.replayed += 1
                continue
            if kind == "move":
                if row.folder != ARCHIVE:
                    access.ensure_folder(ARCHIVE)
                    moved = access.move([now.ref], ARCHIVE)
                    report.removed.add(now.ref.id)
                    self.state.remove_row(row.folder, row.id)
                    current.pop(row.id)
                    report.replayed += 1
                    new_ref = moved.get(row.id)
                    if new_ref is not None:
                        self.state.put_row(ServerRow(ARCHIVE, new_ref.id, key, row.size, new_ref.handle, flags))
                        current[new_ref.id] = MessageState(new_ref, flags)
                continue
            flag, value = _FLAG_ACTIONS[kind]
            if value:
                access.set_flags([now.ref], [flag])
                flags = flags | {flag}
            else:
                access.clear_flags([now.ref], [flag])
                flags = flags - {flag}
            report.replayed += 1
            self.state.put_row(replace(row, handle=now.ref.handle, flags=flags))
            current[row.id] = MessageState(now.ref, flags)
        self.state.clear_outbox()

    def _pull(self, access: MailAccess, report: SessionReport) -> None:
        folders = [folder for folder in self.policy.folders if folder == INBOX or access.has_folders]
        for folder in folders:
            access.ensure_folder(folder)
        listed = []
        for folder in folders:
            known = self.state.snapshot(folder)
            changes = access.changes(folder, known)
            report.methods[folder] = changes.method
            listed.append(changes)
        for changes in listed:
            for gone in changes.vanished:
                self.state.remove_row(changes.folder, gone)
            for state in changes.updated:
                row = self.state.row(changes.folder, state.ref.id)
                if row is not None:
                    self.state.put_row(replace(row, handle=state.ref.handle, flags=state.flags))
        part = {"full": "full", "headers": "headers", "online": None}[self.policy.cache]
        new = [state for changes in listed for state in changes.new]
        wanted = [s.ref for s in new if s.message_id is None or (part and not self._holds(s.message_id, part))]
        keys: dict[str, str] = {}
        for ref, raw in access.fetch(wanted, part or "headers"):
            key = message_id(raw) or f"#{ref.id}"
            keys[ref.id] = key
            report.downloaded += 1
            report.downloaded_bytes += len(raw)
            if part is not None:
                if self.check is not None:
                    self.check(key, part, raw)
                (self.full if part == "full" else self.headers).put(key, raw)
        for state in new:
            ref = state.ref
            if ref.id in access.unavailable or (state.message_id is None and ref.id not in keys):
                report.unavailable += 1  # listed, then gone before it could be fetched
                continue
            key = state.message_id or keys[ref.id]
            self.state.put_row(ServerRow(ref.folder, ref.id, key, ref.size, ref.handle, state.flags))
            if not access.mirrors_mailbox and self.state.get(key) is None:
                self.state.put(key, LocalMessage(INBOX, False, False, self._body(key)))
        if self.policy.delete_after_fetch:
            rows = self.state.rows(INBOX)
            if rows:
                access.delete([row.ref for row in rows])
                report.removed.update(row.id for row in rows)
                for row in rows:
                    self.state.remove_row(row.folder, row.id)
        if access.mirrors_mailbox:
            self._mirror()
        for changes in listed:
            self.state.save_tokens(changes.folder, changes.validity, changes.modseq, changes.state)

    def _mirror(self) -> None:
        """Show exactly what the server has (as listed just now)."""
        rows = self.state.rows()
        keep = {row.key for row in rows}
        for key in set(self.state.view()) - keep:
            self.state.remove(key)
            self._drop_bodies(key)
        for row in rows:
            self.state.put(row.key, LocalMessage(row.folder, SEEN in row.flags, FLAGGED in row.flags, self._body(row.key)))

    def _holds(self, key: str, part: str) -> bool:
        return key in self.full or (part == "headers" and key in self.headers)

    def _body(self, key: str) -> str:
        if key in self.full:
            return "full"
        return "headers" if key in self.headers else "none"

    def _drop_bodies(self, key: str) -> None:
        self.full.remove(key)
        self.headers.remove(key)

    def close(self) -> None:
        self.state.close()
