"""The appendix's "Where the run's time went": each scenario's wall time by part.

Read from the results alone: each cell's ``info["time_split_s"]`` (``bench.time_split``)
added up per scenario, and each server's image and start seconds from the environment,
which no cell's split holds. A file written before the split was recorded says so.
"""

from __future__ import annotations

from bench.report import units
from bench.report.document import Code, Paragraph, Section, Table, Text, text
from bench.results import Results
from bench.time_split import SHOWN, TOTAL, share, totals_by_scenario

TITLE = "Where the run's time went"

PART_WORDS = {
    "delivery": "setup delivery of the corpus",
    "measured": "the scenario's measured work",
    "waiting": "deliberate waits: polling intervals, outages, settle waits, connect timeouts",
    "containers": "reviving a server found down, a fault's restart, pause or unpause",
    "other": "the rest: the container's counters read around a measurement, probes, checks, the harness",
}


def _scenario_table(scenario: str, split: dict[str, float], cells: int) -> Table:
    rows = tuple((text(name), text(PART_WORDS[name]), text(units.number(split[name])),
                  text(units.share(share(split, name)))) for name in SHOWN)
    rows += ((text("total"), text(f"{cells} cell{'' if cells == 1 else 's'}"), text(units.number(split[TOTAL])),
              text(units.share(1.0 if split[TOTAL] > 0 else 0.0))),)
    return Table(("part", "what", "seconds", "share"), rows, (False, False, True, True), caption=scenario)


def _server_rows(results: Results) -> tuple[tuple[Text, ...], ...]:
    rows = []
    for name, server in results.environment.get("servers", {}).items():
        if "start_s" in server:  # absent in files written before
            rows.append((text(name), text(units.number(server["image_s"])),
                         text(units.number(server["start_s"]))))
    return tuple(rows)


def time_split_section(results: Results) -> Section:
    """Each scenario's cells' wall time by part, then each server's image and start."""
    totals = totals_by_scenario(results.cells)
    if not totals:
        return Section(TITLE, [Paragraph(text(
            "Not recorded: this results file was written before each cell recorded where its time went ",
            "(", Code("info.time_split_s"), ")."))])
    blocks = [Paragraph(text(
        "Each cell's wall time, from its start to its result, split by where the harness marked it ",
        "(", Code("info.time_split_s"), "), added up over the scenario's cells. Where parts nest, the time "
        "counts to the innermost: a wait inside a measured section counts as waiting."))]
    for scenario, split in totals.items():
        cells = sum(1 for cell in results.cells if cell.scenario == scenario and "time_split_s" in cell.info)
        blocks.append(_scenario_table(scenario, split, cells))
    missing = sum(1 for cell in results.cells if "time_split_s" not in cell.info)
    if missing:
        blocks.append(Paragraph(text(
            f"{missing} cell{' was' if missing == 1 else 's were'} never run (its server was unavailable) "
            "and recorded no split.")))
    servers = _server_rows(results)
    if servers:
        blocks.append(Paragraph(text(
            "A server's image and start are shared by its cells, so they are in no cell's split:")))
        blocks.append(Table(("server", "image (s)", "start (s)"), servers, (False, True, True)))
    return Section(TITLE, blocks)
