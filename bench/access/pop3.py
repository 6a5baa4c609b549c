"""POP3 access on poplib, with every byte and wait counted by the meter.

POP3 cannot address anything but the inbox and has no flags. Where the server advertises
PIPELINING (RFC 2449), RETR/TOP/DELE are sent in windows of several commands per write, and
the results say so (``pipelined``).
"""

from __future__ import annotations

import poplib
import socket
from array import array
from bisect import bisect_left
from itertools import islice
from typing import Any, Iterable, Iterator

from bench.access.base import (
    INBOX, AccessOptions, Endpoint, FolderChanges, FolderSnapshot, Listing, MailAccess, MessageRef, MessageState, Part,
    connect,
)
from bench.access.meter import ConnectionTap, WireMeter
from bench.errors import Unsupported
from bench.protocols import POP3

# Commands written before the first answer is read, when the server pipelines. Small enough
# that the commands of one window always fit in the socket buffers (no write deadlock).
PIPELINE_WINDOW = 32
# poplib refuses lines over 2,048 octets; real mail (and users' mbox files) has longer ones.
MAX_LINE = 1_000_000


TERMINATOR = b"\r\n.\r\n"  # the end of a multi-line answer, with the line end before it


def read_multiline(file: Any, received: Any) -> list[bytes]:
    """The lines of a multi-line answer (after its status line), dot-stuffing undone,
    read from the buffered ``file`` in blocks up to the terminating ``.`` line and no
    further (pipelined answers that follow stay in the buffer); ``received(n)`` is told
    each block's size.

    poplib reads such an answer a line at a time, a Python call per line: on a download of
    megabytes that is the client's CPU, not the protocol, and it slowed POP3 against IMAP
    (whose literals arrive in one read) on loopback. Here the lines are cut by ``split``.
    """
    data = bytearray(b"\r\n")  # the status line's end: an answer of no lines ends at once
    while True:
        block = file.peek(1 << 16)
        if not block:
            raise poplib.error_proto("-ERR EOF")
        searched = max(0, len(data) - len(TERMINATOR) + 1)
        data += block
        end = data.find(TERMINATOR, searched)
        if end >= 0:
            taken = end + len(TERMINATOR) - (len(data) - len(block))
            file.read(taken)
            received(taken)
            break
        file.read(len(block))
        received(len(block))
    if end == 0:
        return []
    lines = bytes(data[2:end]).split(b"\r\n")
    if b"\r\n.." in data[:end]:
        lines = [line[1:] if line[:2] == b".." else line for line in lines]
    return lines


class _MeteredPOP3(poplib.POP3):
    """poplib's connection, reporting each line written and read to a tap."""

    def __init__(self, endpoint: Endpoint, tap: ConnectionTap) -> None:
        self._endpoint = endpoint
        self._tap = tap
        super().__init__(endpoint.host, endpoint.port, timeout=endpoint.timeout_s)

    def _create_socket(self, timeout: float) -> socket.socket:
        return connect(self._endpoint, timeout, self._tap)

    def stls(self, context=None):
        result = super().stls(context)
        self._tap.handshake(self.sock)
        return result

    def close(self) -> None:
        self._tap.closing(getattr(self, "sock", None))
        super().close()

    def _putline(self, line: bytes) -> None:
        super()._putline(line)
        self._tap.sent(len(line) + 2)

    def _getline(self) -> tuple[bytes, int]:
        line = self.file.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise poplib.error_proto(f"line longer than {MAX_LINE} octets")
        if not line:
            raise poplib.error_proto("-ERR EOF")
        self._tap.received(len(line))
        octets = len(line)
        if line[-2:] == b"\r\n":
            return line[:-2], octets
        if line[:1] == b"\r":
            return line[1:-1], octets
        return line[:-1], octets

    def long_lines(self, command: str) -> Iterator[bytes]:
        """``command``'s multi-line answer a line at a time, dot-unstuffed, none kept
        (poplib's ``_getlongresp`` returns them all in one list). The caller reads to the
        end, or the session's next command would find the rest."""
        self._putcmd(command)
        self._getresp()
        while (line := self._getline()[0]) != b".":
            yield line[1:] if line.startswith(b"..") else line

    def _getlongresp(self) -> tuple[bytes, list[bytes], int]:
        """poplib's multi-line answer (status, lines, octets), read in blocks
        (``read_multiline``)."""
        resp = self._getresp()
        lines = read_multiline(self.file, self._tap.received)
        return resp, lines, sum(len(line) + 2 for line in lines)

    def send_pipelined(self, commands: list[str]) -> None:
        """Write several commands in one write, as RFC 2449 PIPELINING allows."""
        data = "".join(f"{command}\r\n" for command in commands).encode("ascii")
        self.sock.sendall(data)
        self._tap.sent(len(data))


class Refused(Exception):
    """The server answered one command of a sequence with -ERR (the others still count).

    For RETR, TOP and DELE of a listed message this means it is gone meanwhile: Courier
    answers QUIT before it has deleted the messages, so a session opened within
    milliseconds of another's QUIT still lists them and cannot RETR them. Such messages go
    to ``unavailable``.
    """


def _answer(read: Any) -> Any:
    """One answer; a server's -ERR becomes a ``Refused`` value so that the answers after it
    (pipelined ones too) are still read in order. A dead connection still raises."""
    try:
        return read()
    except poplib.error_proto as exc:
        reply = exc.args[0] if exc.args else b""
        if isinstance(reply, bytes) and reply.startswith(b"-ERR"):
            return Refused(reply.decode(errors="replace"))
        raise


class Pop3Access(MailAccess):
    """POP3 (RFC 1939); the listing token is the set of UIDLs already seen."""

    protocol = POP3

    def __init__(self, endpoint: Endpoint, meter: WireMeter, options: AccessOptions) -> None:
        super().__init__(endpoint, meter, options)
        with meter.measure("CONNECT"):
            self._conn = _MeteredPOP3(endpoint, meter.tap())
        if endpoint.tls == "starttls":
            with meter.measure("STLS"):
                self._conn.stls(endpoint.ssl_context)
        with meter.measure("USER"):
            self._conn.user(endpoint.username)
        with meter.measure("PASS"):
            self._conn.pass_(endpoint.password)
        with meter.measure("CAPA"):
            try:
                capa = self._conn.capa()
            except poplib.error_proto:
                capa = {}
        self._capabilities = frozenset(name.upper() for name in capa)
        self._pipelining = options.pipelining and "PIPELINING" in self._capabilities

    @property
    def capabilities(self) -> frozenset[str]:
        return self._capabilities

    def list_messages(self, after: Any = None) -> Listing:
        """UIDL, then LIST, each answer read a line at a time: what is kept is the new
        messages' numbers and UIDLs, then their refs, never the listings' lines (a maildrop
        of 100,000 messages has two answers of 100,000 lines)."""
        self.capabilities_used.add("UIDL")
        seen = frozenset(after or ())
        numbers, uids = array("q"), []
        with self.meter.measure("UIDL"):
            for line in self._conn.long_lines("UIDL"):
                number, uid = line.split()[:2]
                if uid.decode() not in seen:
                    numbers.append(int(number))
                    uids.append(uid.decode())
        if any(earlier >= later for earlier, later in zip(numbers, numbers[1:])):  # servers list in order
            pairs = sorted(dict(zip(numbers, uids)).items())
            numbers, uids = array("q", (number for number, _ in pairs)), [uid for _, uid in pairs]
        sizes = array("q", [-1]) * len(numbers)
        with self.meter.measure("LIST"):
            for line in self._conn.long_lines("LIST"):
                number, size = (int(field) for field in line.split()[:2])
                index = bisect_left(numbers, number)
                if index < len(numbers) and numbers[index] == number:
                    sizes[index] = size
        if -1 in sizes:
            missing = numbers[sizes.index(-1)]
            raise poplib.error_proto(f"message {missing} is in the UIDL answer but not in the LIST answer")
        refs = [MessageRef(uid, size, number) for uid, size, number in zip(uids, sizes, numbers)]
        return Listing(refs, seen | frozenset(uids))

    def changes(self, folder: str, known: FolderSnapshot) -> FolderChanges:
        """A full UIDL listing, always: POP3 has no way to ask what changed. Every known
        message still there is ``updated`` (with this session's message number)."""
        if folder != INBOX:
            raise Unsupported("POP3 has no folders but the inbox")
        listed = self.list_messages().refs
        present = {ref.id for ref in listed}
        return FolderChanges(
            INBOX, "uidl",
            updated=[MessageState(ref) for ref in listed if ref.id in known.ids],
            new=[MessageState(ref) for ref in listed if ref.id not in known.ids],
            vanished=frozenset(known.ids - present),
        )

    def locate(self, refs: Iterable[MessageRef]) -> dict[str, MessageState]:
        """Which of ``refs`` are still in the maildrop (a UIDL listing), numbered for this session."""
        wanted = {ref.id for ref in refs}
        if not wanted:
            return {}
        return {ref.id: MessageState(ref) for ref in self.list_messages().refs if ref.id in wanted}

    def _commands(self, name: str, commands: Iterable[str], long: bool) -> Iterator[Any]:
        """Send commands one by one, or windowed when pipelining; yield each answer in order.
        ``commands`` is read a window at a time (a generator keeps 100,000 of them unmade)."""
        read = self._conn._getlongresp if long else self._conn._getresp
        window = PIPELINE_WINDOW if self._pipelining else 1
        # Pipelined, the latency recorded is that of a whole window of commands.
        label = f"{name} (window of {window})" if window > 1 else name
        pending = iter(commands)
        while chunk := list(islice(pending, window)):
            with self.meter.measure(label):
                if window == 1:
                    self._conn._putcmd(chunk[0])
                else:
                    self._conn.send_pipelined(chunk)
                    self.capabilities_used.add("PIPELINING")
                answers = [_answer(read) for _ in chunk]
            yield from answers

    def fetch(self, refs: Iterable[MessageRef], part: Part = "full") -> Iterator[tuple[MessageRef, bytes]]:
        refs = list(refs)
        if part == "headers":
            self.capabilities_used.add("TOP")
        name, template = ("RETR", "RETR {}") if part == "full" else ("TOP", "TOP {} 0")
        answers = self._commands(name, (template.format(ref.handle) for ref in refs), long=True)
        for ref, answer in zip(refs, answers):
            if isinstance(answer, Refused):
                self.unavailable.add(ref.id)
                continue
            _, lines, _ = answer
            yield ref, b"\r\n".join(lines) + b"\r\n"

    def delete(self, refs: Iterable[MessageRef]) -> None:
        refs = list(refs)
        for ref, answer in zip(refs, self._commands("DELE", (f"DELE {ref.handle}" for ref in refs), long=False)):
            if isinstance(answer, Refused):
                self.unavailable.add(ref.id)

    def set_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        raise Unsupported("POP3 has no flags")

    def close(self) -> None:
        try:
            with self.meter.measure("QUIT"):
                self._conn.quit()
        except (poplib.error_proto, OSError):
            self.close_failed = True
            self._conn.close()
