"""A TCP forwarder on 127.0.0.1 that counts what crosses it as mailbench's meter counts it.

    python benchmarks/counting_forwarder.py --target PORT

A client that is not mailbench (mbsync, fetchmail) cannot report its bytes and waits to
mailbench's ``WireMeter``, so ``benchmarks/real_clients.py`` puts this forwarder between
it and the server and counts on the wire instead. Each accepted connection gets a
``ConnectionTap`` of a ``WireMeter`` (``bench/access/meter.py``): bytes from the client
are ``sent``, bytes from the server are ``received``, so the definitions are the meter's
own, not a copy of them:

- ``bytes_up`` / ``bytes_down``: TCP payload from the client / from the server (what the
  client wrote / read), CRLFs included;
- ``round_trips``: each switch from client-to-server bytes to server-to-client bytes on a
  connection; the connection starts as if the client had just written (its SYN), so the
  greeting counts as one. Commands written together before any answer arrives count once.

Bytes are counted as they arrive at the forwarder, before they are passed on, so an answer
is always counted after the command it answers (causality keeps the order that matters).
The meter counts the same switches where mailbench's client library writes and reads;
the forwarder sees them where the bytes cross the wire. The two can differ only when a
client writes while an answer is still streaming in (a pipelining client whose next write
lands between two chunks of an answer): the forwarder then counts that turn, and the
meter counts it too if the client library read a chunk between its two writes.

Both sockets of a forwarded connection have TCP_NODELAY, so the forwarder never holds a
small segment back (the client's and server's own Nagle settings are theirs). It runs as a
child process (``ForwarderProcess``), so its threads never wait for the interpreter lock
of a client that runs in the benchmark's own process (mailbench's).

Run as a script, it listens on a free port of 127.0.0.1, prints ``port N``, and answers
each ``take`` line on stdin with one JSON line: the counts since the last ``take``.
"""

from __future__ import annotations

import argparse
import json
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.access.base import LOOPBACK
from bench.access.meter import ConnectionTap, WireMeter

CHUNK_BYTES = 256 * 1024
OPENING_BYTES = 4096  # of each connection's client-to-server stream, kept for the caller
ACCEPT_POLL_S = 0.2
CONNECT_TIMEOUT_S = 10.0
SETTLE_S = 10.0  # ``take`` waits at most this long for the connections of a run to end
START_TIMEOUT_S = 10.0
ANSWER_TIMEOUT_S = 30.0


def count_exchange(events: Iterable[tuple[str, int]]) -> dict[str, int]:
    """The meter's totals for one connection's exchange, given as ``("up", n)`` (client to
    server) and ``("down", n)`` (server to client) in the order they crossed."""
    meter = WireMeter()
    tap = meter.tap()
    for direction, nbytes in events:
        _count(tap, direction, nbytes)
    return meter.totals()


def _count(tap: ConnectionTap, direction: str, nbytes: int) -> None:
    if direction == "up":
        tap.sent(nbytes)
    elif direction == "down":
        tap.received(nbytes)
    else:
        raise ValueError(f"direction must be 'up' or 'down', got {direction!r}")


class CountingForwarder:
    """Forwards every connection to 127.0.0.1:``target_port`` and counts it (module docstring)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._lock = threading.Lock()
        self._meter = WireMeter()
        self._connections: list[_Connection] = []  # accepted since the last ``take``
        self._open = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(16)
        self._listener.settimeout(ACCEPT_POLL_S)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept_loop, name="accept", daemon=True)

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def __enter__(self) -> CountingForwarder:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._acceptor.join(timeout=SETTLE_S)
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=SETTLE_S)

    def take(self, settle_s: float = SETTLE_S) -> dict[str, object]:
        """The counts since the last ``take``, once every connection has ended (or after
        ``settle_s``: ``open`` then says how many were still open), and start again."""
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._open == 0:
                    break
            time.sleep(0.005)
        with self._lock:
            totals: dict[str, object] = dict(self._meter.totals())
            totals["open"] = self._open
            totals["openings"] = [bytes(conn.opening).decode("latin-1") for conn in self._connections]
            self._meter = WireMeter()
            self._connections = []
        return totals

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection((LOOPBACK, self.target_port), timeout=CONNECT_TIMEOUT_S)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                conn = _Connection(client, server, self._meter.tap())
                self._connections.append(conn)
                self._open += 1
            for source, dest, direction in ((client, server, "up"), (server, client, "down")):
                thread = threading.Thread(target=self._pump, args=(conn, source, dest, direction), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(self, conn: _Connection, source: socket.socket, dest: socket.socket, direction: str) -> None:
        """Copy one direction until its end; count each chunk before passing it on."""
        try:
            while True:
                data = source.recv(CHUNK_BYTES)
                if not data:
                    dest.shutdown(socket.SHUT_WR)
                    break
                with self._lock:
                    _count(conn.tap, direction, len(data))
                    if direction == "up" and len(conn.opening) < OPENING_BYTES:
                        conn.opening += data[: OPENING_BYTES - len(conn.opening)]
                dest.sendall(data)
        except OSError:
            for sock in (conn.client, conn.server):  # one side broke: end both, as the link would
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        finally:
            with self._lock:
                conn.directions_left -= 1
                last = conn.directions_left == 0
                if last:
                    self._open -= 1
            if last:
                conn.client.close()
                conn.server.close()


class _Connection:
    """One forwarded connection: its two sockets, its tap, the first bytes the client sent."""

    def __init__(self, client: socket.socket, server: socket.socket, tap: ConnectionTap) -> None:
        self.client = client
        self.server = server
        self.tap = tap
        self.opening = bytearray()
        self.directions_left = 2


class ForwarderProcess:
    """A ``CountingForwarder`` in a child process (this file run as a script), so that its
    threads share no interpreter lock with the caller; ``take()`` asks it for the counts."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> ForwarderProcess:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--target", str(self.target_port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self._read_line(START_TIMEOUT_S)
        if not line.startswith("port "):
            self.__exit__()
            raise RuntimeError(f"the counting forwarder did not start (it said {line!r})")
        self.port = int(line.split()[1])
        return self

    def take(self) -> dict[str, object]:
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write("take\n")
        self._process.stdin.flush()
        return json.loads(self._read_line(ANSWER_TIMEOUT_S))

    def _read_line(self, timeout_s: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], timeout_s)
        if not ready:
            raise RuntimeError(f"the counting forwarder gave no answer in {timeout_s:g} s")
        return self._process.stdout.readline().strip()

    def __exit__(self, *exc: object) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()  # end of input: the child ends
            process.wait(timeout=SETTLE_S + 5)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait(timeout=5)


def serve(target_port: int) -> None:
    """The child's side: forward, print the port, answer ``take`` lines until stdin ends
    (Ctrl-C goes to the parent, which ends the child by closing its stdin)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with CountingForwarder(target_port) as forwarder:
        print(f"port {forwarder.port}", flush=True)
        for line in sys.stdin:
            if line.strip() == "take":
                print(json.dumps(forwarder.take()), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Forward 127.0.0.1 connections to a port, counting them.")
    parser.add_argument("--target", type=int, required=True, help="the port on 127.0.0.1 to forward to")
    serve(parser.parse_args().target)
