"""Measuring a link with plain TCP: an echo and bulk server on 127.0.0.1, and the clients that
time it. This measures the relay (or any TCP hop), never a mail protocol.

The server reads one command line per request:

- ``ECHO\\n``: from then on, every byte received is sent back;
- ``SEND <n>\\n``: it sends ``n`` bytes;
- ``RECV <n>\\n``: it reads ``n`` bytes and answers ``OK <seconds> <first>\\n``: the time from
  its first read to its last, and how many bytes the first read held.

Throughput is timed from the first byte to the last at the receiving end, so it is the rate
at which bytes arrived, whatever the link's delay.

It lives beside the benchmarks, outside the installed package: only the relay's tests
(tests/integration/test_relay.py) and ``benchmarks/relay_accuracy.py`` use it.
"""

from __future__ import annotations

import socket
import threading
import time

from bench.access.base import LOOPBACK

_BLOCK = bytes(range(256)) * 256  # 64 KiB
ACCEPT_POLL_S = 0.2
TIMEOUT_S = 60.0


def _nodelay(sock: socket.socket) -> socket.socket:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _read_line(sock: socket.socket, limit: int = 128) -> bytes:
    line = b""
    while not line.endswith(b"\n"):
        byte = sock.recv(1)
        if not byte:
            break
        line += byte
        if len(line) > limit:
            raise ValueError("command line too long")
    return line


class ProbeServer:
    """The echo and bulk server, in background threads; a context manager that stops them."""

    def __init__(self) -> None:
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.port = 0

    def __enter__(self) -> ProbeServer:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((LOOPBACK, 0))
        listener.listen(64)
        listener.settimeout(ACCEPT_POLL_S)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for thread in list(self._threads):
            thread.join(TIMEOUT_S / 10)
        if self._listener is not None:
            self._listener.close()

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="probe-server")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.add(conn)
            self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        try:
            _nodelay(conn).settimeout(TIMEOUT_S)
            while not self._stop.is_set():
                line = _read_line(conn)
                if not line:
                    return
                command, _, argument = line.strip().partition(b" ")
                if command == b"ECHO":
                    while data := conn.recv(65536):
                        conn.sendall(data)
                    return
                if command == b"SEND":
                    left = int(argument)
                    while left > 0:
                        sent = conn.send(_BLOCK[:min(left, len(_BLOCK))])
                        left -= sent
                elif command == b"RECV":
                    left = int(argument)
                    first = last = 0.0
                    first_bytes = 0
                    while left > 0:
                        data = conn.recv(min(left, 1 << 20))
                        if not data:
                            return
                        last = time.perf_counter()
                        if not first_bytes:
                            first, first_bytes = last, len(data)
                        left -= len(data)
                    conn.sendall(b"OK %.9f %d\n" % (last - first, first_bytes))
                else:
                    return
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()


def _connect(port: int, timeout_s: float) -> socket.socket:
    return _nodelay(socket.create_connection((LOOPBACK, port), timeout=timeout_s))


def echo_round_trips_ms(port: int, samples: int, *, payload_bytes: int = 32, warmup: int = 3,
                        command: bytes | None = b"ECHO\n", timeout_s: float = TIMEOUT_S) -> list[float]:
    """Round-trip times of ``samples`` small echoes on one connection, after ``warmup`` untimed
    ones (they absorb the connection's set-up). ``command=None`` for a plain echo server."""
    payload = b"x" * payload_bytes
    with _connect(port, timeout_s) as sock:
        if command:
            sock.sendall(command)
        times = []
        for index in range(warmup + samples):
            start = time.perf_counter()
            sock.sendall(payload)
            got = 0
            while got < payload_bytes:
                data = sock.recv(payload_bytes - got)
                if not data:
                    raise ConnectionError("echo server closed the connection")
                got += len(data)
            if index >= warmup:
                times.append((time.perf_counter() - start) * 1000.0)
    return times


def download_mbit(port: int, nbytes: int, *, timeout_s: float = TIMEOUT_S) -> float:
    """The rate at which ``nbytes`` sent by the server arrived, in Mbit/s."""
    with _connect(port, timeout_s) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.sendall(b"SEND %d\n" % nbytes)
        got = 0
        first_bytes = 0
        first = last = 0.0
        while got < nbytes:
            data = sock.recv(1 << 20)
            if not data:
                raise ConnectionError(f"server closed after {got} of {nbytes} bytes")
            last = time.perf_counter()
            if not got:
                first, first_bytes = last, len(data)
            got += len(data)
    if last <= first:
        raise ValueError(f"{nbytes} bytes arrived at once: too few to time")
    return (nbytes - first_bytes) * 8 / (last - first) / 1e6


def upload_mbit(port: int, nbytes: int, *, timeout_s: float = TIMEOUT_S) -> float:
    """The rate at which ``nbytes`` sent to the server arrived there, in Mbit/s."""
    with _connect(port, timeout_s) as sock:
        sock.sendall(b"RECV %d\n" % nbytes)
        left = nbytes
        while left > 0:
            chunk = _BLOCK[:min(left, len(_BLOCK))]
            sock.sendall(chunk)
            left -= len(chunk)
        answer = _read_line(sock)
    if not answer.startswith(b"OK "):
        raise ConnectionError(f"server answered {answer!r}")
    _, seconds, first_bytes = answer.split()
    if float(seconds) <= 0:
        raise ValueError(f"{nbytes} bytes arrived at once: too few to time")
    return (nbytes - int(first_bytes)) * 8 / float(seconds) / 1e6
