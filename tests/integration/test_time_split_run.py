"""A real cell records where its wall time went, and the run prints it per scenario."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import results
from bench.time_split import PARTS

pytestmark = pytest.mark.integration


def test_a_bulk_fetch_cell_records_its_time_split(server_image, tmp_path):
    server_image("dovecot")  # build outside the timed CLI call
    run = subprocess.run([sys.executable, "-m", "bench.cli", "run", "--scenario", "bulk-fetch", "--server", "dovecot",
                          "--mode", "imap", "--variant", "full", "--tls", "off", "--link", "lan", "--messages", "20",
                          "--repeat", "1", "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    loaded = results.load(Path(run.stdout.strip().splitlines()[-1]) / "results.json")
    [cell] = loaded.cells
    assert cell.ok, cell.error
    split = cell.info["time_split_s"]
    assert set(split) == {*PARTS, "other", "total"}
    assert sum(split[name] for name in (*PARTS, "other")) == pytest.approx(split["total"], abs=0.002)
    assert split["delivery"] > 0 and split["measured"] > 0
    assert split["total"] >= split["measured"] >= cell.samples[0]["elapsed_s"] * 0.9
    server = loaded.environment["servers"]["dovecot"]
    assert server["start_s"] > 0 and server["image_s"] >= 0
    assert "bulk-fetch: " in run.stderr and " = delivery " in run.stderr
