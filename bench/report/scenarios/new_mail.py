"""new-mail: how soon new mail shows on a device, per watching policy (IDLE, polling)."""

from __future__ import annotations

from bench.report import units
from bench.report.cells import Grid
from bench.report.document import Block, Paragraph, Section, Text, text
from bench.report.scenarios.base import ScenarioReport, across, grouped_section
from bench.report.tables import policy_column
from bench.results import Results

NAME = "new-mail"
SPREAD = "median (min–max) over the samples, or the value every sample had"


def section(results: Results, grid: Grid) -> Section:
    intro: list[Block] = [Paragraph(text(
        "A device holds the mailbox while three messages arrive, watching under each policy its mode has "
        "(IMAP IDLE, polling every 1 s or 5 s). Latency runs from the delivering APPEND to the end of the "
        "sync that put the message on the device."
    ))]
    policies = grid.policies("latency_ms")
    groups = []
    if policies:
        latency = tuple(policy_column(m, p) for p in policies for m in ("latency_ms", "latency_ms_max", "missed"))
        groups.append((latency, f"Delivery-to-visible latency per policy (median, worst) and messages missed, {SPREAD}"))
    return grouped_section(results, grid, intro, groups)


def findings(results: Results, every: Grid) -> list[Text]:
    grid = every.at(every.reference_link)
    variant = grid.variants[0]
    lines = []
    for policy in grid.policies("latency_ms"):
        parts = [f"{mode} {value}" for mode in grid.modes
                 if (value := across(grid, mode, variant, "latency_ms", lambda v: f"{units.number(v)} ms", policy))]
        if parts:
            lines.append(text(f"Delivery to visible, {policy}: ", "; ".join(parts), "."))
    return lines


REPORT = ScenarioReport(
    NAME, section, findings, headline=("latency",),
    about="A device keeps watch while new mail arrives (IMAP IDLE, or polling): how soon each message shows, and "
          "what watching costs.",
)
