"""The report-side commands end to end, from stored results files (no Docker)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
REAL = DATA / "results_real_tls.json"


def mailbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True, timeout=300)


def test_charts_exports_every_chart(tmp_path):
    run = mailbench("charts", str(REAL), "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    paths = [Path(line) for line in run.stdout.splitlines()]
    assert paths and all(path.stat().st_size > 0 for path in paths)
    assert {path.suffix for path in paths} == {".png", ".svg"}


def test_compare_a_run_with_itself_is_quiet(tmp_path):
    run = mailbench("compare", str(REAL), str(REAL), "--out", str(tmp_path))
    assert run.returncode == 0, run.stdout
    assert "no change beyond the noise" in run.stdout
    assert (tmp_path / "comparison.md").exists()


def test_compare_flags_a_planted_regression_and_exits_non_zero(tmp_path):
    data = json.loads(REAL.read_text())
    cell = next(c for c in data["cells"] if c["status"] == "ok")
    for sample in cell["samples"]:
        sample["round_trips"] += 1  # exact: found at any change (3 samples cannot show a timing change)
    slower = tmp_path / "slower.json"
    slower.write_text(json.dumps(data))
    run = mailbench("compare", str(REAL), str(slower))
    assert run.returncode == 1
    regressions = [line for line in run.stdout.splitlines() if line.startswith("REGRESSION")]
    assert regressions and all(cell["id"] in line for line in regressions)
    assert any("round_trips" in line for line in regressions)
