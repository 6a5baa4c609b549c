"""benchmarks/real_clients.py as a user runs it, small: 20 messages, one round on Dovecot.
Every client gets every message byte for byte, keeps the mailbox, and is counted; the
container is gone afterwards.

mbsync and fetchmail are installed the way the script installs them (apt-get, as root on
Debian: CI runs so); elsewhere the test skips, except under CI=true, where it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.servers.base import LABEL_RUN
from benchmarks import real_clients

pytestmark = pytest.mark.integration

SCRIPT = Path(real_clients.__file__)
MESSAGES = 20


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def clients_installed():
    missing = real_clients.missing_programs()
    if not missing:
        return
    if os.geteuid() != 0:
        reason = f"{' and '.join(missing)} not installed, and installing needs root"
        if _in_ci():
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    real_clients.ensure_clients(print)


def test_four_clients_get_every_message_and_are_counted(docker_client, server_image, clients_installed, tmp_path):
    server_image("dovecot")  # built outside the script's run
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--server", "dovecot", "--messages", str(MESSAGES),
                           "--rounds", "1", "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads(out.read_text())
    assert results["finished_at"] and results["server"]["name"] == "dovecot"
    assert results["clients"]["mbsync"]["version"] != "unknown"
    assert results["clients"]["fetchmail"]["version"] != "unknown"

    runs = {run["client"]: run for run in results["rounds"][0]["runs"]}
    assert sorted(runs) == sorted(real_clients.CLIENTS)
    for client, run in runs.items():
        assert run["passed"], (client, run.get("error"))
        assert run["integrity"]["passed"] and run["integrity"]["checked"] == MESSAGES, client
        assert run["mailbox"]["kept"] and run["mailbox"]["messages"] == MESSAGES, client
        assert run["seconds"] > 0 and run["bytes_up"] > 0 and run["round_trips"] > 0, client
        assert run["connections"] >= 1 and not run.get("open_connections"), client
    for client in ("mailbench-imap", "mailbench-pop3", "fetchmail"):
        assert runs[client]["bytes_down"] >= runs[client]["message_bytes"], client
    if not runs["mbsync"]["compress_deflate"]:
        assert runs["mbsync"]["bytes_down"] >= runs["mbsync"]["message_bytes"]

    # the forwarder and mailbench's own meter agree on what mailbench wrote and its waits
    for client in ("mailbench-imap", "mailbench-pop3"):
        meter = runs[client]["meter"]
        assert runs[client]["bytes_up"] == meter["bytes_up"], client
        assert runs[client]["round_trips"] == meter["round_trips"], client

    rows = [line for line in done.stdout.splitlines() if line.startswith(("| IMAP", "| POP3"))]
    assert len(rows) == 4 and all(row.endswith("| passed 1/1 |") for row in rows)
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={results['run_id']}"}) == []

    again = subprocess.run([sys.executable, str(SCRIPT), "--from", str(out)], capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 0 and rows == [line for line in again.stdout.splitlines()
                                              if line.startswith(("| IMAP", "| POP3"))]
