"""Per-operation micro-benchmarks: run them with pytest-benchmark, fold them into results.

The benchmarks are part of the package (``bench/micro/operations.py``: connect+login,
select/stat, fetch one message, headers only, delete+expunge, for every server and
protocol), with the fixtures that start the servers (``bench/micro/fixtures.py``), so
``mailbench micro`` runs from an installed wheel as from a checkout. pytest-benchmark does
the timing and the statistics; this module only runs it and keeps, per benchmark, the
figures the report shows, in milliseconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.errors import MailbenchError

# A file on disk, as pytest collects files: an installed package is unpacked, never zipped.
BENCHMARKS = Path(__file__).resolve().parent / "operations.py"
STATS_MS = ("min", "max", "mean", "median", "stddev", "iqr", "q1", "q3")


def pytest_command(servers: list[str], json_path: Path) -> list[str]:
    """The pytest command line that runs the micro-benchmarks (only ``servers`` if given) and
    writes pytest-benchmark's JSON to ``json_path``, from any working folder."""
    command = [sys.executable, "-m", "pytest", str(BENCHMARKS), "-q", "-p", "no:cacheprovider",
               f"--benchmark-json={Path(json_path).resolve()}", "--benchmark-columns=min,median,iqr,max,rounds"]
    if servers:
        command += ["-k", " or ".join(servers)]
    return command


def run_benchmarks(servers: list[str], json_path: Path, timeout_s: float = 1800) -> None:
    """Run the micro-benchmarks (only ``servers`` if given) and write pytest-benchmark's JSON."""
    finished = subprocess.run(pytest_command(servers, json_path), timeout=timeout_s)
    if finished.returncode != 0 or not json_path.exists():
        raise MailbenchError(f"the micro-benchmarks failed (pytest exit {finished.returncode}); see the output above")


def rows_from_json(path: Path) -> list[dict[str, Any]]:
    """One row per benchmark: server, protocol, operation, tls, rounds and stats in ms."""
    data = json.loads(Path(path).read_text())
    rows = []
    for bench in data.get("benchmarks", []):
        info, stats = bench.get("extra_info", {}), bench["stats"]
        row = {key: info.get(key) for key in ("server", "protocol", "operation", "tls")}
        row["rounds"] = stats["rounds"]
        row.update({f"{name}_ms": stats[name] * 1000.0 for name in STATS_MS if name in stats})
        rows.append(row)
    return sorted(rows, key=lambda r: (r["operation"] or "", r["server"] or "", r["protocol"] or ""))
