"""Tables of metrics: one row per variant and mode, median and range per metric.

A scenario's section picks the metrics it shows as a list of ``Column``s; the unit of
every column is in its header, and byte columns choose the unit that fits their values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.report import units
from bench.report.cells import Grid
from bench.report.document import Spread, Strong, Table, Text, text


@dataclass(frozen=True)
class Column:
    """One metric shown as a column: ``header`` carries the unit; byte columns say so."""

    metric: str
    header: str
    is_bytes: bool = False


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
        Column("client_cpu_s", "client CPU (s)"),
        Column("server_cpu_s", "server CPU (s)"),
        Column("client_peak_rss_mb", "client peak RSS (MB)"),
        Column("server_mem_mb", "server memory (MB)"),
        Column("server_disk_bytes", "server disk", is_bytes=True),
    )
}


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


def metric_table(grid: Grid, server: str, metrics: Sequence[str], caption: str = "") -> Table:
    """Rows of (variant, mode), one column per metric, each cell median (min–max)."""
    columns = [column_for(m) for m in metrics]
    formats: list[Callable[[float], str]] = []
    headers = ["variant", "mode"]
    for column in columns:
        if column.is_bytes:
            values = [
                stat.max
                for mode in grid.modes
                for variant in grid.variants
                if (stat := grid.stat(server, mode, variant, column.metric)) is not None
            ]
            unit = units.byte_unit(values)
            formats.append(unit)
            headers.append(f"{column.header} ({unit.symbol})")
        else:
            formats.append(units.number)
            headers.append(column.header)

    rows: list[tuple[Text, ...]] = []
    for variant in grid.variants:
        for mode in grid.modes:
            cell = grid.cell(server, mode, variant)
            if cell is None:
                continue
            row: list[Text] = [text(variant), text(mode)]
            for i, (column, fmt) in enumerate(zip(columns, formats)):
                if not cell.ok:
                    row.append(text(Strong("failed")) if i == 0 else text("—"))
                    continue
                stat = grid.stat(server, mode, variant, column.metric)
                if stat is None:
                    row.append(text("n/a"))
                else:
                    row.append(text(Spread(fmt(stat.median), fmt(stat.min), fmt(stat.max))))
            rows.append(tuple(row))
    return Table(
        headers=tuple(headers),
        rows=tuple(rows),
        numeric=(False, False, *([True] * len(columns))),
        caption=caption,
    )
