"""What the harness knows of each mode's many-devices user (``bench.load.device_models``),
and the parts of a level that read it: JMAP's devices poll, log in with ``session``, are
counted on JMAP's HTTP port, and their command names pass through both statistics paths."""

import ast
import csv
import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from bench.load import stats
from bench.load.config import LoadConfig
from bench.load.cpus import split_cpus
from bench.load.device_models import DEVICE_MODELS, device_model
from bench.load.levels import Levels
from bench.load.processes import LOCUSTFILE
from bench.load.server_figures import connections_open
from bench.modes import MODES
from bench.servers import get_server


def test_every_mode_has_a_user():
    assert set(DEVICE_MODELS) == set(MODES)
    with pytest.raises(KeyError, match="no many-devices user for mode 'smtp'"):
        device_model("smtp")


def _user_classes_in_the_locustfile() -> dict[str, str]:
    """``USER_CLASSES`` of the locustfile, read from its source: importing it would start
    gevent in this process."""
    for node in ast.parse(LOCUSTFILE.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "USER_CLASSES" for t in node.targets):
            return {key.value: value.id for key, value in zip(node.value.keys, node.value.values)}
    raise AssertionError("the locustfile has no USER_CLASSES")


def test_the_locustfile_registers_the_user_each_mode_names():
    assert _user_classes_in_the_locustfile() == {mode: model.user_class for mode, model in DEVICE_MODELS.items()}


@pytest.mark.parametrize("mode, pushed, words", [
    ("imap", True, "IDLE"),
    ("imap", False, "NOOP polling"),
    ("jmap", False, "Email/changes polling"),
    ("jmap", True, "EventSource"),
    ("pop3-keep", False, "POP3 polling"),
])
def test_how_the_devices_waited(mode, pushed, words):
    assert device_model(mode).waits_with(pushed) == words


def _levels(mode: str) -> Levels:
    def no_connection(*args, **kwargs):
        raise AssertionError("a mode without push is not probed")

    ctx = SimpleNamespace(mode=MODES[mode], corpus=SimpleNamespace(messages=lambda first, count: iter(())),
                          connect=no_connection)
    return Levels(ctx, LoadConfig(), split_cpus({0, 1}), Path("/nonexistent"))


def test_a_polling_device_is_due_within_the_interval_plus_the_slack_and_a_pushed_one_within_the_push_limit():
    levels = _levels("pop3-keep")
    assert levels.server_pushes() is False
    config = LoadConfig()
    assert config.qos.expected_delay_s(levels.pushed, config.poll_interval_s) == config.poll_interval_s + 2.0
    assert config.qos.expected_delay_s(True, config.poll_interval_s) == 2.0


def test_pop3_devices_are_not_said_to_lack_idle():
    levels = _levels("pop3-keep")
    assert levels.server_pushes() is False and levels.push_probe == "POP3 has no push: the device polls"


def test_a_jmap_device_counts_as_logged_in_after_its_first_api_request(tmp_path):
    """The redirect of the session URL is a ``session`` record without an error even for a
    wrong password (user2): only the first API request after the session proves the login."""
    (tmp_path / "worker-0-1.jsonl").write_text("\n".join([
        '{"kind":"cmd","user":"user1","protocol":"jmap","command":"session","ms":2,"error":null}',
        '{"kind":"cmd","user":"user1","protocol":"jmap","command":"session","ms":2,"error":null}',
        '{"kind":"cmd","user":"user1","protocol":"jmap","command":"Mailbox/get","ms":2,"error":null}',
        '{"kind":"cmd","user":"user2","protocol":"jmap","command":"session","ms":2,"error":null}',
        '{"kind":"cmd","user":"user2","protocol":"jmap","command":"session","ms":2,"error":"LoginRefused: 401"}',
    ]))
    assert Levels.active_users(tmp_path, device_model("jmap").logged_in) == {"user1"}
    assert Levels.active_users(tmp_path, device_model("imap").logged_in) == set()


class _Container:
    """A container whose TCP table the host cannot read, so it is read inside."""

    attrs = {"State": {"Pid": 0}}

    def __init__(self, table: str) -> None:
        self.table = table

    def reload(self) -> None:
        pass

    def exec_run(self, command):
        return 0, self.table.encode()


def _row(local_port: int, state: str = "01") -> str:
    return f"   0: 0100007F:{local_port:04X} 0100007F:C350 {state} 00000000:00000000 00:00000000 00000000"


def test_jmap_connections_are_counted_on_its_http_port_not_the_injectors_imap_port():
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt"
    table = "\n".join([header, _row(8008), _row(8008), _row(8008, "06"), _row(143), _row(110)])
    running = SimpleNamespace(spec=get_server("cyrus").offering("jmap"), container=_Container(table))
    assert connections_open(running, "jmap") == 2  # ESTABLISHED only: 06 is TIME_WAIT
    assert connections_open(running, "imap") == 1


def test_jmap_requests_agree_in_both_paths():
    """Locust's CSV and the users' records name a JMAP request by its methods (a ``/`` and a
    ``+`` in the name), under the type ``jmap``."""
    names = {"session": [3.0, 4.0], "Email/changes+Email/get": [5.0, 6.0, 7.0], "download": [1.0]}
    records = [{"kind": "cmd", "at": 1.0, "user": "user1", "protocol": "jmap", "command": name, "ms": ms,
                "up": 10, "down": 20, "error": None} for name, values in names.items() for ms in values]
    own = stats.own_figures(records).commands
    out = io.StringIO()
    columns = ["Type", "Name", "Request Count", "Failure Count", "50%", "95%", "99%", "Average Response Time",
               "Max Response Time", "Average Content Size"]
    writer = csv.DictWriter(out, columns)
    writer.writeheader()
    for key, summary in own.items():
        kind, _, name = key.partition(" ") if key != stats.AGGREGATED else ("", "", stats.AGGREGATED)
        writer.writerow({"Type": kind, "Name": name, "Request Count": summary["count"], "Failure Count": 0,
                         "50%": summary["p50_ms_as_locust"], "95%": summary["p95_ms_as_locust"], "99%": "",
                         "Average Response Time": summary["mean_ms"], "Max Response Time": summary["max_ms"],
                         "Average Content Size": 20})
    locust = stats.parse_stats_csv(out.getvalue())
    assert set(locust) == {"jmap session", "jmap Email/changes+Email/get", "jmap download", stats.AGGREGATED}
    assert stats.agreement(locust, own) == {"agree": True, "differences": []}
