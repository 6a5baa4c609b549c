"""Tables of metrics: one row per variant, link, mode and TLS setting, median and range per metric.

The link column is there when the grid has several links or a relayed one.

A figure that every sample of a cell had (round trips, a device scenario's outcome) is shown
once with the number of samples (``7 (all 3 samples)``, ``figure``), never as a range of
equal values.

A scenario's section picks the metrics it shows as a list of metric names or ``Column``s
(a figure of a client policy is a column of its own, ``policy_column``); the unit of every
column is in its header, and byte columns choose the unit that fits their values.
``interval_table`` adds each median's confidence interval for the metrics where the
noise of the repeats matters most.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.report import units
from bench.report.cells import Grid, Stat, cell_anchor, stat_of, unrun_word
from bench.report.document import Anchor, Same, Spread, Strong, Table, Text, text
from bench.report.stats import MIN_SAMPLES, median_interval
from bench.results import CellResult


@dataclass(frozen=True)
class Column:
    """One metric shown as a column: ``header`` carries the unit; byte columns say so. With
    ``policy``, the metric's figures of that client policy."""

    metric: str
    header: str
    is_bytes: bool = False
    policy: str | None = None


# The metrics the access layer and the scenarios record, with their headers.
KNOWN = {
    column.metric: column
    for column in (
        Column("messages", "messages"),
        Column("elapsed_s", "time (s)"),
        Column("messages_per_s", "messages/s"),
        Column("mb_per_s", "MB/s"),
        Column("round_trips", "round trips"),
        Column("bytes_down", "received", is_bytes=True),
        Column("bytes_up", "sent", is_bytes=True),
        Column("wire_bytes_down", "received on the wire", is_bytes=True),
        Column("wire_bytes_up", "sent on the wire", is_bytes=True),
        Column("connections", "connections"),
        Column("client_cpu_s", "client CPU (s)"),
        Column("server_cpu_s", "server CPU (s)"),
        Column("client_peak_rss_mb", "client peak RSS (MB)"),
        Column("client_rss_growth_mb", "client RSS growth (MB)"),
        Column("server_mem_mb", "server memory (MB)"),
        Column("server_mem_delta_mb", "server memory change (MB)"),
        Column("server_disk_bytes", "server disk before", is_bytes=True),
        Column("server_disk_after_bytes", "server disk after", is_bytes=True),
        Column("limit_s", "limit (s)"),
        Column("efficiency", "efficiency"),
        Column("sync_bytes_down_per_session", "received per sync session", is_bytes=True),
        Column("sync_overhead_bytes_down_per_session", "overhead received per sync session", is_bytes=True),
        Column("server_store_bytes", "server store", is_bytes=True),
        Column("recover_bytes_down", "received to recover", is_bytes=True),
        Column("recover_bytes_up", "sent to recover", is_bytes=True),
        Column("first_bytes_down", "received before the fault", is_bytes=True),
        Column("detect_s", "noticed after (s)"),
        Column("recover_s", "recovered in (s)"),
    )
}


def figure(stat: Stat, fmt: Callable[[float], str] = units.number) -> Same | Spread:
    """A cell's figure: the value with the number of samples when every sample had it, else
    the median with the samples' range."""
    if stat.n > 1 and stat.min == stat.max:
        return Same(fmt(stat.median), stat.n)
    return Spread(fmt(stat.median), fmt(stat.min), fmt(stat.max))


def column_for(metric: str) -> Column:
    """The column of a known metric, or one read from the metric's name and unit suffix."""
    if metric in KNOWN:
        return KNOWN[metric]
    if metric.endswith("_bytes") or metric.startswith("bytes_"):
        return Column(metric, metric.replace("_", " "), is_bytes=True)
    for suffix, unit in (("_per_s", "/s"), ("_ms", " (ms)"), ("_s", " (s)"), ("_mb", " (MB)")):
        if metric.endswith(suffix):
            return Column(metric, metric[: -len(suffix)].replace("_", " ") + unit)
    return Column(metric, metric.replace("_", " "))


def policy_column(metric: str, policy: str) -> Column:
    """The column of one client policy's figures of a metric: headed by the metric's and
    the policy's words (``ready s full``, ``latency ms poll 1s``); a byte count (a name
    that starts with ``bytes_``) says its unit."""
    return Column(metric, f"{metric} {policy}".replace("_", " "), metric.startswith("bytes_"), policy)


def metric_table(
    grid: Grid, server: str, metrics: Sequence[str | Column], caption: str = "", *, anchors: bool = False
) -> Table:
    """Rows of (variant, link, mode, TLS), one column per metric, each cell median (min–max),
    or the value every sample had (``figure``).

    With ``anchors`` each row is the place the cell's links lead to (``cell_anchor``):
    give it to one table per cell only.
    """
    columns = [m if isinstance(m, Column) else column_for(m) for m in metrics]
    formats: list[Callable[[float], str]] = []
    keys = key_headers(grid)
    headers = list(keys)
    for column in columns:
        if column.is_bytes:
            values = [
                stat.max
                for cell in grid.in_order(server)
                if (stat := stat_of(cell, column.metric, column.policy)) is not None
            ]
            unit = units.byte_unit(values)
            formats.append(unit)
            headers.append(f"{column.header} ({unit.symbol})")
        else:
            formats.append(units.number)
            headers.append(column.header)

    rows: list[tuple[Text, ...]] = []
    for cell in grid.in_order(server):
        row: list[Text] = key_cells(grid, cell)
        if anchors:
            row[0] = text(Anchor(cell_anchor(cell.id)), *row[0])
        for i, (column, fmt) in enumerate(zip(columns, formats)):
            if not cell.ok:
                row.append(text(Strong(unrun_word(cell))) if i == 0 else text("—"))
                continue
            stat = stat_of(cell, column.metric, column.policy)
            if stat is None:
                row.append(text("n/a"))
            else:
                row.append(text(figure(stat, fmt)))
        rows.append(tuple(row))
    return Table(
        headers=tuple(headers),
        rows=tuple(rows),
        numeric=(*([False] * len(keys)), *([True] * len(columns))),
        caption=caption,
    )


def key_headers(grid: Grid) -> tuple[str, ...]:
    """The columns that say which cell a row is: variant, link (when it is a dimension),
    mode, TLS."""
    return ("variant", "link", "mode", "TLS") if grid.shows_links else ("variant", "mode", "TLS")


def key_cells(grid: Grid, cell: CellResult) -> list[Text]:
    """A row's first cells, as ``key_headers`` names them."""
    link = [text(cell.link)] if grid.shows_links else []
    return [text(cell.variant), *link, text(cell.mode), text(cell.tls)]


def interval_text(values: Sequence[float], fmt: Callable[[float], str] = units.number) -> str:
    """A median's confidence interval as a table shows it: ``0.301–0.334``; with too few
    samples for 95 %, min–max and the confidence it has (``0.301–0.334 (75% only)``);
    below three samples, ``n<3``."""
    interval = median_interval(values)
    if interval is None:
        return f"n<{MIN_SAMPLES}"
    span = f"{fmt(interval.low)}–{fmt(interval.high)}"
    return span if interval.reaches else f"{span} ({interval.confidence * 100:.3g}% only)"


def interval_table(grid: Grid, server: str, metric: str, caption: str = "") -> Table:
    """One metric in detail: samples, median, range and the median's 95 % interval."""
    column = column_for(metric)
    keys = key_headers(grid)
    rows: list[tuple[Text, ...]] = []
    for cell in grid.in_order(server):
        stat = stat_of(cell, metric)
        if stat is None:
            shown = (text(Strong(unrun_word(cell))) if not cell.ok else text("n/a"), *(text("—"),) * 3)
        else:
            shown = (
                text(str(stat.n)),
                text(units.number(stat.median)),
                text(f"{units.number(stat.min)}–{units.number(stat.max)}" if stat.min != stat.max
                     else f"all {stat.n} the same"),
                text(interval_text(stat.values)),
            )
        rows.append((*key_cells(grid, cell), *shown))
    return Table(
        headers=(*keys, "samples", f"median {column.header}", "min–max", "95% interval of the median"),
        rows=tuple(rows),
        numeric=(*([False] * len(keys)), True, True, True, True),
        caption=caption,
    )
