"""The metered client a Locust user drives: the suite's own access classes, with every
command reported twice.

``LocustMeter`` is a ``WireMeter`` whose ``measure`` (the one call every IMAP and POP3
command of ``bench.access`` goes through) fires Locust's ``request`` event (request_type =
protocol, name = command, response_time in ms, response_length = bytes read, exception),
as Locust's documentation describes for protocols other than HTTP, and writes the same
command as one JSON line into its worker's ``RecordFile``. A command cut off by Locust
stopping the user (``GreenletExit``, not an ``Exception``) is reported by neither path.

No import of Locust or gevent here: the user classes (``bench.load.locustfile``) hand in
Locust's ``fire``; unit tests hand in a list's ``append``.
"""

from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from typing import IO, Any, Callable, Iterator

from bench.access import AccessOptions, Endpoint, MailAccess, WireMeter, open_access

Fire = Callable[..., Any]
# The header the injector puts first in every message it delivers (``bench.load.injector``).
INJECT_HEADER = b"X-Mailbench-Inject"
_INJECTED = re.compile(rb"^X-Mailbench-Inject: *(\S+)", re.IGNORECASE | re.MULTILINE)


class RecordFile:
    """One worker's JSON-lines file, written a line at a time (line-buffered), so that a
    worker killed in the middle loses at most the line it was writing."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, record: dict[str, Any]) -> None:
        self._stream.write(json.dumps(record, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._stream.close()


class LocustMeter(WireMeter):
    """A ``WireMeter`` that reports each command to Locust and to the records, instead of
    keeping every latency in memory (a user runs for as long as its level does)."""

    def __init__(self, protocol: str, user: str, fire: Fire, records: RecordFile) -> None:
        super().__init__()
        self.last_error: Exception | None = None  # the last exception a command reported
        self.protocol = protocol
        self.user = user
        self._fire = fire
        self._records = records

    @contextmanager
    def measure(self, command: str) -> Iterator[None]:
        start = time.perf_counter()
        up, down = self.bytes_up, self.bytes_down
        try:
            yield
        except Exception as exc:
            self.last_error = exc
            self._report(command, start, up, down, exc)
            raise
        self._report(command, start, up, down, None)

    def report_error(self, command: str, exc: Exception) -> None:
        """An error that happened outside any measured command, reported as ``command``."""
        self.last_error = exc
        self._report(command, time.perf_counter(), self.bytes_up, self.bytes_down, exc)

    def _report(self, command: str, start: float, up: int, down: int, exc: Exception | None) -> None:
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        received = self.bytes_down - down
        self._fire(request_type=self.protocol, name=command, response_time=elapsed_ms,
                   response_length=received, exception=exc, context={"user": self.user})
        self._records.write({
            "kind": "cmd", "at": round(time.time(), 4), "user": self.user, "protocol": self.protocol,
            "command": command, "ms": round(elapsed_ms, 4), "up": self.bytes_up - up, "down": received,
            "error": None if exc is None else f"{type(exc).__name__}: {str(exc)[:200]}",
        })

    def received_mail(self, raw: bytes) -> None:
        """Record that an injected message reached this device (its id from the header)."""
        found = _INJECTED.search(raw[:4096])
        if found is not None:
            self._records.write({"kind": "mail", "at": round(time.time(), 4), "user": self.user,
                                 "id": found.group(1).decode(errors="replace")})


def open_session(protocol: str, endpoint: Endpoint, meter: LocustMeter) -> MailAccess:
    """A logged-in session on ``meter`` (its CONNECT and LOGIN reported like any command)."""
    return open_access(protocol, endpoint, meter, AccessOptions())
