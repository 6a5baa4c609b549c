"""An EventSource stream (the HTML standard's ``text/event-stream``) on a metered HTTP/1.1
connection of its own: how a JMAP client is told of changes (RFC 8620 section 7.3).

The client writes one GET and the server answers it for as long as the connection lasts,
one event at a time; nothing more is written, so the stream costs the meter one connection,
its opening round trip and the GET's (counted when the first bytes of the answer come, as
any answer), then the bytes of each event. The GET is written as soon as the stream is
opened and its answer read only when the caller waits for an event (``next_event``): a
server may hold back the response's headers until its first event (Cyrus does), and a
client that opens its stream before it syncs misses nothing that changes meanwhile.

Every wait is bounded by the caller's timeout; a server that ends the stream (its idle
timeout, a restart) or resets it gets a new GET at once, and the wait ends with
``RECONNECTED``, so the caller syncs rather than trusting that nothing changed while no
stream was open.
"""

from __future__ import annotations

import http.client
import socket
import time
from dataclasses import dataclass
from typing import Mapping

from bench.access.base import Endpoint, buffered, readable
from bench.access.http import HttpClient
from bench.access.meter import WireMeter
from bench.errors import MailbenchError

EVENT_LINES_MAX = 10_000  # lines read for one event (a server sending one endless event is bounded too)


class NoEventStream(MailbenchError):
    """The server answered the stream's GET with something other than an event stream."""


@dataclass(frozen=True)
class Event:
    """One event: its type (``message`` unless the server names one), its data lines
    joined with newlines, and its id where the server gave one."""

    type: str
    data: str
    id: str | None = None


# What ``next_event`` gives when the server had ended the stream and it was opened again:
# events sent meanwhile are lost, so the caller must look for itself.
RECONNECTED = Event("mailbench-reconnected", "")


class EventParser:
    """The event stream format, line by line (HTML standard, "Parsing an event stream"):
    ``field: value`` lines, a blank line ending each event, ``:`` starting a comment."""

    def __init__(self) -> None:
        self._type = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, line: bytes) -> Event | None:
        """Take one line (its line ending included or not); the event it completes, if any."""
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        if not text:
            if not self._data:
                self._type = ""
                return None
            event = Event(self._type or "message", "\n".join(self._data), self._id)
            self._type, self._data = "", []
            return event
        if text.startswith(":"):
            return None
        name, _, value = text.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._type = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None


class EventStream:
    """One event stream of ``path`` on ``endpoint``, opened by ``open`` and read by ``next_event``."""

    def __init__(self, endpoint: Endpoint, meter: WireMeter, path: str, headers: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.http = HttpClient(endpoint, meter, {**(headers or {}), "Accept": "text/event-stream",
                                                 "Cache-Control": "no-cache"})
        self._response: http.client.HTTPResponse | None = None
        self._parser = EventParser()
        self._sock: socket.socket | None = None  # kept: http.client lets go of a connection that closes at the end
        self.opened = 0  # GETs written: more than one means the server ended a stream

    def open(self) -> None:
        """Write the stream's GET (on a new connection); its answer is read by ``next_event``."""
        self.close()
        self.http.send(self.path)
        self._sock = self.http.socket
        self._parser = EventParser()
        self.opened += 1

    @property
    def is_open(self) -> bool:
        """Whether the stream's GET is written and its connection not closed by this client."""
        return self._sock is not None

    def next_event(self, timeout_s: float) -> Event | None:
        """The next event, waiting at most ``timeout_s`` for it; None when none came in time,
        ``RECONNECTED`` when the server had ended the stream (opened again). Refusals of the
        GET (any answer but ``200`` with ``text/event-stream``) raise ``NoEventStream``."""
        if not self.is_open:
            self.open()
        deadline = time.monotonic() + timeout_s
        for _ in range(EVENT_LINES_MAX):
            if not self._wait_readable(max(0.0, deadline - time.monotonic())):
                return None
            if self._response is None:
                self._response = self._head()
                continue
            try:
                line = self._response.readline()
            except (OSError, http.client.HTTPException):
                line = b""  # reset: as ended
            if not line:  # the server ended the stream
                self.open()
                return RECONNECTED
            event = self._parser.feed(line)
            if event is not None:
                return event
        raise NoEventStream(f"GET {self.path}: {EVENT_LINES_MAX} lines without the end of an event")

    def _head(self) -> http.client.HTTPResponse:
        try:
            response = self.http.receive()
        except (http.client.HTTPException, OSError) as exc:
            self.close()
            raise NoEventStream(f"GET {self.path}: no event stream ({type(exc).__name__}: {exc})") from None
        kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if response.status != 200 or kind != "text/event-stream":
            self.close()
            raise NoEventStream(f"GET {self.path} answered {response.status} {response.reason}"
                                f"{f' ({kind})' if kind else ''}, not an event stream: the server does not push")
        return response

    def _wait_readable(self, timeout_s: float) -> bool:
        """True once something is there to read: in the response's buffer (read ahead with an
        earlier line, where a poll of the socket would not see it) or on the socket."""
        sock = self._sock
        if sock is None or sock.fileno() < 0:
            return False
        if self._response is not None and self._response.fp is not None and buffered(self._response.fp, sock):
            return True
        return readable(sock, timeout_s)

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None
        self.http.close()
        self._sock = None
