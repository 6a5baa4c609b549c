"""new-mail: how soon new mail shows on a device, per watching policy (IDLE, polling)."""

from __future__ import annotations

from bench.report.cells import Grid
from bench.report.charts import policies_of
from bench.report.document import Block, Paragraph, Section, text
from bench.report.scenarios.base import ScenarioReport, grouped_section
from bench.results import Results

NAME = "new-mail"
SPREAD = "median (min–max) over the samples"


def section(results: Results, grid: Grid) -> Section:
    intro: list[Block] = [Paragraph(text(
        "A device holds the mailbox while three messages arrive, watching under each policy its mode has "
        "(IMAP IDLE, polling every 1 s or 5 s). Latency runs from the delivering APPEND to the end of the "
        "sync that put the message on the device."
    ))]
    policies = [p for p in policies_of(grid, "latency_ms") if p]
    groups = []
    if policies:
        latency = tuple(m for p in policies for m in (f"latency_ms_{p}", f"latency_ms_max_{p}", f"missed_{p}"))
        groups.append((latency, f"Delivery-to-visible latency per policy (median, worst) and messages missed, {SPREAD}"))
    return grouped_section(results, grid, intro, groups)


REPORT = ScenarioReport(NAME, section)
