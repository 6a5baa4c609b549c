"""interrupted-sync: what each fault cost each mode on each server, and the recovery.

The samples of a cell strike at different seeded points on purpose (``bench.report.fault_points``),
so every figure here is given point by point: a median over the samples would mix a cut after
the listing with one before QUIT. Its chart is in ``charts`` beside this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.report import units
from bench.report.cells import Grid, cell_anchor
from bench.report.document import Anchor, Block, Paragraph, Section, Strong, Table, Text, text
from bench.report.fault_points import point_labels
from bench.report.scenarios.base import ScenarioReport, chart_blocks, detail_title
from bench.report.scenarios.interrupted_sync.charts import CHARTS
from bench.report.tables import column_for
from bench.results import CellResult, Results

NAME = "interrupted-sync"
COUNTS = ("messages_lost", "messages_duplicated", "messages_partial")
WHERE = ("kept_through_fault", "left_on_server", "whole_on_device", "refetched")
RECOVERY = ("detect_s", "recover_s", "recover_attempts", "recover_refused", "first_bytes_down", "recover_bytes_down",
            "recover_bytes_up", "recover_round_trips", "server_restart_s")
FAULTS_SAID = {
    "cut-mid-message": "the link cut in the middle of a message",
    "cut-between-commands": "the link cut between two commands (after the listing, after the last message, "
                            "or before QUIT / LOGOUT, in turn)",
    "server-killed": "the server killed (docker kill) in the middle of a message, then started again",
    "server-paused": "the server frozen (docker pause) in the middle of a message until the device's read "
                     "timeout, then thawed",
}
HEADERS = {"kept_through_fault": "kept through the fault", "recover_attempts": "sessions to recover",
           "recover_refused": "refused in recovery", "refetched": "fetched again"}


def _totals(grid: Grid, server: str, mode: str, fault: str, link: str) -> str:
    """``lost / duplicated / partial`` summed over the cell's samples, or why there are none."""
    cell = grid.cell(server, mode, fault, grid.reference_tls, link)
    if cell is None:
        return "—"
    if not cell.ok:
        return "failed"
    sums = [sum(int(sample.get(metric, 0)) for sample in cell.samples) for metric in COUNTS]
    return " / ".join(str(value) for value in sums)


def _loss_table(grid: Grid, link: str) -> Table:
    rows: list[tuple[Text, ...]] = []
    for fault in grid.variants:
        for mode in grid.modes:
            rows.append((text(fault), text(mode), *(text(_totals(grid, s, mode, fault, link)) for s in grid.servers)))
    where = f", link {grid.link_label(link)}" if grid.shows_links else ""
    return Table(
        headers=("fault", "mode", *grid.servers),
        rows=tuple(rows),
        numeric=(False, False, *(True for _ in grid.servers)),
        caption=f"Messages lost / duplicated / partial after recovery, summed over the samples{where}",
    )


def _value(cell: CellResult | None, index: int, metric: str, fmt: Callable[[float], str]) -> str:
    if cell is None:
        return "—"
    if not cell.ok:
        return "failed"
    if index >= len(cell.samples) or metric not in cell.samples[index]:
        return "n/a"
    return fmt(cell.samples[index][metric])


def _formats(grid: Grid, server: str, metrics: list[str]) -> tuple[list[str], list[Callable[[float], str]]]:
    headers, formats = [], []
    for metric in metrics:
        column = column_for(metric)
        header = HEADERS.get(metric, column.header)
        if column.is_bytes:
            unit = units.byte_unit(s[metric] for c in grid.in_order(server) for s in c.samples if metric in s)
            headers.append(f"{header} ({unit.symbol})")
            formats.append(unit)
        else:
            headers.append(header)
            formats.append(units.number)
    return headers, formats


def points_table(grid: Grid, server: str, link: str, metrics: list[str], caption: str, *,
                 anchors: bool = False, totals: bool = False) -> Table:
    """One row per fault, point and mode: each sample at its own fault point, never a median.
    ``totals`` adds the sample's lost / duplicated / partial; ``anchors`` makes each cell's
    first row the place its links lead to."""
    tls = grid.reference_tls
    headers, formats = _formats(grid, server, metrics)
    rows: list[tuple[Text, ...]] = []
    for fault in grid.variants:
        for index, point in enumerate(point_labels(grid, fault)):
            for mode in grid.modes:
                cell = grid.cell(server, mode, fault, tls, link)
                first: Any = text(fault)
                if anchors and index == 0 and cell is not None:
                    first = text(Anchor(cell_anchor(cell.id)), fault)
                row: list[Text] = [first, text(point), text(mode)]
                if totals:
                    row.append(text(" / ".join(_value(cell, index, m, lambda v: str(int(v))) for m in COUNTS)))
                row += [text(_value(cell, index, m, fmt)) for m, fmt in zip(metrics, formats)]
                rows.append(tuple(row))
    keys = ("fault", "point", "mode")
    extra = ("lost / duplicated / partial",) if totals else ()
    return Table((*keys, *extra, *headers), tuple(rows), (False, False, False, *([True] * (len(extra) + len(metrics)))),
                 caption=caption)


def section(results: Results, grid: Grid) -> Section:
    faults = "; ".join(f"{name}: {FAULTS_SAID.get(name, name)}" for name in grid.variants)
    result = Section(detail_title(NAME), [
        Paragraph(text(
            "A device downloads its whole mailbox (in pop3-delete it deletes what it downloaded) and a fault "
            f"strikes at a seeded point ({faults}). Once the device noticed, the fault is undone and the device "
            "syncs again until a sync succeeds, resuming: what it holds whole is not fetched again. Then the "
            "server's mailbox (read directly) and the device's store are compared with what was delivered. ",
            Strong("Lost"), ": on neither side; ", Strong("duplicated"), ": extra copies on the device; ",
            Strong("partial"), ": files on the device that are not a whole delivered message. Kept through "
            "the fault: whole on the device before recovery (the client hands messages over a batch at a time, "
            "so a fault loses the batch in flight). Noticed after: from the fault to the device's error; "
            "recovered in: from the fault undone to the device done.",
        )),
        Paragraph(text(
            "Each sample of a cell strikes at its own point, the same point on every server and mode, so the "
            "tables give every sample on its own row, named by its point (the message cut in the middle, or "
            "where between commands), and no median."
        )),
        *(_loss_table(grid, link) for link in grid.links),
    ])
    recorded = grid.metric_names()
    where = [m for m in WHERE if m in recorded]
    recovery = [m for m in RECOVERY if m in recorded]
    others = sorted(recorded - set(COUNTS) - set(where) - set(recovery))
    for server in grid.servers:
        blocks: list[Block] = []
        for link in grid.links:
            on_link = f", link {grid.link_label(link)}" if grid.shows_links else ""
            blocks.append(points_table(grid, server, link, where, anchors=True, totals=True,
                                       caption=f"What is where after recovery, in messages, point by point{on_link}"))
            if recovery or others:
                blocks.append(points_table(grid, server, link, recovery + others,
                                           caption=f"Noticing the fault and recovering, point by point{on_link}"))
        result.children.append(Section(f"{NAME} on {server}",
                                       [*blocks, *chart_blocks(results, NAME, server, own=CHARTS)]))
    return result


def _kept_table(grid: Grid) -> Table | None:
    """Per fault point, the messages each mode kept through the fault: one figure where every
    server kept the same, else the lowest–highest over the servers."""
    tls = grid.reference_tls
    rows: list[tuple[Text, ...]] = []
    for fault in grid.variants:
        for index, point in enumerate(point_labels(grid, fault)):
            row: list[Text] = [text(fault), text(point)]
            for mode in grid.modes:
                values = [c.samples[index]["kept_through_fault"] for s in grid.servers
                          if (c := grid.cell(s, mode, fault, tls)) is not None and c.ok
                          and index < len(c.samples) and "kept_through_fault" in c.samples[index]]
                row.append(text(units.span(values) if values else "n/a"))
            rows.append(tuple(row))
    if not rows:
        return None
    messages = [c.samples[0].get("whole_on_device") for c in grid.cells.values() if c.ok and c.samples]
    of = f" (of {units.span([m for m in messages if m is not None])})" if any(m is not None for m in messages) else ""
    return Table(("fault", "point", *grid.modes), tuple(rows), (False, False, *([True] * len(grid.modes))),
                 caption=f"Messages whole on the device through the fault{of}, at each fault point; "
                         "lowest–highest over the servers where they differ")


def _totals_line(grid: Grid) -> Text | None:
    """The messages lost, duplicated and partial over every fault, mode and server."""
    cells = [cell for cell in grid.cells.values() if cell.ok]
    if not cells:
        return None
    totals = [sum(int(sample.get(metric, 0)) for cell in cells for sample in cell.samples) for metric in COUNTS]
    samples = sum(len(cell.samples) for cell in cells)
    failed = sum(1 for cell in grid.cells.values() if not cell.ok)
    worst = sorted({f"{cell.mode} on {cell.server} ({cell.variant})" for cell in cells
                    if any(sample.get(metric, 0) for sample in cell.samples for metric in COUNTS)})
    verdict = ("nothing was lost, duplicated or left partial" if not any(totals) else
               f"{totals[0]} messages lost, {totals[1]} duplicated and {totals[2]} partial, in {', '.join(worst)}")
    tail = f"; {failed} cells failed and are not counted" if failed else ""
    return text(f"Over {samples} interrupted downloads ({len(grid.variants)} faults, {len(grid.modes)} modes, "
                f"{len(grid.servers)} servers), after the device recovered ", Strong(verdict), f"{tail}.")


def _detect_line(grid: Grid) -> Text | None:
    """How long each fault took to show, over every sample: lowest–highest."""
    parts = []
    for fault in grid.variants:
        values = [s["detect_s"] for (_, _, f, _, _), c in grid.cells.items() if f == fault and c.ok
                  for s in c.samples if "detect_s" in s]
        if values:
            parts.append(f"{fault} {units.span(values)} s")
    return text("Noticed after, over every sample: ", "; ".join(parts), ".") if parts else None


def _sessions_line(grid: Grid) -> Text | None:
    """How many sessions the recoveries took: the most, and where."""
    found = [(s["recover_attempts"], cell, i) for cell in grid.cells.values() if cell.ok
             for i, s in enumerate(cell.samples) if "recover_attempts" in s]
    if not found:
        return None
    most = max(value for value, _, _ in found)
    if most <= 1:
        return text("Every device recovered in one session.")
    where = [f"{cell.mode} on {cell.server}, {cell.variant} at {point_labels(grid, cell.variant)[i]}"
             for value, cell, i in found if value == most]
    return text(f"Every device recovered; the most sessions it took was {units.number(most)} "
                f"({'; '.join(where)}).")


def findings(results: Results, every: Grid) -> list[Text]:
    grid = every.at(every.reference_link)
    return [line for line in (_totals_line(grid), _sessions_line(grid), _detect_line(grid)) if line is not None]


def kept_table(grid: Grid) -> list[Block]:
    """The report's table of messages kept through each fault point (see ``_kept_table``)."""
    table = _kept_table(grid.at(grid.reference_link))
    return [table] if table is not None else []


REPORT = ScenarioReport(
    NAME, section, findings, headline=("recovery-points",), brief=kept_table,
    about="A download broken on purpose at seeded points (link cut mid-message or between commands, server "
          "killed, server frozen), then synced again until it succeeds; what was lost, kept and fetched again.",
    charts=CHARTS,
)
