"""interrupted-sync: what each fault cost each mode on each server, and the recovery."""

from __future__ import annotations

from bench.report.cells import Grid
from bench.report.document import Block, Paragraph, Section, Strong, Table, Text, text
from bench.report.scenarios.base import ScenarioReport, grouped_section
from bench.results import Results

NAME = "interrupted-sync"
SPREAD = "median (min–max) over the samples"
COUNTS = ("messages_lost", "messages_duplicated", "messages_partial")
LOSS = (*COUNTS, "left_on_server", "whole_on_device", "kept_through_fault")
RECOVERY = ("detect_s", "recover_s", "recover_attempts", "recover_refused", "recover_bytes_down",
            "recover_bytes_up", "recover_round_trips", "refetched", "server_restart_s")
FAULTS_SAID = {
    "cut-mid-message": "the link cut in the middle of a message",
    "cut-between-commands": "the link cut between two commands (after the listing, after the last message, "
                            "or before QUIT / LOGOUT, in turn)",
    "server-killed": "the server killed (docker kill) in the middle of a message, then started again",
    "server-paused": "the server frozen (docker pause) in the middle of a message until the device's read "
                     "timeout, then thawed",
}


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


def section(results: Results, grid: Grid) -> Section:
    faults = "; ".join(f"{name}: {FAULTS_SAID.get(name, name)}" for name in grid.variants)
    intro: list[Block] = [
        Paragraph(text(
            "A device downloads its whole mailbox (in pop3-delete it deletes what it downloaded) and a fault "
            f"strikes at a seeded point ({faults}). Once the device noticed, the fault is undone and the device "
            "syncs again until a sync succeeds, resuming: what it holds whole is not fetched again. Then the "
            "server's mailbox (read directly) and the device's store are compared with what was delivered. ",
            Strong("Lost"), ": on neither side; ", Strong("duplicated"), ": extra copies on the device; ",
            Strong("partial"), ": files on the device that are not a whole delivered message. Kept through "
            "the fault: whole on the device before recovery (the client hands messages over a batch at a time, "
            "so a fault loses the batch in flight). Detect: from the fault to the device's error; recover: "
            "from the fault undone to the device done.",
        )),
        *(_loss_table(grid, link) for link in grid.links),
    ]
    groups = [
        (LOSS, f"What is where after recovery, in messages, {SPREAD}"),
        (RECOVERY, f"Noticing the fault and recovering, {SPREAD}"),
    ]
    return grouped_section(results, grid, intro, groups)


def summary(results: Results, grid: Grid) -> list[Block]:
    """One line: the messages lost, duplicated and partial over every fault, mode and server."""
    cells = [cell for cell in grid.cells.values() if cell.ok]
    if not cells:
        return []
    totals = [sum(int(sample.get(metric, 0)) for cell in cells for sample in cell.samples) for metric in COUNTS]
    samples = sum(len(cell.samples) for cell in cells)
    failed = sum(1 for cell in grid.cells.values() if not cell.ok)
    worst = sorted({f"{cell.mode} on {cell.server} ({cell.variant})" for cell in cells
                    if any(sample.get(metric, 0) for sample in cell.samples for metric in COUNTS)})
    verdict = ("nothing was lost, duplicated or left partial" if not any(totals) else
               f"{totals[0]} messages lost, {totals[1]} duplicated and {totals[2]} partial, in {', '.join(worst)}")
    tail = f"; {failed} cells failed and are not counted" if failed else ""
    return [Paragraph(text(
        Strong(NAME), f": over {samples} interrupted downloads ({len(grid.variants)} faults, "
        f"{len(grid.modes)} modes, {len(grid.servers)} servers), after the device recovered {verdict}{tail}.",
    ))]


REPORT = ScenarioReport(NAME, section, summary)
