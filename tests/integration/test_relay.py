"""The shaping relay against its settings: delay, bandwidth, order, FIN, cut, clean shutdown.

Bounds are generous (a loaded 2-core machine must pass); the precise figures come from
``benchmarks/relay_accuracy.py``. The peer is a plain TCP echo/bulk server started here
(it tests the relay, not a mail protocol), and one test runs a real IMAP session through it.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import statistics
import threading
import time

import pytest

from bench.access import WireMeter, open_access
from bench.corpus import generate_messages
from bench.delivery import deliver
from bench.links import Relay, open_link, parse_link
from benchmarks.link_probe import (
    ProbeServer,
    download_mbit,
    echo_round_trips_ms,
    upload_mbit,
)

pytestmark = pytest.mark.integration

STEP_TIMEOUT_S = 10.0


def within(measured: float, expected: float, share: float, absolute: float = 0.0) -> bool:
    return abs(measured - expected) <= expected * share + absolute


@pytest.fixture()
def probe():
    with ProbeServer() as server:
        yield server


@pytest.mark.parametrize("rtt_ms, samples", [(20, 15), (200, 6)])
def test_round_trip_time_is_the_profiles(probe, rtt_ms, samples):
    with Relay(probe.port, parse_link(f"rtt={rtt_ms}ms")) as relay:
        times = echo_round_trips_ms(relay.port, samples, timeout_s=STEP_TIMEOUT_S)
    assert within(statistics.median(times), rtt_ms, 0.15, 3.0), times
    assert min(times) >= rtt_ms - 0.5, times  # never faster than the link


def test_small_packets_on_a_slow_link_see_only_the_delay(probe):
    with Relay(probe.port, parse_link("rtt=100ms,down=1mbit,up=1mbit")) as relay:
        times = echo_round_trips_ms(relay.port, 6, payload_bytes=64, timeout_s=STEP_TIMEOUT_S)
    assert within(statistics.median(times), 100, 0.15, 3.0), times


def test_throughput_converges_to_the_limit(probe):
    with Relay(probe.port, parse_link("rtt=20ms,down=8mbit,up=4mbit")) as relay:
        down = download_mbit(relay.port, 2_000_000, timeout_s=STEP_TIMEOUT_S)
        up = upload_mbit(relay.port, 1_000_000, timeout_s=STEP_TIMEOUT_S)
    assert within(down, 8.0, 0.15), down
    assert within(up, 4.0, 0.15), up


def test_every_byte_crosses_in_order_and_the_fin_comes_after_them(probe):
    payload = os.urandom(1_000_000)
    received = bytearray()
    with Relay(probe.port, parse_link("rtt=20ms,down=40mbit,up=40mbit")) as relay:
        with socket.create_connection(("127.0.0.1", relay.port), timeout=STEP_TIMEOUT_S) as sock:
            sock.sendall(b"ECHO\n")

            def send() -> None:
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)  # our FIN: the echo server then closes its side

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            while data := sock.recv(65536):  # b"": the server's FIN, relayed after its data
                received += data
            sender.join(STEP_TIMEOUT_S)
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while relay.stats.open and time.monotonic() < deadline:
            time.sleep(0.01)
        stats = relay.stats
    assert bytes(received) == payload
    assert (stats.bytes_up, stats.bytes_down) == (len(b"ECHO\n") + len(payload), len(payload))
    assert stats.open == 0  # both FINs crossed: the relay closed the connection


def _echo_once(sock: socket.socket) -> bytes:
    sock.sendall(b"ping")
    return sock.recv(4)


def _fails_at_once(sock: socket.socket) -> bool:
    """True when the connection is reset or closed: a read fails or sees EOF without waiting."""
    sock.settimeout(2.0)
    try:
        sock.sendall(b"ping")
        return sock.recv(4) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_cut_resets_open_connections_and_new_ones_until_restored(probe):
    with Relay(probe.port, parse_link("rtt=10ms")) as relay:
        before = socket.create_connection(("127.0.0.1", relay.port), timeout=STEP_TIMEOUT_S)
        before.sendall(b"ECHO\n")
        assert _echo_once(before) == b"ping"

        relay.cut()
        assert relay.is_cut
        assert _fails_at_once(before)
        before.close()
        for _ in range(3):
            try:
                new = socket.create_connection(("127.0.0.1", relay.port), timeout=STEP_TIMEOUT_S)
            except ConnectionError:
                continue  # refused outright: as good as reset
            with new:
                try:
                    new.sendall(b"ECHO\n")
                except ConnectionError:
                    continue  # reset before the write: on a busy machine the reset can come first
                assert _fails_at_once(new)

        relay.restore()
        with socket.create_connection(("127.0.0.1", relay.port), timeout=STEP_TIMEOUT_S) as after:
            after.sendall(b"ECHO\n")
            assert _echo_once(after) == b"ping"
        stats = relay.stats
    assert stats.reset_by_cut == 1
    assert stats.refused == 3
    assert stats.connections == 2


def _read_until_closed(sock: socket.socket, timeout_s: float) -> int | None:
    """Bytes read until EOF or reset; None if the connection was still open after ``timeout_s``."""
    sock.settimeout(timeout_s)
    total = 0
    try:
        while data := sock.recv(1 << 20):
            total += len(data)
    except ConnectionResetError:
        pass
    except TimeoutError:
        return None
    return total


def test_the_relay_stops_cleanly_even_with_connections_open(probe):
    with Relay(probe.port, parse_link("rtt=50ms,down=1mbit")) as relay:
        port = relay.port
        thread_name = f"relay-{port}"
        assert thread_name in {thread.name for thread in threading.enumerate()}
        open_one = socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT_S)
        open_one.sendall(b"SEND 1000000\n")  # 8 s of data at 1 Mbit/s: still in flight at exit
        assert open_one.recv(1)  # flowing
        started = time.monotonic()
    assert time.monotonic() - started < 2.0
    with open_one:
        got = _read_until_closed(open_one, 2.0)
    assert got is not None and got < 1_000_000  # cut short, not left hanging
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=STEP_TIMEOUT_S)
    assert thread_name not in {thread.name for thread in threading.enumerate()}
    with pytest.raises(RuntimeError):
        relay.port


def test_lan_is_the_port_itself_unless_it_must_be_cut(probe):
    lan = parse_link("lan")
    with open_link(probe.port, lan) as link:
        assert link.port == probe.port
        with pytest.raises(RuntimeError):
            link.cut()
    with open_link(probe.port, lan, cuttable=True) as link:
        assert link.port != probe.port
        link.cut()
        link.restore()


def test_an_imap_session_through_the_relay_pays_the_round_trips_and_gets_the_same_bytes(dovecot):
    account = dovecot.fresh_account()
    direct = dovecot.endpoint("imap", account)
    deliver(direct, generate_messages(20, seed=11))

    def fetch_all(endpoint):
        meter = WireMeter()
        with open_access("imap", endpoint, meter) as access:
            listing = access.list_messages()
            fetched = [raw for _, raw in access.fetch(listing.refs)]
        return fetched, meter

    direct_messages, direct_meter = fetch_all(direct)
    with Relay(direct.port, parse_link("rtt=50ms")) as relay:
        relayed_messages, meter = fetch_all(dataclasses.replace(direct, port=relay.port))
        stats = relay.stats
    assert relayed_messages == direct_messages and len(relayed_messages) == 20
    assert min(meter.latencies_ms["LOGIN"]) >= 50.0  # one round trip at least
    # TCP handshake and greeting: two round trips, as on the link the relay stands for.
    assert min(meter.latencies_ms["CONNECT"]) >= 100.0
    assert min(direct_meter.latencies_ms["LOGIN"]) < 50.0
    assert stats.bytes_down >= sum(map(len, relayed_messages))
    assert stats.connections == 1


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("tls", ["off", "on", "starttls"])
def test_every_protocol_and_tls_mode_crosses_the_relay_unchanged(dovecot, protocol, tls):
    account = dovecot.fresh_account()
    deliver(dovecot.endpoint("imap", account), generate_messages(5, seed=12))
    direct = dovecot.endpoint(protocol, account, tls)

    def fetch_all(endpoint):
        with open_access(protocol, endpoint, WireMeter()) as access:
            return sorted(raw for _, raw in access.fetch(access.list_messages().refs))

    with Relay(direct.port, parse_link("rtt=10ms,down=20mbit,up=5mbit")) as relay:
        relayed = fetch_all(dataclasses.replace(direct, port=relay.port))
    assert relayed == fetch_all(direct) and len(relayed) == 5
