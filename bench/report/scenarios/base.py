"""What a scenario contributes to a report, and the layout used when it has none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.report import charts
from bench.report.cells import Grid
from bench.report.document import Block, Chart, Paragraph, Section, text
from bench.report.tables import metric_table
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


def chart_blocks(results: Results, scenario: str, server: str) -> list[Block]:
    """References to the charts ``charts.write_charts`` draws for this scenario and server."""
    return [
        Chart(stem=chart.stem, alt=f"{scenario} on {server}: {chart.spec.caption}", caption=chart.spec.caption)
        for chart in charts.planned_charts(results, scenario)
        if chart.server == server
    ]


def generic_section(results: Results, grid: Grid) -> Section:
    """Every recorded metric in one table per server, for scenarios with no layout of their own."""
    metrics = sorted(grid.metric_names())
    section = Section(
        title(grid.scenario),
        [Paragraph(text("This scenario has no report layout of its own yet: every metric it recorded is shown."))],
    )
    for server in grid.servers:
        section.children.append(
            Section(
                f"{grid.scenario} on {server}",
                [
                    metric_table(grid, server, metrics, caption="median (min–max) over the samples"),
                    *chart_blocks(results, grid.scenario, server),
                ],
            )
        )
    return section


GENERIC = ScenarioReport("", generic_section)
