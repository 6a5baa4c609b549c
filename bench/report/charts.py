"""Charts of a run, one consistent style, drawn with matplotlib's Agg canvas: what every
chart uses, and the charts any scenario can have.

A chart is a function ``plot_x(results, ax, *, scenario=None, server=None, variant=None)``
that draws on an axes it is given (a chart of several panels: on a sequence of axes); ``write_charts`` makes the figures, saves each as PNG
and SVG and closes them. Nothing here uses pyplot or changes matplotlib's global settings: the
style is applied with ``rc_context`` around each figure, and figures are bound to the
Agg canvas directly, so no window can ever open.

Which charts a report has is declared by ``ChartSpec`` entries, each naming the metrics it
needs: ``CHARTS`` here holds those of every scenario that records the metrics (time, bytes
and round trips per mode, the servers compared, time against round-trip time, sync quality
per round); a scenario's own charts are declared by its report module in
``bench.report.scenarios`` (``ScenarioReport.charts``, drawn with the helpers here), and
``planned_charts`` and ``write_charts`` are given them from that registry (``own``): this
module names no scenario, and imports none of the reports, which use it. The report picks
them all up. A chart is drawn once per server (every
variant of that server), or, with ``per="variant"``, once per variant with the servers side
by side, when the run had more than one server. A run over several links (or a relayed one)
has each bar chart once per link: bars of different links are never drawn as one; the link
is named under the title and in the file name (``<scenario>-dovecot-satellite-time``).

``per="rtt"`` charts belong to the report's Links section: time against the links'
round-trip time, one line per mode (and TLS setting), once per server and variant
(``<scenario>-dovecot-full-rtt``), with the limit of a perfect protocol drawn dashed.

``per="scenario"`` charts are drawn once for a scenario, on the reference link, as the
headline of its section in the report (``<scenario>-<kind>``); the scenarios' reports declare
them. Sync quality round by round (``plot_sync_rounds``, per server) is read by
``bench.report.sync_rounds`` and drawn only for results that record it.

The helpers a scenario's chart uses are here too: the cells of one link and server
(``_choose``, ``_one_link``, ``_one_server``), the samples under the title (``_samples``), bars
of a metric per policy (``_policy_bars``, the policies' shades and hatches given by the
scenario), an axis of shares per round (``_share_axis``) and an empty panel (``_not_recorded``).

Colour is the mode's, always the same; TLS is the fill: solid for TLS off, a lighter
shade with hatching for TLS on (``////``) or STARTTLS (``....``), and the legend says so.
On the lines against round-trip time TLS is the marker: filled circles for TLS off, open
squares for TLS on, open triangles for STARTTLS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import (
    EngFormatter,
    FixedLocator,
    Formatter,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    NullLocator,
)

from bench.report import sync_rounds, units
from bench.report.cells import Grid, scenarios, stat_of, tls_label, unrun_word
from bench.report.decision import write_decision_chart
from bench.report.document import slug
from bench.results import Results

# Okabe & Ito's palette, distinguishable with every common colour-vision deficiency.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
MODE_COLOURS = {"imap": OKABE_ITO[0], "pop3-keep": OKABE_ITO[1], "pop3-delete": OKABE_ITO[2], "jmap": OKABE_ITO[3]}

STYLE: dict[Any, Any] = {  # rcParams, applied with rc_context around each figure
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "legend.frameon": False,
    "hatch.linewidth": 0.8,
    "savefig.dpi": 150,
    "svg.hashsalt": "mailbench",  # stable element ids: the same results give the same SVG
}
FIGSIZE = (7.2, 4.0)  # inches: 1080 × 600 px at 150 dpi, legible when shown 800 px wide
FORMATS = ("png", "svg")
LOG_SCALE_SPAN = 25  # a y range wider than this (largest / smallest bar) is drawn on a log scale
MUTED = "#555555"
SERVER_GAP = 0.6  # blank space between two servers' blocks of bars, in bar-group widths
MODE_GAP = 0.35  # blank space between two modes' bars in a group, in bar widths, when TLS pairs them
MAX_LABELLED_BARS = 30  # above this many bars, value labels would overlap: the tables have the figures
TLS_HATCHES = {"off": "", "on": "////", "starttls": "...."}
LIGHTER = 0.55  # TLS bars are the mode's colour this far towards white


def mode_colour(mode: str, modes: Sequence[str] = ()) -> str:
    """The fixed colour of a mode; modes without one take the palette's next free colours."""
    if mode in MODE_COLOURS:
        return MODE_COLOURS[mode]
    spare = [c for c in OKABE_ITO if c not in MODE_COLOURS.values()]
    others = sorted(m for m in {*modes, mode} if m not in MODE_COLOURS)
    return spare[others.index(mode) % len(spare)]


def lighter(colour: str, share: float = LIGHTER) -> str:
    """The colour moved ``share`` of the way towards white."""
    return to_hex([c + (1 - c) * share for c in to_rgb(colour)])


def tls_fill(colour: str, tls: str) -> dict[str, Any]:
    """Bar styling for one TLS setting: solid when off, lighter and hatched otherwise."""
    if tls == "off":
        return {"facecolor": colour, "edgecolor": colour, "hatch": ""}
    return {"facecolor": lighter(colour), "edgecolor": colour, "hatch": TLS_HATCHES.get(tls, "xx")}


def _choose(results: Results, scenario: str | None) -> Grid:
    names = scenarios(results)
    if not names:
        raise ValueError("the results hold no cells to plot")
    if scenario is None:
        scenario = names[0]
    elif scenario not in names:
        raise ValueError(f"no cells for scenario {scenario!r}; the results have {names}")
    return Grid.of(results, scenario)


def _samples(results: Results, scenario: str | None = None) -> str:
    """``median of 3 samples``: the plan's samples per cell, the scenario's own where each
    scenario took its default (``plan["repeat"]`` a mapping)."""
    repeat = results.plan.get("repeat")
    if isinstance(repeat, dict):
        counts = set(repeat.values())
        repeat = repeat.get(scenario) if scenario in repeat else (counts.pop() if len(counts) == 1 else None)
    if repeat == 1:
        return "one sample" + results.samples_on_links()
    return (f"median of {repeat} samples" if repeat else "median of the samples") + results.samples_on_links()


def _one_link(grid: Grid, link: str | None) -> tuple[Grid, str | None]:
    """The grid of one link (``link``, else the reference link) and the words that name it
    under the title; no words when the run had only the lan link."""
    if link is not None and link not in grid.links:
        raise ValueError(f"no {grid.scenario} cells for link {link!r}; the results have {grid.links}")
    chosen = link if link is not None else grid.reference_link
    named = f"link {grid.link_label(chosen)}" if grid.shows_links else None
    return grid.at(chosen), named


@dataclass(frozen=True)
class _Layout:
    """Where bars go: groups of (server, variant) along x; in a group one slot per
    (mode, TLS), the TLS settings of one mode side by side."""

    grid: Grid
    servers: list[str]
    variants: list[str]
    metric: str

    @property
    def groups(self) -> list[tuple[str, str]]:
        return [(s, v) for s in self.servers for v in self.variants]

    @property
    def centres(self) -> list[float]:
        """Servers side by side, each a block of variants, with a gap between blocks."""
        block = len(self.variants)
        gap = SERVER_GAP if block > 1 else 0.0
        return [i * (block + gap) + j for i in range(len(self.servers)) for j in range(block)]

    @property
    def slots(self) -> list[tuple[str, str]]:
        return [(mode, tls) for mode in self.grid.modes for tls in self.grid.tls]

    @property
    def _gap(self) -> float:
        return MODE_GAP if len(self.grid.tls) > 1 else 0.0

    @property
    def width(self) -> float:
        units_wide = len(self.slots) + self._gap * (len(self.grid.modes) - 1)
        return 0.84 / units_wide

    def offset(self, index: int) -> float:
        """The x offset of slot ``index`` from its group's centre."""
        per_mode = len(self.grid.tls)
        mode_index, tls_index = divmod(index, per_mode)
        units_wide = len(self.slots) + self._gap * (len(self.grid.modes) - 1)
        position = mode_index * (per_mode + self._gap) + tls_index + 0.5
        return (position - units_wide / 2) * self.width

    @property
    def crowded(self) -> bool:
        """Value labels must stand upright to fit above their bars."""
        return len(self.slots) > 3 or len(self.groups) > 4

    def medians(self) -> list[float]:
        return [
            stat.median
            for server, variant in self.groups
            for mode, tls in self.slots
            if (stat := self.grid.stat(server, mode, variant, tls, self.metric)) is not None
        ]


def _draw_bars(ax: Axes, layout: _Layout, formatter: Callable[[float], str]) -> None:
    grid = layout.grid
    labelled = len(layout.slots) * len(layout.groups) <= MAX_LABELLED_BARS
    for index, (mode, tls) in enumerate(layout.slots):
        offset = layout.offset(index)
        xs, ys, low, high, notes = [], [], [], [], []
        for centre, (server, variant) in zip(layout.centres, layout.groups):
            x = centre + offset
            stat = grid.stat(server, mode, variant, tls, layout.metric)
            cell = grid.cell(server, mode, variant, tls)
            if stat is not None:
                xs.append(x)
                ys.append(stat.median)
                low.append(stat.median - stat.min)
                high.append(stat.max - stat.median)
            elif cell is not None:
                notes.append((x, "n/a" if cell.ok else unrun_word(cell)))
        colour = mode_colour(mode, grid.modes)
        if xs:
            bars = ax.bar(
                xs, ys, layout.width * 0.92,
                yerr=[low, high] if any(low) or any(high) else None,  # no caps on a flat line
                linewidth=1.0, **tls_fill(colour, tls),
                error_kw={"ecolor": "#333333", "elinewidth": 0.9, "capsize": 2.0},
            )
            if labelled:
                ax.bar_label(bars, labels=[formatter(y) for y in ys], padding=2, fontsize=7,
                             rotation=90 if layout.crowded else 0, color="#222222")
        for x, note in notes:
            ax.annotate(note, (x, 0), xycoords=("data", "axes fraction"), xytext=(0, 4),
                        textcoords="offset points", rotation=90, ha="center", va="bottom",
                        fontsize=8, color=MUTED, style="italic")


def _x_axis(ax: Axes, layout: _Layout) -> None:
    centres = layout.centres
    many_servers, many_variants = len(layout.servers) > 1, len(layout.variants) > 1
    ticks = [variant for _, variant in layout.groups] if many_variants else [s for s, _ in layout.groups]
    ax.set_xticks(centres, ticks)
    ax.set_xlim(centres[0] - 0.5, centres[-1] + 0.5)
    ax.tick_params(axis="x", length=0)
    if not many_servers or not many_variants:
        ax.set_xlabel("variant" if many_variants else "server")
        return
    block = len(layout.variants)
    for i, name in enumerate(layout.servers):
        first, last = centres[i * block], centres[(i + 1) * block - 1]
        ax.annotate(name, ((first + last) / 2, 0), xycoords=("data", "axes fraction"), xytext=(0, -24),
                    textcoords="offset points", ha="center", va="top", fontweight="bold")
        if i:
            ax.axvline(first - (1 + SERVER_GAP) / 2, color=MUTED, linewidth=0.6, linestyle=":")
    ax.set_xlabel("variant, by server", labelpad=22)  # below the server names


def _y_axis(ax: Axes, layout: _Layout, ylabel: str, tick_format: Formatter | None, integer: bool) -> None:
    """Linear from zero, or log when the bars span too many orders of magnitude to compare."""
    heights = [m for m in layout.medians() if m > 0]
    log = bool(heights) and max(heights) / min(heights) > LOG_SCALE_SPAN
    ax.set_ylabel(ylabel + (" — log scale" if log else ""))
    if log:
        ax.set_yscale("log")  # first: it replaces the axis' formatters
    ax.yaxis.set_major_formatter(tick_format or FuncFormatter(lambda y, _: f"{y:g}"))
    if log:
        bottom, top = ax.get_ylim()
        if top / bottom < 1000:  # few decades: mark 1, 2 and 5 of each so the axis can be read
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10], integer=integer))
        ax.set_ylim(bottom=0)
    # Room above the tallest bar for its value label, more when the labels stand upright.
    room = 0.22 if layout.crowded else 0.15
    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom, top * (top / bottom) ** room if log else top + (top - bottom) * room)


def _titles_and_legend(ax: Axes, layout: _Layout, results: Results, what: str, link: str | None = None) -> None:
    grid, servers = layout.grid, layout.servers
    if len(layout.variants) == 1 and len(grid.variants) > 1:
        where = f"{grid.scenario}, variant {layout.variants[0]}, by server"
    else:
        where = f"{grid.scenario} on {', '.join(servers)}"
    ax.set_title(f"{where}: {what}", loc="left", pad=18)
    note = f"{link}; " if link else ""
    ax.annotate(f"{note}{_samples(results, grid.scenario)}; error bars span min–max", (0, 1), xycoords="axes fraction",
                xytext=(0, 6), textcoords="offset points", fontsize=8.5, color=MUTED)
    handles = [Patch(facecolor=mode_colour(m, grid.modes), edgecolor=mode_colour(m, grid.modes), label=m)
               for m in grid.modes]
    if grid.tls != ["off"]:
        handles += [Patch(label=tls_label(tls), **tls_fill("#777777", tls)) for tls in grid.tls]
    title = f"server: {servers[0]}" if len(servers) == 1 else "mode"
    ax.legend(handles=handles, title=title, loc="upper left", bbox_to_anchor=(1.01, 1.0),
              alignment="left", handlelength=1.6, handleheight=1.1)


def _bars(
    results: Results,
    ax: Axes,
    metric: str,
    *,
    scenario: str | None,
    server: str | None,
    variant: str | None,
    link: str | None,
    what: str,
    ylabel: str,
    formatter: Callable[[float], str],
    tick_format: Formatter | None = None,
    integer: bool = False,
) -> None:
    """Grouped bars: one group per (server, variant), one bar per mode and TLS setting,
    its height the median, its error bar the samples' min..max; the cells of one link
    (``link``, else lan or the link of the shortest round-trip time)."""
    grid, named = _one_link(_choose(results, scenario), link)
    if server is not None and server not in grid.servers:
        raise ValueError(f"no {grid.scenario} cells for server {server!r}; the results have {grid.servers}")
    if variant is not None and variant not in grid.variants:
        raise ValueError(f"no {grid.scenario} cells for variant {variant!r}; the results have {grid.variants}")
    layout = _Layout(
        grid,
        grid.servers if server is None else [server],
        grid.variants if variant is None else [variant],
        metric,
    )
    _draw_bars(ax, layout, formatter)
    _x_axis(ax, layout)
    _y_axis(ax, layout, ylabel, tick_format, integer)
    _titles_and_legend(ax, layout, results, what, named)


def plot_time_per_mode(results: Results, ax: Axes, *, scenario: str | None = None, server: str | None = None,
                       variant: str | None = None, link: str | None = None) -> None:
    """Wall-clock time of each cell (``elapsed_s``), modes and TLS settings side by side."""
    _bars(results, ax, "elapsed_s", scenario=scenario, server=server, variant=variant, link=link,
          what="time per mode", ylabel="time (s)", formatter=units.number)


def plot_bytes_per_mode(results: Results, ax: Axes, *, scenario: str | None = None, server: str | None = None,
                        variant: str | None = None, link: str | None = None) -> None:
    """Bytes received: on the wire (``wire_bytes_down``: TLS records and handshake included)
    when the run counted them, else the protocol's bytes (``bytes_down``)."""
    wire = _choose(results, scenario).has_metric("wire_bytes_down")
    _bars(results, ax, "wire_bytes_down" if wire else "bytes_down", scenario=scenario, server=server,
          variant=variant, link=link, what="bytes received per mode",
          ylabel="bytes received on the wire" if wire else "bytes received",
          formatter=units.byte_size, tick_format=EngFormatter(unit="B", sep=" "))


def plot_round_trips_per_mode(results: Results, ax: Axes, *, scenario: str | None = None, server: str | None = None,
                              variant: str | None = None, link: str | None = None) -> None:
    """Client–server round trips (``round_trips``): each one costs a link's latency."""
    _bars(results, ax, "round_trips", scenario=scenario, server=server, variant=variant, link=link,
          what="round trips per mode", ylabel="round trips (count)", formatter=units.number, integer=True)


# --- Time against round-trip time ------------------------------------------------------

# The time a scenario's lines are drawn from, the first of these it recorded, and its axis label.
TIME_METRICS = {"elapsed_s": "time (s)", "sync_s_per_session": "time per sync session (s)"}
LIMIT = "limit_s"
TLS_MARKERS = {"off": "o", "on": "s", "starttls": "^"}
LIMIT_STYLE = {"linestyle": (0, (5, 3)), "linewidth": 1.3}
LIMIT_COLOUR = "#333333"
SYMLOG_LINTHRESH = 10.0  # ms: below this the rtt axis is linear, so lan's 0 ms has a place
SAME_LIMIT = 0.01  # limits of the modes within 1 % of each other are drawn as one line
AXES_SHARE = 0.68  # the share of the figure's width the axes take beside the legend, for placing tick labels
CHAR_WIDTH = 0.6  # a character's width in the tick labels' font, in font sizes
TICK_GAP = 0.015  # the least space between two tick labels on a row, in axes widths


def time_metric(grid: Grid) -> str | None:
    """The time the scenario recorded, of ``TIME_METRICS``; ``None`` when it has none."""
    return next((metric for metric in TIME_METRICS if grid.has_metric(metric)), None)


def _tick_name(link: str) -> str:
    """A link's name under its tick: a custom link's figures are in its round-trip time and
    in the Links table, so it is just ``custom``."""
    return "custom" if link.startswith("custom(") else link


def _rtt_axis(ax: Axes, grid: Grid, rtts: dict[str, float]) -> None:
    """Round-trip time on a log scale (linear below 10 ms, so 0 ms has a place), a tick
    at each link named by it; labels that would overlap go a row lower."""
    if min(rtts.values()) <= 0:
        ax.set_xscale("symlog", linthresh=SYMLOG_LINTHRESH, linscale=0.6)
    else:
        ax.set_xscale("log")
    positions = sorted(set(rtts.values()))
    names = {rtt: list(dict.fromkeys(_tick_name(link) for link, r in rtts.items() if r == rtt)) for rtt in positions}
    labels = [f"{' / '.join(names[rtt])}\n{rtt:g} ms" for rtt in positions]
    low, high = min(positions), max(positions)
    scale = ax.xaxis.get_transform()
    span = scale.transform([low, high])
    width = (span[1] - span[0]) or 1.0
    margin = 0.08 * width  # on the right, more: the values at the lines' ends are written there
    ax.set_xlim(*scale.inverted().transform([span[0] - margin, span[1] + 2.6 * margin]))
    where = (scale.transform(positions) - span[0] + margin) / (width + 3.6 * margin)
    # Greedy rows: each label takes the first row where it clears the previous label's end.
    axes_points = ax.figure.get_figwidth() * 72 * AXES_SHARE
    font = matplotlib.rcParams["xtick.labelsize"]
    size = font if isinstance(font, (int, float)) else matplotlib.rcParams["font.size"]
    row_ends: list[float] = []
    shown = []
    for x, label in zip(where, labels):
        half = max(map(len, label.split("\n"))) * CHAR_WIDTH * size / axes_points / 2
        row = next((i for i, end in enumerate(row_ends) if end + TICK_GAP <= x - half), len(row_ends))
        if row == len(row_ends):
            row_ends.append(x + half)
        row_ends[row] = x + half
        shown.append("\n\n" * row + label)
    ax.xaxis.set_major_locator(FixedLocator(positions))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, i: shown[i] if i is not None and i < len(shown) else ""))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("round-trip time of the link (ms), log scale" + (" (linear below 10 ms)" if low <= 0 else ""))
    ax.grid(True, axis="x", color="#eeeeee", linewidth=0.6)


def _time_axis(ax: Axes, values: list[float], ylabel: str) -> None:
    positive = [v for v in values if v > 0]
    log = bool(positive) and max(positive) / min(positive) > LOG_SCALE_SPAN
    if log:
        ax.set_yscale("log")
        bottom, top = min(positive) / 1.6, max(positive) * 1.6
        ax.set_ylim(bottom, top)
        if top / bottom < 1000:
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_ylim(0, max(values, default=1.0) * 1.15 or 1.0)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:g}"))
    ax.set_ylabel(ylabel + (", log scale" if log else ""))


SUBTITLE_CHARS = 95  # a longer line under the title runs into the legend at FIGSIZE
END_LABEL_GAP = 12.0  # points between two value labels at the lines' ends


def _label_line_ends(ax: Axes, ends: list[tuple[float, str, str]]) -> None:
    """Each line's value at the longest round trip, written to the right of its end; labels
    that would overlap are pushed apart vertically (the axes' scales must be final)."""
    if not ends:
        return
    ax.figure.draw_without_rendering()  # lay the figure out first: the labels are placed in points
    x_end = max(x for line in ax.get_lines() for x in line.get_xdata())
    to_points = 72.0 / ax.figure.dpi
    placed: list[tuple[float, float, str, str]] = []  # y in points, y data, label, colour
    for y, label, colour in sorted(ends, key=lambda end: end[0]):
        y_points = ax.transData.transform((x_end, y))[1] * to_points
        if placed and y_points - placed[-1][0] < END_LABEL_GAP:
            y_points = placed[-1][0] + END_LABEL_GAP
        placed.append((y_points, y, label, colour))
    top = ax.transAxes.transform((0, 1))[1] * to_points - END_LABEL_GAP / 2
    overshoot = max(0.0, placed[-1][0] - top)  # pushed above the axes: move the stack down
    placed = [(y_points - overshoot, y, label, colour) for y_points, y, label, colour in placed]
    for y_points, y, label, colour in placed:
        natural = ax.transData.transform((x_end, y))[1] * to_points
        ax.annotate(label, (x_end, y), xytext=(9, y_points - natural), textcoords="offset points",
                    va="center", ha="left", fontsize=9, color=colour, annotation_clip=False)


def plot_time_against_rtt(results: Results, ax: Axes, *, scenario: str | None = None, server: str | None = None,
                          variant: str | None = None, link: str | None = None) -> None:
    """Median time of each mode (and TLS setting) on each link, against the link's
    round-trip time; error bars span the samples' min–max, and the limit of a perfect
    protocol (``limit_s``: the same bytes on the same link) is drawn dashed. ``link`` is
    accepted for a uniform signature and ignored: every link is drawn."""
    grid = _choose(results, scenario)
    server = grid.servers[0] if server is None else server
    variant = grid.variants[0] if variant is None else variant
    if server not in grid.servers:
        raise ValueError(f"no {grid.scenario} cells for server {server!r}; the results have {grid.servers}")
    if variant not in grid.variants:
        raise ValueError(f"no {grid.scenario} cells for variant {variant!r}; the results have {grid.variants}")
    metric = time_metric(grid)
    if metric is None:
        raise ValueError(f"the {grid.scenario} cells record no time ({', '.join(TIME_METRICS)})")
    rtts = {name: rtt for name in grid.links if (rtt := grid.rtt_ms(name)) is not None}
    if not rtts:
        raise ValueError(f"the results record no round-trip time for the links {grid.links}")

    drawn: list[float] = []
    ends: list[tuple[float, str, str]] = []  # the value at the longest round trip: y, label, colour
    limits: dict[str, list[tuple[float, float]]] = {}
    for mode in grid.modes:
        colour = mode_colour(mode, grid.modes)
        for tls in grid.tls:
            points = [(rtts[name], stat) for name in rtts
                      if (stat := grid.stat(server, mode, variant, tls, metric, name)) is not None]
            if not points:
                continue
            xs = [x for x, _ in points]
            ys = [stat.median for _, stat in points]
            spread = [[stat.median - stat.min for _, stat in points], [stat.max - stat.median for _, stat in points]]
            open_marker = tls != "off"
            ax.errorbar(xs, ys, yerr=spread if any(map(any, spread)) else None, color=colour, linewidth=1.8,
                        marker=TLS_MARKERS.get(tls, "D"), markersize=6.5, markeredgewidth=1.4,
                        markerfacecolor="white" if open_marker else colour, ecolor=colour, elinewidth=1.0,
                        capsize=2.5, zorder=3)
            drawn += [stat.min for _, stat in points] + [stat.max for _, stat in points]
            if xs[-1] == max(rtts.values()) and tls == grid.reference_tls:
                ends.append((ys[-1], units.seconds(ys[-1]), colour))
            if tls == grid.reference_tls or mode not in limits:
                found = [(rtts[name], stat.median) for name in rtts
                         if (stat := grid.stat(server, mode, variant, tls, LIMIT, name)) is not None]
                if found:
                    limits[mode] = found
    if not drawn:
        raise ValueError(f"no {grid.scenario} cell on {server}, variant {variant}, has a time to draw")

    series = list(limits.values())
    one_limit = bool(series) and all(
        [x for x, _ in s] == [x for x, _ in series[0]]
        and all(abs(y - y0) <= SAME_LIMIT * max(y0, 1e-12) for (_, y), (_, y0) in zip(s, series[0]))
        for s in series
    )
    longest = max(rtts.values())
    if one_limit:
        xs, ys = zip(*series[0])
        ax.plot(xs, ys, color=LIMIT_COLOUR, zorder=2, **LIMIT_STYLE)
        if xs[-1] == longest:
            ends.append((ys[-1], f"limit {units.seconds(ys[-1])}", LIMIT_COLOUR))
    else:
        for mode, points in limits.items():
            xs, ys = zip(*points)
            ax.plot(xs, ys, color=mode_colour(mode, grid.modes), alpha=0.9, zorder=2, **LIMIT_STYLE)
    drawn += [y for points in limits.values() for _, y in points]

    _rtt_axis(ax, grid, rtts)
    _time_axis(ax, drawn, TIME_METRICS[metric])
    ax.grid(True, axis="y")
    notes = [f"variant {variant}" if len(grid.variants) > 1 or variant not in ("", "default") else "",
             f"{_samples(results, grid.scenario)}, error bars min–max",
             "dashed: the limit (a perfect protocol, same bytes)" if limits else ""]
    subtitle = "; ".join(note for note in notes if note)
    if len(subtitle) > SUBTITLE_CHARS:  # two lines rather than into the legend
        first, _, rest = subtitle.rpartition("; ")
        subtitle = f"{first};\n{rest}"
    ax.set_title(f"{grid.scenario} on {server}: time against round-trip time", loc="left",
                 pad=18 + 11 * subtitle.count("\n"))
    ax.annotate(subtitle, (0, 1), xycoords="axes fraction", xytext=(0, 6), textcoords="offset points",
                fontsize=8.5, color=MUTED, va="bottom")
    _label_line_ends(ax, ends)
    handles = [Line2D([], [], color=mode_colour(m, grid.modes), linewidth=1.8, marker="o", markersize=6, label=m)
               for m in grid.modes]
    if grid.tls != ["off"]:
        handles += [Line2D([], [], color="#555555", linestyle="none", marker=TLS_MARKERS.get(tls, "D"),
                           markersize=6.5, markeredgewidth=1.4,
                           markerfacecolor="white" if tls != "off" else "#555555", label=tls_label(tls))
                    for tls in grid.tls]
    if limits:
        handles.append(Line2D([], [], color=LIMIT_COLOUR if one_limit else "#777777", label="limit", **LIMIT_STYLE))
    ax.legend(handles=handles, title=f"server: {server}", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              alignment="left", handlelength=2.4)


# --- Rounds and policies: the device scenarios' charts and their helpers --------------------

VARIANT_LINES = ("-", (0, (5, 3)), ":")  # a scenario's first variant solid, the second dashed, then dotted


def policies_of(grid: Grid, metric: str) -> list[str]:
    """The client policies the metric was recorded for, or ``[""]`` for the whole sample's alone."""
    return grid.policies(metric) or ([""] if grid.has_metric(metric) else [])


def _one_server(results: Results, scenario: str | None, server: str | None, link: str | None) -> tuple[Grid, str, str | None]:
    grid, named = _one_link(_choose(results, scenario), link)
    if server is None:
        server = grid.servers[0]
    elif server not in grid.servers:
        raise ValueError(f"no {grid.scenario} cells for server {server!r}; the results have {grid.servers}")
    return grid, server, named


def _variant_style(grid: Grid, variant: str) -> Any:
    return VARIANT_LINES[min(grid.variants.index(variant), len(VARIANT_LINES) - 1)]


def _share_axis(ax: Axes, rounds: Sequence[int], title: str, lowest: float) -> None:
    ax.set_xticks(list(rounds))
    ax.set_xlabel("round")
    ax.set_ylim(max(0.0, min(lowest, 1.0) - 0.05) if lowest > 0.5 else -0.03, 1.03)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y * 100:.0f}%"))
    ax.set_title(title, loc="left", fontsize=10.5)


def _not_recorded(ax: Axes, what: str) -> None:
    ax.annotate(f"{what}: not recorded in these results", (0.5, 0.5), xycoords="axes fraction", ha="center",
                va="center", fontsize=9, color=MUTED, style="italic")
    ax.set_xticks([])
    ax.set_yticks([])


def plot_sync_rounds(results: Results, axes: Sequence[Axes], *, scenario: str | None = None,
                     server: str | None = None, variant: str | None = None, link: str | None = None) -> None:
    """Sync quality per round on one server, two panels: the share of the changes made on one
    device (and of the new mail) that reached the other devices, and the share of the intended
    messages the devices show; a line per mode in its colour, the first variant solid, the
    others dashed (``bench.report.sync_rounds``)."""
    changes, presence = axes
    grid, server, named = _one_server(results, scenario, server, link)
    tls = grid.reference_tls
    variants = [v for v in grid.variants if variant is None or v == variant]
    rounds: set[int] = set()
    lowest = {"changes": 1.0, "presence": 1.0}
    drawn_variants = []
    for v in variants:
        style = _variant_style(grid, v)
        solid = style == "-"
        for mode in grid.modes:
            cell = grid.cell(server, mode, v, tls)
            colour = mode_colour(mode, grid.modes)
            for name, ax, points in (("changes", changes, sync_rounds.reached(cell)),
                                     ("presence", presence, sync_rounds.present(cell))):
                if not points:
                    continue
                ax.plot([p.round for p in points], [p.median for p in points],
                        color=colour if solid else lighter(colour, 0.45), linestyle=style,
                        linewidth=1.8 if solid else 1.6, marker="o" if solid else None, markersize=3.5,
                        zorder=3 if solid else 4)
                rounds.update(p.round for p in points)
                lowest[name] = min(lowest[name], *(p.low for p in points))
                if v not in drawn_variants:
                    drawn_variants.append(v)
    if not rounds:
        raise ValueError(f"no {grid.scenario} cell on {server} records its changes round by round")
    ordered_rounds = sorted(rounds)
    _share_axis(changes, ordered_rounds, "changes that reached the other devices", lowest["changes"])
    changes.set_ylabel("share (cumulative)")
    if presence.get_lines():
        _share_axis(presence, ordered_rounds, "messages present on the devices", lowest["presence"])
    else:
        _not_recorded(presence, "messages present")
    note = f"{named}; " if named else ""
    changes.figure.suptitle(f"{grid.scenario} on {server}: sync quality per round", x=0.01, ha="left",
                            fontsize=12, fontweight="bold")
    changes.annotate(f"{note}{_samples(results, grid.scenario)}; {tls_label(tls)}; new mail counts as a change", (0, 1),
                     xycoords="axes fraction", xytext=(0, 20), textcoords="offset points", fontsize=8.5, color=MUTED)
    handles = [Line2D([], [], color=mode_colour(m, grid.modes), linewidth=1.8, label=m) for m in grid.modes]
    if len(drawn_variants) > 1:
        handles += [Line2D([], [], color="#555555" if _variant_style(grid, v) == "-" else lighter("#555555", 0.45),
                           linewidth=1.4, linestyle=_variant_style(grid, v), label=v) for v in drawn_variants]
    presence.legend(handles=handles, title=f"server: {server}", loc="upper left", bbox_to_anchor=(1.02, 1.0),
                    alignment="left", handlelength=2.4)


def _policy_bars(results: Results, ax: Axes, prefix: str, *, scenario: str | None, server: str | None,
                 variant: str | None, link: str | None, what: str, ylabel: str,
                 formatter: Callable[[float], str], share: bool,
                 shades: Mapping[str, float], hatches: Mapping[str, str]) -> None:
    """Bars of ``prefix`` per client policy (else of the whole sample's): one group per variant,
    in it one bar per mode and policy the cells recorded; the mode's colour, the policy lighter
    (``shades``: how far towards white, 0.3 for a policy not named there) and hatched
    (``hatches``): the scenario that runs the policies gives both."""
    grid, server, named = _one_server(results, scenario, server, link)
    tls = grid.reference_tls
    policies = policies_of(grid, prefix)
    variants = [v for v in grid.variants if variant is None or v == variant]
    slots = [(m, p) for m in grid.modes for p in policies
             if any(grid.stat(server, m, v, tls, prefix, policy=p or None) is not None for v in variants)]
    if not slots:
        raise ValueError(f"no {grid.scenario} cell on {server} records {prefix}")
    width = 0.84 / len(slots)
    labelled = len(slots) * len(variants) <= MAX_LABELLED_BARS
    heights: list[float] = []
    for index, (mode, policy) in enumerate(slots):
        colour = mode_colour(mode, grid.modes)
        xs, ys = [], []
        for g, v in enumerate(variants):
            stat = grid.stat(server, mode, v, tls, prefix, policy=policy or None)
            if stat is not None:
                xs.append(g + (index + 0.5 - len(slots) / 2) * width)
                ys.append(stat.median)
        if not xs:
            continue
        shade = shades.get(policy, 0.3)
        bars = ax.bar(xs, ys, width * 0.92, facecolor=lighter(colour, shade) if shade else colour,
                      edgecolor=colour, hatch=hatches.get(policy, ""), linewidth=1.0)
        heights += ys
        if labelled:
            named = f" {policy}" if len(policies) > 1 else ""  # a bar of 0 shows no hatch: name it
            ax.bar_label(bars, labels=[formatter(y) + named for y in ys], padding=2, fontsize=7,
                         rotation=90 if len(slots) > 3 else 0, color="#222222")
    ax.set_xticks(range(len(variants)), variants)
    ax.set_xlim(-0.5, len(variants) - 0.5)
    ax.tick_params(axis="x", length=0)
    ax.set_xlabel("variant")
    ax.set_ylabel(ylabel)
    top = max(heights, default=0) or 1.0
    if share:
        top = max(top, 1.0)
    ax.set_ylim(0, top * (1.35 if len(slots) > 3 else 1.15))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: formatter(y)))
    ax.set_title(f"{grid.scenario} on {server}: {what}", loc="left", pad=18)
    note = f"{named}; " if named else ""
    ax.annotate(f"{note}{_samples(results, grid.scenario)}; {tls_label(tls)}", (0, 1), xycoords="axes fraction",
                xytext=(0, 6), textcoords="offset points", fontsize=8.5, color=MUTED)
    handles = [Patch(facecolor=mode_colour(m, grid.modes), edgecolor=mode_colour(m, grid.modes), label=m)
               for m in grid.modes if any(s[0] == m for s in slots)]
    named_policies = [p for p in policies if any(s[1] == p for s in slots)]
    if len(named_policies) > 1 or named_policies != [""]:
        handles += [Patch(facecolor=lighter("#777777", shades.get(p, 0.3)) if shades.get(p, 0.3)
                          else "#777777", edgecolor="#777777", hatch=hatches.get(p, ""),
                          label=p or "most kept")
                    for p in named_policies]
    ax.legend(handles=handles, title=f"server: {server}", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              alignment="left", handlelength=1.6, handleheight=1.1)


PlotFunction = Callable[..., None]


@dataclass(frozen=True)
class ChartSpec:
    """A kind of chart: its file-name part, its function, the metrics it needs, and
    whether it is drawn per server, per variant (servers side by side) or once per scenario.
    Every scenario that records the metrics gets the kinds of ``CHARTS``; a kind of one
    scenario alone is declared by its report (``ScenarioReport.charts``).

    A chart of several panels (``panels``: a number, or a function of the scenario's grid) is
    given a sequence of axes instead of one, side by side in a figure of ``figsize``."""

    kind: str
    plot: PlotFunction
    needs: tuple[str, ...]
    caption: str
    per: str = "server"  # or "variant": drawn only when the run had several servers; "rtt", "scenario": see below
    wants: Callable[[Grid], bool] | None = None  # beyond ``needs``: metrics named by pattern
    panels: int | Callable[[Grid], int] = 1
    figsize: tuple[float, float] | Callable[[int], tuple[float, float]] = FIGSIZE

    @property
    def section(self) -> str:
        """Where the report shows the chart: ``links`` for charts against round-trip time
        (drawn per server and variant when the run had several links or a relayed one),
        ``headline`` for a chart drawn once per scenario (its headline, in the report), else
        the scenario's own section (in the appendix)."""
        return {"rtt": "links", "scenario": "headline"}.get(self.per, "scenario")

    def panel_count(self, grid: Grid) -> int:
        return self.panels(grid) if callable(self.panels) else self.panels

    def size(self, panels: int) -> tuple[float, float]:
        return self.figsize(panels) if callable(self.figsize) else self.figsize


def _has_change_rounds(grid: Grid) -> bool:
    return sync_rounds.has_rounds(grid)


# The charts any scenario gets when it records what they need.
CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("time", plot_time_per_mode, ("elapsed_s",),
              "Time per mode: median wall-clock time of each cell; error bars span the samples' min–max."),
    ChartSpec("bytes", plot_bytes_per_mode, ("bytes_down",),
              "Bytes received per mode, as the TCP connection carried them (TLS records and handshakes "
              "included) where the run counted them."),
    ChartSpec("round-trips", plot_round_trips_per_mode, ("round_trips",),
              "Round trips per mode: each one waits for the link's latency."),
    ChartSpec("servers-time", plot_time_per_mode, ("elapsed_s",),
              "The servers compared: median time of each mode on each server for this variant; "
              "error bars span the samples' min–max.", per="variant"),
    ChartSpec("rtt", plot_time_against_rtt, (),
              "Time against the link's round-trip time, one line per mode: the median of each cell, error "
              "bars spanning the samples' min–max; dashed, the limit: the time a perfect protocol would need "
              "on each link for the same bytes (lan has none).", per="rtt"),
    ChartSpec("sync", plot_sync_rounds, (),
              "Sync quality per round: left, the share of the changes made on one device so far (new mail "
              "included) that reached the other devices; right, the share of the intended messages the "
              "devices show; a line per mode, the first variant solid, the others dashed.",
              wants=_has_change_rounds, panels=2, figsize=(9.6, 4.0)),
)


@dataclass(frozen=True)
class PlannedChart:
    """One chart of one scenario, for one server or one variant, and where it is written."""

    scenario: str
    spec: ChartSpec
    server: str | None = None
    variant: str | None = None
    link: str | None = None  # for a run with the lan link only, None: file names without a link

    @property
    def stem(self) -> str:
        """``charts/`` and the chart's scenario, server, variant and link (those it is drawn
        for), and kind: ``charts/<scenario>-dovecot-satellite-time``."""
        parts = [self.scenario, self.server, self.variant, self.link, self.spec.kind]
        return "charts/" + "-".join(slug(part) for part in parts if part is not None)

    def files(self, out_dir: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
        return [out_dir / f"{self.stem}.{fmt}" for fmt in formats]

    def draw(self, results: Results, ax: Axes | Sequence[Axes]) -> None:
        self.spec.plot(results, ax, scenario=self.scenario, server=self.server, variant=self.variant,
                       link=self.link)

    def panels(self, results: Results) -> int:
        return self.spec.panel_count(Grid.of(results, self.scenario))


# Each scenario's own kinds of chart, by its name: those its report declares
# (``bench.report.scenarios.own_charts()``).
OwnCharts = Mapping[str, Sequence[ChartSpec]]


def planned_charts(results: Results, scenario: str | None = None, *, own: OwnCharts) -> list[PlannedChart]:
    """Every chart the results call for, in report order: for each scenario the kinds of
    every scenario (``CHARTS``), then its own (``own``)."""
    planned = []
    for name in scenarios(results) if scenario is None else [scenario]:
        grid = Grid.of(results, name)
        links: list[tuple[str | None, Grid]] = grid.per_link() if grid.shows_links else [(None, grid)]
        for spec in (*CHARTS, *own.get(name, ())):
            if not all(grid.has_metric(metric) for metric in spec.needs):
                continue
            if spec.wants is not None and not spec.wants(grid):
                continue
            if spec.per == "scenario":
                planned.append(PlannedChart(name, spec))
            elif spec.per == "rtt":
                timed = time_metric(grid)
                if grid.shows_links and timed is not None:
                    planned += [PlannedChart(name, spec, server=server, variant=variant)
                                for server in grid.servers for variant in grid.variants
                                if any((c.server, c.variant) == (server, variant) and stat_of(c, timed) is not None
                                       for c in grid.cells.values())]
            elif spec.per == "variant":
                if len(grid.servers) > 1:
                    planned += [PlannedChart(name, spec, variant=variant, link=link)
                                for variant in grid.variants for link, mine in links if variant in mine.variants]
            else:
                planned += [PlannedChart(name, spec, server=server, link=link)
                            for server in grid.servers for link, mine in links if server in mine.servers]
    return planned


def write_charts(results: Results, out_dir: Path, formats: Sequence[str] = FORMATS, *,
                 own: OwnCharts, share: tuple[int, int] = (0, 1), decision: bool = True) -> list[Path]:
    """Draw the decision chart and every planned chart (each scenario's ``own`` among them)
    and save each in each of ``formats`` (PNG and SVG unless told) under ``out_dir/charts/``;
    returns the files written. The HTML report embeds the SVGs.

    ``share=(k, n)`` draws only the planned charts whose place in the plan is ``k`` modulo
    ``n`` (and the decision chart only if ``decision``): how ``bench.report.chart_workers``
    splits the charts between processes."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown chart format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    written = write_decision_chart(results, out_dir, formats) if decision else []
    mine, shares = share
    for place, chart in enumerate(planned_charts(results, own=own)):
        if place % shares == mine:
            written.extend(draw_chart(chart, results, out_dir, formats))
    return written


def draw_chart(chart: PlannedChart, results: Results, out_dir: Path, formats: Sequence[str] = FORMATS) -> list[Path]:
    """One planned chart, saved in each of ``formats``; returns its files."""
    paths = chart.files(Path(out_dir), formats)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context(STYLE):
        panels = chart.panels(results)
        figure = Figure(figsize=chart.spec.size(panels), layout="constrained")
        FigureCanvasAgg(figure)
        if chart.spec.panels == 1:
            chart.draw(results, figure.add_subplot())
        else:  # a chart of panels gets a sequence of axes, also when it has one panel here
            chart.draw(results, list(figure.subplots(1, panels, squeeze=False)[0]))
        for path in paths:
            # No creation date in the files: the same results give the same charts.
            metadata = {"Date": None} if path.suffix == ".svg" else {"Software": None}
            figure.savefig(path, format=path.suffix[1:], metadata=metadata)
        figure.clear()
    return paths
