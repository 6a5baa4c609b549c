"""Whether running the cells on relayed links side by side moves their figures.

    python benchmarks/side_by_side.py [--rounds N] [--messages N] [--repeat N] [--link LINK]

Runs bulk-fetch's full download on a relayed link (mobile-4g by default) for every server
and mode, ``--rounds`` times each way, alternating: side by side (a helper process per
server, as a run does, ``bench/side_by_side.py``) and one server at a time
(``--one-server-at-a-time``). Prints, per way, the wall time of the runs, and per cell the
median over its samples and rounds of each figure that could move (the download's time,
the client's and the server's CPU, the client's memory growth), then each figure's
median ratio side by side / one at a time over the cells. Bounded: 2 x ``--rounds`` runs
of 9 cells, on 127.0.0.1 only. ``--json FILE`` keeps the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench import results
from bench.runner import Run, RunConfig

FIGURES = ("elapsed_s", "client_cpu_s", "server_cpu_s", "client_rss_growth_mb")
WAYS = {"side by side": True, "one at a time": False}


def one_run(side_by_side: bool, link: str, messages: int, repeat: int, out: Path) -> tuple[float, results.Results]:
    config = RunConfig(scenarios=["bulk-fetch"], variants=["full"], tls=["off"], links=[link], messages=messages,
                       repeat=repeat, out=out, side_by_side=side_by_side)
    started = time.perf_counter()
    folder = Run(config).execute()
    return time.perf_counter() - started, results.load(folder / "results.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--link", default="mobile-4g")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {way: [] for way in WAYS}
    samples: dict[str, dict[str, list[dict]]] = {way: {} for way in WAYS}
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as out:
        for round_ in range(args.rounds):
            for way, side in WAYS.items():
                wall, found = one_run(side, args.link, args.messages, args.repeat, Path(out))
                failed = [cell.id for cell in found.cells if not cell.ok]
                if failed:
                    raise SystemExit(f"{way}, round {round_ + 1}: cells failed: {', '.join(failed)}")
                walls[way].append(wall)
                for cell in found.cells:
                    samples[way].setdefault(cell.id, []).extend(cell.samples)
                print(f"round {round_ + 1}, {way}: {wall:.1f} s", flush=True)
    medians = {way: {cell: {figure: statistics.median(s[figure] for s in found) for figure in FIGURES}
                     for cell, found in by_cell.items()} for way, by_cell in samples.items()}
    print(f"\n{args.link}, {args.messages} messages, {args.repeat} samples a cell, {args.rounds} rounds a way")
    for way, times in walls.items():
        print(f"  {way}: runs of {', '.join(f'{t:.1f}' for t in times)} s")
    print("\ncell: " + " | ".join(f"{figure} side by side / one at a time" for figure in FIGURES))
    for cell in sorted(medians["side by side"]):
        side, alone = medians["side by side"][cell], medians["one at a time"][cell]
        print(f"  {cell}: " + " | ".join(f"{side[f]:.3f} / {alone[f]:.3f}" for f in FIGURES))
    ratios = {figure: statistics.median(medians["side by side"][cell][figure] / medians["one at a time"][cell][figure]
                                        for cell in medians["side by side"] if medians["one at a time"][cell][figure])
              for figure in FIGURES}
    print("\nmedian ratio over the cells, side by side / one at a time: "
          + ", ".join(f"{figure} {ratio:.3f}" for figure, ratio in ratios.items()))
    if args.json:
        args.json.write_text(json.dumps({"command": "python benchmarks/side_by_side.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "json"),
            "walls_s": walls, "medians": medians, "ratios": ratios}, indent=1) + "\n")


if __name__ == "__main__":
    main()
