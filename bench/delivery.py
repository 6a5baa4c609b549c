"""Putting a corpus into a mailbox, fast: this is setup, not the measurement.

Messages go in over IMAP APPEND, the one way all servers accept. With MULTIAPPEND and
LITERAL+ (RFC 3502, RFC 7888) a whole batch is one command with no waits; without them each
message costs a command and a continuation. TCP_NODELAY (in the access layer) keeps a
literal split over two writes from stalling on the server's delayed ACK.

A server may refuse a message (one larger than it accepts, say). A single APPEND uses a
synchronizing literal, so the server answers before the message is sent; the message is
recorded as refused with that answer (``Refusal``) and delivery goes on. A refusal inside a
MULTIAPPEND refuses the whole batch (RFC 3502: all or nothing), and a server may close the
connection on a non-synchronizing literal it will not take (Cyrus does): the batch is then
checked to be absent from the mailbox and sent again one message at a time, on a new
session if the old one is gone, so that only the refused message is left out.
"""

from __future__ import annotations

import imaplib
import time
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Callable, Iterable, Iterator

from bench.access import AccessOptions, Endpoint, WireMeter
from bench.access.imap import INBOX, ImapAccess
from bench.errors import MailbenchError

BATCH = 100
ANSWER_CHARS = 300  # a server's answer is kept to one line of at most this many characters


@dataclass(frozen=True)
class Refusal:
    """A message the server would not store: its position among the messages delivered
    (0 for the first), its size, and the server's answer, one line."""

    index: int
    size_bytes: int
    answer: str


@dataclass
class DeliveryReport:
    """``messages`` and ``bytes`` count what the server stored; ``refused`` what it would not."""

    messages: int
    bytes: int
    seconds: float
    refused: list[Refusal] = field(default_factory=list)

    @property
    def offered(self) -> int:
        """Messages sent to the server, stored or refused."""
        return self.messages + len(self.refused)

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def refusal_summary(refusals: Iterable[Refusal]) -> dict[str, Any] | None:
    """What a cell's results say about refused messages (``info["refused"]``), or None:
    their count, their places in the corpus (1 for its first message, as a corpus file's
    messages are named elsewhere), their sizes, and the server's answer to the first."""
    refusals = list(refusals)
    if not refusals:
        return None
    return {
        "count": len(refusals),
        "positions": [r.index + 1 for r in refusals],
        "sizes_bytes": [r.size_bytes for r in refusals],
        "answer": refusals[0].answer,
    }


def _chunks(messages: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    iterator = iter(messages)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _one_line(text: str) -> str:
    return " ".join(text.split())[:ANSWER_CHARS]


def _answer(typ: str, data: list[Any]) -> str:
    """A tagged answer as one line: ``NO [TOOBIG] Message size exceeds fixed limit``."""
    words = [item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
             for item in data if item is not None]
    return _one_line(" ".join([typ, *words]))


def _bad(exc: imaplib.IMAP4.error) -> str:
    """imaplib raises on BAD; its message carries the server's text."""
    return _one_line(str(exc))


class Session:
    """The delivery's IMAP session, and what a delivery needs of it. The pure fallback
    logic (``deliver_to``) runs against this interface, so tests can give it another."""

    def __init__(self, endpoint: Endpoint) -> None:
        self._endpoint = endpoint
        self._access = ImapAccess(endpoint, WireMeter(), AccessOptions())

    @property
    def batched(self) -> bool:
        return {"MULTIAPPEND", "LITERAL+"} <= self._access.capabilities

    @property
    def _imap(self) -> imaplib.IMAP4:
        return self._access.client._imap

    def append_many(self, messages: list[bytes]) -> str | None:
        """One ``APPEND INBOX {n+} msg {n+} msg ...`` (RFC 3502 with RFC 7888 literals), sent
        in one write: no continuation to wait for. (IMAPClient.multiappend puts two spaces
        between literals, which Cyrus refuses.) None when stored, else the server's answer;
        ``ConnectionError`` when the session is gone."""
        imap = self._imap
        try:
            tag = imap._new_tag()
            parts = [tag + b" APPEND " + INBOX.encode()]
            for raw in messages:
                parts.append(b" {%d+}\r\n" % len(raw) + raw)
            imap.send(b"".join(parts) + b"\r\n")
            typ, data = imap._command_complete("APPEND", tag)
        except (imaplib.IMAP4.abort, OSError) as exc:
            raise ConnectionError(_one_line(str(exc) or type(exc).__name__)) from exc
        except imaplib.IMAP4.error as exc:
            return _bad(exc)
        return None if typ == "OK" else _answer(typ, data)

    def append_one(self, raw: bytes) -> str | None:
        """APPEND with a synchronizing literal: a server that will not take the message says
        so before it is sent. None when stored, else the server's answer."""
        try:
            typ, data = self._imap.append(INBOX, None, None, raw)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            return _bad(exc)
        return None if typ == "OK" else _answer(typ, data)

    def count(self) -> int:
        """Messages in the INBOX now; opens a new session when this one is gone."""
        try:
            return self._count()
        except (imaplib.IMAP4.abort, OSError):
            self.reopen()
            return self._count()

    def _count(self) -> int:
        return int(self._access.client.folder_status(INBOX, [b"MESSAGES"])[b"MESSAGES"])

    def reopen(self) -> None:
        self.close()
        self._access = ImapAccess(self._endpoint, WireMeter(), AccessOptions())

    def close(self) -> None:
        try:
            self._access.close()
        except Exception:  # a session the server already closed has nothing left to end
            pass


def deliver_to(session: Any, messages: Iterable[bytes],
               stored: Callable[[bytes], object] | None = None) -> DeliveryReport:
    """APPEND every message to the session's INBOX, in order, recording what the server
    refused; ``stored(raw)`` is called for each message the server took, in order."""
    start = time.perf_counter()
    report = DeliveryReport(0, 0, 0.0)
    batched = session.batched
    expected = session.count() if batched else 0  # what the INBOX holds, to check a refused batch by
    index = 0

    def took(raw: bytes) -> None:
        report.messages += 1
        report.bytes += len(raw)
        if stored is not None:
            stored(raw)

    for chunk in _chunks(messages, BATCH if batched else 1):
        if batched:
            try:
                answer = session.append_many(chunk)
            except ConnectionError:
                answer = "connection closed"
            if answer is None:
                for raw in chunk:
                    took(raw)
                expected += len(chunk)
                index += len(chunk)
                continue
            found = session.count()
            if found != expected:
                raise MailbenchError(
                    f"the server refused a MULTIAPPEND of {len(chunk)} messages ({answer}) but its INBOX went "
                    f"from {expected} to {found} messages: it stored part of the batch"
                )
        for raw in chunk:
            answer = session.append_one(raw)
            if answer is None:
                took(raw)
                expected += 1
            else:
                report.refused.append(Refusal(index, len(raw), answer))
            index += 1
    report.seconds = time.perf_counter() - start
    return report


def deliver(endpoint: Endpoint, messages: Iterable[bytes],
            stored: Callable[[bytes], object] | None = None) -> DeliveryReport:
    """APPEND every message to the INBOX of ``endpoint``'s user, in order (see
    ``deliver_to``)."""
    session = Session(endpoint)
    try:
        return deliver_to(session, messages, stored)
    finally:
        session.close()
