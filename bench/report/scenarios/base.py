"""What a scenario contributes to a report, and the layout used when it has none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.report import charts
from bench.report.cells import Grid
from bench.report.document import Block, Chart, Paragraph, Section, text
from bench.report.tables import interval_table, metric_table
from bench.results import Results

SectionFunction = Callable[[Results, Grid], Section]
SummaryFunction = Callable[[Results, Grid], list[Block]]


@dataclass(frozen=True)
class ScenarioReport:
    """A scenario's part of the report: its section and, optionally, its summary lines."""

    name: str
    section: SectionFunction
    summary: SummaryFunction | None = None


def title(scenario: str) -> str:
    return f"Scenario: {scenario}"


def chart_blocks(results: Results, scenario: str, server: str | None = None,
                 variant: str | None = None) -> list[Block]:
    """References to the charts ``charts.write_charts`` draws for this scenario and server,
    or for this variant with the servers side by side."""
    where = f"on {server}" if variant is None else f"variant {variant}, servers compared"
    return [
        Chart(stem=chart.stem, alt=f"{scenario}, {where}: {chart.spec.caption}", caption=chart.spec.caption)
        for chart in charts.planned_charts(results, scenario)
        if (chart.server, chart.variant) == (server, variant)
    ]


def generic_section(results: Results, grid: Grid) -> Section:
    """Every recorded metric in one table per server, for scenarios with no layout of their own."""
    metrics = sorted(grid.metric_names())
    section = Section(
        title(grid.scenario),
        [Paragraph(text("This scenario has no report layout of its own yet: every metric it recorded is shown."))],
    )
    if len(grid.servers) > 1:
        for variant in grid.variants:
            section.blocks += chart_blocks(results, grid.scenario, variant=variant)
    for server in grid.servers:
        blocks: list[Block] = [
            metric_table(grid, server, metrics, caption="median (min–max) over the samples", anchors=True)
        ]
        if "elapsed_s" in metrics:
            blocks.append(interval_table(grid, server, "elapsed_s", caption="Time, sample by sample"))
        section.children.append(
            Section(f"{grid.scenario} on {server}", [*blocks, *chart_blocks(results, grid.scenario, server)])
        )
    return section


GENERIC = ScenarioReport("", generic_section)
