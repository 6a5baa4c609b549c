"""What a scenario contributes to a report, and the layout used when it has none.

A scenario has two parts: in the report, a short section (``ScenarioReport.about``, one
headline chart, a few findings and a link to the rest); in the appendix, the scenario in
detail (``ScenarioReport.section``: every figure of every cell, per server, and the other
charts). The charts of every scenario are ``bench.report.charts.CHARTS``; those of one
scenario alone are declared here, by its report (``ScenarioReport.charts``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.report import charts, units
from bench.report.charts import ChartSpec
from bench.report.cells import Grid, Stat
from bench.report.document import Block, Chart, Paragraph, Section, Text, slug, text
from bench.report.tables import Column, interval_table, metric_table, policy_column
from bench.results import Results

SectionFunction = Callable[[Results, Grid], Section]
FindingsFunction = Callable[[Results, Grid], list[Text]]
BriefFunction = Callable[[Grid], list[Block]]

# The charts a scenario without a headline of its own leads with, the first that was drawn.
HEADLINE_KINDS = ("servers-time", "time", "bytes", "round-trips")


@dataclass(frozen=True)
class ScenarioReport:
    """A scenario's part of the report: the section in detail (appendix), and for the
    report a sentence on what it does, the kinds of chart its headline is chosen from
    (the first drawn), its findings and, where a few lines cannot say it, a small table
    (``brief``); and the charts of this scenario alone (``charts``), drawn after those of
    every scenario when the results have what they need."""

    name: str
    section: SectionFunction
    findings: FindingsFunction | None = None
    headline: tuple[str, ...] = HEADLINE_KINDS
    about: str = ""
    brief: BriefFunction | None = None
    charts: tuple[ChartSpec, ...] = ()


def title(scenario: str) -> str:
    """The scenario's section in the report."""
    return f"Scenario: {scenario}"


def detail_title(scenario: str) -> str:
    """The scenario's section in the appendix."""
    return f"{scenario} in detail"


def detail_anchor(scenario: str) -> str:
    return slug(detail_title(scenario))


def _chart_block(results: Results, chart: charts.PlannedChart, where: str) -> Chart:
    grid = Grid.of(results, chart.scenario)
    caption = chart.spec.caption
    if chart.link is not None:
        caption = f"Link {grid.link_label(chart.link)}. {caption}"
    return Chart(stem=chart.stem, alt=f"{chart.scenario}, {where}: {caption}", caption=caption)


def chart_blocks(results: Results, scenario: str, server: str | None = None,
                 variant: str | None = None, section: str = "scenario",
                 own: Sequence[ChartSpec] = ()) -> list[Block]:
    """References to the charts ``charts.write_charts`` draws for this scenario and server,
    or for this variant with the servers side by side (on each link), or, with
    ``section="links"``, for this server and variant against round-trip time: those of
    every scenario, and the scenario's ``own`` (its report's ``charts``, which its section
    passes on: this module cannot read the registry of reports, which import it)."""
    where = f"on {server}" if variant is None else f"variant {variant}, servers compared"
    if section == "links":
        where = f"on {server}, variant {variant}"
    planned = charts.planned_charts(results, scenario, own={scenario: own})
    return [_chart_block(results, chart, where) for chart in planned
            if chart.spec.section == section and (chart.server, chart.variant) == (server, variant)]


def headline_chart(results: Results, grid: Grid, kinds: Sequence[str] = HEADLINE_KINDS,
                   own: Sequence[ChartSpec] = ()) -> list[Block]:
    """The scenario's headline: the first chart of ``kinds`` that was drawn (of every
    scenario's, or the scenario's ``own``), on the reference link (or against the
    round-trip time of every link), for the first server, and for the ``full`` (else the
    first) variant."""
    planned = [c for c in charts.planned_charts(results, grid.scenario, own={grid.scenario: own})
               if c.link in (None, grid.reference_link)]
    preferred = "full" if "full" in grid.variants else (grid.variants[0] if grid.variants else None)
    for kind in kinds:
        found = [c for c in planned if c.spec.kind == kind]
        found.sort(key=lambda c: (c.variant not in (None, preferred),
                                  grid.servers.index(c.server) if c.server in grid.servers else 0))
        if found:
            chart = found[0]
            caption = chart.spec.caption
            if chart.server is not None and len(grid.servers) > 1:
                caption = f"On {chart.server}; the other servers' in the appendix. {caption}"
            if chart.link is not None:
                caption = f"Link {grid.link_label(chart.link)}. {caption}"
            return [Chart(stem=chart.stem, alt=f"{grid.scenario}: {caption}", caption=caption)]
    return []


def across(grid: Grid, mode: str, variant: str, metric: str, fmt: Callable[[float], str] = units.number,
           policy: str | None = None) -> str | None:
    """One mode's median (of the whole sample, or of a client ``policy``) on every server of
    the grid, in a few words: ``311 on every server``, ``dovecot 0.30, cyrus 0.44``; ``None``
    when no server recorded it."""
    stats = {s: st for s in grid.servers
             if (st := grid.stat(s, mode, variant, grid.reference_tls, metric, policy=policy))}
    if not stats:
        return None
    shown = {s: fmt(st.median) for s, st in stats.items()}
    values = set(shown.values())
    if len(values) == 1:
        value = values.pop()
        if len(grid.servers) == 1:
            return value
        return f"{value} on every server" if len(stats) == len(grid.servers) else f"{value} on {', '.join(stats)}"
    return ", ".join(f"{server} {value}" for server, value in shown.items())


def same_in_every_sample(stats: Sequence[Stat]) -> bool:
    """Whether each of the cells had one value in all its samples (and more than one sample)."""
    return bool(stats) and all(st.n > 1 and st.min == st.max for st in stats)


GENERIC_COLUMNS = 6  # metrics per table in a generic section: wider tables cannot be read

Figure = str | Column  # a metric of the whole sample by name, or a column (a client policy's figures)


def _key(figure: Figure) -> tuple[str, str | None]:
    return (figure.metric, figure.policy) if isinstance(figure, Column) else (figure, None)


def _named(figure: Figure) -> str:
    return figure.header if isinstance(figure, Column) else figure


def every_figure(grid: Grid) -> list[Figure]:
    """Every figure the cells recorded, alphabetical by metric (so that related metrics stand
    together), each metric's client policies right after it, in the order of their names."""
    keys = [(name, "") for name in grid.metric_names()] + sorted(grid.policy_figures())
    return [policy_column(name, policy) if policy else name for name, policy in sorted(keys)]


def generic_section(results: Results, grid: Grid) -> Section:
    """Every recorded metric, in tables of a few metrics each (``every_figure``), per server,
    for scenarios with no layout of their own."""
    metrics = every_figure(grid)
    section = Section(
        detail_title(grid.scenario),
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
                         + (f", part {i + 1} of {count}: {_named(chunk[0])} to {_named(chunk[-1])}"
                            if count > 1 else ""))
            for i, chunk in enumerate(chunks)
        ]
        if "elapsed_s" in metrics:
            blocks.append(interval_table(grid, server, "elapsed_s", caption="Time, sample by sample"))
        section.children.append(
            Section(f"{grid.scenario} on {server}", [*blocks, *chart_blocks(results, grid.scenario, server)])
        )
    return section


GENERIC = ScenarioReport("", generic_section)


MetricGroup = tuple[tuple[Figure, ...], str]  # metrics, caption


def grouped_section(results: Results, grid: Grid, intro: list[Block], groups: list[MetricGroup],
                    extra: Callable[[Grid, str], list[Block]] | None = None,
                    own: Sequence[ChartSpec] = ()) -> Section:
    """A scenario in detail: ``intro``, then per server a table per group of metrics (those
    recorded; groups with none are left out), ``extra`` blocks (once per link, each from that
    link's cells), the other recorded metrics in
    tables of a few each, and the server's charts (the scenario's ``own`` among them)."""
    result = Section(detail_title(grid.scenario), list(intro))
    if len(grid.servers) > 1:
        compared = [block for v in grid.variants
                    for block in chart_blocks(results, grid.scenario, variant=v, own=own)]
        if compared:
            result.children.append(Section(f"{grid.scenario}: servers compared", compared))
    shown = {_key(figure) for figures, _ in groups for figure in figures}
    others = [figure for figure in every_figure(grid) if _key(figure) not in shown]
    chunks = [tuple(others[i:i + GENERIC_COLUMNS]) for i in range(0, len(others), GENERIC_COLUMNS)]
    for server in grid.servers:
        tables: list[Block] = []
        for metrics, caption in groups:
            present = [m for m in metrics if grid.has_metric(*_key(m))]
            if present:  # the first table holds the rows that links to a cell lead to
                tables.append(metric_table(grid, server, present, caption=caption, anchors=not tables))
        if extra is not None:  # extra tables read one link's cells: one set per link
            for link, mine in grid.per_link():
                blocks = extra(mine, server) if server in mine.servers else []
                if blocks and len(grid.links) > 1:
                    tables.append(Paragraph(text(f"On {grid.link_label(link)}:")))
                tables += blocks
        for i, chunk in enumerate(chunks):
            part = f", part {i + 1} of {len(chunks)}" if len(chunks) > 1 else ""
            tables.append(metric_table(grid, server, chunk, anchors=not tables,
                                       caption=f"Other recorded figures{part}, median (min–max) over the samples"))
        result.children.append(Section(f"{grid.scenario} on {server}",
                                        [*tables, *chart_blocks(results, grid.scenario, server, own=own)]))
    return result
