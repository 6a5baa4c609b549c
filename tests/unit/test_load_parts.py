"""The smaller parts of bench.load: config checks, the CPU split, the injector's schedule,
the metered client's two reports, the server's connection count and memory steps."""

import io
import json

import pytest

from bench.errors import UsageError
from bench.load.client import LocustMeter, RecordFile
from bench.load.config import LoadConfig, UserPlan
from bench.load.cpus import split_cpus
from bench.load.injector import Injector, schedule, tagged
from bench.load.processes import client_cpu_share
from bench.load.qos import QosLimits
from bench.load.server_figures import established, memory_per_connection


@pytest.mark.parametrize("kwargs, words", [
    ({"users": (0,)}, "at least 1 user"),
    ({"users": (500,)}, "above --max-users 300"),
    ({"workers": 0}, "--load-workers 0"),
    ({"publish_address": "my-host"}, "not an IP address"),
    ({"remote_workers": 1}, "needs --publish-address"),
    ({"qos": QosLimits(command_share=1.5)}, "command share"),
    ({"qos": QosLimits(command_s=0)}, "command s"),
    ({"users": ()}, "--users needs at least one level"),
])
def test_bad_load_options_are_one_line_errors(kwargs, words):
    with pytest.raises(UsageError, match=words):
        LoadConfig(**kwargs)


def test_time_compression_turns_user_time_into_real_time():
    config = LoadConfig(compression=60, poll_interval_user_s=300, mail_per_user_hour=6)
    assert config.poll_interval_s == 5.0
    assert config.mail_per_user_s == pytest.approx(0.1)


def test_each_worker_takes_its_own_accounts():
    plan = UserPlan("imap", "imap", "127.0.0.1", 143, [f"user{i}" for i in range(6)], "pw", 4, 2, 10, 0.0, 5, 29, 0.3, 1,
                    "/tmp")
    taken = [plan.username_of(w, n) for w in (0, 1) for n in (0, 1, 2)]
    assert len(set(taken)) == 6
    with pytest.raises(RuntimeError):
        plan.username_of(0, 3)


def test_cpus_split_in_half_and_one_cpu_is_shared():
    split = split_cpus({0, 1})
    assert split.server == (0,) and split.load == (1,) and split.server_cpuset == "0"
    assert not split_cpus({0}).pinned and split_cpus({0}).server_cpuset is None


def test_the_schedule_is_seeded_and_bounded():
    first = schedule(10, 0.5, 20.0, seed=3)
    assert first == schedule(10, 0.5, 20.0, seed=3)
    assert all(0 <= i.at_s < 20 and 0 <= i.user < 10 for i in first)
    assert 50 < len(first) < 150  # 10 users x 0.5/s x 20 s = 100 expected
    assert schedule(0, 0.5, 20.0, seed=3) == []


def test_the_injector_tags_each_message_and_records_when_it_was_sent():
    delivered = []
    plan = schedule(2, 50.0, 0.1, seed=1)
    injector = Injector(["a", "b"], [b"Subject: x\r\n\r\nbody\r\n"], plan,
                        deliver=lambda endpoint, raw: delivered.append((endpoint, raw)))
    injector.start()
    injector.join(timeout_s=5)
    injector.stop()
    assert len(injector.sent) == len(plan) == len(delivered)
    assert delivered[0][1].startswith(b"X-Mailbench-Inject: m0\r\nSubject: x")
    assert tagged(b"A: b\n\nc\n", "x").startswith(b"X-Mailbench-Inject: x\nA: b")


def test_the_meter_reports_each_command_to_locust_and_to_the_records():
    fired, stream = [], io.StringIO()
    stream.close = lambda: None
    meter = LocustMeter("imap", "user1", lambda **event: fired.append(event), RecordFile(stream))
    tap = meter.tap()
    with meter.measure("FETCH"):
        tap.sent(10)
        tap.received(300)
    with pytest.raises(ConnectionResetError):
        with meter.measure("NOOP"):
            raise ConnectionResetError("gone")
    meter.received_mail(b"X-Mailbench-Inject: u10-3\r\nSubject: s\r\n\r\n")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["name"] for e in fired] == ["FETCH", "NOOP"]
    assert fired[0]["request_type"] == "imap" and fired[0]["response_length"] == 300 and fired[0]["exception"] is None
    assert isinstance(fired[1]["exception"], ConnectionResetError)
    assert lines[0]["command"] == "FETCH" and lines[0]["down"] == 300 and lines[0]["up"] == 10
    assert lines[1]["error"] == "ConnectionResetError: gone"
    assert lines[2] == {"kind": "mail", "at": lines[2]["at"], "user": "user1", "id": "u10-3"}
    assert fired[0]["response_time"] == pytest.approx(lines[0]["ms"], abs=0.01)


def test_a_command_cut_off_by_locust_is_reported_by_neither_path():
    fired, stream = [], io.StringIO()
    meter = LocustMeter("pop3", "user1", lambda **event: fired.append(event), RecordFile(stream))

    class GreenletExit(BaseException):
        pass

    with pytest.raises(GreenletExit):
        with meter.measure("RETR"):
            raise GreenletExit()
    assert fired == [] and stream.getvalue() == ""


TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:008F 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 020011AC:008F 010011AC:D2A4 01 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 020011AC:008F 010011AC:D2A6 01 00000000:00000000 00:00000000 00000000     0        0 3 1
   3: 020011AC:006E 010011AC:D2A8 01 00000000:00000000 00:00000000 00000000     0        0 4 1
   4: 020011AC:008F 010011AC:D2AA 06 00000000:00000000 00:00000000 00000000     0        0 5 1
"""


def test_connections_held_open_are_the_established_ones_on_the_port():
    assert established(TCP, [143]) == 2  # the listener and the TIME_WAIT one are not
    assert established(TCP, [110]) == 1


def test_memory_per_connection_is_a_difference_between_levels():
    assert memory_per_connection([(100e6, 10), (120e6, 30), (120e6, 30)]) == [1e6, None]
    assert memory_per_connection([(100e6, 1), (130e6, 4)]) == [None]  # 3 more connections: noise
    # memory fell while users grew (a capacity run's Courier pop3-delete: -2.46 kB per user)
    assert memory_per_connection([(100e6, 100), (99e6, 200)]) == [None]


def test_client_cpu_share_over_the_load_cpus_and_the_busiest_process():
    share = client_cpu_share({"master": 1.0, "worker-0": 2.0}, {"master": 1.5, "worker-0": 10.0}, 10.0, 1)
    assert share == {"total": 0.85, "busiest": 0.8}
