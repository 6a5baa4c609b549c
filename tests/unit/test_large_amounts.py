"""``benchmarks/large_amounts.py --from``: the table of bulk-fetch against mailbox size,
printed from results files alone (crafted here; no run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import results as results_file
from bench.results import CellResult, Results

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "large_amounts.py"


def _run(tmp_path: Path, messages: int, link: str, mode: str, elapsed: list[float], growth: float) -> Path:
    cell = CellResult("bulk-fetch", "dovecot", mode, "full", "off", link)
    for seconds in elapsed:
        cell.add_sample({"elapsed_s": seconds, "bytes_down": messages * 53_000.0, "round_trips": 7,
                         "client_rss_growth_mb": growth, "delivery_messages_per_s": 2500.0})
    other = CellResult("bulk-fetch", "dovecot", mode, "headers", "off", link)  # not the full download: left out
    other.add_sample({"elapsed_s": 1.0})
    run = Results(f"r-{messages}-{link}-{mode}", "2026-01-01T00:00:00+00:00", "mailbench run",
                  plan={"messages": messages}, cells=[cell, other])
    folder = tmp_path / f"{messages}-{link}-{mode}"
    folder.mkdir()
    path = folder / "results.json"
    results_file.save(run, path)
    if link == "lan":  # a run this script made: its process's peak beside the results
        (folder / "process_peak.json").write_text('{"process_peak_rss_mb": %.1f}' % (100 + messages / 1000))
    return path


def test_the_table_has_a_row_per_link_mode_and_size_in_order(tmp_path):
    paths = [_run(tmp_path, 10_000, "mobile-4g", "imap", [300.0], 40.0),
             _run(tmp_path, 100_000, "lan", "imap", [70.0, 72.0, 80.0], 80.5),
             _run(tmp_path, 1_000, "lan", "pop3-keep", [2.0], 1.0),
             _run(tmp_path, 1_000, "lan", "imap", [1.5], 17.0)]
    done = subprocess.run([sys.executable, str(SCRIPT), "--from", *map(str, paths)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == ("| link | mode | messages | time s | MB down | round trips | client RSS growth MB | "
                        "process peak RSS MB | delivery msg/s |")
    assert lines[2:6] == [
        "| lan | imap | 1,000 | 1.5 | 53.0 | 7 | 17.0 | 101 | 2,500 |",
        "| lan | imap | 100,000 | 72.0 | 5,300.0 | 7 | 80.5 | 200 | 2,500 |",
        "| lan | pop3-keep | 1,000 | 2.0 | 53.0 | 7 | 1.0 | 101 | 2,500 |",
        "| mobile-4g | imap | 10,000 | 300.0 | 530.0 | 7 | 40.0 | n/a | 2,500 |",
    ]
    assert "medians of 1 or 3 sample(s) a cell" in done.stdout


def test_a_run_s_peak_memory_is_its_own_process_s():
    """A child that holds more than this process reads its own peak; one that holds little
    reads None (Linux would report this process's memory for it), never the first one's."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("large_amounts", SCRIPT)
    large_amounts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(large_amounts)
    import resource

    own_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    hold = int((own_mb + 50) * 1e6)
    big = large_amounts.run_measured([sys.executable, "-c", f"b = bytearray({hold}); print('done')"])
    small = large_amounts.run_measured([sys.executable, "-c", "print('small')"])
    assert big[0] == 0 and big[1] == "done\n" and hold / 1e6 <= big[2] < hold / 1e6 + 40
    assert small[0] == 0 and small[1] == "small\n" and small[2] is None
