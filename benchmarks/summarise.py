"""Print Markdown tables of a run's bulk-fetch figures, as the README quotes them.

    python benchmarks/summarise.py reports/<run-id>/results.json [...]

Every number comes from the results files given; nothing is typed in by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.results import load

COLUMNS = (
    ("messages/s", "messages_per_s", "{:,.0f}"),
    ("MB/s", "mb_per_s", "{:.1f}"),
    ("round trips", "round_trips", "{:,.0f}"),
    ("MB down", "bytes_down", "{:.1f}", 1e-6),
    ("kB up", "bytes_up", "{:.1f}", 1e-3),
    ("wire MB down", "wire_bytes_down", "{:.2f}", 1e-6),
    ("client CPU s", "client_cpu_s", "{:.2f}"),
    ("server CPU s", "server_cpu_s", "{:.2f}"),
    ("client peak RSS MB", "client_peak_rss_mb", "{:.0f}"),
    ("delivery msg/s", "delivery_messages_per_s", "{:,.0f}"),
)


def _median(cell, metric):
    summary = cell.metrics().get(metric)
    return None if summary is None else summary["median"]


def _fmt(value, spec, scale=1.0):
    return "n/a" if value is None else spec.format(value * scale)


def main(paths: list[str]) -> None:
    for path in paths:
        results = load(Path(path))
        print(f"\n`{results.command}` (run {results.run_id}, {results.plan.get('messages')} messages, "
              f"{results.plan.get('repeat')} samples per cell, medians)\n")
        print("| server | mode | tls | " + " | ".join(c[0] for c in COLUMNS) + " |")
        print("|---|---|---|" + "---:|" * len(COLUMNS))
        for cell in results.cells:
            if not cell.ok or cell.variant != "full":
                continue
            values = [_fmt(_median(cell, c[1]), c[2], *(c[3:] or (1.0,))) for c in COLUMNS]
            print(f"| {cell.server} | {cell.mode} | {cell.tls} | " + " | ".join(values) + " |")
        pairs = {}
        for cell in results.cells:
            if cell.ok and cell.variant == "full":
                pairs.setdefault((cell.server, cell.mode), {})[cell.tls] = cell
        rows = [(k, v) for k, v in pairs.items() if {"off", "on"} <= set(v)]
        if rows:
            print("\nTLS overhead (tls on / tls off, same run):\n")
            print("| server | mode | time ratio | wire bytes down ratio |")
            print("|---|---|---:|---:|")
            for (server, mode), by_tls in rows:
                time_ratio = _median(by_tls["on"], "elapsed_s") / _median(by_tls["off"], "elapsed_s")
                on, off = _median(by_tls["on"], "wire_bytes_down"), _median(by_tls["off"], "wire_bytes_down")
                wire = f"{on / off:.3f}" if on and off else "n/a"
                print(f"| {server} | {mode} | {time_ratio:.2f} | {wire} |")
        failed = [cell.id for cell in results.cells if not cell.ok]
        print(f"\nfailed cells: {', '.join(failed) if failed else 'none'}")


if __name__ == "__main__":
    main(sys.argv[1:])
