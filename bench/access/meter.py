"""One meter for everything a client puts on the wire and waits for.

Every protocol implementation reports through the same few calls, so the figures never
depend on which client library produced them (as locust's single ``measure`` event).

Definitions, which the report repeats:

- ``bytes_up`` / ``bytes_down``: protocol bytes the client wrote / read, CRLFs included.
- ``round_trips``: how often the client had to wait for the server before it could go on,
  counted as each switch from writing to reading on a connection. Opening a connection and
  waiting for the greeting counts as one. Pipelined commands (several written before the
  first answer is read) therefore cost one round trip, as they do on a real link.
- per-command latency: wall time of each protocol command, from the first byte written to
  the last byte of its answer read.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator


@dataclass
class WireMeter:
    """Totals for all connections of one device (or one sample)."""

    bytes_up: int = 0
    bytes_down: int = 0
    round_trips: int = 0
    connections: int = 0
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
        return {
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "round_trips": self.round_trips,
            "connections": self.connections,
        }

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
