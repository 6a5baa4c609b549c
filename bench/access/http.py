"""A metered HTTP/1.1 client: keep-alive, plaintext or implicit TLS, on http.client.

The standard library's ``http.client`` writes the requests and parses the responses; the
socket under it is wrapped so that the wire meter counts every byte both ways (request and
status lines, headers and bodies alike) and each request with its response as one round
trip. An HTTP server says nothing until asked, so opening a connection counts as one round
trip more (``ConnectionTap.opened``), as the greeting does for IMAP and POP3, and a TLS
handshake as its version needs. Each request is timed under a label its caller gives (a
JMAP request: the names of its methods), as IMAP's and POP3's commands are.

A response arrives whole or not at all: a connection that closes in the status line, the
headers or the body raises ``ResponseTruncated``, never returns part of it. A kept-alive
connection that the server closed while it was idle is opened again, once, for the next
request, when nothing of the answer had arrived (as browsers and urllib3 do).

GETs of many resources (a JMAP client's blob downloads) can be pipelined (``get_all``,
RFC 9112 section 9.3.2): the requests of a window are written together and the responses
read in order, so a window costs one round trip, as IMAP's pipelined FETCH commands do and
as an HTTP/2 client's multiplexed requests would.
"""

from __future__ import annotations

import http.client
import io
import socket
from dataclasses import dataclass
from email.message import Message
from typing import Any, Iterator, Mapping, Sequence

from bench.access.base import Endpoint, connect
from bench.access.meter import ConnectionTap, WireMeter

READ_BUFFER_BYTES = 64 * 1024
# GETs written ahead of their responses in one pipelined window (``HttpClient.get_all``):
# a request is a few hundred bytes, so a window is one write of some tens of kB, which the
# socket buffers take while the server answers (the client reads only after writing).
PIPELINE_REQUESTS = 100


class ResponseTruncated(ConnectionError):
    """The connection closed (or was reset) before the whole response had arrived."""


@dataclass(frozen=True)
class HttpResponse:
    """One whole response: status, headers and the complete body."""

    status: int
    reason: str
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class _MeteredReader(io.RawIOBase):
    """What http.client reads a response from: the socket's bytes, each read reported to
    the connection's tap; remembers whether it met the end of the stream."""

    def __init__(self, owner: "_MeteredSocket") -> None:
        super().__init__()
        self._owner = owner
        self.eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._owner.sock.recv_into(buffer)
        if count == 0:
            self.eof = True
        self._owner.received(count)
        return count

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._owner.reader_closed()


class _MeteredSocket:
    """The socket http.client sees: writes and reads go to a tap. As with ``socket.makefile``,
    closing it while a response's reader is open closes the connection only when that reader
    closes too (http.client hands a ``Connection: close`` response's socket to the response)."""

    def __init__(self, sock: socket.socket, tap: ConnectionTap) -> None:
        self.sock = sock
        self._tap = tap
        self._readers = 0
        self._closing = False
        self.received_bytes = 0  # since the connection opened
        self.reader: _MeteredReader | None = None  # the reader of the latest response

    def sendall(self, data: Any) -> None:
        self.sock.sendall(data)
        self._tap.sent(memoryview(data).nbytes)

    def received(self, count: int) -> None:
        self.received_bytes += count
        self._tap.received(count)

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> io.BufferedReader:
        if mode != "rb":
            raise ValueError(f"only binary reading is metered, not mode {mode!r}")
        self._readers += 1
        self.reader = _MeteredReader(self)
        return io.BufferedReader(self.reader, READ_BUFFER_BYTES)

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closing and self._readers == 0:
            self._close_now()

    def close(self) -> None:
        self._closing = True
        if self._readers == 0:
            self._close_now()

    def _close_now(self) -> None:
        if self.sock.fileno() >= 0:
            self._tap.closing(self.sock)
            self.sock.close()

    def __getattr__(self, name: str) -> Any:  # setsockopt, getpeercert, settimeout ...
        return getattr(self.sock, name)


class _MeteredConnection(http.client.HTTPConnection):
    """http.client's connection on a metered socket: a new tap for every connection it opens."""

    def __init__(self, endpoint: Endpoint, meter: WireMeter) -> None:
        super().__init__(endpoint.host, endpoint.port, timeout=endpoint.timeout_s)
        self._endpoint = endpoint
        self._meter = meter
        self.answered = 0  # responses read whole on the connection open now
        self.metered: _MeteredSocket | None = None  # the latest connection's, kept after it closed

    def connect(self) -> None:
        tap = self._meter.tap()
        sock = connect(self._endpoint, self.timeout, tap)  # counts a TLS handshake
        tap.opened()
        self.sock = self.metered = _MeteredSocket(sock, tap)
        self.answered = 0

    def read_so_far(self) -> tuple["_MeteredSocket | None", int]:
        """The latest connection and how many bytes it has read: a mark to tell, after a
        failure, whether anything of the answer had come."""
        return self.metered, self.metered.received_bytes if self.metered is not None else 0

    def read_since(self, mark: tuple["_MeteredSocket | None", int]) -> bool:
        sock, count = mark
        if self.metered is None:
            return False
        return self.metered.received_bytes > (count if self.metered is sock else 0)


class _KeptReader:
    """The connection's one reader as each pipelined response sees it: an ``HTTPResponse``
    closes what ``makefile`` gave it once its body is read, and the responses after it still
    need the reader (and what it read ahead)."""

    def __init__(self, reader: io.BufferedReader) -> None:
        self._reader = reader

    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> "_KeptReader":
        return self

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:  # readline, read, readinto, peek, raw ...
        return getattr(self._reader, name)


def _whole_body(response: http.client.HTTPResponse, what: str, reader: Any) -> bytes:
    """The whole body of ``response``, whose status line and headers were read from
    ``reader`` (``what`` names the request in errors): a provisional (1xx) response, or a
    connection that closed within the headers or the body, raises instead of giving part."""
    if response.status < 200:  # http.client skips 100 Continue only
        raise http.client.HTTPException(
            f"{what}: a provisional response ({response.status} {response.reason}) where the final one was "
            "due; this client reads one response per request")
    if isinstance(reader, _MeteredReader) and reader.eof:
        raise ResponseTruncated(f"{what}: the connection closed within the response's headers")
    try:
        return response.read()
    except http.client.IncompleteRead as exc:
        expected = f"{exc.expected} more expected" if exc.expected is not None else "its end not reached"
        raise ResponseTruncated(
            f"{what}: the connection closed after {len(exc.partial)} bytes of the response's body, {expected}") from None
    except (ConnectionResetError, BrokenPipeError):
        raise ResponseTruncated(f"{what}: the connection was reset within the response's body") from None


# Failures of a kept-alive connection that the server had closed while idle.
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class HttpClient:
    """One HTTP/1.1 connection to an endpoint, kept alive between requests (opened again
    when the server closes it). ``headers`` go with every request (authorization, say)."""

    def __init__(self, endpoint: Endpoint, meter: WireMeter, headers: Mapping[str, str] | None = None) -> None:
        if endpoint.tls not in ("off", "on"):
            raise ValueError(f"HTTP has no STARTTLS: tls must be 'off' or 'on', not {endpoint.tls!r}")
        self.endpoint = endpoint
        self.meter = meter
        self._headers = dict(headers or {})
        self._conn = _MeteredConnection(endpoint, meter)

    @property
    def scheme(self) -> str:
        return "https" if self.endpoint.tls == "on" else "http"

    def request(self, method: str, path: str, body: bytes | None = None, *, label: str,
                headers: Mapping[str, str] | None = None) -> HttpResponse:
        """Send one request and read its whole response; timed under ``label``."""
        sent = {**self._headers, **(headers or {})}
        with self.meter.measure(label):
            for attempt in range(2):
                conn = self._conn
                reused = conn.sock is not None and conn.answered > 0
                mark = conn.read_so_far()
                try:
                    return self._exchange(method, path, body, sent)
                except _STALE:
                    nothing_read = not conn.read_since(mark)
                    conn.close()
                    if attempt == 0 and reused and nothing_read:
                        continue
                    when = "before answering" if nothing_read else "within the response"
                    raise ResponseTruncated(f"{method} {path}: the server closed the connection {when}") from None
                except BaseException:
                    conn.close()
                    raise
        raise AssertionError("unreachable")

    def get_all(self, paths: Sequence[str], *, label: str) -> Iterator[HttpResponse]:
        """GET each of ``paths``, pipelined: the requests of a window (``PIPELINE_REQUESTS``)
        written together, the responses read in order, each yielded before the next is read;
        each response's wait is timed under ``label`` (the first's with the window's write).

        Where the server closes the connection after answering part of a window (``Connection:
        close``, or a limit of requests per connection), the requests it left unanswered are
        sent again on a new connection, as RFC 9112 allows for idempotent requests; a
        kept-alive connection found closed before any answer is opened again once, as
        ``request`` does; a new connection that answers none of them, or a response cut
        short, raises ``ResponseTruncated``."""
        pending = list(paths)
        retried_stale = False
        while pending:
            window = pending[:PIPELINE_REQUESTS]
            reused = self._conn.sock is not None and self._conn.answered > 0
            answered = 0
            for response in self._pipeline(window, label):
                answered += 1
                yield response
            if answered == 0:
                if reused and not retried_stale:
                    retried_stale = True
                    continue
                raise ResponseTruncated(f"GET {window[0]}: the server closed the connection before answering "
                                        f"{len(window)} pipelined requests")
            pending = pending[answered:]

    def _request_bytes(self, path: str) -> bytes:
        """A GET as ``http.client`` writes it (request line, Host, Accept-Encoding, then the
        client's headers), so a pipelined request costs the bytes of a single one."""
        conn = self._conn
        host = conn.host if conn.port == conn.default_port else f"{conn.host}:{conn.port}"
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Accept-Encoding: identity"]
        lines += [f"{name}: {value}" for name, value in self._headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _pipeline(self, window: list[str], label: str) -> Iterator[HttpResponse]:
        """One window on the current connection (opened if need be): the responses the server
        gave before it closed the connection, or all of them."""
        conn = self._conn
        if conn.sock is None:
            conn.connect()
        sock = conn.sock
        reader = sock.makefile("rb")
        kept = _KeptReader(reader)
        closed = False
        answered = 0
        try:
            for index, path in enumerate(window):
                with self.meter.measure(label):
                    if index == 0:
                        try:
                            sock.sendall(b"".join(self._request_bytes(p) for p in window))
                        except (BrokenPipeError, ConnectionResetError):
                            closed = True
                            return
                    response = http.client.HTTPResponse(kept, method="GET")
                    try:
                        response.begin()
                    except _STALE:  # closed where the next response would start: the rest unanswered
                        closed = True
                        return
                    data = _whole_body(response, f"GET {path}", reader.raw)
                conn.answered += 1
                answered += 1
                yield HttpResponse(response.status, response.reason, response.msg, data)
                if response.will_close:  # the server closes after this one: the rest go again
                    closed = True
                    return
        except BaseException:  # responses still on their way make the connection unusable
            closed = closed or answered < len(window)
            raise
        finally:
            reader.close()
            if closed:
                conn.close()

    def send(self, path: str) -> None:
        """Write a GET without waiting for its response (``receive`` reads it): an event
        stream's request, which the server answers when it has something to say."""
        self._conn.request("GET", path, None, self._headers)

    def receive(self) -> http.client.HTTPResponse:
        """The status line and headers of the response to ``send``'s request; the body is
        then the caller's to read as it comes (``HTTPResponse.readline``)."""
        return self._conn.getresponse()

    @property
    def socket(self) -> socket.socket | None:
        """The open connection's socket (to wait on), or None."""
        metered = self._conn.sock
        return metered.sock if metered is not None else None

    def _exchange(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> HttpResponse:
        conn = self._conn
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        metered = response.fp.raw if response.fp is not None else None
        try:
            data = _whole_body(response, f"{method} {path}", metered)
        except BaseException:
            conn.close()
            response.close()
            raise
        conn.answered += 1
        return HttpResponse(response.status, response.reason, response.msg, data)

    def close(self) -> None:
        self._conn.close()
