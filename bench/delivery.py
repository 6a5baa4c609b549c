"""Putting a corpus into a mailbox, fast: this is setup, not the measurement.

Messages go in over IMAP APPEND, the one way all servers accept. With MULTIAPPEND and
LITERAL+ (RFC 3502, RFC 7888) a whole batch is one command with no waits; without them each
message costs a command and a continuation. TCP_NODELAY (in the access layer) keeps a
literal split over two writes from stalling on the server's delayed ACK.

One batch is on the wire at a time, sent and answered by a thread of its own, while this
thread makes the next batch (generating a corpus is the client's largest cost; a large
generated corpus is made by worker processes, ``bench.corpus.workers``, and only read here)
and records the batch before in the truth (``stored``): the client's work and the server's
overlap, and the server still sees one command after another. Several batches in flight would break
the order on a refusal: the batches after a refused one would be stored before the
refused batch is sent again message by message.

A server may refuse a message (one larger than it accepts, say). A single APPEND uses a
synchronizing literal, so the server answers before the message is sent; the message is
recorded as refused with that answer (``Refusal``) and delivery goes on. A refusal inside a
MULTIAPPEND refuses the whole batch (RFC 3502: all or nothing), and a server may close the
connection on a non-synchronizing literal it will not take (Cyrus does): the batch is then
checked to be absent from the mailbox and sent again one message at a time, on a new
session if the old one is gone, so that only the refused message is left out.

``deliver`` logs in as the server's setup login and runs its ``settle`` step after the last
message (``RunningServer.delivery_endpoint``, ``settle_delivery``): Dovecot stores setup
mail without an fsync per message and flushes the file system once at the end
(docs/servers.md says why a measurement sees the same server either way).
"""

from __future__ import annotations

import imaplib
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from bench.access import AccessOptions, Endpoint, WireMeter
from bench.access.imap import INBOX, ImapAccess
from bench.errors import MailbenchError

# A MULTIAPPEND holds at most this many messages or bytes. Each command is one transaction
# for the server, whose cost grows with the mailbox (Dovecot's Maildir: its UID list and
# index are read and written again per transaction), so fewer, larger commands cost the
# server less (docs/servers.md has the figures). The byte bound keeps the client's two
# batches (one on the wire, one being made) small.
BATCH = 1000
BATCH_BYTES = 32 * 1024 * 1024
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


def _chunks(messages: Iterable[bytes], size: int, max_bytes: int | None = None) -> Iterator[list[bytes]]:
    """Consecutive lists of at most ``size`` messages and, past the first message of each,
    at most ``max_bytes`` bytes."""
    chunk: list[bytes] = []
    total = 0
    for raw in messages:
        if chunk and (len(chunk) >= size or (max_bytes is not None and total + len(raw) > max_bytes)):
            yield chunk
            chunk, total = [], 0
        chunk.append(raw)
        total += len(raw)
    if chunk:
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
        a message per write with no continuation to wait for. (IMAPClient.multiappend puts
        two spaces between literals, which Cyrus refuses.) None when stored, else the
        server's answer; ``ConnectionError`` when the session is gone."""
        imap = self._imap
        try:
            tag = imap._new_tag()
            imap.send(tag + b" APPEND " + INBOX.encode())
            for raw in messages:
                imap.send(b" {%d+}\r\n" % len(raw) + raw)
            imap.send(b"\r\n")
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


def _sent(future: Future[str | None]) -> str | None:
    """The answer to a batch sent by the sender thread; a session that went away is an answer too."""
    try:
        return future.result()
    except ConnectionError:
        return "connection closed"


def deliver_to(session: Any, messages: Iterable[bytes],
               stored: Callable[[bytes], object] | None = None) -> DeliveryReport:
    """APPEND every message to the session's INBOX, in order, recording what the server
    refused; ``stored(raw)`` is called for each message the server took, in order.

    Batches go out from a sender thread, one at a time; ``messages`` is read and ``stored``
    called here, meanwhile (the module's docstring says why)."""
    start = time.perf_counter()
    report = DeliveryReport(0, 0, 0.0)
    index = 0

    def took(raw: bytes) -> None:
        report.messages += 1
        report.bytes += len(raw)
        if stored is not None:
            stored(raw)

    def one_at_a_time(chunk: list[bytes]) -> None:
        nonlocal index
        for raw in chunk:
            answer = session.append_one(raw)
            if answer is None:
                took(raw)
            else:
                report.refused.append(Refusal(index, len(raw), answer))
            index += 1

    if not session.batched:
        for chunk in _chunks(messages, 1):
            one_at_a_time(chunk)
        report.seconds = time.perf_counter() - start
        return report

    expected = session.count()  # what the INBOX holds, to check a refused batch by
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="delivery") as sender:
        in_flight: tuple[list[bytes], Future[str | None]] | None = None
        for chunk in _and_end(_chunks(messages, BATCH, BATCH_BYTES)):
            # ``chunk`` was made while the batch before it was on the wire.
            done: list[bytes] = []
            if in_flight is not None:
                sent, future = in_flight
                in_flight = None
                answer = _sent(future)
                if answer is None:
                    done = sent
                    expected += len(sent)
                    index += len(sent)
                else:
                    found = session.count()
                    if found != expected:
                        raise MailbenchError(
                            f"the server refused a MULTIAPPEND of {len(sent)} messages ({answer}) but its INBOX "
                            f"went from {expected} to {found} messages: it stored part of the batch"
                        )
                    before = report.messages
                    one_at_a_time(sent)
                    expected += report.messages - before
            if chunk is not None:
                in_flight = (chunk, sender.submit(session.append_many, chunk))
            for raw in done:  # recorded while the next batch is on the wire
                took(raw)
    report.seconds = time.perf_counter() - start
    return report


def _and_end(chunks: Iterator[list[bytes]]) -> Iterator[list[bytes] | None]:
    """The chunks, then None: the loop's last turn collects the last batch's answer."""
    yield from chunks
    yield None


def deliver(endpoint: Endpoint, messages: Iterable[bytes],
            stored: Callable[[bytes], object] | None = None,
            settle: Callable[[], object] | None = None) -> DeliveryReport:
    """APPEND every message to the INBOX of ``endpoint``'s user, in order (see
    ``deliver_to``); then ``settle()``, whose time counts in the delivery's."""
    session = Session(endpoint)
    try:
        report = deliver_to(session, messages, stored)
    finally:
        session.close()
    if settle is not None:
        started = time.perf_counter()
        settle()
        report.seconds += time.perf_counter() - started
    return report
