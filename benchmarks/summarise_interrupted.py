"""Print the README's interrupted-sync table from a run's results.

    python benchmarks/summarise_interrupted.py reports/<run-id>/results.json

One row per fault and mode, over every server and sample of the run: messages lost,
duplicated and left partial (summed), and the medians of what the device kept through the
fault, how long it took to notice, to recover, and what the recovery moved. Every number
comes from the results file; nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path

from bench.results import load

COUNTS = ("messages_lost", "messages_duplicated", "messages_partial")


def _median(samples: list[dict], metric: str, scale: float = 1.0, spec: str = "{:.2f}") -> str:
    values = [sample[metric] * scale for sample in samples if metric in sample]
    return spec.format(statistics.median(values)) if values else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    results = load(args.results)
    cells = [cell for cell in results.cells if cell.scenario == "interrupted-sync"]
    failed = [cell.id for cell in cells if not cell.ok]
    servers = list(dict.fromkeys(cell.server for cell in cells))
    by_row: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for cell in cells:
        if cell.ok:
            by_row[(cell.variant, cell.mode)].extend(cell.samples)
    print(f"`{results.command}` (run {results.run_id}, {results.plan.get('messages')} messages, "
          f"{results.samples_per_cell()}; servers: {', '.join(servers)}; "
          f"failed cells: {', '.join(failed) or 'none'})\n")
    print("| fault | mode | lost / duplicated / partial (sum) | kept through the fault | noticed after s | "
          "recovered in s | MB received to recover | sessions to recover (max) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (fault, mode), samples in by_row.items():
        sums = " / ".join(str(sum(int(s.get(metric, 0)) for s in samples)) for metric in COUNTS)
        attempts = max(int(s["recover_attempts"]) for s in samples)
        print(f"| {fault} | {mode} | {sums} | {_median(samples, 'kept_through_fault', spec='{:.0f}')} | "
              f"{_median(samples, 'detect_s', spec='{:.3f}')} | {_median(samples, 'recover_s')} | "
              f"{_median(samples, 'recover_bytes_down', 1e-6)} | {attempts} |")


if __name__ == "__main__":
    main()
