"""IMAP access on imapclient, with every byte and wait counted by the meter.

Messages are fetched in batches (``FETCH_BATCH_MESSAGES``, ``FETCH_BATCH_BYTES``); unless
``AccessOptions.pipelining`` is off, the batches' commands are pipelined (``fetch``) and the
results say so (``pipelined``).
"""

from __future__ import annotations

import imaplib
import re
import socket
import time
from collections import defaultdict, deque
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from imapclient import IMAPClient
from imapclient import imap4
from imapclient.response_parser import parse_fetch_response

from bench.access.base import (
    INBOX, LISTINGS, SYNC_FLAGS, AccessOptions, Endpoint, FolderChanges, FolderSnapshot, Listing, MailAccess,
    MessageRef, MessageState, Part, buffered, connect, readable,
)
from bench.access.meter import ConnectionTap, WireMeter
from bench.corpus.canonical import message_id
from bench.protocols import IMAP
# A FETCH asks for at most this many messages or bytes at once, so the client holds one
# batch in memory however large the mailbox is (and the answer still streams in one turn).
FETCH_BATCH_MESSAGES = 200
FETCH_BATCH_BYTES = 4 * 1024 * 1024
# Pipelining (RFC 3501 section 5.5: a client may send a command before the previous one has
# completed; no capability is needed). The FETCH commands of a folder's batches are written
# together, at most this many bytes of them in one write, so that a write never waits for
# the server to read while the server waits for us to read its answers. A 200-message
# command is about 1.4 kB: in practice the commands of a whole folder go in one write.
PIPELINE_BYTES = 32 * 1024

_FETCH_ITEM = {"full": (b"BODY.PEEK[]", b"BODY[]"), "headers": (b"BODY.PEEK[HEADER]", b"BODY[HEADER]")}


class _MeteredIMAP4(imap4.IMAP4WithTimeout):
    """imaplib's connection, reporting each write and read to a tap."""

    def __init__(self, endpoint: Endpoint, tap: ConnectionTap) -> None:
        self._endpoint = endpoint
        self._tap = tap
        self._held: list[bytes] | None = None
        super().__init__(endpoint.host, endpoint.port, endpoint.timeout_s)

    @contextmanager
    def one_write(self) -> Iterator[None]:
        """The commands sent within go out together, in one write, at the end (only for
        commands without literals: a literal waits for the server's continuation)."""
        self._held = []
        try:
            yield
        finally:
            data, self._held = b"".join(self._held), None
            if data:
                self.send(data)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return connect(self._endpoint, timeout if timeout is not None else self._timeout, self._tap)

    def starttls(self, ssl_context=None):
        result = super().starttls(ssl_context)
        self._tap.handshake(self.sock)
        return result

    def shutdown(self) -> None:
        self._tap.closing(getattr(self, "sock", None))
        super().shutdown()

    def send(self, data: bytes) -> None:
        if self._held is not None:
            self._held.append(data)
            return
        super().send(data)
        self._tap.sent(len(data))

    def read(self, size: int) -> bytes:
        data = super().read(size)
        self._tap.received(len(data))
        return data

    def readline(self) -> bytes:
        line = super().readline()
        self._tap.received(len(line))
        return line


class _MeteredIMAPClient(IMAPClient):
    def __init__(self, endpoint: Endpoint, tap: ConnectionTap) -> None:
        self._endpoint = endpoint
        self._tap = tap
        super().__init__(endpoint.host, endpoint.port, ssl=False, timeout=endpoint.timeout_s)
        # IMAPClient sets imaplib's debug level to 5 to route its output into logging;
        # imaplib then formats every answer it hands over (a FETCH batch's messages
        # included) as a string before the logger can drop it: CPU, and a copy larger than
        # the batch held beside it. Level 0 formats only what its ten-line log keeps.
        self._imap.debug = 0

    def _create_IMAP4(self) -> imaplib.IMAP4:
        return _MeteredIMAP4(self._endpoint, self._tap)

    def uid_fetch_range(self, uid_set: str, items: list[bytes], modifiers: str | None = None) -> dict[int, dict[bytes, Any]]:
        """``UID FETCH <set> <items> [(<modifiers>)]`` for a range such as ``"101:*"``, in one
        round trip; answers by UID (unsolicited FETCH answers without a UID are dropped).

        ``IMAPClient.fetch`` keeps only the UIDs it was given as integers, which drops every
        answer to a range; a client listing a mailbox asks for a range, as real clients do.
        """
        args = ["UID", "FETCH", uid_set, b"(" + b" ".join(items) + b")"]
        if modifiers:
            args.append(f"({modifiers})")
        tag = self._imap._command(*args)
        typ, data = self._imap._command_complete("FETCH", tag)
        self._checkok("fetch", typ, data)
        typ, data = self._imap._untagged_response(typ, data, "FETCH")
        parsed = parse_fetch_response(data, self.normalise_times, False)
        return {items[b"UID"]: items for items in parsed.values() if b"UID" in items}

    def uid_fetch_lines(self, uid_set: str, items: list[bytes]) -> Iterator[bytes]:
        """``UID FETCH <set> <items>`` for items without literals (``RFC822.SIZE``, ``FLAGS``):
        each untagged FETCH answer's text (``b"7 (UID 12 RFC822.SIZE 4120)"``) as it is read.

        imaplib keeps every answer until the command completes, and ``uid_fetch_range``
        then parses them all into one dict: for a listing of 100,000 messages, tens of
        megabytes held at once for what ends as one small record per message. Here each
        answer is handed on and dropped. The caller reads to the end, or the session's next
        command would find this one's answers."""
        imap = self._imap
        imap._check_bye()
        tag = imap._command("UID", "FETCH", uid_set, b"(" + b" ".join(items) + b")")
        try:
            while imap.tagged_commands[tag] is None:
                imap._get_response()
                yield from imap.untagged_responses.pop("FETCH", ())
        except imaplib.IMAP4.abort as exc:
            raise imaplib.IMAP4.abort(f"command: FETCH => {exc}") from exc
        typ, data = imap.tagged_commands.pop(tag)
        imap._check_bye()
        if typ == "BAD":
            raise imaplib.IMAP4.error(f"FETCH command error: {typ} {data}")
        self._checkok("fetch", typ, data)


_UID = re.compile(rb"\bUID (\d+)", re.IGNORECASE)
_RFC822_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.IGNORECASE)


def uid_and_size(answer: bytes) -> tuple[int, int] | None:
    """The UID and RFC822.SIZE of one FETCH answer's text; None when it lacks either (an
    unsolicited FETCH, say)."""
    uid, size = _UID.search(answer), _RFC822_SIZE.search(answer)
    return (int(uid.group(1)), int(size.group(1))) if uid and size else None


def uid_set(uids: Iterable[int]) -> str:
    """A compact UID set (``1:3,7``) for a command."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    start = prev = None
    for uid in ordered:
        if prev is not None and uid == prev + 1:
            prev = uid
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}:{prev}")
        start = prev = uid
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}:{prev}")
    return ",".join(parts)


def _every_uid(select_info: dict[bytes, Any]) -> str:
    """The UID range that covers every message the selected folder ever held: ``1:`` up to
    UIDNEXT - 1. ``1:*`` is not the same: "*" is the highest UID present now, and Cyrus
    reports no ``VANISHED (EARLIER)`` beyond it, so a QRESYNC listing would miss that the
    folder's last message was expunged."""
    uidnext = select_info.get(b"UIDNEXT")
    return f"1:{int(uidnext) - 1}" if uidnext is not None and int(uidnext) > 1 else "1:*"


def _id_prefix(folder: str, validity: int | str) -> str:
    return str(validity) if folder == INBOX else f"{folder}/{validity}"


def message_ref_id(folder: str, validity: int | str, uid: int) -> str:
    """A message's id: ``UIDVALIDITY/UID`` in the INBOX (as ``list_messages`` gives it),
    ``folder/UIDVALIDITY/UID`` elsewhere: two folders may share a UIDVALIDITY (Cyrus)."""
    return f"{_id_prefix(folder, validity)}/{uid}"


def parse_uid_set(text: str) -> list[int]:
    """The UIDs of a set such as ``1:3,7`` (as VANISHED and COPYUID give them), in order."""
    uids: list[int] = []
    for part in text.strip().split(","):
        if not part:
            continue
        low, _, high = part.partition(":")
        first, last = int(low), int(high or low)
        step = 1 if last >= first else -1
        uids.extend(range(first, last + step, step))
    return uids


def _flags(items: dict[bytes, Any]) -> frozenset[str]:
    """The synced flags among a FETCH answer's FLAGS, as str (``\\Seen``)."""
    return frozenset(
        flag.decode() if isinstance(flag, bytes) else str(flag) for flag in items.get(b"FLAGS", ())
    ) & SYNC_FLAGS


def _by_folder(refs: Iterable[MessageRef]) -> dict[str, list[MessageRef]]:
    groups: dict[str, list[MessageRef]] = defaultdict(list)
    for ref in refs:
        groups[ref.folder].append(ref)
    return groups


def write_groups(sizes: list[int], limit: int) -> list[range]:
    """Consecutive groups of commands (by index) whose sizes add up to at most ``limit``
    bytes each; a command larger than ``limit`` is a group of its own."""
    groups: list[range] = []
    start = total = 0
    for index, size in enumerate(sizes):
        if index > start and total + size > limit:
            groups.append(range(start, index))
            start, total = index, 0
        total += size
    if start < len(sizes):
        groups.append(range(start, len(sizes)))
    return groups


def _batches(refs: list[MessageRef]) -> Iterator[list[MessageRef]]:
    batch: list[MessageRef] = []
    size = 0
    for ref in refs:
        if batch and (len(batch) >= FETCH_BATCH_MESSAGES or size + ref.size > FETCH_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(ref)
        size += ref.size
    if batch:
        yield batch


class ImapAccess(MailAccess):
    """IMAP4rev1. ``list_messages`` works on the INBOX, its token is ``(UIDVALIDITY, highest
    UID seen)``; a device's sync (``changes``) works on any folder, by its logical name
    (``INBOX``, ``Archive``), which lives below the server's personal namespace (Courier:
    ``INBOX.Archive``). Message ids: see ``message_ref_id``."""

    protocol = IMAP
    can_search = True

    def __init__(self, endpoint: Endpoint, meter: WireMeter, options: AccessOptions) -> None:
        super().__init__(endpoint, meter, options)
        with meter.measure("CONNECT"):
            self._client = _MeteredIMAPClient(endpoint, meter.tap())
        if endpoint.tls == "starttls":
            with meter.measure("STARTTLS"):
                self._client.starttls(endpoint.ssl_context)
        with meter.measure("LOGIN"):
            self._client.login(endpoint.username, endpoint.password)
        self._capabilities = frozenset(c.decode().upper() for c in self._client.capabilities())
        self._selected: str | None = None  # the folder selected now (logical name)
        # True after a NOOP or an IDLE on the selected inbox, until the next listing: the
        # server has just reported what changed there, so a listing needs no new SELECT.
        self._view_current = False
        self._select_info: dict[bytes, Any] = {}
        self._listing: str | None = None  # set by prepare_sync
        self._prefix: str | None = None  # personal namespace prefix, read once
        self._folders_known: set[str] = {INBOX}
        self._pipelined = False
        # Observers (a census of the server) select read-only, so that they change nothing.
        self.read_only = False

    @property
    def capabilities(self) -> frozenset[str]:
        return self._capabilities

    @property
    def client(self) -> IMAPClient:
        """The underlying imapclient, for setup work such as delivery (still metered)."""
        return self._client

    def _select(self, folder: str = INBOX, fresh: bool = True) -> dict[bytes, Any]:
        """SELECT (EXAMINE when read-only) ``folder``; unless ``fresh``, only when another
        folder is selected now."""
        if fresh or self._selected != folder:
            command = "EXAMINE" if self.read_only else "SELECT"
            with self.meter.measure(command):
                self._select_info = self._client.select_folder(self._server_name(folder), readonly=self.read_only)
            self._selected = folder
        return self._select_info

    def _server_name(self, folder: str) -> str:
        """The server's name of a logical folder: below the personal namespace's prefix."""
        if folder == INBOX:
            return INBOX
        if self._prefix is None:
            self._prefix = ""
            if "NAMESPACE" in self._capabilities:
                with self.meter.measure("NAMESPACE"):
                    personal = self._client.namespace().personal
                if personal:
                    self._prefix = personal[0][0]
        return self._prefix + folder

    def list_messages(self, after: Any = None) -> Listing:
        """The inbox's messages (``UID FETCH 1:* (RFC822.SIZE)`` after a SELECT); after a
        token, those above the last UID it saw. Right after a ``noop`` or an IDLE on the
        selected inbox (a device waiting on one connection, then looking for news), a
        listing after a token does not select the inbox again: the server has just reported
        the new mail, so the ``UID FETCH`` above the last UID is the rest of the poll, as for
        a client keeping its mailbox open. (Without them, Dovecot and Courier do not report
        mail delivered meanwhile to a ``UID FETCH``: a SELECT is needed.)"""
        again = after is not None and self._selected == INBOX and self._view_current
        self._view_current = False
        info = self._select(INBOX, fresh=not again)
        uidvalidity = int(info[b"UIDVALIDITY"])
        if info[b"EXISTS"] == 0 and not again:  # a count from the SELECT just made
            last = after[1] if after and after[0] == uidvalidity else 0
            return Listing([], (uidvalidity, last))
        first = 1
        if after is not None and after[0] == uidvalidity:
            first = after[1] + 1
        refs: list[MessageRef] = []
        with self.meter.measure("FETCH"):
            for answer in self._client.uid_fetch_lines(f"{first}:*", [b"RFC822.SIZE"]):
                found = uid_and_size(answer)
                # "n:*" always matches the highest UID, even below n: keep only what is new.
                if found is not None and found[0] >= first:
                    refs.append(MessageRef(f"{uidvalidity}/{found[0]}", found[1], found[0]))
        if any(earlier.handle >= later.handle for earlier, later in zip(refs, refs[1:])):
            refs = sorted({ref.handle: ref for ref in refs}.values(), key=lambda ref: ref.handle)
        last = refs[-1].handle if refs else first - 1
        return Listing(refs, (uidvalidity, last))

    def search(self, term: str) -> list[MessageRef]:
        """``UID SEARCH SUBJECT <term>`` in the INBOX (``CHARSET UTF-8`` when the term is not
        ASCII), then ``UID FETCH <matches> (RFC822.SIZE)``: the sizes the fetch batches need
        (``_batches``). Two round trips after the SELECT, none when nothing matches."""
        info = self._select(INBOX, fresh=False)
        uidvalidity = int(info[b"UIDVALIDITY"])
        with self.meter.measure("SEARCH"):
            uids = sorted(self._client.search(["SUBJECT", term], charset=None if term.isascii() else "UTF-8"))
        if not uids:
            return []
        with self.meter.measure("FETCH"):
            sizes = self._client.uid_fetch_range(uid_set(uids), [b"RFC822.SIZE"])
        refs = []
        for uid in uids:
            if uid in sizes:  # else expunged between the two commands
                refs.append(MessageRef(f"{uidvalidity}/{uid}", int(sizes[uid][b"RFC822.SIZE"]), uid))
            else:
                self.unavailable.add(f"{uidvalidity}/{uid}")
        return refs

    @property
    def pipelined(self) -> bool:
        """True once this session had more than one FETCH in flight. IMAP needs no
        capability to pipeline (RFC 3501 section 5.5), so nothing goes to
        ``capabilities_used``, which lists what the server offered."""
        return self._pipelined

    def fetch(self, refs: Iterable[MessageRef], part: Part = "full") -> Iterator[tuple[MessageRef, bytes]]:
        """One ``UID FETCH`` per batch (``_batches``). With ``options.pipelining`` the
        commands of a folder's batches are written together (``PIPELINE_BYTES`` at most per
        write) and the answers read batch by batch, each yielded before the next is read, so
        the client still holds one batch at a time. Without it, one command at a time."""
        request, answer = _FETCH_ITEM[part]
        for folder, in_folder in _by_folder(refs).items():
            self._select(folder, fresh=False)
            yield from self._fetch_batches(list(_batches(in_folder)), request, answer)

    def _fetch_batches(self, batches: list[list[MessageRef]], request: bytes, answer: bytes) -> Iterator[tuple[MessageRef, bytes]]:
        imap = self._client._imap
        commands = [
            ("UID", "FETCH", b",".join(str(ref.handle).encode() for ref in batch), b"(" + request + b")")
            for batch in batches
        ]
        pipelining = self.options.pipelining and len(batches) > 1
        if pipelining:
            # Each command's size on the wire: its words, the tag and the separators.
            groups = write_groups([sum(len(arg) for arg in args) + 16 for args in commands], PIPELINE_BYTES)
            label = "FETCH (pipelined)"
        else:
            groups = [range(index, index + 1) for index in range(len(batches))]
            label = "FETCH"
        in_flight: deque[tuple[bytes, list[MessageRef]]] = deque()
        answers: dict[int, dict[bytes, Any]] = {}  # by UID, until its batch is complete
        next_group = 0

        def write_next_group() -> None:
            nonlocal next_group
            with imap.one_write():
                for index in groups[next_group]:
                    in_flight.append((imap._command(*commands[index]), batches[index]))
            next_group += 1
            if len(in_flight) > 1:
                self._pipelined = True

        try:
            while in_flight or next_group < len(groups):
                # Pipelined, the latency recorded for a batch is the wait from the end of the
                # previous batch's answer (the first: from the write) to the end of its own.
                with self.meter.measure(label):
                    # Pipelined, the next group goes out before the last answer of this one
                    # is read, so that the server never idles waiting for it; else, after.
                    if next_group < len(groups) and (not in_flight or (pipelining and len(in_flight) == 1)):
                        write_next_group()
                    tag, batch = in_flight.popleft()
                    typ, data = imap._command_complete("FETCH", tag)
                    self._client._checkok("fetch", typ, data)
                    _, data = imap._untagged_response(typ, data, "FETCH")
                    # Keyed by UID, so that answers are matched to messages whatever order or
                    # command they came with; unsolicited FETCH answers merge harmlessly.
                    for uid, items in parse_fetch_response(data, self._client.normalise_times, True).items():
                        answers.setdefault(uid, {}).update(items)
                for ref in batch:
                    items = answers.pop(ref.handle, None)
                    if items is not None and answer in items:
                        yield ref, items[answer]
                    else:  # expunged since it was listed
                        self.unavailable.add(ref.id)
        finally:
            # Left early (the consumer stopped, or an error): read the answers still due, so
            # that the session's next command does not collect them as its own.
            while in_flight:
                tag, _ = in_flight.popleft()
                try:
                    imap._command_complete("FETCH", tag)
                except (imaplib.IMAP4.error, OSError):
                    break
                finally:
                    imap.untagged_responses.pop("FETCH", None)

    def delete(self, refs: Iterable[MessageRef]) -> None:
        for folder, in_folder in _by_folder(refs).items():
            uids = [ref.handle for ref in in_folder]
            self._select(folder, fresh=False)
            with self.meter.measure("STORE"):
                self._client.delete_messages(uids)
            self._expunge(uids)

    def _expunge(self, uids: list[int]) -> None:
        with self.meter.measure("EXPUNGE"):
            if "UIDPLUS" in self._capabilities:
                self.capabilities_used.add("UIDPLUS")
                self._client.uid_expunge(uids)
            else:
                self._client.expunge()

    def set_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        flags = list(flags)
        for folder, in_folder in _by_folder(refs).items():
            self._select(folder, fresh=False)
            with self.meter.measure("STORE"):
                self._client.add_flags([ref.handle for ref in in_folder], flags)

    def clear_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        flags = list(flags)
        for folder, in_folder in _by_folder(refs).items():
            self._select(folder, fresh=False)
            with self.meter.measure("STORE"):
                self._client.remove_flags([ref.handle for ref in in_folder], flags)

    # -- what a syncing device needs ---------------------------------------------------

    def prepare_sync(self, listing: str = "best") -> str:
        """ENABLE QRESYNC (``best``) or CONDSTORE (``best`` without QRESYNC, or
        ``condstore``) where the server offers them; else every sync lists all flags."""
        if listing not in LISTINGS:
            raise ValueError(f"listing must be one of {LISTINGS}, got {listing!r}")
        if self._listing is not None:
            return self._listing
        if self._selected is not None:
            raise RuntimeError("prepare_sync must come before any folder is selected (RFC 5161)")
        method = "full"
        if listing == "best" and {"QRESYNC", "ENABLE"} <= self._capabilities:
            method = "qresync"
        elif listing in ("best", "condstore") and {"CONDSTORE", "ENABLE"} <= self._capabilities:
            method = "condstore"
        if method != "full":
            with self.meter.measure("ENABLE"):
                self._client.enable(method.upper())
            self.capabilities_used.add(method.upper())
        self._listing = method
        return method

    def changes(self, folder: str, known: FolderSnapshot) -> FolderChanges:
        info = self._select(folder)
        validity = int(info[b"UIDVALIDITY"])
        exists = int(info.get(b"EXISTS", 0))
        modseq = info.get(b"HIGHESTMODSEQ")
        modseq = int(modseq) if modseq is not None else None
        known_uids: dict[int, str] = {}
        for ref_id in known.ids:
            prefix, _, uid = ref_id.rpartition("/")
            if prefix == _id_prefix(folder, validity):
                known_uids[int(uid)] = ref_id
        method = self._listing or "full"
        incremental = (
            method in ("qresync", "condstore") and known.validity == validity
            and known.modseq is not None and modseq is not None
        )
        if not incremental:
            method = "full"
        vanished: set[str] = set(known.ids) - set(known_uids.values())  # a new UIDVALIDITY voids them
        changed: dict[int, dict[bytes, Any]] = {}
        if incremental and modseq == known.modseq:
            return FolderChanges(folder, "unchanged", validity, modseq, vanished=frozenset(vanished))
        every_uid = _every_uid(info)
        if exists == 0:
            vanished |= set(known_uids.values())
        elif method == "full":
            with self.meter.measure("FETCH"):
                changed = self._client.uid_fetch_range(every_uid, [b"FLAGS"])
            vanished |= {ref_id for uid, ref_id in known_uids.items() if uid not in changed}
        else:
            modifiers = f"CHANGEDSINCE {known.modseq}" + (" VANISHED" if method == "qresync" else "")
            self._client._imap.untagged_responses.pop("VANISHED", None)
            with self.meter.measure("FETCH"):
                changed = self._client.uid_fetch_range(every_uid, [b"FLAGS"], modifiers)
            if method == "qresync":
                for line in self._client._imap.untagged_responses.pop("VANISHED", []):
                    text = line.decode() if isinstance(line, bytes) else str(line)
                    if text.upper().startswith("(EARLIER)"):
                        for uid in parse_uid_set(text[len("(EARLIER)"):]):
                            if uid in known_uids:
                                vanished.add(known_uids[uid])
            else:
                # CONDSTORE reports changes, not expunges: the message count tells whether
                # any known message went, and only then a UID SEARCH says which.
                new_count = sum(1 for uid in changed if uid not in known_uids)
                if len(known_uids) + new_count > exists:
                    with self.meter.measure("SEARCH"):
                        present = set(self._client.search(["ALL"]))
                    vanished |= {ref_id for uid, ref_id in known_uids.items() if uid not in present}
        updated = [
            MessageState(MessageRef(known_uids[uid], 0, uid, folder), _flags(items))
            for uid, items in sorted(changed.items()) if uid in known_uids
        ]
        new_uids = [uid for uid in sorted(changed) if uid not in known_uids]
        new: list[MessageState] = []
        if new_uids:
            with self.meter.measure("FETCH"):
                details = self._client.uid_fetch_range(
                    uid_set(new_uids), [b"RFC822.SIZE", b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
            for uid in new_uids:
                items = details.get(uid)
                if items is None:  # expunged between the two commands
                    continue
                header = next((v for k, v in items.items() if k.upper().startswith(b"BODY[HEADER.FIELDS")), b"")
                ref = MessageRef(message_ref_id(folder, validity, uid), int(items[b"RFC822.SIZE"]), uid, folder)
                new.append(MessageState(ref, _flags(changed[uid]), message_id(header or b"")))
        return FolderChanges(folder, method, validity, modseq, updated, new, frozenset(vanished))

    def locate(self, refs: Iterable[MessageRef]) -> dict[str, MessageState]:
        found: dict[str, MessageState] = {}
        for folder, in_folder in _by_folder(refs).items():
            self._select(folder, fresh=False)
            with self.meter.measure("FETCH"):
                data = self._client.uid_fetch_range(uid_set(ref.handle for ref in in_folder), [b"FLAGS"])
            for ref in in_folder:
                if ref.handle in data:
                    found[ref.id] = MessageState(ref, _flags(data[ref.handle]))
        return found

    def ensure_folder(self, folder: str) -> None:
        if folder in self._folders_known:
            return
        name = self._server_name(folder)
        with self.meter.measure("LIST"):
            exists = self._client.folder_exists(name)
        if not exists:
            try:
                with self.meter.measure("CREATE"):
                    self._client.create_folder(name)
            except imaplib.IMAP4.error:
                with self.meter.measure("LIST"):  # another device created it meanwhile
                    if not self._client.folder_exists(name):
                        raise
        self._folders_known.add(folder)

    def folders(self) -> list[str]:
        """The logical names of the folders on the server (for observers)."""
        self._server_name("x")  # reads the namespace prefix
        with self.meter.measure("LIST"):
            listed = self._client.list_folders()
        names = []
        for _, _, name in listed:
            if name.upper() == INBOX:
                names.append(INBOX)
            elif name.startswith(self._prefix or ""):
                names.append(name[len(self._prefix or ""):])
        return sorted(set(names))

    def move(self, refs: Iterable[MessageRef], folder: str) -> dict[str, MessageRef]:
        """MOVE (RFC 6851) where the server has it, else COPY, STORE \\Deleted and (UID)
        EXPUNGE, into ``folder`` (created if need be); the new ids come from the COPYUID
        answer (UIDPLUS)."""
        self.ensure_folder(folder)
        target = self._server_name(folder)
        moved: dict[str, MessageRef] = {}
        for source, in_folder in _by_folder(refs).items():
            uids = [ref.handle for ref in in_folder]
            self._select(source, fresh=False)
            untagged = self._client._imap.untagged_responses
            untagged.pop("COPYUID", None)
            if "MOVE" in self._capabilities:
                self.capabilities_used.add("MOVE")
                with self.meter.measure("MOVE"):
                    self._client.move(uids, target)
            else:
                with self.meter.measure("COPY"):
                    self._client.copy(uids, target)
                with self.meter.measure("STORE"):
                    self._client.delete_messages(uids)
                self._expunge(uids)
            by_uid = {ref.handle: ref for ref in in_folder}
            for answer in untagged.pop("COPYUID", []):
                text = answer.decode() if isinstance(answer, bytes) else str(answer)
                fields = text.split()
                if len(fields) != 3:
                    continue
                for old, new in zip(parse_uid_set(fields[1]), parse_uid_set(fields[2])):
                    if old in by_uid:
                        ref = by_uid[old]
                        moved[ref.id] = MessageRef(message_ref_id(folder, fields[0], new), ref.size, new, folder)
        return moved

    @property
    def can_push(self) -> bool:
        return "IDLE" in self._capabilities

    def wait_for_news(self, timeout_s: float) -> bool:
        """IDLE (RFC 2177) on the INBOX until the server reports a change (EXISTS, EXPUNGE,
        FETCH, VANISHED) or ``timeout_s`` passes; then DONE. True if it reported one while
        idling (pushed it)."""
        if not self.can_push:
            return super().wait_for_news(timeout_s)
        self.capabilities_used.add("IDLE")
        self._select(INBOX, fresh=False)
        with self.meter.measure("IDLE"):
            self._client.idle()
        news = False
        try:
            deadline = time.monotonic() + timeout_s
            while not news:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                news = any(_is_news(line) for line in self._idle_lines(remaining))
        finally:
            # What the server says only now, as IDLE ends (Cyrus without idled, Courier
            # without FAM), was not pushed: the caller's sync will find it.
            with self.meter.measure("DONE"):
                self._client.idle_done()
            self._view_current = True
        return news

    def noop(self) -> None:
        """NOOP (RFC 3501 section 6.1.2): the server reports what changed in the selected
        mailbox since the session last heard, so a listing after it needs no new SELECT."""
        with self.meter.measure("NOOP"):
            self._client.noop()
        self._view_current = self._selected == INBOX

    def _idle_lines(self, timeout_s: float) -> list[bytes]:
        """The lines the server sent during IDLE, waiting at most ``timeout_s`` for the first.

        Looks into the client's read buffer before polling the socket: a line that came in
        the same packet as the IDLE continuation is already buffered, and a poll would not see it.
        """
        imap = self._client._imap
        sock = self._client.socket()
        lines: list[bytes] = []
        deadline = time.monotonic() + timeout_s
        while len(lines) < IDLE_LINES_MAX:
            wait_s = 0 if lines else max(0.0, deadline - time.monotonic())
            if buffered(self._client._imap.file, sock) or readable(sock, wait_s):
                lines.append(imap._get_line())
                continue
            if lines or time.monotonic() >= deadline:
                break
        return lines

    def close(self) -> None:
        try:
            with self.meter.measure("LOGOUT"):
                self._client.logout()
        except (imaplib.IMAP4.error, OSError):
            self.close_failed = True
            self._client.shutdown()


_NEWS = (b"EXISTS", b"EXPUNGE", b"FETCH", b"VANISHED")
IDLE_LINES_MAX = 10_000  # lines read in one go during IDLE (a server flooding us is bounded too)


def _is_news(line: bytes) -> bool:
    words = line.split()
    return len(words) >= 3 and words[0] == b"*" and words[2].upper() in _NEWS or (
        len(words) >= 2 and words[0] == b"*" and words[1].upper() == b"VANISHED")

