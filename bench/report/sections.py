"""From results to two documents, the report and its appendix: one function per section.

``build_document`` runs the functions of ``SECTIONS`` in turn: the decision page, the
claims, one short section per scenario (its headline chart, a few findings, a link to the
rest), JMAP against IMAP (where the run has both), the run in brief, integrity, failed cells (when any) and how to reproduce the run.
``build_appendix`` runs those of ``APPENDIX``: every scenario in detail, the links, TLS
overhead, capabilities, per-command latency, the integrity of every cell, micro-benchmarks,
where the run's time went, and the environment and plan in full. A new kind of section is one more function in one of
those tuples; a new scenario's parts are registered in ``bench.report.scenarios``, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy

from bench.report import links, units
from bench.report.capabilities import capabilities
from bench.report.cells import Grid, link_figures, link_label, scenarios, shows_links, tls_label, unrun_word
from bench.report.decision import decision_section
from bench.report.jmap_imap import jmap_imap_section
from bench.report.document import (
    Anchor,
    Block,
    BulletList,
    Chart,
    Code,
    CodeBlock,
    Document,
    Link,
    Paragraph,
    Section,
    Strong,
    Table,
    Text,
    joined,
    slug,
    text,
)
from bench.report.overhead import Overhead, beyond_noise, overheads, typical
from bench.report.scenarios import report_for
from bench.report.time_split import time_split_section
from bench.report.scenarios.base import detail_anchor, detail_title, headline_chart, title
from bench.report.verdicts import claims_evidence, claims_section
from bench.results import CellResult, Results

SectionBuilder = Callable[[Results], Section | list[Section]]

# Plan entries shown first, with their labels; any other entry follows under its own name.
PLAN_LABELS = {
    "scenarios": "scenarios",
    "servers": "servers",
    "modes": "modes",
    "variants": "variants",
    "links": "links",
    "tls": "TLS",
    "cells": "cells",
    "messages": "messages per mailbox",
    "repeat": "samples per cell",
    "seed": "seed",
    "pipelining": "pipelining allowed",
}
IDS_SHOWN = 20  # message ids named per integrity problem before "and N more"
INTEGRITY_TITLE = "Integrity of every cell"


def _run_words(results: Results) -> str:
    """The run in one sentence: cells, servers, TLS, links, mailbox, samples."""
    plan = results.plan
    corpus = plan.get("corpus", {})
    grids = [Grid.of(results, name) for name in scenarios(results)]
    servers = list(dict.fromkeys(server for grid in grids for server in grid.servers))
    settings = list(dict.fromkeys(tls for grid in grids for tls in grid.tls))
    plan_name = f" ({plan['name']} plan)" if plan.get("name") else ""
    words = f"run {results.run_id}{plan_name}: {len(results.cells)} cells on {', '.join(servers) or 'no server'}"
    if settings:
        words += f", with {' and '.join(tls_label(tls) for tls in settings)}"
    figures = link_figures(results)
    if shows_links(list(figures)):
        words += f", over the links {', '.join(link_label(name, f) for name, f in figures.items())}"
    facts = []
    if "messages" in corpus:
        size = f", {units.byte_size(corpus['bytes'])}" if "bytes" in corpus else ""
        facts.append(f"a mailbox of {units.number(corpus['messages'])} {corpus.get('source', '')} messages{size}")
    if "repeat" in plan:
        facts.append(results.samples_per_cell())
    return words + (f"; {'; '.join(facts)}" if facts else "")


APPENDIX_TOP = "appendix-top"  # the appendix's first place, for links from the report


def _tls_summary(every: Grid) -> Text | None:
    """What TLS cost on each server, in one line: the median of the cells' ratios, on the
    reference link (lan when it ran)."""
    grid = every.at(every.reference_link)
    on_link = f" on link {grid.link_label(grid.links[0])}" if every.shows_links else ""
    parts = []
    for tls in grid.tls:
        if tls == "off":
            continue
        per_server = []
        for server in grid.servers:
            found = [o for o in overheads(grid, server) if o.tls == tls]
            time, wire = typical([o.time_ratio for o in found]), typical([o.wire_ratio for o in found])
            if time is not None or wire is not None:
                figures = [f"time {units.factor(time)}" if time is not None else "time n/a",
                           f"wire bytes received {units.close_factor(wire)}" if wire is not None else "wire bytes n/a"]
                per_server.append(f"{server} {', '.join(figures)}")
        if per_server:
            parts.append(f"{tls_label(tls)} against TLS off, median over the {grid.scenario} cells{on_link}: "
                         + "; ".join(per_server) + ".")
    if not parts:
        return None
    return text(Strong("In short:"), " ", " ".join(parts))


def _describe(value: Any) -> str:
    """A free-form environment value as one line."""
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_describe(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_describe(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _sentence(words: str) -> str:
    return words if words.rstrip().endswith((".", "!", "?")) else words.rstrip() + "."


def _machine(machine: dict[str, Any]) -> str:
    machine = dict(machine)
    known = []
    cpus = [machine.pop(key) for key in ("cpus", "cpu_count") if key in machine]
    if cpus:
        known.append(f"{cpus[0]} CPUs")
    if "memory_bytes" in machine:
        known.append(f"{units.number(machine.pop('memory_bytes') / 2**30)} GiB memory")
    if "memory_gb" in machine:
        known.append(f"{units.number(machine.pop('memory_gb'))} GB memory")
    labels = {"kernel": "kernel ", "boot_id": "boot ", "cpu_model": ""}
    return ", ".join(known + [f"{labels.get(k, '')}{_describe(v)}" for k, v in machine.items() if v is not None])


def environment(results: Results) -> Section:
    env = dict(results.environment)
    rows: list[tuple[Text, ...]] = []

    def row(label: str, *value: Any) -> None:
        rows.append((text(label), text(*value)))

    if "machine" in env:
        row("machine", _machine(env.pop("machine")))
    if "python" in env:
        row("Python", str(env.pop("python")))
    if "docker" in env:
        docker = env.pop("docker")
        row("Docker", _describe(docker) if not isinstance(docker, dict) else ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in docker.items()))
    if "base_image" in env:
        image = env.pop("base_image")
        if isinstance(image, dict):
            row("base image", Code(str(image.get("ref", "?"))), f" (source: {image.get('source', 'not recorded')})")
        else:
            row("base image", _describe(image))
    if "libraries" in env:
        libraries = env.pop("libraries")
        row("libraries", ", ".join(f"{name} {version}" for name, version in libraries.items()))
    for name, server in env.pop("servers", {}).items():
        offered = {True: ", TLS offered", False: ", no TLS"}.get(server.get("tls"), "")
        row(name, f"version {server.get('version', 'not recorded')}{offered} (capabilities under Capabilities)")
    for key, value in env.items():
        row(key.replace("_", " "), _describe(value))
    if "seed" in results.plan:
        row("seed", Code(str(results.plan["seed"])))
    return Section(
        "Environment",
        [
            Paragraph(text("Where the run took place; the figures hold for this machine and these versions.")),
            Table(("item", "value"), tuple(rows)),
        ],
    )


def _side(cell: CellResult | None, value: float | None, fmt: Callable[[float], str]) -> str:
    if cell is None:
        return "not run"
    if not cell.ok:
        return unrun_word(cell)
    return "n/a" if value is None else fmt(value)


def _overhead_table(grid: Grid, server: str, link: str | None = None,
                    significant: set[tuple[str, ...]] = frozenset()) -> Table | None:
    """One server's TLS overhead, on one link when the run had several (``link``);
    ``significant``: the overheads beyond the noise after the correction (``beyond_noise``)."""
    found = [o for o in overheads(grid, server) if link is None or o.link == link]
    if not found:
        return None
    settings = list(dict.fromkeys(o.tls for o in found))
    wire = [v.median for o in found for v in (o.wire_off, o.wire_on) if v is not None]
    unit = units.byte_unit(wire)
    headers = ["variant", "mode"]
    for tls in settings:
        headers += [f"time off → {tls} (s)", f"time {tls}/off", "beyond the noise",
                    f"received on the wire off → {tls} ({unit.symbol})", f"received {tls}/off"]
    by_key = {(o.variant, o.mode, o.tls): o for o in found}
    rows = []
    for variant in grid.variants:
        for mode in grid.modes:
            if not any((variant, mode, tls) in by_key for tls in settings):
                continue
            row: list[Text] = [text(variant), text(mode)]
            for tls in settings:
                o: Overhead | None = by_key.get((variant, mode, tls))
                if o is None:
                    row += [text("—")] * 5
                    continue
                difference = o.time_difference
                row += [
                    text(f"{_side(o.off, o.time_off and o.time_off.median, units.number)} → "
                         f"{_side(o.on, o.time_on and o.time_on.median, units.number)}"),
                    text(units.factor(o.time_ratio) if o.time_ratio is not None else "n/a"),
                    text("n/a" if difference is None else ("yes" if o.cell_ids in significant else "no")),
                    text(f"{_side(o.off, o.wire_off and o.wire_off.median, unit)} → "
                         f"{_side(o.on, o.wire_on and o.wire_on.median, unit)}"),
                    text(units.close_factor(o.wire_ratio) if o.wire_ratio is not None else "n/a"),
                ]
            rows.append(tuple(row))
    on_link = f", link {grid.link_label(link)}" if link is not None else ""
    return Table(tuple(headers), tuple(rows), (False, False, *([True] * (len(headers) - 2))),
                 caption=f"{grid.scenario} on {server}{on_link}")


def tls_overhead(results: Results) -> Section:
    blocks: list[Block] = [Paragraph(text(
        "What TLS costs, from this run: each cell with TLS on (or STARTTLS) against the same cell with TLS "
        "off, on the same server, mode and variant. Time is the ratio of the medians; received on the wire is "
        "what the TCP connection carried to the client, TLS records and handshake included; both cells on "
        "the same link. Beyond the noise: whether the two cells' times differ by a two-sided Mann–Whitney U "
        "test, corrected for the number of comparisons in this section (Benjamini–Hochberg), and by at "
        "least 10 %; with fewer than 4 samples a side no difference can be told from noise. n/a: one side is missing, failed or "
        "did not record the figure."
    ))]
    tables: list[Block] = []
    significant = beyond_noise([o for name in scenarios(results) for o in overheads(Grid.of(results, name))])
    for name in scenarios(results):
        grid = Grid.of(results, name)
        line = _tls_summary(grid)
        if line is not None:
            blocks.append(Paragraph(line))
        per_link = grid.links if grid.shows_links else [None]
        tables += [table for server in grid.servers for link in per_link
                   if (table := _overhead_table(grid, server, link, significant)) is not None]
    if tables:
        blocks += tables
    else:
        blocks.append(Paragraph(text("This run had no cell with TLS on or STARTTLS to compare.")))
    return Section("TLS overhead", blocks)


def plan_and_corpus(results: Results) -> Section:
    plan = dict(results.plan)
    corpus = dict(plan.pop("corpus", {}))
    rows: list[tuple[Text, ...]] = []
    for key, label in PLAN_LABELS.items():
        if key == "links" and key in plan:
            plan.pop(key)
            named = [link_label(name, f) for name, f in link_figures(results).items()]
            rows.append((text(label), text(", ".join(named) + (" (figures under Links)" if links.applies(results)
                                                                 else ""))))
        elif key in plan:
            rows.append((text(label), text(_describe(plan.pop(key)))))
    rows += [(text(key.replace("_", " ")), text(_describe(value))) for key, value in plan.items()]
    statement = corpus.pop("canonicalisation", None)
    if corpus:
        described = [str(corpus.pop("source", "unknown source"))]
        if "messages" in corpus:
            described.append(f"{units.number(corpus.pop('messages'))} messages")
        if "bytes" in corpus:
            size = corpus.pop("bytes")
            described.append(f"{units.byte_size(size)} ({units.number(size)} bytes)")
        described += [f"{key} {_describe(value)}" for key, value in corpus.items()]
        rows.append((text("corpus"), text(", ".join(described))))
    rows.append((text("started"), text(results.started_at)))
    rows.append((text("finished"), text(results.finished_at or "did not finish")))
    blocks: list[Block] = [Table(("item", "value"), tuple(rows))]
    blocks.append(Paragraph(text(
        Strong("How messages are compared:"),
        " ",
        _sentence(statement) if statement else "the results do not say how messages were canonicalised before comparison.",
    )))
    return Section("Plan & corpus", blocks)


def scenario_brief(results: Results, name: str) -> Section:
    """A scenario in the report: what it does, its headline chart, a few findings, and a
    link to the rest in the appendix."""
    grid = Grid.of(results, name)
    report = report_for(name)
    blocks: list[Block] = [Paragraph(text(report.about))] if report.about else []
    blocks += headline_chart(results, grid, report.headline, report.charts)
    lines = report.findings(results, grid) if report.findings is not None else []
    if lines:
        blocks.append(BulletList(tuple(lines)))
    if report.brief is not None:
        blocks += report.brief(grid)
    failed = [cell for cell in grid.cells.values() if not cell.ok and cell.offered]
    if failed:
        blocks.append(Paragraph(text(f"{len(failed)} of {len(grid.cells)} cells failed; their figures are left "
                                     "out (see Failed cells).")))
    lacking = [cell for cell in grid.cells.values() if not cell.offered]
    if lacking:
        blocks.append(Paragraph(text(_not_offered_words(lacking))))
    blocks.append(Paragraph(text("Every figure of every cell, per server, and the other charts: ",
                                 Link(detail_title(name), detail_anchor(name)), " in the appendix.")))
    return Section(title(name), blocks)


def scenario_briefs(results: Results) -> list[Section]:
    return [scenario_brief(results, name) for name in scenarios(results)]


def scenario_details(results: Results) -> list[Section]:
    return [report_for(name).section(results, Grid.of(results, name)) for name in scenarios(results)]


MICRO_STATS = (("median_ms", "median (ms)"), ("iqr_ms", "IQR (ms)"), ("min_ms", "min (ms)"), ("max_ms", "max (ms)"))


def capacity_section(results: Results) -> list[Section]:
    """How many users each server holds per mode (many-devices); nothing without its cells."""
    from bench.report.scenarios.many_devices import capacity_section as build

    return build(results)


def micro_benchmarks(results: Results) -> list[Section]:
    """The per-operation micro-benchmarks of ``mailbench micro``, when the results hold any."""
    rows = []
    for row in results.micro:
        figures = [text(units.number(row[key]) if isinstance(row.get(key), (int, float)) else "n/a")
                   for key, _ in MICRO_STATS]
        rows.append((
            text(str(row.get("operation") or "?")), text(str(row.get("server") or "?")),
            text(str(row.get("protocol") or "?")), text(str(row.get("tls") or "off")),
            text(units.number(row["rounds"]) if isinstance(row.get("rounds"), int) else "n/a"), *figures,
        ))
    if not rows:
        return []
    return [Section("Micro-benchmarks", [
        Paragraph(text(
            "One operation at a time against each server, timed by pytest-benchmark over calibrated rounds "
            "(", Code("mailbench micro"), "); its statistics, in milliseconds."
        )),
        Table(("operation", "server", "protocol", "TLS", "rounds", *(label for _, label in MICRO_STATS)),
              tuple(rows), (False, False, False, False, True, *([True] * len(MICRO_STATS)))),
    ])]


def command_latency(results: Results) -> Section:
    blocks: list[Block] = [Paragraph(text(
        "Time from sending a command to the end of its response, as the client saw it, over every call "
        "in every sample of the cell; median and 95th percentile by numpy.percentile (linear interpolation)."
    ))]
    windowed = [command for cell in results.cells for command in cell.commands if "window" in command]
    if windowed:
        blocks.append(Paragraph(text(
            "Pipelined commands, such as ", Code(windowed[0]), ", are timed per window: from writing the "
            "window's first command to reading its last answer."
        )))
    for name in scenarios(results):
        grid = Grid.of(results, name)
        linked = grid.shows_links
        for server in grid.servers:
            rows = []
            for cell in grid.in_order(server):
                for command, calls in cell.commands.items():
                    latencies = calls.get("latency_ms", [])
                    if not latencies:
                        continue
                    median, p95 = numpy.percentile(latencies, [50, 95])
                    rows.append((
                        text(cell.mode), text(cell.variant), *([text(cell.link)] if linked else []),
                        text(cell.tls), text(Code(command)),
                        text(units.number(calls.get("count", len(latencies)))),
                        text(units.number(float(median))), text(units.number(float(p95))),
                        text(units.number(max(latencies))),
                    ))
            if rows:
                keys = ("mode", "variant", *(["link"] if linked else []), "TLS", "command")
                blocks.append(Table(
                    (*keys, "calls", "median (ms)", "p95 (ms)", "max (ms)"),
                    tuple(rows), (*([False] * len(keys)), True, True, True, True),
                    caption=f"{name} on {server}",
                ))
    if not any(isinstance(block, Table) for block in blocks):
        blocks.append(Paragraph(text("No cell recorded per-command latencies.")))
    return Section("Per-command latency", blocks)


def _refused(refused: dict[str, Any] | None) -> list[Any]:
    """What the server would not take at delivery: left out of the truth, so not checked."""
    if not refused:
        return []
    count = int(refused.get("count", 0))
    sizes = ", ".join(units.byte_size(size) for size in refused.get("sizes_bytes", [])[:IDS_SHOWN])
    return [f"{count} corpus message{'' if count == 1 else 's'} refused by the server at delivery, "
            f"in each sample ({sizes}), not checked: ", Code(str(refused.get("answer", "")))]


def _problems(integrity: dict[str, Any], refused: dict[str, Any] | None = None) -> Text:
    pieces: list[Any] = _refused(refused)
    for kind in ("missing", "changed", "unexpected"):
        ids = integrity.get(kind) or []
        if not ids:
            continue
        if pieces:
            pieces.append("; ")
        pieces.append(f"{len(ids)} {kind}: ")
        pieces += joined([Code(str(i)) for i in ids[:IDS_SHOWN]])
        if len(ids) > IDS_SHOWN:
            pieces.append(f" and {len(ids) - IDS_SHOWN} more (all in results.json)")
    return text(*pieces) if pieces else text("—")


INTEGRITY_SAID = ("After each sample the messages the device holds are compared with the corpus as delivered: "
                  "a message missing, changed or not in the corpus fails the cell, however fast it was. "
                  "Messages checked are summed over the cell's samples.")


def _integrity_rows(results: Results, only_problems: bool = False) -> list[tuple[Text, ...]]:
    rows = []
    for name in scenarios(results):
        for cell in Grid.of(results, name).in_order():
            if not cell.offered:
                continue  # nothing ran, nothing to check: listed under Not offered
            check = cell.integrity
            if only_problems and check.get("passed") and not cell.info.get("refused"):
                continue
            if not check:
                rows.append((text(Code(cell.id)), text("—"), text("not checked"), _problems({}, cell.info.get("refused"))))
                continue
            count = check.get("samples")
            samples = f" ({count} sample{'' if count == 1 else 's'})" if count is not None else ""
            if not check.get("passed"):
                verdict = text(Strong("FAILED"), samples)
            elif cell.ok:
                verdict = text("passed", samples)
            else:  # the samples before the failure passed; the failure itself is under Failed cells
                verdict = text(f"passed{samples}, then the cell failed")
            rows.append((text(Code(cell.id)), text(units.number(check.get("checked", 0))), verdict,
                         _problems(check, cell.info.get("refused"))))
    return rows


def _integrity_table(rows: list[tuple[Text, ...]]) -> Table:
    return Table(("cell", "messages checked", "result", "problems"), tuple(rows), (False, True, False, False))


def integrity(results: Results) -> Section:
    """Every cell's integrity check (appendix)."""
    return Section(INTEGRITY_TITLE, [Paragraph(text(INTEGRITY_SAID)), _integrity_table(_integrity_rows(results))])


def integrity_brief(results: Results) -> Section:
    """The integrity of the run in a few lines, and the cells that did not pass cleanly."""
    checked = [cell for cell in results.cells if cell.integrity]
    passed = [cell for cell in checked if cell.integrity.get("passed")]
    messages = sum(int(cell.integrity.get("checked", 0)) for cell in checked)
    words: list[Any] = [
        Strong(f"{len(passed)} of {len(checked)} checked cells passed"),
        f" ({units.number(messages)} messages checked in all). {INTEGRITY_SAID}"
    ]
    refusing = [cell for cell in results.cells if cell.info.get("refused")]
    if refusing:
        words.append(f" In {len(refusing)} cell{'' if len(refusing) == 1 else 's'} the server refused corpus "
                     "messages at delivery; the rest were delivered and checked.")
    failed = results.failed_cells
    words.append(f" {len(failed)} of {len(results.cells)} cells failed (below)." if failed else " No cell failed.")
    blocks: list[Block] = [Paragraph(text(*words))]
    rows = _integrity_rows(results, only_problems=True)
    if rows:
        blocks.append(_integrity_table(rows))
    blocks.append(Paragraph(text("Every cell's check: ", Link(INTEGRITY_TITLE, slug(INTEGRITY_TITLE)),
                                 " in the appendix.")))
    return Section("Integrity", blocks)


def _not_offered_words(cells: list[CellResult]) -> str:
    """One sentence on the cells whose server lacks their protocol, by server and mode."""
    pairs = sorted({f"{cell.mode} on {cell.server}" for cell in cells})
    return (f"{len(cells)} cell{' was' if len(cells) == 1 else 's were'} not run because the server does not offer "
            f"the protocol ({', '.join(pairs)}): not a failure, and no figure stands for them.")


def not_offered_cells(results: Results) -> list[Section]:
    """The cells whose server lacks their protocol, each with the server's one line; no
    section when there are none."""
    lacking = results.not_offered_cells
    if not lacking:
        return []
    return [Section("Not offered", [
        Paragraph(text(_not_offered_words(lacking))),
        Table(("cell", "why"), tuple((text(Code(cell.id)), text(cell.error or "not offered by this server"))
                                     for cell in lacking)),
    ])]


def failed_cells(results: Results) -> list[Section]:
    """The cells that failed, with their errors; no section when none did."""
    failed = results.failed_cells
    if not failed:
        return []
    return [Section(
        "Failed cells",
        [
            Paragraph(text(f"{len(failed)} of {len(results.cells)} cells failed; the run went on without them.")),
            Table(
                ("cell", "error"),
                tuple((text(Code(cell.id)), text(Code(cell.error or "no error recorded"))) for cell in failed),
            ),
        ],
    )]


def reproduce(results: Results) -> Section:
    if not results.command:
        return Section("Reproduce", [Paragraph(text("The results do not record the command that made them."))])
    return Section(
        "Reproduce",
        [
            Paragraph(text(
                "The command that made these results; run it with the versions listed under Environment, "
                "and the seed in the plan, for the same corpus:"
            )),
            CodeBlock(results.command),
        ],
    )


def run_brief(results: Results) -> Section:
    """Environment, plan and corpus in a few lines; the full tables are in the appendix."""
    env = results.environment
    plan = results.plan
    lines: list[Text] = []
    machine = [_machine(env["machine"])] if "machine" in env else []
    software = [f"Python {env['python']}"] if "python" in env else []
    docker = env.get("docker")
    if isinstance(docker, dict) and docker.get("server"):
        software.append(f"Docker {docker['server']}")
    if machine or software:
        lines.append(text(Strong("Machine:"), " ", "; ".join(machine + software), "."))
    servers = []
    for name, server in env.get("servers", {}).items():
        offered = {True: ", TLS offered", False: ", no TLS"}.get(server.get("tls"), "")
        servers.append(f"{name} {server.get('version', '(version not recorded)')}{offered}")
    image = env.get("base_image")
    if servers or image:
        base = []
        if isinstance(image, dict):
            base = ["; base image ", Code(str(image.get("ref", "?"))), f" ({image.get('source', 'source not recorded')})"]
        lines.append(text(Strong("Servers:"), " ", "; ".join(servers) or "not recorded", *base, "."))
    planned = [f"{label} {_describe(plan[key])}" for key, label in PLAN_LABELS.items()
               if key in plan and key not in ("links", "cells")]
    if planned:
        lines.append(text(Strong("Plan:"), " ", "; ".join(planned), f"; {len(results.cells)} cells."))
    corpus = plan.get("corpus", {})
    if corpus:
        size = f", {units.byte_size(corpus['bytes'])}" if "bytes" in corpus else ""
        count = f"{units.number(corpus['messages'])} messages" if "messages" in corpus else "messages"
        statement = corpus.get("canonicalisation")
        lines.append(text(Strong("Corpus:"), " ", f"{corpus.get('source', 'unknown source')}, {count}{size}. ",
                          _sentence(statement[:1].upper() + statement[1:]) if statement
                          else "How messages were canonicalised is not recorded."))
    lines.append(text(Strong("Ran:"), " ", f"{results.started_at} to {results.finished_at or 'did not finish'}."))
    return Section("Environment, plan and corpus", [
        BulletList(tuple(lines)),
        Paragraph(text("In full in the appendix: ", *joined([Link(name, slug(name)) for name in
                                                              ("Environment", "Plan & corpus", "Capabilities")]),
                       ".")),
    ])


SECTIONS: tuple[SectionBuilder, ...] = (
    decision_section,
    claims_section,
    capacity_section,
    scenario_briefs,
    jmap_imap_section,
    run_brief,
    integrity_brief,
    failed_cells,
    not_offered_cells,
    reproduce,
)

APPENDIX: tuple[SectionBuilder, ...] = (
    claims_evidence,
    scenario_details,
    links.links_section,
    tls_overhead,
    capabilities,
    command_latency,
    integrity,
    micro_benchmarks,
    time_split_section,
    environment,
    plan_and_corpus,
)


def _document(title: str, intro: list[Block], results: Results, sections: Sequence[SectionBuilder]) -> Document:
    document = Document(title=title, intro=intro)
    for build in sections:
        made = build(results)
        document.sections.extend(made if isinstance(made, list) else [made])
    return document


def build_document(results: Results, sections: Sequence[SectionBuilder] = SECTIONS) -> Document:
    """The report as one document, built once and rendered by every format."""
    return _document(f"mailbench report: run {results.run_id}", [Paragraph(text(
        "IMAP against POP3, measured on real mail servers in containers, ", _run_words(results), ". "
        f"Started {results.started_at}, finished {results.finished_at or 'not finished'}. This report gives the "
        "decision, the claims and each scenario's headline; every figure of every cell is in ",
        Link("the appendix", APPENDIX_TOP), " (appendix.md; in report.html, folded at the end).",
    ))], results, sections)


def build_appendix(results: Results, sections: Sequence[SectionBuilder] = APPENDIX) -> Document:
    """The appendix: every figure of every cell. The charts the report shows as scenario
    headlines are not repeated here."""
    appendix = _document(f"Appendix: run {results.run_id}", [Paragraph(text(
        Anchor(APPENDIX_TOP), "The detail behind the report (report.md) of ", _run_words(results), ": the "
        "evidence for each claim, each scenario in detail, then the links, TLS overhead, capabilities, per-command latency, the integrity "
        "of every cell, micro-benchmarks, where the run's time went, and the environment and plan in full. A figure is the median of "
        "the cell's samples with their range (min–max), or, where every sample had the same value, that "
        "value and the number of samples.",
    ))], results, sections)
    headlines = {block.stem for name in scenarios(results)
                 for block in headline_chart(results, Grid.of(results, name), report_for(name).headline,
                                             report_for(name).charts)
                 if isinstance(block, Chart)}
    for _, section in appendix.walk():
        section.blocks = [b for b in section.blocks if not (isinstance(b, Chart) and b.stem in headlines)]
    return appendix
