"""The suite under its own faults: Ctrl-C, kill and kill -9 in the middle of a run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import results
from bench.runner import QuietObserver, Run, RunConfig
from bench.servers.base import LABEL, LABEL_RUN

pytestmark = pytest.mark.integration

# Long enough (10 cells of 5 samples) that a signal sent after the second cell lands inside the run.
RUN = ["--scenario", "bulk-fetch", "--server", "dovecot", "--messages", "40", "--repeat", "5", "--tls", "off"]


def _as_from_a_terminal() -> None:
    """SIGINT delivered, as to a command typed at a terminal: a shell that starts a job in the
    background (a CI runner, ``cmd &``) has it ignored, and the ignore would be inherited."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start_run(out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench.cli", "run", *RUN, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_as_from_a_terminal)


def _wait_for_cells(out: Path, count: int, timeout_s: float = 240) -> Path:
    """The results file once it holds ``count`` finished cells (bounded wait)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for path in out.glob("*/results.json"):
            try:
                if len(json.loads(path.read_text())["cells"]) >= count:
                    return path
            except (json.JSONDecodeError, KeyError, OSError):
                pytest.fail(f"{path} was not valid JSON while the run was writing it")
        time.sleep(0.05)
    pytest.fail(f"no {count} finished cells within {timeout_s} s")


def _containers_of(docker_client, run_id: str) -> list:
    return docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"})


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_keeps_finished_cells_and_removes_its_container(
        docker_client, server_image, tmp_path, signum):
    server_image("dovecot")
    process = _start_run(tmp_path)
    path = _wait_for_cells(tmp_path, 2)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    kept = results.load(path)
    assert len(kept.cells) >= 2 and all(cell.ok for cell in kept.cells)
    assert kept.finished_at is None
    assert _containers_of(docker_client, kept.run_id) == []


def test_after_kill_9_the_results_are_valid_and_clean_removes_the_leftover(
        docker_client, server_image, tmp_path):
    server_image("dovecot")
    process = _start_run(tmp_path)
    path = _wait_for_cells(tmp_path, 1)
    process.kill()
    process.communicate(timeout=60)
    kept = results.load(path)  # valid JSON with the finished cells
    assert len(kept.cells) >= 1
    assert len(_containers_of(docker_client, kept.run_id)) == 1  # nothing could remove it
    # `mailbench clean` removes every mailbench container; scoped to the killed run here so
    # that the containers this test session still uses stay.
    clean = subprocess.run([sys.executable, "-m", "bench.cli", "clean", "--run", kept.run_id],
                           capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stderr
    assert "removed 1 container" in clean.stdout
    assert _containers_of(docker_client, kept.run_id) == []


def test_a_new_run_removes_what_a_killed_run_left(docker_client, server_image, tmp_path):
    from bench.servers import clean

    server_image("dovecot")
    process = _start_run(tmp_path)
    path = _wait_for_cells(tmp_path, 1)
    process.kill()
    process.communicate(timeout=60)
    run_id = results.load(path).run_id
    mine = {c.id for c in docker_client.containers.list(filters={"label": LABEL})} - \
        {c.id for c in _containers_of(docker_client, run_id)}
    removed = clean(docker_client, orphans_only=True)  # what every run does first
    assert f"mailbench-{run_id}-dovecot" in removed
    assert _containers_of(docker_client, run_id) == []
    still = {c.id for c in docker_client.containers.list(filters={"label": LABEL})}
    assert mine <= still  # containers of live processes (this session's) are left alone


class _KillAfterFirstSample(QuietObserver):
    """Kills the server container once the first sample is done, as a crash would."""

    def __init__(self, docker_client) -> None:
        super().__init__()
        self.docker_client = docker_client
        self.run_id = ""
        self.killed = False

    def advance(self, label: str) -> None:
        if not self.killed:
            self.killed = True
            (container,) = _containers_of(self.docker_client, self.run_id)
            container.kill()


def test_a_server_that_dies_fails_its_cell_and_is_brought_back_for_the_next(docker_client, server_image, tmp_path):
    config = RunConfig(scenarios=["bulk-fetch"], servers=["dovecot"], modes=["imap"], variants=["full", "headers"],
                       tls=["off"], messages=10, repeat=2, out=tmp_path)
    observer = _KillAfterFirstSample(docker_client)
    run = Run(config, observer)
    observer.run_id = run.run_id
    folder = run.execute()
    first, second = sorted(results.load(folder / "results.json").cells, key=lambda cell: cell.info["position"])
    assert observer.killed
    assert not first.ok and first.error  # its second sample met a dead server
    assert len(first.samples) == 1  # the first sample's figures are kept
    assert second.ok and len(second.samples) == 2
    assert "started again" in second.info["server_revived"]
    assert not _containers_of(docker_client, run.run_id)
