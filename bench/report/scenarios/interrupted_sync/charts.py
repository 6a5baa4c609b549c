"""interrupted-sync's own chart: the bytes each fault cost to recover from, one dot per sample.

The samples of a cell strike at different seeded points on purpose (``bench.report.fault_points``),
so the chart draws each sample at its own point, and no median.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import EngFormatter

from bench.report import fault_points
from bench.report.cells import tls_label
from bench.report.charts import MUTED, ChartSpec, _choose, _one_link, mode_colour
from bench.results import Results

SERVER_MARKERS = ("o", "s", "^", "D", "v", "P")
RECOVERY = "recover_bytes_down"


def plot_recovery_points(results: Results, ax: Axes, *, scenario: str | None = None, server: str | None = None,
                         variant: str | None = None, link: str | None = None) -> None:
    """interrupted-sync: the bytes each device received to recover, one dot per sample, at its
    own fault point (``bench.report.fault_points``): the samples strike at different points
    on purpose, so no median is drawn. Faults along x, their points within; modes side by side
    in their colours, servers by marker."""
    grid, named = _one_link(_choose(results, scenario), link)
    tls = grid.reference_tls
    faults = [v for v in grid.variants if variant is None or v == variant]
    servers = [s for s in grid.servers if server is None or s == server]
    ticks, labels, centres = [], [], []
    x = 0.0
    values: list[float] = []
    width = 0.8 / max(1, len(grid.modes))
    for fault in faults:
        points = fault_points.point_labels(grid, fault)
        first = x
        for index, label in enumerate(points):
            ticks.append(x)
            labels.append(label)
            for m, mode in enumerate(grid.modes):
                offset = (m + 0.5 - len(grid.modes) / 2) * width
                for s, name in enumerate(servers):
                    cell = grid.cell(name, mode, fault, tls)
                    if cell is None or not cell.ok or index >= len(cell.samples):
                        continue
                    value = cell.samples[index].get(RECOVERY)
                    if value is None:
                        continue
                    spread = (s - (len(servers) - 1) / 2) * width * 0.3
                    marker = SERVER_MARKERS[s % len(SERVER_MARKERS)]
                    ax.plot([x + offset + spread], [value], linestyle="none", marker=marker, markersize=5,
                            markerfacecolor=mode_colour(mode, grid.modes), markeredgecolor="white",
                            markeredgewidth=0.5, zorder=3)
                    values.append(value)
            x += 1
        centres.append(((first + x - 1) / 2, fault))
        if fault != faults[-1]:
            ax.axvline(x - 0.5 + 0.25, color=MUTED, linewidth=0.6, linestyle=":")
        x += 0.5
    if not values:
        raise ValueError(f"no {grid.scenario} cell records {RECOVERY}")
    ax.set_xticks(ticks, labels, rotation=90, fontsize=7.5)
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(-0.6, x - 0.9)
    for centre, fault in centres:
        ax.annotate(fault, (centre, 1), xycoords=("data", "axes fraction"), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8.5, fontweight="bold")
    ax.set_ylim(0, max(values) * 1.1 or 1.0)
    ax.yaxis.set_major_formatter(EngFormatter(unit="B", sep=" "))
    ax.set_ylabel("received to recover")
    ax.set_xlabel("fault point of each sample (the same on every server and mode)")
    ax.set_title(f"{grid.scenario}: bytes received to recover, at each fault point", loc="left", pad=30)
    note = f"{named}; " if named else ""
    ax.annotate(f"{note}each dot one sample; {tls_label(tls)}", (0, 1), xycoords="axes fraction",
                xytext=(0, 16), textcoords="offset points", fontsize=8.5, color=MUTED)
    handles = [Patch(facecolor=mode_colour(m, grid.modes), label=m) for m in grid.modes]
    handles += [Line2D([], [], linestyle="none", marker=SERVER_MARKERS[i % len(SERVER_MARKERS)], color="#555555",
                       label=name) for i, name in enumerate(servers)]
    ax.legend(handles=handles, title="mode, server", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              alignment="left", handlelength=1.6)


CHARTS = (
    ChartSpec("recovery-points", plot_recovery_points, (RECOVERY,),
              "Bytes received to recover from each fault, one dot per sample at its own seeded fault point "
              "(the same points on every server and mode); the mode's colour, the server's marker.",
              per="scenario", figsize=(9.6, 4.8)),
)
