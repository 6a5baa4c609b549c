"""The relay's exact fault points: cut or mute the moment a pattern crosses, and follow a
server that came back on another port. The peer is a plain TCP server started here that
sends a known stream, so the bytes that crossed can be compared exactly."""

from __future__ import annotations

import socket
import threading

import pytest

from bench.links import Relay, parse_link

pytestmark = pytest.mark.integration

STREAM = b"".join(b"line %06d of the stream\r\n" % i for i in range(20_000))  # about 500 KB
PATTERN = b"line 012345 of the stream"
TIMEOUT_S = 10.0


class StreamServer:
    """Sends STREAM to each client, then keeps the connection open until told to close."""

    def __init__(self, payload: bytes = STREAM) -> None:
        self.payload = payload
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.release = threading.Event()
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.sendall(self.payload)
            except OSError:
                return
            self.release.wait(TIMEOUT_S)

    def close(self) -> None:
        self.release.set()
        self.listener.close()


@pytest.fixture()
def stream():
    server = StreamServer()
    yield server
    server.close()


def _read(sock: socket.socket) -> tuple[bytes, str]:
    """Everything until EOF, a reset or a quiet second: the bytes and how it ended."""
    sock.settimeout(1.0)
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return b"".join(chunks), "reset"
        except TimeoutError:
            return b"".join(chunks), "quiet"
        if not data:
            return b"".join(chunks), "eof"
        chunks.append(data)


def _end_of_pattern() -> int:
    return STREAM.index(PATTERN) + len(PATTERN)


def test_a_cut_at_a_pattern_delivers_exactly_up_to_it_then_resets(stream):
    with Relay(stream.port, parse_link("lan")) as relay:
        fired = relay.cut_when_seen(PATTERN)
        with socket.create_connection(("127.0.0.1", relay.port), timeout=TIMEOUT_S) as client:
            received, ended = _read(client)
        assert fired.is_set() and relay.pattern_seen_at is not None
        assert received == STREAM[:_end_of_pattern()]
        assert ended == "reset"
        assert relay.is_cut  # stays down until restored
        relay.restore()
        with socket.create_connection(("127.0.0.1", relay.port), timeout=TIMEOUT_S) as again:
            stream.release.set()
            received, ended = _read(again)
        assert received == STREAM and ended == "eof"  # armed once: the next connection is whole
        assert relay.stats.cut_by_pattern == 1


def test_a_pattern_split_across_reads_is_still_found():
    at = 100_000
    payload = b"x" * at + PATTERN + b"y" * 1000
    server = StreamServer(payload)
    try:
        with Relay(server.port, parse_link("rtt=10ms,down=10mbit")) as relay:  # small paced pieces
            relay.cut_when_seen(PATTERN)
            with socket.create_connection(("127.0.0.1", relay.port), timeout=TIMEOUT_S) as client:
                received, ended = _read(client)
        assert received == payload[:at + len(PATTERN)] and ended == "reset"
    finally:
        server.close()


def test_mute_at_a_pattern_delivers_up_to_it_and_then_nothing_on_an_open_connection(stream):
    with Relay(stream.port, parse_link("lan")) as relay:
        fired = relay.mute_when_seen(PATTERN)
        with socket.create_connection(("127.0.0.1", relay.port), timeout=TIMEOUT_S) as client:
            received, ended = _read(client)
            assert fired.is_set()
            assert received == STREAM[:_end_of_pattern()] and ended == "quiet"
            assert not relay.is_cut
            stream.release.set()  # the server closes: the close still reaches the client
            rest, ended = _read(client)
        assert rest == b"" and ended == "eof"


def test_disarm_forgets_a_pattern_not_yet_seen(stream):
    with Relay(stream.port, parse_link("lan")) as relay:
        fired = relay.cut_when_seen(b"never in the stream")
        relay.disarm()
        with socket.create_connection(("127.0.0.1", relay.port), timeout=TIMEOUT_S) as client:
            stream.release.set()
            received, ended = _read(client)
        assert received == STREAM and ended == "eof" and not fired.is_set()


def test_retarget_sends_new_connections_to_the_new_port(stream):
    other = StreamServer(b"the other server\r\n")
    try:
        with Relay(stream.port, parse_link("lan")) as relay:
            relay.retarget(other.port)
            other.release.set()
            with socket.create_connection(("127.0.0.1", relay.port), timeout=TIMEOUT_S) as client:
                received, _ = _read(client)
        assert received == b"the other server\r\n" and stream.accepted == 0
    finally:
        other.close()
