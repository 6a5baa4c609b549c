"""The report's claims section: one row per claim of the article, with its verdict.

The verdicts come from ``bench.claims``; this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import claims
from bench.report.cells import cell_anchor
from bench.report.document import Break, Code, Link, Paragraph, Section, Strong, Table, joined, text
from bench.results import Results


def _figure_links(cell_ids: Sequence[str]) -> list[Any]:
    """Links to the rows of a figure's cells, each named by what sets it apart from the others."""
    if not cell_ids:
        return []
    split = [cell_id.split("/") for cell_id in cell_ids]
    differing = [i for i in range(min(map(len, split))) if len({parts[i] for parts in split}) > 1]
    names = ["/".join(parts[i] for i in differing) if differing else "cell" for parts in split]
    return [" (", *joined([Link(name, cell_anchor(cell_id)) for name, cell_id in zip(names, cell_ids)]), ")"]


def claims_section(results: Results) -> Section:
    verdicts = claims.judge(results)
    rows = []
    for verdict in verdicts:
        figures: list[Any] = []
        for figure in verdict.figures:
            if figures:
                figures.append(Break())
            figures += [f"{figure.label}: {figure.value}", *_figure_links(figure.cell_ids)]
        rows.append((
            text(Strong(verdict.claim_id)), text(verdict.claim_text), text(Strong(verdict.verdict)),
            text(verdict.condition or "—"), text(*figures) if figures else text("—"),
        ))
    counts = {outcome: sum(v.verdict == outcome for v in verdicts) for outcome in claims.OUTCOMES}
    tally = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
    return Section(
        "Claims",
        [
            Paragraph(text(
                "Each claim of the article (docs/claims.md) judged from this run's results alone, by one rule per "
                "claim in ", Code("bench/claims.py"), ": supported, refuted, depends (with the condition), or not "
                "measured (naming the scenario that would decide it). Speed comparisons count only differences "
                f"beyond the noise of the samples. This run: {tally}."
            )),
            Table(("id", "the article says", "verdict", "condition", "figures (links lead to the cells)"),
                  tuple(rows)),
        ],
    )
