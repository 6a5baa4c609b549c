"""bulk-fetch: download a whole mailbox, its headers, or only what is new."""

from __future__ import annotations

from bench.report import units
from bench.report.cells import Grid, Stat
from bench.report.document import Block, BulletList, Paragraph, Section, Strong, Text, text
from bench.report.scenarios.base import ScenarioReport, chart_blocks, title
from bench.report.tables import metric_table
from bench.results import Results

NAME = "bulk-fetch"

VARIANTS = {
    "full": ("Full download", "every message, in full"),
    "headers": ("Headers only", "the headers of every message (IMAP FETCH of the header, POP3 TOP n 0)"),
    "new": ("New mail only", "only the messages that arrived since the previous sync"),
}

TRAFFIC = ("messages", "elapsed_s", "messages_per_s", "mb_per_s", "round_trips", "bytes_down", "bytes_up")
RESOURCES = ("client_cpu_s", "server_cpu_s", "client_peak_rss_mb", "server_mem_mb", "server_disk_bytes")


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
    result = Section(title(NAME), blocks)
    spread = "median (min–max) over the samples"
    traffic = [m for m in TRAFFIC if grid.has_metric(m)]
    resources = [m for m in RESOURCES if grid.has_metric(m)]
    others = sorted(grid.metric_names() - {*TRAFFIC, *RESOURCES})
    for server in grid.servers:
        tables = [
            metric_table(grid, server, traffic, caption=f"Speed and traffic, {spread}"),
            metric_table(grid, server, resources, caption=f"Resources, client and server, {spread}"),
        ]
        if others:
            tables.append(metric_table(grid, server, others, caption=f"Other recorded figures, {spread}"))
        result.children.append(Section(f"{NAME} on {server}", [*tables, *chart_blocks(results, NAME, server)]))
    return result


def _overlap(a: Stat, b: Stat) -> bool:
    """Whether two cells' sample ranges overlap, so that their order may be noise."""
    return a.min <= b.max and b.min <= a.max


def _variant_line(grid: Grid, server: str, variant: str) -> Text | None:
    modes = grid.modes
    times = {m: s for m in modes if (s := grid.stat(server, m, variant, "elapsed_s")) is not None}
    failed = [m for m in modes if (c := grid.cell(server, m, variant)) is not None and not c.ok]
    if not times:
        return text(Strong(variant_label(variant)), ": no cell succeeded.") if failed else None

    fastest = min(times, key=lambda m: times[m].median)
    best = times[fastest]
    messages = grid.stat(server, fastest, variant, "messages")
    parts: list = [Strong(variant_label(variant))]
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
        figures = [f"{m} {fmt(s.median)}" for m in modes if (s := grid.stat(server, m, variant, metric)) is not None]
        if figures:
            parts.append(f" {what}: {', '.join(figures)}.")
    if failed:
        parts.append(f" Failed: {', '.join(failed)} (see Failed cells).")
    return text(*parts)


def _conditions(results: Results, grid: Grid, server: str) -> Text:
    cells = [c for c in grid.in_order(server)]
    links = sorted({str(c.info["link"]) for c in cells if "link" in c.info})
    links = links or [str(link) for link in results.plan.get("links", ())]
    conditions = [f"link: {', '.join(links)}" if links else "no link profile recorded"]
    if any("pipelined" in c.info for c in cells):
        pipelined = [m for m in grid.modes if any(c.mode == m and c.info.get("pipelined") for c in cells)]
        conditions.append(f"commands pipelined in {', '.join(pipelined)}" if pipelined else "no mode pipelined commands")
    return text(Strong(f"{NAME} on {server}"), f" ({'; '.join(conditions)}), medians of each cell's samples:")


def _fastest(grid: Grid, server: str) -> Text | None:
    """Which mode was fastest in how many variants: the answer in one line."""
    winners: dict[str, list[str]] = {}
    for variant in grid.variants:
        times = {m: s.median for m in grid.modes if (s := grid.stat(server, m, variant, "elapsed_s")) is not None}
        if times:
            winners.setdefault(min(times, key=times.__getitem__), []).append(variant)
    if not winners:
        return None
    compared = sum(len(v) for v in winners.values())
    parts = [
        f"{mode} in {len(variants)} of {compared} ({', '.join(variants)})"
        for mode, variants in sorted(winners.items(), key=lambda item: -len(item[1]))
    ]
    return text("Fastest mode per variant: ", Strong(parts[0]), *(f"; {p}" for p in parts[1:]), ".")


def summary(results: Results, grid: Grid) -> list[Block]:
    blocks: list[Block] = []
    for server in grid.servers:
        lines = [line for line in [_fastest(grid, server)] if line is not None]
        lines += [line for v in grid.variants if (line := _variant_line(grid, server, v)) is not None]
        trips = [s.median for m in grid.modes for v in grid.variants
                 if (s := grid.stat(server, m, v, "round_trips")) is not None and s.median > 0]
        if trips and max(trips) > 2 * min(trips):
            lines.append(text(
                "Every round trip waits for the link's latency, so the gap in round trips above "
                "weighs more on a slower link than it does here."
            ))
        # In the "new" variant the device synced once before the new mail came: the server's
        # disk then shows what each mode leaves on the server between two syncs.
        disk = [
            f"{m} {units.byte_size(s.median)}"
            for m in grid.modes
            if (s := grid.stat(server, m, "new", "server_disk_bytes")) is not None
        ]
        if disk:
            lines.append(text(f"Mail kept on the server after an earlier sync (server disk): {', '.join(disk)}."))
        if lines:
            blocks += [Paragraph(_conditions(results, grid, server)), BulletList(tuple(lines))]
    return blocks


REPORT = ScenarioReport(NAME, section, summary)
