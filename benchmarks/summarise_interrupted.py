"""Print the README's interrupted-sync table from a run's results.

    python benchmarks/summarise_interrupted.py reports/<run-id>/results.json

One row per fault, fault point and mode. The samples of an interrupted-sync cell are not
repeats: each strikes at its own seeded point (the same point on every server and mode in
the same sample), so the table never takes a median across points. Within a row the
servers are the repeats: messages lost, duplicated and left partial are summed over them,
what the device kept through the fault is their range, the times and bytes their median,
the sessions to recover their maximum. Every number comes from the results file; nothing
is typed in by hand.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path

from bench.report.fault_points import point_label
from bench.results import load

COUNTS = ("messages_lost", "messages_duplicated", "messages_partial")


def _median(samples: list[dict], metric: str, scale: float = 1.0, spec: str = "{:.2f}") -> str:
    values = [sample[metric] * scale for sample in samples if metric in sample]
    return spec.format(statistics.median(values)) if values else "n/a"


def _range(samples: list[dict], metric: str) -> str:
    values = sorted(int(sample[metric]) for sample in samples if metric in sample)
    if not values:
        return "n/a"
    return str(values[0]) if values[0] == values[-1] else f"{values[0]}–{values[-1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    args = parser.parse_args()
    results = load(args.results)
    cells = [cell for cell in results.cells if cell.scenario == "interrupted-sync"]
    failed = [cell.id for cell in cells if not cell.ok]
    servers = list(dict.fromkeys(cell.server for cell in cells))
    by_row: dict[tuple[str, int, str], list[dict]] = defaultdict(list)
    labels: dict[tuple[str, int], str] = {}
    for cell in cells:
        if not cell.ok:
            continue
        for index, sample in enumerate(cell.samples):
            info = cell.sample_info[index] if index < len(cell.sample_info) else None
            labels.setdefault((cell.variant, index), point_label(cell.variant, info) or f"sample {index + 1}")
            by_row[(cell.variant, index, cell.mode)].append(sample)
    print(f"`{results.command}` (run {results.run_id}, {results.plan.get('messages')} messages, "
          f"{results.samples_per_cell()}, each at its own seeded point; servers: {', '.join(servers)}; "
          f"failed cells: {', '.join(failed) or 'none'})\n")
    print("| fault | point | mode | lost / duplicated / partial (sum) | kept through the fault | noticed after s | "
          "recovered in s | MB received to recover | sessions to recover (max) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for (fault, index, mode), samples in sorted(by_row.items()):
        sums = " / ".join(str(sum(int(s.get(metric, 0)) for s in samples)) for metric in COUNTS)
        attempts = max(int(s["recover_attempts"]) for s in samples)
        print(f"| {fault} | {labels[(fault, index)]} | {mode} | {sums} | {_range(samples, 'kept_through_fault')} | "
              f"{_median(samples, 'detect_s', spec='{:.3f}')} | {_median(samples, 'recover_s')} | "
              f"{_median(samples, 'recover_bytes_down', 1e-6)} | {attempts} |")


if __name__ == "__main__":
    main()
