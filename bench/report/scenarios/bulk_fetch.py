"""bulk-fetch: download a whole mailbox, its headers, or only what is new."""

from __future__ import annotations

from typing import Any

from bench.report import links, units
from bench.report.cells import Grid, Stat, tls_label, unrun_word
from bench.report.charts import time_metric
from bench.report.document import Block, BulletList, Paragraph, Section, Strong, Table, Text, text
from bench.report.overhead import overheads, typical
from bench.report.scenarios.base import ScenarioReport, chart_blocks, detail_title, same_in_every_sample
from bench.report.stats import differs
from bench.report.tables import interval_table, metric_table
from bench.results import Results

NAME = "bulk-fetch"

VARIANTS = {
    "full": ("Full download", "every message, in full"),
    "headers": ("Headers only", "the headers of every message (IMAP FETCH of the header, POP3 TOP n 0)"),
    "new": ("New mail only", "only the messages that arrived since the previous sync"),
}

SPEED = ("messages", "elapsed_s", "messages_per_s", "mb_per_s", "round_trips", "connections")
TRAFFIC = ("bytes_down", "bytes_up", "wire_bytes_down", "wire_bytes_up")
RESOURCES = ("client_cpu_s", "server_cpu_s", "client_rss_growth_mb", "server_mem_delta_mb",
             "client_peak_rss_mb", "server_mem_mb")  # the last two: their names in older files
STORAGE = ("server_disk_bytes", "server_disk_after_bytes")
LIMIT = ("limit_s", "efficiency")  # shown under Links, as shares, beside the time they come from
SPREAD = "median (min–max) over the samples"


def variant_label(variant: str) -> str:
    return VARIANTS.get(variant, (variant, ""))[0]


def section(results: Results, grid: Grid) -> Section:
    described = [
        text(Strong(variant), f": {VARIANTS[variant][1]}.") for variant in grid.variants if variant in VARIANTS
    ]
    blocks: list[Block] = [
        Paragraph(text(
            "Each cell connects, logs in and downloads from a mailbox holding the corpus, then checks "
            "every downloaded message against the corpus. Variants:"
        )),
    ]
    if described:
        blocks.append(BulletList(tuple(described)))
    blocks.append(Paragraph(text(
        "Every cell ran with TLS off and, where the plan says so, with TLS on (IMAPS, POP3S) or STARTTLS: "
        "the TLS column tells them apart. Received and sent are the bytes the protocol carried; "
        "on the wire counts what the TCP connection carried, TLS records and handshakes included. "
        "The time tables give the 95% interval of each median from order statistics "
        "(scipy.stats.quantile_test); with fewer than 6 samples no such interval reaches 95%, so the "
        "widest there is, min–max, is shown with the confidence it has."
    )))
    if grid.shows_links:
        blocks.append(Paragraph(text(
            f"Links: {', '.join(grid.link_label(link) for link in grid.links)}. Each cell ran on one link: the "
            "link column tells them apart, and the charts are drawn once per link. Limit is the time a perfect "
            "protocol would need on the cell's link for the same bytes; efficiency is the limit divided by the "
            "time (1.00: as fast as the link allows). Time against round-trip time, and efficiency per mode, "
            "under Links."
        )))
    result = Section(detail_title(NAME), blocks)
    reference = grid.at(grid.reference_link)
    if len(grid.servers) > 1:
        compared = [*_servers_compared(grid),
                    *(block for v in grid.variants for block in chart_blocks(results, NAME, variant=v))]
        result.children.append(Section(f"{NAME}: servers compared", compared))
    groups = [
        (SPEED, f"Speed, {SPREAD}"),
        (TRAFFIC, f"Traffic, {SPREAD}"),
        (RESOURCES, f"Resources, client and server, {SPREAD}"),
        (STORAGE, f"The account's mail store on the server before and after the sync, {SPREAD}"),
    ]
    others = sorted(grid.metric_names() - {metric for metrics, _ in groups for metric in metrics} - set(LIMIT))
    if others:
        groups.append((tuple(others), f"Other recorded figures, {SPREAD}"))
    for server in grid.servers:
        tables: list[Block] = []
        for metrics, caption in groups:
            present = [m for m in metrics if grid.has_metric(m)]
            if present:  # the first table holds the rows that links to a cell lead to
                tables.append(metric_table(grid, server, present, caption=caption, anchors=not tables))
            if metrics is SPEED and grid.has_metric("elapsed_s"):
                tables.append(interval_table(grid, server, "elapsed_s", caption="Time, with the median's interval"))
        result.children.append(Section(f"{NAME} on {server}", [*_server_lines(results, reference, server, grid),
                                                                 *tables, *chart_blocks(results, NAME, server)]))
    return result


def _overlap(a: Stat, b: Stat) -> bool:
    """Whether two cells' sample ranges overlap, so that their order may be noise."""
    return a.min <= b.max and b.min <= a.max


def _times(grid: Grid, server: str, variant: str, tls: str) -> dict[str, Stat]:
    return {m: s for m in grid.modes if (s := grid.stat(server, m, variant, tls, "elapsed_s")) is not None}


def _variant_line(grid: Grid, server: str, variant: str) -> Text | None:
    tls = grid.reference_tls
    modes = grid.modes
    times = _times(grid, server, variant, tls)
    failed = [m for m in modes if (c := grid.cell(server, m, variant, tls)) is not None and not c.ok and c.offered]
    if not times:
        return text(Strong(variant_label(variant)), ": no cell succeeded.") if failed else None

    fastest = min(times, key=lambda m: times[m].median)
    best = times[fastest]
    messages = grid.stat(server, fastest, variant, tls, "messages")
    parts: list[Any] = [Strong(variant_label(variant))]
    if messages is not None:
        parts.append(f" ({units.number(messages.median)} messages)")
    parts += [": ", Strong(fastest), f" fastest at {units.seconds(best.median)}"]
    others = []
    for mode, stat in times.items():
        if mode == fastest:
            continue
        note = "; ranges overlap" if _overlap(best, stat) else ""
        others.append(f"{mode} {units.factor(stat.median / best.median)} as long ({units.seconds(stat.median)}{note})")
    if others:
        parts.append("; " + ", ".join(others))
    parts.append(".")

    for metric, what, fmt in (
        ("bytes_down", "Received", units.byte_size),
        ("round_trips", "Round trips", units.number),
    ):
        stats = {m: s for m in modes if (s := grid.stat(server, m, variant, tls, metric)) is not None}
        figures = [f"{m} {fmt(s.median)}" for m, s in stats.items()]
        if figures:
            parts.append(f" {what}: {', '.join(figures)}.")
    if failed:
        parts.append(f" Failed: {', '.join(failed)} (see Failed cells).")
    return text(*parts)


def _conditions(results: Results, grid: Grid, server: str, every: Grid) -> Text:
    """What the lines comparing one server's modes hold for: ``grid`` is the reference link's,
    ``every`` the grid of all links."""
    cells = grid.in_order(server)
    if every.shows_links:
        others = [every.link_label(link) for link in every.links if link not in grid.links]
        conditions = [f"link {grid.link_label(grid.links[0])}"
                      + (f"; {', '.join(others)} under Links" if others else "")]
    else:
        conditions = ["link lan (loopback)"]
    if any("pipelined" in c.info for c in cells):
        pipelined = [m for m in grid.modes if any(c.mode == m and c.info.get("pipelined") for c in cells)]
        conditions.append(f"commands pipelined in {', '.join(pipelined)}" if pipelined else "no mode pipelined commands")
    return text(
        Strong(f"{NAME} on {server}"),
        f" ({'; '.join(conditions)}), medians of each cell's samples, {tls_label(grid.reference_tls)}:",
    )


def _winners(grid: Grid, server: str, tls: str) -> dict[str, list[str]]:
    """The fastest mode of each variant, as mode → variants it won."""
    winners: dict[str, list[str]] = {}
    for variant in grid.variants:
        times = _times(grid, server, variant, tls)
        if times:
            winners.setdefault(min(times, key=lambda m: times[m].median), []).append(variant)
    return winners


def _fastest(grid: Grid, server: str) -> Text | None:
    """Which mode was fastest in how many variants: the answer in one line, per TLS setting."""
    reference = grid.reference_tls
    winners = _winners(grid, server, reference)
    if not winners:
        return None

    def described(found: dict[str, list[str]]) -> list[str]:
        compared = sum(len(v) for v in found.values())
        return [
            f"{mode} in {len(variants)} of {compared} ({', '.join(variants)})"
            for mode, variants in sorted(found.items(), key=lambda item: -len(item[1]))
        ]

    parts = described(winners)
    line: list[Any] = ["Fastest mode per variant: ", Strong(parts[0]), *(f"; {p}" for p in parts[1:]), "."]
    for tls in grid.tls:
        if tls == reference:
            continue
        other = _winners(grid, server, tls)
        if other == winners:
            line.append(f" The same with {tls_label(tls)}.")
        elif other:
            line.append(f" With {tls_label(tls)}: {'; '.join(described(other))}.")
    return text(*line)


def _storage_line(grid: Grid, server: str) -> Text | None:
    """What each mode leaves on the server: the account's store before and after the sync."""
    tls = grid.reference_tls
    variant = "full" if "full" in grid.variants else grid.variants[0]
    if grid.has_metric("server_disk_after_bytes"):
        figures, empty = [], []
        for mode in grid.modes:
            before = grid.stat(server, mode, variant, tls, "server_disk_bytes")
            after = grid.stat(server, mode, variant, tls, "server_disk_after_bytes")
            if before is None or after is None:
                continue
            if before.max <= 0:  # a mailbox holding the corpus is never empty: the size was not read
                empty.append(mode)
            else:
                figures.append(f"{mode} {units.byte_size(before.median)} → {units.byte_size(after.median)}")
        parts = []
        if figures:
            parts.append(f"The account's mail store on the server before → after the sync "
                         f"({variant_label(variant).lower()}): {', '.join(figures)}.")
        if empty:
            parts.append(f"The server's store was reported as 0 B before the sync ({', '.join(empty)}), "
                         "though it held the mailbox: its size was not measured on this server.")
        return text(" ".join(parts)) if parts else None
    # Older results: in the "new" variant the device synced once before the new mail came,
    # so the server's disk shows what each mode leaves on the server between two syncs.
    disk = [
        f"{m} {units.byte_size(s.median)}"
        for m in grid.modes
        if (s := grid.stat(server, m, "new", tls, "server_disk_bytes")) is not None
    ]
    if disk:
        return text(f"Mail kept on the server after an earlier sync (server disk): {', '.join(disk)}.")
    return None


def _servers_table(grid: Grid) -> Table:
    """Median time per (variant, server, TLS) and mode; the fastest mode of each row in bold."""
    rows: list[tuple[Text, ...]] = []
    for variant in grid.variants:
        for server in grid.servers:
            for tls in grid.tls:
                cells = {m: grid.cell(server, m, variant, tls) for m in grid.modes}
                if not any(cells.values()):
                    continue
                times = _times(grid, server, variant, tls)
                fastest = min(times, key=lambda m: times[m].median) if times else None
                row: list[Text] = [text(variant), text(server), text(tls)]
                for mode, cell in cells.items():
                    if cell is None:
                        row.append(text("—"))
                    elif not cell.ok:
                        row.append(text(unrun_word(cell)))
                    elif mode not in times:
                        row.append(text("n/a"))
                    else:
                        shown = units.number(times[mode].median)
                        row.append(text(Strong(shown) if mode == fastest else shown))
                row.append(text(_fastest_note(times, fastest)))
                rows.append(tuple(row))
    return Table(
        headers=("variant", "server", "TLS", *(f"{m} (s)" for m in grid.modes), "fastest"),
        rows=tuple(rows),
        numeric=(False, False, False, *([True] * len(grid.modes)), False),
        caption="Median time of each cell; the fastest mode of each row in bold",
    )


def _fastest_note(times: dict[str, Stat], fastest: str | None) -> str:
    if fastest is None:
        return "—"
    close = [m for m, s in times.items() if m != fastest and not differs(times[fastest].values, s.values).significant]
    return fastest + (f" (within the noise of {', '.join(close)})" if close else "")


def _same_mode_lines(grid: Grid) -> list[Text]:
    """For each variant, every mode's time on each server, against its fastest server."""
    tls = grid.reference_tls
    lines = []
    for variant in grid.variants:
        parts = []
        for mode in grid.modes:
            times = {s: st for s in grid.servers if (st := grid.stat(s, mode, variant, tls, "elapsed_s")) is not None}
            if len(times) < 2:
                continue
            best = min(times, key=lambda s: times[s].median)
            others = [
                f"{s} {units.factor(st.median / times[best].median)}"
                for s, st in sorted(times.items(), key=lambda item: item[1].median)
                if s != best
            ]
            parts.append(f"{mode} fastest on {best} ({units.seconds(times[best].median)}; {', '.join(others)} as long)")
        if parts:
            lines.append(text(Strong(variant_label(variant)), ": ", "; ".join(parts), "."))
    return lines


def _servers_compared(every: Grid) -> list[Block]:
    """Which mode was fastest on each server, and how far apart the servers are for the same
    mode, on the reference link (lan when it ran)."""
    grid = every.at(every.reference_link)
    on_link = f", link {grid.link_label(grid.links[0])}" if every.shows_links else ""
    blocks: list[Block] = [Paragraph(text(
        f"Which mode was fastest on each server ({', '.join(grid.servers)}), and how far apart the servers are "
        f"for the same mode ({tls_label(grid.reference_tls)}{on_link}):",
    ))]
    same_mode = _same_mode_lines(grid)
    if same_mode:
        blocks.append(BulletList(tuple(same_mode)))
    blocks.append(_servers_table(grid))
    return blocks


def _server_lines(results: Results, grid: Grid, server: str, every: Grid) -> list[Block]:
    """One server's modes compared in a few lines (``grid``: the reference link's)."""
    if server not in grid.servers:
        return []
    lines = [line for line in [_fastest(grid, server)] if line is not None]
    lines += [line for v in grid.variants if (line := _variant_line(grid, server, v)) is not None]
    storage = _storage_line(grid, server)
    if storage is not None:
        lines.append(storage)
    if not lines:
        return []
    return [Paragraph(_conditions(results, grid, server, every)), BulletList(tuple(lines))]


def _factor_span(ratios: list[float]) -> str:
    low, high = min(ratios), max(ratios)
    return units.factor(low) if units.factor(low) == units.factor(high) else f"{low:.2f}–{units.factor(high)}"


def _variant_finding(grid: Grid, variant: str) -> Text | None:
    """The fastest mode of a variant on every server, and how much longer the others took."""
    tls = grid.reference_tls
    times = {s: t for s in grid.servers if (t := _times(grid, s, variant, tls))}
    if not times:
        return None
    fastest = {s: min(t, key=lambda m: t[m].median) for s, t in times.items()}
    winners: dict[str, list[str]] = {}
    for server, mode in fastest.items():
        winners.setdefault(mode, []).append(server)
    if len(winners) == 1:
        mode, servers = next(iter(winners.items()))
        where = "on every server" if len(servers) == len(grid.servers) > 1 else f"on {', '.join(servers)}"
        said: list[Any] = [Strong(mode), f" fastest {where}"]
    else:
        said = ["fastest: " + "; ".join(f"{mode} on {', '.join(servers)}" for mode, servers in winners.items())]
    others = []
    for mode in grid.modes:
        pairs = [(times[s][mode], times[s][fastest[s]]) for s in times if mode in times[s] and mode != fastest[s]]
        if not pairs:
            continue
        beyond = sum(differs(best.values, stat.values).significant for stat, best in pairs)
        others.append(f"{mode} {_factor_span([stat.median / best.median for stat, best in pairs])} as long "
                      f"(beyond the noise on {beyond} of {len(pairs)})")
    messages = [st.median for s in times if (st := grid.stat(s, fastest[s], variant, tls, "messages"))]
    count = f" ({units.span(messages)} messages)" if messages else ""
    return text(Strong(variant_label(variant)), count, ": ", *said,
                f"; {', '.join(others)}." if others else ".")


def _round_trips_finding(grid: Grid) -> Text | None:
    """Each mode's round trips in the full download (else the first variant), every server."""
    variant = "full" if "full" in grid.variants else grid.variants[0]
    tls = grid.reference_tls
    parts, stats = [], []
    for mode in grid.modes:
        found = [st for s in grid.servers if (st := grid.stat(s, mode, variant, tls, "round_trips")) is not None]
        if found:
            parts.append(f"{mode} {units.span([st.median for st in found])}")
            stats += found
    if not parts:
        return None
    same = ", the same in every sample of each cell" if same_in_every_sample(stats) else ""
    return text(f"Round trips of a {variant_label(variant).lower()} ({variant}): {', '.join(parts)}{same}; "
                "each one waits for the link's latency, so they weigh more on a slow link than here.")


def _tls_finding(grid: Grid) -> Text | None:
    """What TLS cost, per server: the median over the cells of time and wire-byte ratios."""
    parts = []
    for tls in grid.tls:
        if tls == "off":
            continue
        times, wires = [], []
        for server in grid.servers:
            found = [o for o in overheads(grid, server) if o.tls == tls]
            time, wire = typical([o.time_ratio for o in found]), typical([o.wire_ratio for o in found])
            if time is not None:
                times.append(f"{server} {units.factor(time)}")
            if wire is not None:
                wires.append(wire)
        if times:
            wire_words = f"; bytes on the wire {_close_span(wires)}" if wires else ""
            parts.append(f"{tls_label(tls)} against off, median of the cells' ratios: time {', '.join(times)}"
                         f"{wire_words}")
    return text("; ".join(parts) + ".") if parts else None


def _close_span(ratios: list[float]) -> str:
    low, high = units.close_factor(min(ratios)), units.close_factor(max(ratios))
    return low if low == high else f"{low[:-1]}–{high}"


def findings(results: Results, every: Grid) -> list[Text]:
    """The modes compared on every server, on the reference link (lan when it ran); the other
    links in one line per variant of the first server."""
    grid = every.at(every.reference_link)
    lines = [line for variant in grid.variants if (line := _variant_finding(grid, variant)) is not None]
    for line in (_round_trips_finding(grid), _tls_finding(grid)):
        if line is not None:
            lines.append(line)
    metric = time_metric(every)
    if every.shows_links and metric is not None:
        server = every.servers[0]
        variant = "full" if "full" in every.variants else every.variants[0]
        line = links.variant_line(every, server, variant, metric)
        if line is not None:
            lines.append(text(f"Over the links, on {server}, ", *line))
    return lines


REPORT = ScenarioReport(
    NAME, section, findings, headline=("rtt", "servers-time", "time"),
    about="A device downloads a mailbox holding the corpus (variants: every message in full, the headers only, "
          "only the mail that arrived since its last sync, or the messages a search finds: on the server in IMAP, "
          "on the device after downloading everything in POP3), and every message is checked against the corpus.",
)
