"""Run-to-run noise as `mailbench compare` sees it, to choose its default ``--threshold``.

    python benchmarks/compare_noise.py RUN1/results.json RUN2/results.json [...]

Give runs of the same code and plan on one machine. Every pair is compared with threshold 0,
so a noisy figure counts as soon as the corrected tests find it beyond the noise of its
samples; what is printed is how far apart its medians were (the larger of new/old and
old/new, less 1, in percent: the size ``--threshold`` is compared with). A threshold above
the largest of these keeps unchanged code from being flagged on that machine. Exact figures
that changed are counted too: for unchanged code there should be none.

Every number comes from the results files given; nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from bench.compare import change_size_pct, compare_runs, memory_kind
from bench.results import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path)
    args = parser.parse_args()
    runs = [load(path) for path in args.results]
    largest: dict[str, list[float]] = {"other": [], "memory": []}
    print("| old run | new run | noisy figures judged | beyond the noise | largest change of a time, rate or other "
          "non-memory figure, % | where | largest memory change, % | exact figures changed |")
    print("|---|---|---:|---:|---:|---|---:|---:|")
    for old, new in itertools.combinations(runs, 2):
        comparison = compare_runs(old, new, threshold_pct=0)
        beyond = [c for c in comparison.changes if c.significant and not c.exact]
        row = {}
        for kind in largest:
            sizes = sorted((change_size_pct(c.old_median, c.new_median), c.cell_id, c.metric) for c in beyond
                           if memory_kind(c.metric) == (kind == "memory"))
            row[kind] = sizes[-1] if sizes else (0.0, "—", "")
            largest[kind].append(row[kind][0])
        exact = sum(1 for c in comparison.changes if c.significant and c.exact)
        size, cell, metric = row["other"]
        print(f"| {old.run_id} | {new.run_id} | {comparison.noisy_judged} | {len(beyond)} | {size:.0f} "
              f"| {cell} {metric} | {row['memory'][0]:.0f} | {exact} |")
    if largest["other"]:
        print(f"\n{len(largest['other'])} pairs; largest non-memory change beyond the noise: "
              f"{max(largest['other']):.0f} %; largest memory change: {max(largest['memory']):.0f} %")

if __name__ == "__main__":
    main()
