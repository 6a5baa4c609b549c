"""The counting forwarder of benchmarks/real_clients.py counts bytes and round trips as the
meter counts them for mailbench: on a canned exchange, and on a scripted exchange through
the real forwarder on 127.0.0.1 (a plain socket server started here, no mail server)."""

from __future__ import annotations

import socket
import threading

import pytest

from bench.access.meter import WireMeter
from benchmarks.counting_forwarder import CountingForwarder, ForwarderProcess, count_exchange

# greeting; LOGIN and its answer; three commands written together, their answers in four
# chunks; LOGOUT written in two pieces, its answer in two.
CANNED = [
    ("down", 40),
    ("up", 22), ("down", 30),
    ("up", 60), ("down", 1000), ("down", 65536), ("down", 500), ("down", 12),
    ("up", 3), ("up", 9), ("down", 20), ("down", 25),
]


def test_a_canned_exchange_counts_a_round_trip_per_turn_greeting_included():
    assert count_exchange(CANNED) == {"bytes_up": 94, "bytes_down": 40 + 30 + 1000 + 65536 + 500 + 12 + 45,
                                      "round_trips": 4, "connections": 1}


def test_the_count_is_the_meter_s_own():
    meter = WireMeter()
    tap = meter.tap()
    for direction, nbytes in CANNED:
        (tap.sent if direction == "up" else tap.received)(nbytes)
    assert count_exchange(CANNED) == meter.totals()


def test_a_client_that_writes_first_still_counts_the_greeting_wait_once():
    assert count_exchange([("up", 10), ("down", 5)])["round_trips"] == 1
    assert count_exchange([])["round_trips"] == 0
    with pytest.raises(ValueError):
        count_exchange([("sideways", 1)])


class _ScriptedServer:
    """Greets, answers one command, then three commands it reads whole before answering
    each, then QUIT; in lock-step, so the order on the wire is fixed."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(10)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(10)
        with conn:
            conn.sendall(b"+OK hello\r\n")
            self.read_lines(conn, 1)
            conn.sendall(b"+OK\r\n")
            self.read_lines(conn, 3)
            for _ in range(3):
                conn.sendall(b"+OK 100000 octets\r\n" + b"x" * 100_000 + b"\r\n.\r\n")
            self.read_lines(conn, 1)
            conn.sendall(b"+OK bye\r\n")

    @staticmethod
    def read_lines(conn: socket.socket, count: int) -> None:
        data = b""
        while data.count(b"\r\n") < count:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk


def _client(port: int) -> tuple[int, int]:
    """The scripted client; returns the bytes it wrote and read."""
    up = down = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = sock.makefile("rb")

        def read_answers(count: int, long: bool) -> int:
            got = 0
            for _ in range(count):
                line = reader.readline()
                got += len(line)
                if long:
                    while line != b".\r\n":
                        line = reader.readline()
                        got += len(line)
            return got

        down += read_answers(1, False)
        for command in (b"USER u\r\n", b"RETR 1\r\nRETR 2\r\nRETR 3\r\n", b"QUIT\r\n"):
            sock.sendall(command)
            up += len(command)
            down += read_answers({b"U": 1, b"R": 3, b"Q": 1}[command[:1]], command.startswith(b"RETR"))
    return up, down


def test_the_forwarder_counts_a_live_exchange_as_the_client_saw_it():
    server = _ScriptedServer()
    with CountingForwarder(server.port) as forwarder:
        up, down = _client(forwarder.port)
        counts = forwarder.take()
    server.thread.join(timeout=10)
    # greeting, USER, the three RETRs written together, QUIT
    assert (counts["bytes_up"], counts["bytes_down"], counts["round_trips"]) == (up, down, 4)
    assert counts["connections"] == 1 and counts["open"] == 0
    assert counts["openings"] == ["USER u\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\nQUIT\r\n"]


def test_take_starts_the_count_again():
    server = _ScriptedServer()
    with CountingForwarder(server.port) as forwarder:
        _client(forwarder.port)
        forwarder.take()
        assert forwarder.take()["bytes_down"] == 0


def test_the_forwarder_in_its_own_process_answers_take():
    server = _ScriptedServer()
    with ForwarderProcess(server.port) as forwarder:
        up, down = _client(forwarder.port)
        counts = forwarder.take()
    assert (counts["bytes_up"], counts["bytes_down"], counts["round_trips"]) == (up, down, 4)
