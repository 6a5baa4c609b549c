"""One meter for everything a client puts on the wire and waits for.

Every protocol implementation reports through the same few calls, so the figures never
depend on which client library produced them (as locust's single ``measure`` event).

Definitions, which the report repeats:

- ``bytes_up`` / ``bytes_down``: protocol bytes the client wrote / read, CRLFs included.
- ``round_trips``: how often the client had to wait for the server before it could go on,
  counted as each switch from writing to reading on a connection. Opening a connection and
  waiting for the greeting counts as one; where the server sends no greeting (HTTP), opening
  the connection counts as one, and each request and its response as one more. Pipelined commands (several written before the
  first answer is read) therefore cost one round trip, as they do on a real link.
- ``wire_bytes_up`` / ``wire_bytes_down``: what crossed the TCP connection, by the kernel's
  count (TCP_INFO, Linux): the protocol bytes plus TLS records and handshakes, so the cost
  of encryption shows. Absent where the platform does not report it.
- a TLS handshake counts as the round trips its version needs (TLS 1.3: one, older: two).
- per-command latency: wall time of each protocol command, from the first byte written to
  the last byte of its answer read.
"""

from __future__ import annotations

import socket
import struct
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    import ssl


@dataclass
class WireMeter:
    """Totals for all connections of one device (or one sample)."""

    bytes_up: int = 0
    bytes_down: int = 0
    round_trips: int = 0
    connections: int = 0
    wire_bytes_up: int | None = None
    wire_bytes_down: int | None = None
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def tap(self) -> "ConnectionTap":
        """A tap for one new connection; its round trips are counted on their own."""
        self.connections += 1
        return ConnectionTap(self)

    @contextmanager
    def measure(self, command: str) -> Iterator[None]:
        """Time one protocol command (``with meter.measure("FETCH"): ...``)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.latencies_ms[command].append((time.perf_counter() - start) * 1000.0)

    def totals(self) -> dict[str, int]:
        totals = {
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "round_trips": self.round_trips,
            "connections": self.connections,
        }
        if self.wire_bytes_up is not None:
            totals.update(wire_bytes_up=self.wire_bytes_up, wire_bytes_down=self.wire_bytes_down)
        return totals

    def commands(self) -> dict[str, dict[str, object]]:
        return {
            name: {"count": len(values), "latency_ms": [round(v, 4) for v in values]}
            for name, values in sorted(self.latencies_ms.items())
        }


class ConnectionTap:
    """Counts one connection's bytes and its write-to-read turns into a shared meter."""

    def __init__(self, meter: WireMeter) -> None:
        self._meter = meter
        # The client has just "sent" its SYN: the greeting is the first thing it waits for.
        self._awaiting_reply = True

    def sent(self, nbytes: int) -> None:
        if nbytes:
            self._meter.bytes_up += nbytes
            self._awaiting_reply = True

    def received(self, nbytes: int) -> None:
        if nbytes:
            if self._awaiting_reply:
                self._meter.round_trips += 1
                self._awaiting_reply = False
            self._meter.bytes_down += nbytes

    def opened(self) -> None:
        """Count the TCP handshake of a connection whose server says nothing until asked
        (HTTP): the connection's first wait, as the greeting is for IMAP and POP3."""
        if self._awaiting_reply:
            self._meter.round_trips += 1
            self._awaiting_reply = False

    def handshake(self, tls_socket: "ssl.SSLSocket") -> None:
        """Count a finished TLS handshake: its bytes are below what the client library sees."""
        self._meter.round_trips += 1 if tls_socket.version() == "TLSv1.3" else 2

    def closing(self, sock: socket.socket | None) -> None:
        """Add the connection's bytes on the wire, read from the kernel just before it closes."""
        wire = _tcp_bytes(sock)
        if wire is not None:
            meter = self._meter
            meter.wire_bytes_up = (meter.wire_bytes_up or 0) + wire[0]
            meter.wire_bytes_down = (meter.wire_bytes_down or 0) + wire[1]


# struct tcp_info (linux/tcp.h): tcpi_bytes_acked and tcpi_bytes_received, both u64, at
# offsets 120 and 128 since Linux 4.1/4.2. bytes_acked counts our SYN as one byte (taken off
# here); bytes_received counts the peer's FIN once it has come (at most one byte too many).
_TCP_INFO_BYTES = struct.Struct("=QQ")
_TCP_INFO_OFFSET = 120


def _tcp_bytes(sock: socket.socket | None) -> tuple[int, int] | None:
    if sock is None or not hasattr(socket, "TCP_INFO"):
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    except OSError:
        return None
    if len(info) < _TCP_INFO_OFFSET + _TCP_INFO_BYTES.size:
        return None
    acked, received = _TCP_INFO_BYTES.unpack_from(info, _TCP_INFO_OFFSET)
    return max(0, acked - 1), received
