"""many-devices for real: Locust master and two workers against the Dovecot container, and
JMAP devices against Cyrus's.

One short run checks what a cell holds (both statistics paths, new-mail delays, the QoS
verdict); two more check that nothing is left running, Locust processes included, after
Ctrl-C and after a worker is killed in the middle (what was measured is kept, and the cell
says what happened). One more runs a few JMAP devices on Cyrus: they poll with
``Email/changes``, and their requests are in both paths under the type ``jmap``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import results
from bench.load.processes import locust_processes
from bench.servers import get_server
from bench.servers.base import LABEL_RUN

pytestmark = pytest.mark.integration

USERS = "24"
RUN = ["run", "--scenario", "many-devices", "--server", "dovecot", "--mode", "imap", "--messages", "20",
       "--load-workers", "2"]


def _as_from_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench.cli", *RUN, *extra, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_as_from_a_terminal)


def _workers() -> list[int]:
    """Pids of running Locust workers of this suite."""
    found = []
    for pid in locust_processes():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--worker" in command:
            found.append(pid)
    return found


def _wait_for_workers(count: int, timeout_s: float = 90) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        workers = _workers()
        if len(workers) >= count:
            return workers
        time.sleep(0.2)
    pytest.fail(f"no {count} Locust workers within {timeout_s} s")


def _nothing_left(docker_client, out: Path) -> None:
    assert locust_processes() == []
    for path in out.glob("*/results.json"):
        run_id = json.loads(path.read_text())["run_id"]
        assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"}) == []


def test_a_level_on_dovecot_with_two_workers(docker_client, server_image, tmp_path):
    server_image("dovecot")
    run = subprocess.run([sys.executable, "-m", "bench.cli", *RUN, "--users", USERS, "--level-seconds", "12",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    folder = Path(run.stdout.strip().splitlines()[-1])
    (cell,) = results.load(folder / "results.json").cells
    assert cell.ok, cell.error
    (level,) = cell.info["levels"]
    assert level["workers"] == 2 and level["workers_reporting"] == 2
    assert level["users_seen"] == int(USERS)
    # both paths recorded the commands, and agree
    assert level["locust"]["Aggregated"]["count"] > int(USERS)
    assert level["own"]["Aggregated"]["count"] == level["locust"]["Aggregated"]["count"]
    assert level["agreement"]["agree"], level["agreement"]["differences"]
    assert {"imap LOGIN", "imap IDLE", "imap FETCH"} <= set(level["own"])
    # new mail, pushed by IDLE: every message due arrived, within the push limit
    assert cell.info["waits_with"] == "IDLE" and level["pushed"]
    mail = level["mail"]
    assert mail["due"] > 0 and mail["arrived"] == mail["due"] and mail["missing"] == 0
    assert level["figures"]["mail_delay_p95_s"] < 2.0
    # the verdict, and the figures it rests on
    assert level["verdict"]["status"] in ("pass", "client-bound")
    assert cell.by_policy[f"users-{USERS}"][0]["users"] == int(USERS)
    figures = level["figures"]
    assert figures["connections_open"] >= int(USERS)
    assert figures["server_cpu_s_per_user_hour"] > 0 and figures["state_bytes_per_user"] > 0
    assert cell.info["cpus"]["pinned"] == (len(os.sched_getaffinity(0)) >= 2)
    assert (folder / "report.md").read_text().count("## Capacity") == 1
    _nothing_left(docker_client, tmp_path)


def test_ctrl_c_leaves_no_locust_process_and_no_container(docker_client, server_image, tmp_path):
    server_image("dovecot")
    process = _start(tmp_path, "--users", USERS, "--level-seconds", "30")
    _wait_for_workers(2)
    time.sleep(2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    _nothing_left(docker_client, tmp_path)


def test_a_worker_killed_mid_run_keeps_what_was_measured(docker_client, server_image, tmp_path):
    server_image("dovecot")
    process = _start(tmp_path, "--users", USERS, "--users", "48", "--level-seconds", "30")
    workers = _wait_for_workers(2)
    time.sleep(10)  # inside the first level's window, its users logged in and working
    os.kill(workers[-1], signal.SIGKILL)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr
    (cell,) = results.load(Path(stdout.strip().splitlines()[-1]) / "results.json").cells
    assert cell.ok, cell.error
    assert len(cell.info["levels"]) == 1  # no level after the one that ended early
    (level,) = cell.info["levels"]
    assert "ended with code -9" in cell.info["ended_early"][0]
    assert level["own"]["Aggregated"]["count"] > 0 and level["locust"]["Aggregated"]["count"] > 0
    assert level["verdict"]["status"] == "incomplete" and "ended early" in level["verdict"]["reasons"][0]
    _nothing_left(docker_client, tmp_path)


JMAP_USERS = 6


def test_jmap_devices_on_cyrus_wait_on_its_event_stream_and_both_paths_hold_their_requests(
        docker_client, server_image, tmp_path):
    server_image("cyrus", get_server("cyrus").offering("jmap").image_stage)  # built outside the timed run
    run = subprocess.run([sys.executable, "-m", "bench.cli", "run", "--scenario", "many-devices", "--server", "cyrus",
                          "--mode", "jmap", "--messages", "20", "--load-workers", "1", "--users", str(JMAP_USERS),
                          "--level-seconds", "20", "--out", str(tmp_path)], capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    folder = Path(run.stdout.strip().splitlines()[-1])
    (cell,) = results.load(folder / "results.json").cells
    assert cell.ok, cell.error
    (level,) = cell.info["levels"]
    assert level["workers"] == 1 and level["users_seen"] == JMAP_USERS
    # the devices waited on their event streams, then listed with Email/changes and its gets
    assert cell.info["waits_with"] == "EventSource" and level["pushed"]
    assert cell.info["push_probe"] == "EventSource advertised and news pushed"
    expected = {"jmap session", "jmap Mailbox/get", "jmap Email/query+Email/get", "jmap Email/changes+Email/get",
                "jmap Email/get", "jmap download"}
    for path in ("own", "locust"):
        names = set(level[path]) - {"Aggregated"}
        assert expected <= names, (path, names)
        assert all(name.startswith("jmap ") for name in names), (path, names)
    assert level["own"]["Aggregated"]["count"] == level["locust"]["Aggregated"]["count"]
    assert level["agreement"]["agree"], level["agreement"]["differences"]
    # new mail reached the devices within the push limit (Cyrus checks every second)
    mail = level["mail"]
    assert mail["due"] > 0 and mail["arrived"] == mail["due"] and mail["missing"] == 0
    assert level["expected_delay_s"] == cell.info["qos"]["push_delay_s"]
    assert level["figures"]["mail_delay_p95_s"] <= level["expected_delay_s"]
    assert level["verdict"]["status"] in ("pass", "client-bound")
    # each device holds its API connection and its event stream open
    assert level["figures"]["connections_open"] >= 2 * JMAP_USERS
    assert level["figures"]["bytes_per_user_hour"] > 0 and level["figures"]["server_cpu_s_per_user_hour"] > 0
    assert "EventSource" in (folder / "report.md").read_text()
    _nothing_left(docker_client, tmp_path)
