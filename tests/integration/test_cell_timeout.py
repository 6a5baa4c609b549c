"""A cell past its wall-clock limit fails with its error, and the run goes on.

The first cell syncs over a slow relayed link (2 s round trips, 2 Mbit/s down: its sample needs
about 20 s, against the 8 s allowed); the next one, the same on the loopback, needs about
2 s (delivery, the sync and reading the container's counters) and passes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import results
from bench.servers.base import LABEL_RUN

pytestmark = pytest.mark.integration

SLOW = "rtt=2000ms,down=2mbit,up=1mbit"


def test_a_cell_that_times_out_fails_and_the_next_cell_runs_and_passes(docker_client, server_image, tmp_path):
    server_image("dovecot")  # build outside the timed CLI call
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "bench.cli", "run", "--scenario", "bulk-fetch", "--server", "dovecot",
         "--variant", "full", "--mode", "imap", "--tls", "off", "--link", SLOW, "--link", "lan",
         "--messages", "40", "--repeat", "1", "--cell-timeout", "8", "--out", str(tmp_path),
         "--seed", "5"],  # a run order with the slow cell first (cells run in a seeded order)
        capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    loaded = results.load(Path(run.stdout.strip().splitlines()[-1]) / "results.json")
    assert loaded.plan["cell_timeout_s"] == 8.0
    timed_out, after = loaded.cells
    assert (timed_out.info["position"], after.info["position"]) == (0, 1)
    assert timed_out.link != "lan" and after.link == "lan"
    assert not timed_out.ok
    assert timed_out.error == "CellTimeout: timed out after 8 s"
    assert timed_out.samples == []
    assert after.ok, after.error
    assert after.integrity["passed"] and after.integrity["checked"] == 40
    assert "1 failed" in run.stderr
    assert elapsed < 120  # the slow cell was stopped, not waited for
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={loaded.run_id}"}) == []
