"""The protocol-neutral interface for what a mail client does.

Scenarios and devices speak only this interface; IMAP and POP3 each implement it in their
own module. An operation a protocol cannot do raises ``Unsupported`` (shown as "n/a").
"""

from __future__ import annotations

import socket
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Literal

from bench.access.meter import ConnectionTap, WireMeter

LOOPBACK = "127.0.0.1"

Part = Literal["full", "headers"]


@dataclass(frozen=True)
class Endpoint:
    """Where and as whom to connect. The host is loopback, always.

    ``tls`` is ``off`` (plaintext port), ``on`` (implicit TLS: IMAPS 993, POP3S 995) or
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

    def __post_init__(self) -> None:
        if self.host not in (LOOPBACK, "localhost"):
            raise ValueError(f"mailbench only talks to 127.0.0.1, not {self.host!r}")
        if self.tls != "off" and self.ssl_context is None:
            raise ValueError(f"tls={self.tls!r} needs an ssl_context")


@dataclass(frozen=True)
class AccessOptions:
    """Client behaviour a cell may switch; recorded with the cell's results."""

    # Send several commands per write where the server advertises it (POP3 PIPELINING).
    pipelining: bool = True


@dataclass(frozen=True)
class MessageRef:
    """A message as the server lists it.

    ``id`` is stable across sessions (IMAP ``UIDVALIDITY/UID``, POP3 UIDL); ``handle`` is what
    the protocol needs to address it in this session (IMAP UID, POP3 message number).
    """

    id: str
    size: int
    handle: int


@dataclass(frozen=True)
class Listing:
    """The messages a sync should fetch, and the token that marks this sync's end."""

    refs: list[MessageRef]
    token: Any


class MailAccess(ABC):
    """One authenticated session with a mailbox, metered."""

    protocol: str

    def __init__(self, endpoint: Endpoint, meter: WireMeter, options: AccessOptions) -> None:
        self.endpoint = endpoint
        self.meter = meter
        self.options = options
        # Optional capabilities this session actually used (PIPELINING, UIDPLUS, ...): a
        # scenario uses what the server offers and the results say so.
        self.capabilities_used: set[str] = set()

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
        """Yield each message (or its header block) as it arrives, never the whole lot at once."""

    @abstractmethod
    def delete(self, refs: Iterable[MessageRef]) -> None:
        """Remove messages from the server (POP3: takes effect when the session ends cleanly)."""

    @abstractmethod
    def set_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        """Set flags such as ``\\Seen``; POP3 raises ``Unsupported``."""

    @abstractmethod
    def close(self) -> None:
        """End the session cleanly (POP3 QUIT commits deletions)."""

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
