"""The protocol-neutral interface for what a mail client does.

Scenarios and devices speak only this interface; IMAP and POP3 each implement it in their
own module. An operation a protocol cannot do raises ``Unsupported`` (shown as "n/a").
"""

from __future__ import annotations

import select
import socket
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Iterator, Literal

from bench.access.meter import ConnectionTap, WireMeter
from bench.errors import Unsupported
from bench.protocols import Protocol

LOOPBACK = "127.0.0.1"

Part = Literal["full", "headers"]

INBOX = "INBOX"
SEEN = "\\Seen"
FLAGGED = "\\Flagged"
# The flags a device keeps in step with the server; others (\Recent, keywords) are left alone.
SYNC_FLAGS = frozenset({SEEN, FLAGGED})
# How a device learns what changed in a folder since its last sync: ``best`` uses QRESYNC,
# else CONDSTORE, else a full listing; ``condstore`` never uses QRESYNC; ``full`` lists the
# flags of every message each time, as a client without either extension must.
LISTINGS = ("best", "condstore", "full")


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect. The host is loopback, unless the user named another.

    ``tls`` is ``off`` (plaintext port), ``on`` (implicit TLS, on its own port) or
    ``starttls`` (plaintext port upgraded with STARTTLS / STLS); with TLS, ``ssl_context``
    decides whom to trust.
    """

    port: int
    username: str
    password: str
    host: str = LOOPBACK
    timeout_s: float = 30.0
    tls: str = "off"
    ssl_context: ssl.SSLContext | None = None
    # True only where the user named ``host`` explicitly (a many-devices worker on another
    # machine, reaching the server at the run's --publish-address: docs/load.md).
    named_address: bool = False

    def __post_init__(self) -> None:
        if self.host not in (LOOPBACK, "localhost") and not self.named_address:
            raise ValueError(f"mailbench only talks to 127.0.0.1, not {self.host!r}")
        if self.tls != "off" and self.ssl_context is None:
            raise ValueError(f"tls={self.tls!r} needs an ssl_context")


@dataclass(frozen=True)
class AccessOptions:
    """Client behaviour a cell may switch; recorded with the cell's results."""

    # Send several commands per write where the server advertises it (POP3 PIPELINING).
    pipelining: bool = True


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message as the server lists it.

    ``id`` is stable across sessions (IMAP ``UIDVALIDITY/UID``, POP3 UIDL); ``handle`` is what
    the protocol needs to address it in this session (IMAP UID, POP3 message number). A
    listing holds one per message, so they have slots and no ``__dict__``.
    """

    id: str
    size: int
    handle: int
    folder: str = INBOX


@dataclass(frozen=True)
class MessageState:
    """A message as a folder listing reports it now: where it is, its flags (of
    ``SYNC_FLAGS``), and, for a message new to the client, its Message-ID when the protocol
    can tell it without downloading the message (IMAP can, POP3 cannot)."""

    ref: MessageRef
    flags: frozenset[str] = frozenset()
    message_id: str | None = None


@dataclass(frozen=True)
class FolderSnapshot:
    """What a client remembers of a folder between sessions: the ids of the messages it
    knows to be there (``MessageRef.id``), and the IMAP UIDVALIDITY and HIGHESTMODSEQ then,
    or JMAP's state string of the account's messages (``state``)."""

    validity: int | None = None
    modseq: int | None = None
    ids: frozenset[str] = frozenset()
    state: str | None = None


@dataclass
class FolderChanges:
    """What changed in one folder since a snapshot.

    ``updated``: known messages the listing reported (with a full listing every one of them,
    incrementally only those whose flags changed); ``new``: messages the snapshot did not
    have; ``vanished``: ids of the snapshot that are gone. ``method`` says how the server was
    asked: ``full``, ``condstore``, ``qresync``, ``unchanged`` (HIGHESTMODSEQ said nothing
    changed, so nothing was fetched), ``uidl`` (POP3) or ``changes`` (JMAP ``Email/changes``;
    ``state`` is then the new state string).
    """

    folder: str
    method: str
    validity: int | None = None
    modseq: int | None = None
    updated: list[MessageState] = field(default_factory=list)
    new: list[MessageState] = field(default_factory=list)
    vanished: frozenset[str] = frozenset()
    state: str | None = None

    def snapshot(self, before: FolderSnapshot) -> FolderSnapshot:
        """The snapshot after applying these changes to ``before``."""
        ids = (before.ids - self.vanished) | {state.ref.id for state in self.new}
        return FolderSnapshot(self.validity, self.modseq, frozenset(ids), self.state)


@dataclass(frozen=True)
class Listing:
    """The messages a sync should fetch, and the token that marks this sync's end."""

    refs: list[MessageRef]
    token: Any


class MailAccess(ABC):
    """One authenticated session with a mailbox, metered.

    Besides fetching, the interface has what a syncing device needs (``prepare_sync``,
    ``changes``, ``locate``, flags, folders, ``move``, ``wait_for_news``) and a search
    (``search``). A device never asks which protocol it speaks: it reads the protocol's
    record (``protocol``, from ``bench.protocols``: ``keeps_flags``, ``has_folders``,
    ``mirrors_mailbox``, shown here as properties) and ``can_search`` (the server finds
    messages for the client, so it need not download them to look).
    """

    protocol: ClassVar[Protocol]
    can_search: ClassVar[bool] = False

    @property
    def keeps_flags(self) -> bool:
        return self.protocol.keeps_flags

    @property
    def has_folders(self) -> bool:
        return self.protocol.has_folders

    @property
    def mirrors_mailbox(self) -> bool:
        return self.protocol.mirrors_mailbox

    def __init__(self, endpoint: Endpoint, meter: WireMeter, options: AccessOptions) -> None:
        self.endpoint = endpoint
        self.meter = meter
        self.options = options
        # Optional capabilities this session actually used (PIPELINING, UIDPLUS, ...): a
        # scenario uses what the server offers and the results say so.
        self.capabilities_used: set[str] = set()
        # Ids of messages this session listed but could not fetch or delete: gone meanwhile.
        self.unavailable: set[str] = set()
        # True when the session's closing command (LOGOUT / QUIT) failed and the connection
        # was dropped instead: POP3 then applied none of the session's deletions.
        self.close_failed = False

    @property
    def pipelined(self) -> bool:
        """True where this session sends several commands per write."""
        return "PIPELINING" in self.capabilities_used

    @property
    @abstractmethod
    def capabilities(self) -> frozenset[str]:
        """What the server advertised (IMAP CAPABILITY, POP3 CAPA), upper-case."""

    @abstractmethod
    def list_messages(self, after: Any = None) -> Listing:
        """Messages in the inbox; with ``after`` (a previous listing's token) only new ones."""

    @abstractmethod
    def fetch(self, refs: Iterable[MessageRef], part: Part = "full") -> Iterator[tuple[MessageRef, bytes]]:
        """Yield each message (or its header block) as it arrives, never the whole lot at once.
        A message gone since it was listed is not yielded; its id goes to ``unavailable``."""

    @abstractmethod
    def delete(self, refs: Iterable[MessageRef]) -> None:
        """Remove messages from the server (POP3: takes effect when the session ends cleanly)."""

    @abstractmethod
    def set_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        """Set flags such as ``\\Seen``; POP3 raises ``Unsupported``."""

    @abstractmethod
    def close(self) -> None:
        """End the session cleanly (POP3 QUIT commits deletions)."""

    # What a syncing device needs. Operations a protocol lacks raise ``Unsupported``.

    def prepare_sync(self, listing: str = "best") -> str:
        """Set the session up for ``changes`` before anything else is done in it (IMAP
        ENABLEs QRESYNC or CONDSTORE per ``listing``, one of ``LISTINGS``); returns the
        listing method the session will use. Calling it again returns the same answer."""
        if listing not in LISTINGS:
            raise ValueError(f"listing must be one of {LISTINGS}, got {listing!r}")
        return "uidl"

    @abstractmethod
    def changes(self, folder: str, known: FolderSnapshot) -> FolderChanges:
        """What changed in ``folder`` since ``known`` (see ``FolderChanges``)."""

    @abstractmethod
    def locate(self, refs: Iterable[MessageRef]) -> dict[str, MessageState]:
        """Those of ``refs`` still where they were, by id, as they are now: the handle this
        session must use and the current flags. A moved or deleted message is absent."""

    def clear_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        """Remove flags; POP3 raises ``Unsupported``."""
        raise Unsupported(f"{self.protocol.label} has no flags")

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` on the server unless it exists; without folders, ``Unsupported``."""
        if folder != INBOX:
            raise Unsupported(f"{self.protocol.label} has no folders but the inbox")

    def move(self, refs: Iterable[MessageRef], folder: str) -> dict[str, MessageRef]:
        """Move messages to ``folder``; returns, by old id, each moved message's new ref where
        the server says it (UIDPLUS COPYUID)."""
        raise Unsupported(f"{self.protocol.label} has no folders to move messages to")

    def search(self, term: str) -> list[MessageRef]:
        """The inbox's messages whose Subject contains ``term``, case not considered (the
        question ``bench.search`` defines), as the server finds them, in mailbox order. Without
        server search (``can_search`` false), ``Unsupported``."""
        raise Unsupported(f"{self.protocol.label} cannot search on the server")

    @property
    def can_push(self) -> bool:
        """True where the server can tell an open session that mail arrived (IMAP IDLE, JMAP's
        event stream)."""
        return False

    def watch_for_news(self) -> None:
        """Start listening for news now, before the sync that comes ahead of the first
        ``wait_for_news``, so that nothing changing in between goes unannounced. Nothing to
        do where the server reports what changed since the session's last view (IMAP IDLE);
        a JMAP client opens its event stream."""

    def wait_for_news(self, timeout_s: float) -> bool:
        """Wait, at most ``timeout_s``, for the server to report a change in the inbox;
        True if it did. Without push, ``Unsupported``."""
        raise Unsupported(f"{self.protocol.label} cannot push news of new mail")

    def __enter__(self) -> "MailAccess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(endpoint: Endpoint, timeout: float | None, tap: ConnectionTap) -> socket.socket:
    """A TCP connection with Nagle off (a client that writes a command in two pieces must not
    wait for the peer's delayed ACK, about 40 ms a time on loopback), wrapped in TLS at once
    when the endpoint uses implicit TLS."""
    sock = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if endpoint.tls == "on":
        sock = endpoint.ssl_context.wrap_socket(sock, server_hostname=endpoint.host)
        tap.handshake(sock)
    return sock


def readable(sock: socket.socket, timeout_s: float) -> bool:
    """Whether ``sock`` has bytes to read (or was closed) within ``timeout_s``."""
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    return bool(poller.poll(timeout_s * 1000))


def buffered(reader: Any, sock: socket.socket) -> bool:
    """Whether ``reader`` (a buffered reader of ``sock``) holds bytes not yet read, looked at
    without blocking: a line that came in the same packet as an earlier one sits there,
    where a poll of the socket would not see it."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return bool(reader.peek(1))
    except (OSError, ValueError):
        return False
    finally:
        sock.settimeout(timeout)
