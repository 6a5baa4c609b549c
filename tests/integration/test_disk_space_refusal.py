"""A run whose mailboxes would not fit is refused in one line before any container starts.

The free space is faked for the check alone (``MAILBENCH_FREE_BYTES``); Docker is real: the
check reads its data root from the daemon, and no container of the refused run exists.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.servers.base import LABEL_PID

pytestmark = pytest.mark.integration


def test_a_run_that_cannot_fit_is_refused_in_one_line_before_any_container(docker_client, tmp_path):
    out = tmp_path / "out"
    run = subprocess.Popen(
        [sys.executable, "-m", "bench.cli", "run", "--scenario", "bulk-fetch", "--server", "dovecot",
         "--messages", "1000", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "MAILBENCH_FREE_BYTES": "1000000"})
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mailbench: error: not enough disk space for this run: Docker's data root ")
    assert "has 0.00 GB free and the run needs" in lines[0] and "104 mailboxes of 1,000 messages" in lines[0]
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_PID}={run.pid}"}) == []
    assert list(out.iterdir()) == []  # no run folder: nothing was started or written
