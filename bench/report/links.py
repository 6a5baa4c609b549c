"""The appendix's Links section, with its lines on how each mode's time grows with the link.

Present only when the run had more than one link or a relayed one (``cells.shows_links``):

- the link profiles used, with their figures and sources;
- per scenario that records a time, and per server: the time against the links'
  round-trip time, one chart per variant (``charts.plot_time_against_rtt``), and a table
  of efficiency: each relayed cell's median time, the limit (the time a perfect protocol
  would need on that link for the same bytes, ``limit_s``) and the median of the samples'
  efficiency (``efficiency`` = limit / time: 100 % is as fast as the link allows).

Its opening lines (``summary_lines``) say how each mode's time grows from the link of the
shortest round trip to the longest, which mode was fastest on each link, and which came
closest to the limit. Everything is read from the cells' figures; nothing is assumed of a
scenario beyond the metric names above, so a new scenario is covered as soon as it records
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.report import units
from bench.report.cells import LAN, Grid, Stat, link_figures, scenarios, shows_links, stat_of, tls_label, unrun_word
from bench.report.charts import TIME_METRICS, time_metric
from bench.report.document import Block, BulletList, Paragraph, Section, Strong, Table, Text, text
from bench.report.scenarios.base import chart_blocks
from bench.report.tables import figure, key_cells, key_headers
from bench.results import Results

EFFICIENCY = "efficiency"
LIMIT = "limit_s"
TITLE = "Links"


def percent(value: float) -> str:
    """An efficiency as a share: ``74.0%``."""
    return f"{units.number(value * 100)}%"


def _mbit(value: Any) -> str:
    return "unlimited" if value is None else units.number(float(value))


def applies(results: Results) -> bool:
    """Whether the report has a Links section: several links, or a relayed one."""
    return shows_links(list(link_figures(results)))


def profiles_table(results: Results) -> Table:
    """The links of the run, shortest round trip first: figures and where they come from."""
    rows = []
    for name, figures in link_figures(results).items():
        rtt = figures.get("rtt_ms")
        rows.append((
            text(Strong(name)),
            text("n/a" if rtt is None else units.number(float(rtt)) + (" (no relay)" if name == LAN else "")),
            text(_mbit(figures.get("down_mbit"))),
            text(_mbit(figures.get("up_mbit"))),
            text(str(figures.get("source") or "not recorded")),
        ))
    return Table(("link", "round trip (ms)", "down (Mbit/s)", "up (Mbit/s)", "source"), tuple(rows),
                 (False, True, True, True, False), caption="The link profiles of this run")


def _best(stats: dict[str, Stat], highest: bool) -> str | None:
    if not stats:
        return None
    pick = max if highest else min
    return pick(stats, key=lambda mode: stats[mode].median)


def efficiency_table(grid: Grid, server: str) -> Table | None:
    """Each relayed cell of one server: median time, limit and efficiency (median and the
    samples' range), and which mode came closest to the limit on each link. ``None`` when
    no cell of the server recorded an efficiency."""
    metric = time_metric(grid) or "elapsed_s"
    cells = [c for c in grid.in_order(server) if c.link != LAN]
    if not any(stat_of(c, EFFICIENCY) is not None for c in cells):
        return None
    best: dict[tuple[str, str, str], str | None] = {}
    for variant in grid.variants:
        for link in grid.links:
            for tls in grid.tls:
                found = {m: s for m in grid.modes if (s := grid.stat(server, m, variant, tls, EFFICIENCY, link))}
                best[(variant, link, tls)] = _best(found, highest=True)
    keys = key_headers(grid)
    rows: list[tuple[Text, ...]] = []
    for cell in cells:
        row = key_cells(grid, cell)
        if not cell.ok:
            rows.append((*row, text(Strong(unrun_word(cell))), text("—"), text("—"), text("")))
            continue
        time, limit, share = stat_of(cell, metric), stat_of(cell, LIMIT), stat_of(cell, EFFICIENCY)
        closest = share is not None and best.get((cell.variant, cell.link, cell.tls)) == cell.mode
        rows.append((
            *row,
            text("n/a" if time is None else units.number(time.median)),
            text("n/a" if limit is None else units.number(limit.median)),
            text("n/a") if share is None else text(figure(share, percent)),
            text(Strong("yes")) if closest else text(""),
        ))
    return Table(
        (*keys, TIME_METRICS.get(metric, "time (s)"), "limit (s)", "efficiency: limit ÷ time", "closest to the limit"),
        tuple(rows),
        (*([False] * len(keys)), True, True, True, False),
        caption=f"{grid.scenario} on {server}: efficiency against the limit, median (min–max) over the samples; "
                "closest to the limit: the mode of the highest efficiency on its link",
    )


def links_section(results: Results) -> list[Section]:
    """The Links section, or nothing for a run on the lan link alone."""
    if not applies(results):
        return []
    section = Section(TITLE, [
        Paragraph(text(
            "Every link but lan is emulated by a shaping relay on this machine between the client and the "
            "server: it adds the link's round-trip time and limits its bandwidth each way (docs/links.md; no "
            "loss, no jitter, no TCP slow start). lan is the machine's loopback, with no relay. The limit of a "
            "cell is the time a perfect protocol would need on its link for the bytes the cell moved: the "
            "message bytes at the link's rate, plus two round trips per connection (greeting and login, then "
            "one request for everything) and one for the TCP handshake. Efficiency is the limit divided by "
            "the time taken: 100% is as fast as the link allows."
        )),
        profiles_table(results),
    ])
    for name in scenarios(results):
        section.blocks += summary_lines(results, Grid.of(results, name))
    for name in scenarios(results):
        grid = Grid.of(results, name)
        if not grid.shows_links:
            continue
        per_server: list[tuple[str, list[Block]]] = []
        for server in grid.servers:
            blocks: list[Block] = []
            for variant in grid.variants:
                blocks += chart_blocks(results, name, server, variant, section="links")
            table = efficiency_table(grid, server)
            if table is not None:
                blocks.append(table)
            if blocks:
                per_server.append((server, blocks))
        if not per_server:
            continue
        child = Section(f"{name} over the links")
        if time_metric(grid) is None:
            child.blocks.append(Paragraph(text(f"{name} records no time ({', '.join(TIME_METRICS)}) to draw against "
                                               "round-trip time.")))
        if len(per_server) == 1:
            child.blocks += per_server[0][1]
        else:
            child.children += [Section(f"{name} over the links on {server}", blocks) for server, blocks in per_server]
        section.children.append(child)
    return [section]


# --- How time grows with the round trip -------------------------------------------------


def _joined_figures(pairs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{who} {figure}" for who, figure in pairs)


def variant_line(grid: Grid, server: str, variant: str, metric: str) -> Text | None:
    """One variant on one server over the links: each mode's time from the shortest round trip
    to the longest, the fastest mode, and the mode closest to the limit."""
    tls = grid.reference_tls
    times = {link: {m: s for m in grid.modes if (s := grid.stat(server, m, variant, tls, metric, link)) is not None}
             for link in grid.links}
    timed = [link for link in grid.links if times[link]]
    if not timed:
        return None
    parts: list[Any] = [Strong(variant), ": "]
    sentences = []
    first, last = timed[0], timed[-1]
    if first != last:
        growth = []
        for mode in grid.modes:
            near, far = times[first].get(mode), times[last].get(mode)
            if near is not None and far is not None and near.median > 0:
                ratio = units.factor(far.median / near.median)
                growth.append((mode, f"{units.seconds(near.median)} → {units.seconds(far.median)} ({ratio})"))
        if growth:
            sentences.append(f"from {grid.link_label(first)} to {grid.link_label(last)}: "
                             f"{_joined_figures(growth)}")
    fastest = {link: _best(times[link], highest=False) for link in timed}
    if len(set(fastest.values())) == 1:
        sentences.append(f"fastest on every link: {fastest[first]}")
    else:
        sentences.append("fastest: " + ", ".join(f"{mode} on {link}" for link, mode in fastest.items()))
    shares = {link: {m: s for m in grid.modes if (s := grid.stat(server, m, variant, tls, EFFICIENCY, link))}
              for link in grid.links if link != LAN}
    shares = {link: found for link, found in shares.items() if found}
    if shares:
        closest = {link: _best(found, highest=True) for link, found in shares.items()}
        slowest = list(shares)[-1]
        on_slowest = _joined_figures([(m, percent(s.median)) for m, s in shares[slowest].items()])
        if len(set(closest.values())) == 1:
            mode = closest[slowest]
            where = "on every relayed link" if len(shares) > 1 else f"on {slowest}"
            figures = ", ".join(f"{percent(shares[link][mode].median)} on {link}" for link in shares)
            sentences.append(f"closest to the limit {where}: {mode} ({figures}); efficiency on {slowest}: "
                             f"{on_slowest}")
        else:
            sentences.append("closest to the limit: " + ", ".join(
                f"{mode} on {link} ({percent(shares[link][mode].median)})" for link, mode in closest.items()
            ) + f"; efficiency on {slowest}: {on_slowest}")
    parts.append("; ".join(sentences) + ".")
    return text(*parts)


def summary_lines(results: Results, grid: Grid) -> list[Block]:
    """How each mode's time grows with the round trip, per server and variant, and which
    mode came closest to the limit; nothing when the scenario ran on lan alone or records
    no time."""
    metric = time_metric(grid)
    if not grid.shows_links or metric is None:
        return []
    blocks: list[Block] = []
    for server in grid.servers:
        lines = [line for variant in grid.variants if (line := variant_line(grid, server, variant, metric))]
        if not lines:
            continue
        what = TIME_METRICS[metric].replace(" (s)", "")
        limited = any(stat_of(cell, EFFICIENCY) is not None for cell in grid.in_order(server))
        blocks.append(Paragraph(text(
            Strong(f"{grid.scenario} over links on {server}"),
            f" ({tls_label(grid.reference_tls)}, medians): each mode's {what} from the shortest round trip to "
            "the longest (how many times as long)"
            + (", and its efficiency against the limit (100%: as fast as the link allows)" if limited else "")
            + "; charts" + (" and tables" if limited else "") + " below:",
        )))
        blocks.append(BulletList(tuple(lines)))
    return blocks
