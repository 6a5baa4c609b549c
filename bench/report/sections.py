"""From results to a document: one function per section, in report order.

``build_document`` runs the functions of ``SECTIONS`` in turn. A new kind of section
(the claims' verdicts, say) is one more function in that tuple; a new scenario's
section is registered in ``bench.report.scenarios``, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy

from bench.report import units
from bench.report.cells import Grid, scenarios
from bench.report.document import (
    Block,
    Code,
    CodeBlock,
    Document,
    Paragraph,
    Section,
    Strong,
    Table,
    Text,
    text,
)
from bench.report.scenarios import report_for
from bench.results import Results

SectionBuilder = Callable[[Results], Section | list[Section]]

# Plan entries shown first, with their labels; any other entry follows under its own name.
PLAN_LABELS = {
    "scenarios": "scenarios",
    "servers": "servers",
    "modes": "modes",
    "variants": "variants",
    "links": "links",
    "cells": "cells",
    "messages": "messages per mailbox",
    "repeat": "samples per cell",
    "seed": "seed",
    "pipelining": "pipelining allowed",
}
IDS_SHOWN = 20  # message ids named per integrity problem before "and N more"


def summary(results: Results) -> Section:
    plan = results.plan
    corpus = plan.get("corpus", {})
    facts = []
    if "messages" in corpus:
        size = f", {units.byte_size(corpus['bytes'])}" if "bytes" in corpus else ""
        facts.append(f"a mailbox of {units.number(corpus['messages'])} {corpus.get('source', '')} messages{size}")
    if "repeat" in plan:
        facts.append(f"{plan['repeat']} samples per cell")
    grids = [Grid.of(results, name) for name in scenarios(results)]
    servers = sorted({server for grid in grids for server in grid.servers})
    opening = f"Run {results.run_id}: {len(results.cells)} cells on {', '.join(servers) or 'no server'}"
    blocks: list[Block] = [Paragraph(text(opening + (f", {'; '.join(facts)}." if facts else ".")))]
    for grid in grids:
        report = report_for(grid.scenario)
        if report.summary is not None:
            blocks += report.summary(results, grid)

    checked = [cell for cell in results.cells if cell.integrity]
    passed = [cell for cell in checked if cell.integrity.get("passed")]
    messages = sum(int(cell.integrity.get("checked", 0)) for cell in checked)
    closing: list[Any] = [
        f"Integrity: {len(passed)} of {len(checked)} checked cells passed "
        + f"({units.number(messages)} messages checked in all)."
    ]
    failed = results.failed_cells
    if failed:
        closing.append(f" {len(failed)} of {len(results.cells)} cells failed: ")
        closing += _joined([Code(cell.id) for cell in failed])
        closing.append("; their figures are left out above (see Failed cells).")
    else:
        closing.append(" No cell failed.")
    blocks.append(Paragraph(text(*closing)))
    return Section("Summary", blocks)


def _joined(pieces: Sequence[Any], separator: str = ", ") -> list[Any]:
    joined: list[Any] = []
    for i, piece in enumerate(pieces):
        joined += [separator, piece] if i else [piece]
    return joined


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
    return ", ".join(known + [_describe(v) for v in machine.values() if v is not None])


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
        row(f"{name} version", str(server.get("version", "not recorded")))
        for protocol, capabilities in server.get("capabilities", {}).items():
            row(f"{name} {protocol.upper()} capabilities", Code(" ".join(capabilities)))
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


def plan_and_corpus(results: Results) -> Section:
    plan = dict(results.plan)
    corpus = dict(plan.pop("corpus", {}))
    rows: list[tuple[Text, ...]] = []
    for key, label in PLAN_LABELS.items():
        if key in plan:
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


def scenario_sections(results: Results) -> list[Section]:
    return [report_for(name).section(results, Grid.of(results, name)) for name in scenarios(results)]


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
        for server in grid.servers:
            rows = []
            for cell in grid.in_order(server):
                for command, calls in cell.commands.items():
                    latencies = calls.get("latency_ms", [])
                    if not latencies:
                        continue
                    median, p95 = numpy.percentile(latencies, [50, 95])
                    rows.append((
                        text(cell.mode), text(cell.variant), text(Code(command)),
                        text(units.number(calls.get("count", len(latencies)))),
                        text(units.number(float(median))), text(units.number(float(p95))),
                        text(units.number(max(latencies))),
                    ))
            if rows:
                blocks.append(Table(
                    ("mode", "variant", "command", "calls", "median (ms)", "p95 (ms)", "max (ms)"),
                    tuple(rows), (False, False, False, True, True, True, True),
                    caption=f"{name} on {server}",
                ))
    if not any(isinstance(block, Table) for block in blocks):
        blocks.append(Paragraph(text("No cell recorded per-command latencies.")))
    return Section("Per-command latency", blocks)


def _problems(integrity: dict[str, Any]) -> Text:
    pieces: list[Any] = []
    for kind in ("missing", "changed", "unexpected"):
        ids = integrity.get(kind) or []
        if not ids:
            continue
        if pieces:
            pieces.append("; ")
        pieces.append(f"{len(ids)} {kind}: ")
        pieces += _joined([Code(str(i)) for i in ids[:IDS_SHOWN]])
        if len(ids) > IDS_SHOWN:
            pieces.append(f" and {len(ids) - IDS_SHOWN} more (all in results.json)")
    return text(*pieces) if pieces else text("—")


def integrity(results: Results) -> Section:
    rows = []
    for name in scenarios(results):
        for cell in Grid.of(results, name).in_order():
            check = cell.integrity
            if not check:
                rows.append((text(Code(cell.id)), text("—"), text("not checked"), text("—")))
                continue
            count = check.get("samples")
            samples = f" ({count} sample{'' if count == 1 else 's'})" if count is not None else ""
            if not check.get("passed"):
                verdict = text(Strong("FAILED"), samples)
            elif cell.ok:
                verdict = text("passed", samples)
            else:  # the samples before the failure passed; the failure itself is under Failed cells
                verdict = text(f"passed{samples}, then the cell failed")
            rows.append((text(Code(cell.id)), text(units.number(check.get("checked", 0))), verdict, _problems(check)))
    return Section(
        "Integrity",
        [
            Paragraph(text(
                "After each sample the messages the device holds are compared with the corpus as delivered: "
                "a message missing, changed or not in the corpus fails the cell, however fast it was. "
                "Messages checked are summed over the cell's samples."
            )),
            Table(("cell", "messages checked", "result", "problems"), tuple(rows), (False, True, False, False)),
        ],
    )


def failed_cells(results: Results) -> Section:
    failed = results.failed_cells
    if not failed:
        return Section("Failed cells", [Paragraph(text("None: every cell completed."))])
    return Section(
        "Failed cells",
        [
            Paragraph(text(f"{len(failed)} of {len(results.cells)} cells failed; the run went on without them.")),
            Table(
                ("cell", "error"),
                tuple((text(Code(cell.id)), text(Code(cell.error or "no error recorded"))) for cell in failed),
            ),
        ],
    )


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


SECTIONS: tuple[SectionBuilder, ...] = (
    summary,
    environment,
    plan_and_corpus,
    scenario_sections,
    command_latency,
    integrity,
    failed_cells,
    reproduce,
)


def build_document(results: Results, sections: Sequence[SectionBuilder] = SECTIONS) -> Document:
    """The whole report as one document, built once and rendered by every format."""
    document = Document(
        title=f"mailbench report: run {results.run_id}",
        intro=[Paragraph(text(
            "IMAP against POP3, measured on real mail servers in containers. "
            f"Started {results.started_at}, finished {results.finished_at or 'not finished'}."
        ))],
    )
    for build in sections:
        made = build(results)
        document.sections.extend(made if isinstance(made, list) else [made])
    return document
