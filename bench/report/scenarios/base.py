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
                 variant: str | None = None, section: str = "scenario") -> list[Block]:
    """References to the charts ``charts.write_charts`` draws for this scenario and server,
    or for this variant with the servers side by side (on each link), or, with
    ``section="links"``, for this server and variant against round-trip time."""
    where = f"on {server}" if variant is None else f"variant {variant}, servers compared"
    if section == "links":
        where = f"on {server}, variant {variant}"
    grid = Grid.of(results, scenario)
    blocks: list[Block] = []
    for chart in charts.planned_charts(results, scenario):
        if chart.spec.section != section or (chart.server, chart.variant) != (server, variant):
            continue
        caption = chart.spec.caption
        if chart.link is not None:
            caption = f"Link {grid.link_label(chart.link)}. {caption}"
        blocks.append(Chart(stem=chart.stem, alt=f"{scenario}, {where}: {caption}", caption=caption))
    return blocks


GENERIC_COLUMNS = 6  # metrics per table in a generic section: wider tables cannot be read


def generic_section(results: Results, grid: Grid) -> Section:
    """Every recorded metric, in tables of a few metrics each (alphabetical, so that related
    metrics stand together), per server, for scenarios with no layout of their own."""
    metrics = sorted(grid.metric_names())
    section = Section(
        title(grid.scenario),
        [Paragraph(text("This scenario has no report layout of its own yet: every metric it recorded is shown, "
                        "median (min–max) over the samples of each cell."))],
    )
    if len(grid.servers) > 1:
        for variant in grid.variants:
            section.blocks += chart_blocks(results, grid.scenario, variant=variant)
    for server in grid.servers:
        chunks = [metrics[i:i + GENERIC_COLUMNS] for i in range(0, len(metrics), GENERIC_COLUMNS)] or [[]]
        count = len(chunks)
        blocks: list[Block] = [
            metric_table(grid, server, chunk, anchors=i == 0,
                         caption="median (min–max) over the samples"
                         + (f", part {i + 1} of {count}: {chunk[0]} to {chunk[-1]}" if count > 1 else ""))
            for i, chunk in enumerate(chunks)
        ]
        if "elapsed_s" in metrics:
            blocks.append(interval_table(grid, server, "elapsed_s", caption="Time, sample by sample"))
        section.children.append(
            Section(f"{grid.scenario} on {server}", [*blocks, *chart_blocks(results, grid.scenario, server)])
        )
    return section


GENERIC = ScenarioReport("", generic_section)


MetricGroup = tuple[tuple[str, ...], str]  # metrics, caption


def grouped_section(results: Results, grid: Grid, intro: list[Block], groups: list[MetricGroup],
                    extra: Callable[[Grid, str], list[Block]] | None = None) -> Section:
    """A scenario's section: ``intro``, then per server a table per group of metrics (those
    recorded; groups with none are left out), ``extra`` blocks, the other recorded metrics in
    tables of a few each, and the server's charts."""
    result = Section(title(grid.scenario), list(intro))
    if len(grid.servers) > 1:
        compared = [block for v in grid.variants for block in chart_blocks(results, grid.scenario, variant=v)]
        if compared:
            result.children.append(Section(f"{grid.scenario}: servers compared", compared))
    shown = {metric for metrics, _ in groups for metric in metrics}
    others = sorted(grid.metric_names() - shown)
    chunks = [tuple(others[i:i + GENERIC_COLUMNS]) for i in range(0, len(others), GENERIC_COLUMNS)]
    for server in grid.servers:
        tables: list[Block] = []
        for metrics, caption in groups:
            present = [m for m in metrics if grid.has_metric(m)]
            if present:  # the first table holds the rows that links to a cell lead to
                tables.append(metric_table(grid, server, present, caption=caption, anchors=not tables))
        if extra is not None:
            tables += extra(grid, server)
        for i, chunk in enumerate(chunks):
            part = f", part {i + 1} of {len(chunks)}" if len(chunks) > 1 else ""
            tables.append(metric_table(grid, server, chunk, anchors=not tables,
                                       caption=f"Other recorded figures{part}, median (min–max) over the samples"))
        result.children.append(Section(f"{grid.scenario} on {server}",
                                        [*tables, *chart_blocks(results, grid.scenario, server)]))
    return result
