"""benchmarks/protocols_on_links.py prints each mode's round trips, time and bytes per link,
workload and server, from a results file alone."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

from bench.results import load

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "protocols_on_links.py"
DATA = ROOT / "tests" / "data" / "results_real_tls.json"


def test_every_row_is_the_medians_of_its_cell():
    printed = subprocess.run([sys.executable, str(SCRIPT), str(DATA)], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    assert printed[0].startswith("| link | workload | server | imap | pop3-keep | pop3-delete |")
    results = load(DATA)
    cell = next(c for c in results.cells if c.ok and c.tls == "off" and c.scenario == "bulk-fetch"
                and c.variant == "full" and c.server == "cyrus" and c.mode == "imap")
    trips, seconds, down = (statistics.median(cell.values(m)) for m in ("round_trips", "elapsed_s", "bytes_down"))
    row = next(line for line in printed if line.startswith("| lan | full download | cyrus |"))
    assert row.split(" | ")[3] == f"{trips:,.0f} / {seconds:.2f} s / {down / 1000:,.0f} kB"
    assert any(line.startswith("| lan | new-mail sync | dovecot |") for line in printed)
    assert not any("multi-device round" in line for line in printed)  # the file has no such cells
