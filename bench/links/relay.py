"""A shaping relay on 127.0.0.1: a link's delay and bandwidth between a client and a server.

The relay listens on a free port of 127.0.0.1 and forwards each connection to a port of
127.0.0.1 (a container's published port). It runs its own asyncio loop in a background thread,
so synchronous clients (imaplib, poplib) simply connect to ``relay.port``.

How a chunk of bytes crosses, in each direction:

1. It is stamped with the time it arrived and cut into pieces of about 2 ms of the link's
   bandwidth (at least 1,500 bytes), so that a large read is released piece by piece as a
   real link would carry it.
2. Each piece takes its turn on the direction's **token bucket**, shared by every connection
   through the relay (one link per relay): it leaves when the bucket holds its bytes. The
   bucket holds at most one MTU (1,500 bytes), so a small command on an idle link leaves at
   once and bulk data leaves at the link's rate (serialisation delay = bytes / rate).
3. It is delivered at *departure + rtt/2*: an absolute time, so delays never add up however
   many chunks are queued, and order is kept (departures never go backwards).

Memory is bounded: a direction of a connection stops reading from its source when more than its
window (twice the bandwidth-delay product plus 256 KiB, at most 8 MiB) waits in the relay, and
stops delivering while its destination's socket buffer is full. A FIN goes through the same
queue, so it arrives after every byte sent before it; a reset from one side resets the other.

Opening a connection: on a real link the client's SYN, the server's SYN-ACK and the client's
ACK take 1.5 round trips before the server accepts and can send its greeting (which then takes
another half), and the client can send nothing before its ``connect()`` returns, one round trip
in. On loopback ``connect()`` returns at once, so the relay connects to the server 1.5 rtt after
it accepted the client, and lets nothing the client sends enter the link before 1 rtt: the
greeting arrives 2 rtt after the client connected, and the client's first bytes reach the
server 1.5 rtt after it, as on the real link.

``cut()`` resets every open connection and resets new ones at once; ``restore()`` ends that.
``cut_when_seen(pattern)`` cuts the same way at an exact point of the stream: the moment
``pattern`` has come from the server, the client gets the bytes up to its end and then a reset
(a link lost in the middle of a message). ``mute_when_seen(pattern)`` stops at the same point
but keeps the connection open: nothing the server sends after it reaches the client (the
moment a server is to die or freeze in the middle of a message). ``retarget()`` points new
connections at another port (a server container restarted on new ports).

Two details keep it exact. The relay's sockets use an Ethernet MSS (1,460 bytes): with
loopback's 64 KiB MSS the paced pieces would be "small segments" that the peer acknowledges
only on its 40 ms delayed-ACK timer, and the relay would stall waiting for those ACKs. And its
loop waits with ``select()`` on the epoll descriptor, in two steps and with the thread's
timer slack at its minimum, since epoll_wait() rounds up to whole milliseconds and the kernel
lets select() oversleep by 0.1 % of the wait; deliveries are then late by tens of
microseconds, not by up to a millisecond.
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import math
import select
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from bench.access.base import LOOPBACK
from bench.links.profiles import LinkProfile

MTU_BYTES = 1500
PIECE_S = 0.002
MAX_PIECE_BYTES = 64 * 1024
MIN_WINDOW_BYTES = 256 * 1024
MAX_WINDOW_BYTES = 8 * 1024 * 1024
HANDSHAKE_RTTS = 1.5
# Pieces due this close to the head's time go out in the same write.
DELIVERY_SLACK_S = 0.0001
# Every wait on the relay's thread is bounded by this.
WAIT_S = 5.0
CONNECT_TIMEOUT_S = 10.0
# A reset queued behind data waits this long at most for that data to leave.
FLUSH_TIMEOUT_S = 5.0
FLUSH_POLL_S = 0.001
LINK_MSS_BYTES = 1460  # see the module's docstring
_SELECT_FD_LIMIT = 1024  # FD_SETSIZE: select() cannot watch higher descriptors
_LINGER_RESET = struct.pack("ii", 1, 0)
_SIOCOUTQNSD = 0x894B  # linux/sockios.h: bytes in the send queue not yet sent
_PR_SET_TIMERSLACK = 29


@dataclass(frozen=True)
class RelayStats:
    """What crossed the relay so far. Bytes count when delivered."""

    bytes_up: int
    bytes_down: int
    connections: int  # accepted while the link was up
    refused: int  # reset at once because the link was cut
    reset_by_cut: int  # open connections that a cut() reset
    open: int
    cut_by_pattern: int = 0  # cuts made by cut_when_seen()


class _Counters:
    def __init__(self) -> None:
        self.bytes_up = 0
        self.bytes_down = 0
        self.connections = 0
        self.refused = 0
        self.reset_by_cut = 0
        self.cut_by_pattern = 0


class TokenBucket:
    """One direction's bandwidth: when each piece has left the link, in arrival order.

    ``rate_bytes_s`` of ``None`` is unlimited (a piece leaves when it arrives). The bucket
    starts full and holds at most ``burst_bytes``; a piece waits until the bucket holds its
    size, which at a steady load is its serialisation time, bytes / rate.
    """

    def __init__(self, rate_bytes_s: float | None, burst_bytes: int = MTU_BYTES) -> None:
        if rate_bytes_s is not None and rate_bytes_s <= 0:
            raise ValueError(f"rate must be positive, got {rate_bytes_s}")
        self.rate = rate_bytes_s
        self.burst = float(burst_bytes)
        self._tokens = float(burst_bytes)
        self._last = -math.inf

    def departure(self, nbytes: int, arrival: float) -> float:
        """The time a piece of ``nbytes`` that arrived at ``arrival`` has left the link."""
        if self.rate is None:
            self._last = max(self._last, arrival)
            return self._last
        start = max(arrival, self._last)  # behind every piece before it
        if self._last == -math.inf:
            tokens = self.burst
        else:
            tokens = min(self.burst, self._tokens + (start - self._last) * self.rate)
        if tokens >= nbytes:
            self._tokens, self._last = tokens - nbytes, start
            return start
        leave = start + (nbytes - tokens) / self.rate
        self._tokens, self._last = 0.0, leave
        return leave


def piece_bytes(rate_bytes_s: float | None) -> int | None:
    """How a chunk is cut for pacing: about ``PIECE_S`` of the rate; ``None``: not cut."""
    if rate_bytes_s is None:
        return None
    return int(min(MAX_PIECE_BYTES, max(MTU_BYTES, rate_bytes_s * PIECE_S)))


def window_bytes(rate_bytes_s: float | None, one_way_s: float) -> int:
    """How much one direction of one connection may hold before it stops reading its source."""
    if rate_bytes_s is None:
        return MAX_WINDOW_BYTES if one_way_s > 0 else MIN_WINDOW_BYTES
    return int(min(MAX_WINDOW_BYTES, MIN_WINDOW_BYTES + 2 * rate_bytes_s * one_way_s))


class _PreciseEpollSelector(getattr(selectors, "EpollSelector", selectors.DefaultSelector)):  # type: ignore[misc]
    """epoll, waited on with ``select()`` so that timers fire on time.

    epoll_wait() takes whole milliseconds (rounded up); select() takes microseconds but the
    kernel may let it sleep up to 0.1 % longer than asked (300 us on a 300 ms wait). So the wait
    goes in two steps: select() on the epoll descriptor until just before the deadline, then
    again for the rest, which is short enough to be exact; then collect the events.
    """

    def select(self, timeout: float | None = None):  # type: ignore[override]
        fd = self.fileno()
        if timeout is None or timeout <= 0 or not 0 <= fd < _SELECT_FD_LIMIT:
            return super().select(timeout)
        deadline = time.monotonic() + timeout
        first = timeout - timeout / 500 - 0.0001
        if first > 0 and select.select([fd], [], [], first)[0]:
            return super().select(0)
        remaining = deadline - time.monotonic()
        if remaining > 0:
            select.select([fd], [], [], remaining)
        return super().select(0)


def _exact_timer_slack() -> None:
    """Let the calling thread's timers fire without the kernel's default 50 us of slack (Linux)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_TIMERSLACK, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _link_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, LINK_MSS_BYTES)
    except (OSError, AttributeError):  # not every platform lets the MSS be set
        pass
    return sock


def _reset(transport: asyncio.BaseTransport | None) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a broken link looks to the peer."""
    if transport is None or transport.is_closing():
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
        except OSError:
            pass
    transport.abort()


def _unsent_bytes(transport: asyncio.Transport) -> int:
    """Bytes written to ``transport`` that have not left yet: asyncio's own buffer plus what
    the kernel holds unsent (SIOCOUTQNSD). A reset sent before they are gone would discard
    them; bytes sent are in the peer's receive queue already (loopback), where a reset
    leaves them readable. Waiting for their acknowledgement instead (TIOCOUTQ) would add the
    peer's delayed-ACK timer, up to 40 ms, to the moment the reset arrives."""
    pending = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is None:
        return pending
    try:
        queued = struct.unpack("i", fcntl.ioctl(sock.fileno(), _SIOCOUTQNSD, b"\0\0\0\0"))[0]
    except OSError:
        queued = 0
    return pending + queued


_EOF = object()
_RESET = object()


class _Direction:
    """One direction of one connection: its queue of pieces, each with its delivery time."""

    def __init__(self, session: _Session, bucket: TokenBucket, delay_s: float, window: int, up: bool) -> None:
        self.session = session
        self.loop = session.loop
        self.bucket = bucket
        self.delay_s = delay_s
        self.window = window
        self.piece = piece_bytes(bucket.rate)
        self.up = up
        self.queue: collections.deque[tuple[float, object]] = collections.deque()
        self.queued_bytes = 0
        self.source: asyncio.Transport | None = None
        self.dest: asyncio.Transport | None = None
        self.source_paused = False
        self.dest_paused = False
        # Bytes do not enter the link before this time (the client's connect() would not have
        # returned before one rtt on the real link).
        self.not_before = -math.inf
        self.ended = False  # no more input: EOF or reset queued
        self.finished = False  # EOF delivered, or the destination is gone
        self.timer: asyncio.TimerHandle | None = None

    def push(self, data: bytes) -> None:
        if self.ended or self.finished:
            return
        now = max(self.loop.time(), self.not_before)
        if self.piece is None or len(data) <= self.piece:
            pieces = [data]
        else:
            view = memoryview(data)
            pieces = [bytes(view[i:i + self.piece]) for i in range(0, len(data), self.piece)]
        for piece in pieces:
            self.queue.append((self.bucket.departure(len(piece), now) + self.delay_s, piece))
            self.queued_bytes += len(piece)
        if self.queued_bytes > self.window and not self.source_paused and self.source is not None:
            self.source_paused = True
            self.source.pause_reading()
        self.schedule()

    def push_end(self, marker: object) -> None:
        """Queue the end of this direction (``_EOF`` or ``_RESET``) behind its data."""
        if self.ended or self.finished:
            return
        self.ended = True
        now = max(self.loop.time(), self.not_before)
        self.queue.append((self.bucket.departure(0, now) + self.delay_s, marker))
        self.schedule()

    def drop(self) -> None:
        """The destination is gone: nothing more can be delivered."""
        self.finished = True
        self.queue.clear()
        self.queued_bytes = 0
        self.cancel()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def schedule(self) -> None:
        if self.timer is None and self.queue and self.dest is not None and not self.dest_paused and not self.finished:
            self.timer = self.loop.call_at(self.queue[0][0], self.deliver)

    def deliver(self) -> None:
        self.timer = None
        if self.finished or self.dest is None or self.dest_paused:
            return  # resume_writing or server_made schedules it again
        if self.dest.is_closing():  # its connection_lost() is on its way
            self.drop()
            return
        due = self.loop.time() + DELIVERY_SLACK_S
        chunks: list[bytes] = []
        end = None
        while self.queue and self.queue[0][0] <= due:
            _, item = self.queue.popleft()
            if item is _EOF or item is _RESET:
                end = item
                break
            chunks.append(item)  # type: ignore[arg-type]
        if chunks:
            data = b"".join(chunks)
            self.queued_bytes -= len(data)
            self.dest.write(data)
            self.session.count(self.up, len(data))
        if self.source_paused and self.queued_bytes <= self.window // 2 and self.source is not None:
            self.source_paused = False
            self.source.resume_reading()
        if end is _RESET:
            self.session.reset_once_taken(self.dest)
            return
        if end is _EOF:
            self.finished = True
            try:
                if self.dest.can_write_eof():
                    self.dest.write_eof()
            except OSError:  # the other side is already gone (a cut): nothing left to close
                self.session.reset()
                return
            self.session.check_done()
            return
        self.schedule()


class _Session:
    """One client connection and its connection to the server."""

    def __init__(self, relay: _RelayCore, client: asyncio.Transport) -> None:
        self.relay = relay
        self.loop = relay.loop
        self.client: asyncio.Transport | None = client
        self.server: asyncio.Transport | None = None
        profile = relay.profile
        delay = profile.one_way_delay_s
        self.up = _Direction(self, relay.up_bucket, delay, window_bytes(relay.up_bucket.rate, delay), up=True)
        self.down = _Direction(self, relay.down_bucket, delay, window_bytes(relay.down_bucket.rate, delay), up=False)
        self.up.source = client
        self.down.dest = client
        self.closed = False
        self.connecting: asyncio.Task | None = None
        # The last bytes from the server, while a pattern is armed: it may span two reads.
        self.tail = b""
        self.muted = False  # nothing more from the server reaches the client

    def start(self) -> None:
        rtt_s = self.relay.profile.rtt_ms / 1000.0 if self.relay.handshake else 0.0
        self.up.not_before = self.loop.time() + rtt_s
        wait_s = HANDSHAKE_RTTS * rtt_s
        self.connecting = self.loop.create_task(self._connect(wait_s))

    async def _connect(self, wait_s: float) -> None:
        if wait_s > 0:
            await asyncio.sleep(wait_s)
        sock = _link_socket()
        handed_over = False
        try:
            sock.setblocking(False)
            await asyncio.wait_for(self.loop.sock_connect(sock, (LOOPBACK, self.relay.target_port)), CONNECT_TIMEOUT_S)
            await self.loop.create_connection(lambda: _ServerSide(self), sock=sock)
            handed_over = True
        except (TimeoutError, OSError):
            self.reset()
        finally:
            if not handed_over:
                sock.close()

    def server_made(self, transport: asyncio.Transport) -> None:
        if self.closed:
            _reset(transport)
            return
        self.server = transport
        self.up.dest = transport
        self.down.source = transport
        self.up.schedule()

    def from_server(self, data: bytes) -> None:
        """Bytes the server sent: onto the link, or, where they complete the armed pattern,
        up to its end and then a cut."""
        if self.muted:
            return
        pattern = self.relay.pattern
        if pattern is None:
            self.down.push(data)
            return
        seen = self.tail + data
        found = seen.find(pattern)
        if found < 0:
            self.tail = seen[-(len(pattern) - 1):] if len(pattern) > 1 else b""
            self.down.push(data)
            return
        self.down.push(data[:found + len(pattern) - len(self.tail)])
        if self.relay.pattern_mutes:
            self.muted = True
        else:
            self.down.push_end(_RESET)  # the client gets what came before, then the reset
            _reset(self.server)  # the server's side breaks now, as a lost link would show it
        self.relay.pattern_seen(self)

    def count(self, up: bool, nbytes: int) -> None:
        if up:
            self.relay.counters.bytes_up += nbytes
        else:
            self.relay.counters.bytes_down += nbytes

    def lost(self, side_is_client: bool, exc: Exception | None) -> None:
        """One side's socket closed: a reset or error from that peer, or our own close."""
        if side_is_client:
            self.client = None
            outgoing, incoming = self.up, self.down
        else:
            self.server = None
            outgoing, incoming = self.down, self.up
        incoming.drop()
        if not self.closed:
            outgoing.push_end(_RESET if exc is not None else _EOF)
        self.check_done()
        self._forget_if_gone()

    def check_done(self) -> None:
        """Both FINs delivered: close both sockets (buffered bytes still go out first)."""
        if self.up.finished and self.down.finished and not self.closed:
            self.closed = True
            for transport in (self.client, self.server):
                if transport is not None:
                    transport.close()
            self._forget_if_gone()

    def reset(self) -> None:
        """Drop everything in flight and reset both sides."""
        self.closed = True
        if self.connecting is not None and not self.connecting.done():
            self.connecting.cancel()
        self.up.drop()
        self.down.drop()
        _reset(self.client)
        _reset(self.server)
        self._forget_if_gone()

    def reset_once_taken(self, dest: asyncio.Transport) -> None:
        """Reset both sides once everything written to ``dest`` has left: a reset that
        overtook the last bytes would discard them, and a cut at an exact point must deliver
        exactly up to it. A peer that stops reading gets the reset after FLUSH_TIMEOUT_S."""
        self.closed = True
        self.up.drop()
        self.down.drop()
        _reset(self.client if dest is self.server else self.server)
        deadline = self.loop.time() + FLUSH_TIMEOUT_S

        def reset_when_taken() -> None:
            if dest.is_closing() or _unsent_bytes(dest) == 0 or self.loop.time() >= deadline:
                self.reset()
            else:
                self.loop.call_later(FLUSH_POLL_S, reset_when_taken)

        reset_when_taken()

    def _forget_if_gone(self) -> None:
        client_gone = self.client is None or self.client.is_closing()
        server_gone = self.server is None or self.server.is_closing()
        if self.closed and client_gone and server_gone:
            self.relay.sessions.discard(self)


class _ClientSide(asyncio.Protocol):
    def __init__(self, relay: _RelayCore) -> None:
        self.relay = relay
        self.session: _Session | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if self.relay.cut:
            self.relay.counters.refused += 1
            _reset(transport)
            return
        self.relay.counters.connections += 1
        self.session = _Session(self.relay, transport)
        self.relay.sessions.add(self.session)
        self.session.start()

    def data_received(self, data: bytes) -> None:
        if self.session is not None:
            self.session.up.push(data)

    def eof_received(self) -> bool:
        if self.session is not None:
            self.session.up.push_end(_EOF)
        return True  # keep the socket open for what the server still sends

    def connection_lost(self, exc: Exception | None) -> None:
        if self.session is not None:
            self.session.lost(True, exc)

    def pause_writing(self) -> None:
        if self.session is not None:
            self.session.down.dest_paused = True

    def resume_writing(self) -> None:
        if self.session is not None:
            self.session.down.dest_paused = False
            self.session.down.schedule()


class _ServerSide(asyncio.Protocol):
    def __init__(self, session: _Session) -> None:
        self.session = session

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.session.server_made(transport)

    def data_received(self, data: bytes) -> None:
        self.session.from_server(data)

    def eof_received(self) -> bool:
        self.session.down.push_end(_EOF)
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.session.server is not None:
            self.session.lost(False, exc)

    def pause_writing(self) -> None:
        self.session.up.dest_paused = True

    def resume_writing(self) -> None:
        self.session.up.dest_paused = False
        self.session.up.schedule()


class _RelayCore:
    """The state the relay's loop owns; only the loop's thread touches it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, target_port: int, profile: LinkProfile,
                 handshake: bool) -> None:
        self.loop = loop
        self.target_port = target_port
        self.profile = profile
        self.handshake = handshake
        self.up_bucket = TokenBucket(profile.up_mbit * 125_000 if profile.up_mbit else None)
        self.down_bucket = TokenBucket(profile.down_mbit * 125_000 if profile.down_mbit else None)
        self.sessions: set[_Session] = set()
        self.counters = _Counters()
        self.cut = False
        self.pattern: bytes | None = None
        self.pattern_mutes = False  # what the pattern does: mute its connection, or cut the link
        self.pattern_fired = threading.Event()  # read from the caller's thread
        self.pattern_fired_at: float | None = None  # time.perf_counter() when it was seen

    def pattern_seen(self, session: _Session) -> None:
        """The armed pattern crossed in ``session``: that connection is muted, or the link
        goes down for everyone."""
        self.pattern = None
        self.pattern_fired_at = time.perf_counter()
        self.pattern_fired.set()
        if self.pattern_mutes:
            return
        self.counters.cut_by_pattern += 1
        self.cut = True
        for other in list(self.sessions):
            other.tail = b""
            if other is not session:
                if not other.closed:
                    self.counters.reset_by_cut += 1
                other.reset()

    def cut_link(self) -> None:
        self.cut = True
        for session in list(self.sessions):
            if not session.closed:
                self.counters.reset_by_cut += 1
            session.reset()

    def reset_all(self) -> None:
        for session in list(self.sessions):
            session.reset()


class Relay:
    """A link between a client and ``127.0.0.1:target_port``; use it as a context manager.

    >>> with Relay(server_port, parse_link("mobile-4g")) as relay:
    ...     endpoint = dataclasses.replace(endpoint, port=relay.port)
    """

    def __init__(self, target_port: int, profile: LinkProfile, *, handshake: bool = True) -> None:
        if not 0 < target_port < 65536:
            raise ValueError(f"target port must be 1-65535, got {target_port}")
        self.target_port = target_port
        self.profile = profile
        self.handshake = handshake
        self._listener: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._core: _RelayCore | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The relay's listening port on 127.0.0.1: the port clients connect to."""
        if self._port is None:
            raise RuntimeError("the relay is not running: use it in a with block")
        return self._port

    def __enter__(self) -> Relay:
        listener = _link_socket()
        try:
            listener.bind((LOOPBACK, 0))
            listener.listen(128)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self._listener = listener
        self._port = listener.getsockname()[1]
        self._loop = asyncio.SelectorEventLoop(_PreciseEpollSelector())
        self._core = _RelayCore(self._loop, self.target_port, self.profile, self.handshake)
        self._thread = threading.Thread(target=self._run, name=f"relay-{self._port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(WAIT_S) or self._failure is not None:
            failure, port = self._failure, self._port
            self.__exit__(None, None, None)
            raise RuntimeError(f"the relay on port {port} did not start: {failure!r}")
        return self

    def _run(self) -> None:
        loop = self._loop
        assert loop is not None
        _exact_timer_slack()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # a failure to start is reported by __enter__
            self._failure = exc
        finally:
            self._ready.set()
            try:
                pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending, timeout=WAIT_S))
            finally:
                loop.close()

    async def _serve(self) -> None:
        core = self._core
        assert core is not None and self._listener is not None
        self._stop = asyncio.Event()
        server = await core.loop.create_server(lambda: _ClientSide(core), sock=self._listener)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            core.reset_all()
            # Let the resets' connection_lost callbacks run before the loop closes.
            for _ in range(3):
                await asyncio.sleep(0)

    def __exit__(self, *exc: object) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            stop = self._stop
            try:
                if stop is not None:
                    loop.call_soon_threadsafe(stop.set)
                else:
                    loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:  # the loop closed already
                pass
            thread.join(WAIT_S)
        if self._listener is not None:
            self._listener.close()
        if thread is not None and thread.is_alive():
            raise RuntimeError(f"the relay on port {self._port} did not stop within {WAIT_S:.0f} s")
        self._port = None

    def _call(self, fn) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            raise RuntimeError("the relay is not running: use it in a with block")
        done = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                fn()
            except BaseException as exc:
                failure.append(exc)
            finally:
                done.set()

        loop.call_soon_threadsafe(run)
        if not done.wait(WAIT_S):
            raise RuntimeError(f"the relay on port {self._port} did not answer within {WAIT_S:.0f} s")
        if failure:
            raise failure[0]

    def cut(self) -> None:
        """The link goes down: open connections are reset, new ones are reset at once."""
        core = self._core
        assert core is not None
        self._call(core.cut_link)

    def restore(self) -> None:
        """The link comes back: new connections go through again."""
        core = self._core
        assert core is not None

        def up() -> None:
            core.cut = False

        self._call(up)

    def cut_when_seen(self, pattern: bytes) -> threading.Event:
        """Cut the link the moment ``pattern`` comes from the server: the client receives the
        bytes up to its end, then a reset, and the link stays down until ``restore()``.
        The event returned is set when that happens."""
        return self._arm(pattern, mutes=False)

    def mute_when_seen(self, pattern: bytes) -> threading.Event:
        """The moment ``pattern`` comes from the server, let nothing more of that connection
        reach the client (it stays open). The event returned is set when that happens."""
        return self._arm(pattern, mutes=True)

    def _arm(self, pattern: bytes, mutes: bool) -> threading.Event:
        core = self._core
        assert core is not None
        if not pattern:
            raise ValueError("the pattern to stop at must not be empty")

        def arm() -> None:
            core.pattern_fired.clear()
            core.pattern_fired_at = None
            for session in core.sessions:
                session.tail = b""
            core.pattern_mutes = mutes
            core.pattern = bytes(pattern)

        self._call(arm)
        return core.pattern_fired

    @property
    def pattern_seen_at(self) -> float | None:
        """When the armed pattern was seen (``time.perf_counter()``), or None."""
        return self._core.pattern_fired_at if self._core is not None else None

    def disarm(self) -> None:
        """Forget a pattern that has not been seen."""
        core = self._core
        assert core is not None

        def off() -> None:
            core.pattern = None

        self._call(off)

    def retarget(self, target_port: int) -> None:
        """Send new connections to ``target_port`` (open ones keep theirs)."""
        if not 0 < target_port < 65536:
            raise ValueError(f"target port must be 1-65535, got {target_port}")
        self.target_port = target_port
        core = self._core
        if core is not None:
            def move() -> None:
                core.target_port = target_port

            self._call(move)

    @property
    def is_cut(self) -> bool:
        return self._core is not None and self._core.cut

    @property
    def stats(self) -> RelayStats:
        """A snapshot of the counters (read without stopping the relay)."""
        core = self._core
        if core is None:
            return RelayStats(0, 0, 0, 0, 0, 0)
        c = core.counters
        return RelayStats(c.bytes_up, c.bytes_down, c.connections, c.refused, c.reset_by_cut, len(core.sessions),
                          c.cut_by_pattern)


class Link(Protocol):
    """What a scenario holds for one server port: where to connect, and the link's switch."""

    profile: LinkProfile

    @property
    def port(self) -> int: ...

    def cut(self) -> None: ...

    def restore(self) -> None: ...

    def cut_when_seen(self, pattern: bytes) -> threading.Event: ...

    def mute_when_seen(self, pattern: bytes) -> threading.Event: ...

    @property
    def pattern_seen_at(self) -> float | None: ...

    def disarm(self) -> None: ...

    def retarget(self, target_port: int) -> None: ...


class DirectLink:
    """``lan``: no relay; the client connects straight to the server's port. It cannot be cut
    (open the link with ``cuttable=True`` for a relay without delay that can)."""

    def __init__(self, target_port: int, profile: LinkProfile) -> None:
        self.profile = profile
        self._port = target_port

    @property
    def port(self) -> int:
        return self._port

    def cut(self) -> None:
        raise RuntimeError(f"link {self.profile.name!r} has no relay to cut: open it with cuttable=True")

    def restore(self) -> None:
        self.cut()

    def cut_when_seen(self, pattern: bytes) -> threading.Event:
        self.cut()
        raise AssertionError("unreachable")

    mute_when_seen = cut_when_seen
    pattern_seen_at = None

    def disarm(self) -> None:
        pass

    def retarget(self, target_port: int) -> None:
        self._port = target_port


@contextmanager
def open_link(target_port: int, profile: LinkProfile, *, cuttable: bool = False) -> Iterator[Link]:
    """The way to ``127.0.0.1:target_port`` over ``profile``: a relay, or for ``lan`` (unless
    it must be cuttable) the port itself."""
    if not profile.relayed and not cuttable:
        yield DirectLink(target_port, profile)
        return
    with Relay(target_port, profile) as relay:
        yield relay
