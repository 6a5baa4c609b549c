"""The report's charts drawn by two or more processes at once.

A full plan's report has dozens of charts, each drawn and saved twice (PNG and SVG) by
matplotlib: most of the report's time, and all of it on one core while the others wait.
Each chart is a function of the results alone, so helper processes (``bench.helpers``) can
each draw a share of the planned charts (``charts.write_charts(share=(k, n))``: every
``n``-th chart from the ``k``-th) from the results file, while this process draws its own
share and the decision chart. The files are the same as drawn in one process: a chart's
file name and contents depend on the results alone.

Each helper prints the files it wrote; a planned chart no helper wrote (a helper failed,
or read the file differently) is drawn here, so a broken chart fails as it would without
helpers and none is missing. Few charts are drawn here alone
(``HELPERS_FROM``): a helper's start (an interpreter, matplotlib, the results file) costs
about a second.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.helpers import start_helper, usable_cores
from bench.report import charts
from bench.report.charts import OwnCharts, planned_charts
from bench.results import Results

HELPERS_FROM = 12  # planned charts from which helpers draw a share


def write_charts(results: Results, results_file: Path | None, out_dir: Path, formats: Sequence[str],
                 own: OwnCharts, helpers: int | None = None) -> list[Path]:
    """``charts.write_charts``, with ``helpers`` processes (one less than the cores by
    default) drawing shares of the planned charts from ``results_file``, the results'
    file; in this process alone when there is no file, one core, or few charts."""
    planned = planned_charts(results, own=own)
    helpers = usable_cores() - 1 if helpers is None else helpers
    if results_file is None or helpers < 1 or len(planned) < HELPERS_FROM:
        return charts.write_charts(results, out_dir, formats, own=own)
    shares = helpers + 1
    started = {share: start_helper("bench.report.chart_workers", results_file, out_dir, share, shares,
                                   ",".join(formats), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for share in range(1, shares)}
    drawn: set[Path] = set()
    try:
        mine = charts.write_charts(results, out_dir, formats, own=own, share=(0, shares))
        drawn.update(mine)
        for share, process in started.items():
            output, errors = process.communicate()
            if process.returncode == 0:
                drawn.update(Path(line) for line in output.decode().splitlines())
            else:
                print(f"chart helper {share} of {shares - 1} failed ({_last_line(errors)}); "
                      f"drawing its charts here", file=sys.stderr)
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    files = [(chart, chart.files(Path(out_dir), formats)) for chart in planned]
    for chart, paths in files:  # a failed helper's share, or one it did not know of
        if not drawn.issuperset(paths):
            drawn.update(charts.draw_chart(chart, results, out_dir, formats))
    planned_files = [path for _, paths in files for path in paths]
    planned_set = set(planned_files)
    return [path for path in mine if path not in planned_set] + planned_files  # the decision chart first


def _last_line(errors: bytes | None) -> str:
    lines = (errors or b"").decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else "no message"


def _draw_share(results_file: str, out_dir: str, share: str, shares: str, formats: str) -> None:
    from bench.report.scenarios import own_charts
    from bench.results import load

    for path in charts.write_charts(load(Path(results_file)), Path(out_dir), formats.split(","), own=own_charts(),
                                    share=(int(share), int(shares)), decision=False):
        print(path)


if __name__ == "__main__":
    _draw_share(*sys.argv[1:6])
