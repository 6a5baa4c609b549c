"""The report's claims section: one row per claim of the article, with its verdict.

The verdicts come from ``bench.claims``; this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import claims
from bench.claims_jmap import STAND_IN, judge_in_imaps_place
from bench.report.cells import cell_anchor
from bench.report.document import (
    Anchor, BulletList, Code, Link, Paragraph, Section, Strong, Table, joined, text,
)
from bench.modes import get_mode
from bench.results import Results

STAND_IN_LABEL = get_mode(STAND_IN).protocol.label


def _figure_links(cell_ids: Sequence[str]) -> list[Any]:
    """Links to the rows of a figure's cells, each named by what sets it apart from the others."""
    if not cell_ids:
        return []
    split = [cell_id.split("/") for cell_id in cell_ids]
    differing = [i for i in range(min(map(len, split))) if len({parts[i] for parts in split}) > 1]
    names = ["/".join(parts[i] for i in differing) if differing else "cell" for parts in split]
    return [" (", *joined([Link(name, cell_anchor(cell_id)) for name, cell_id in zip(names, cell_ids)]), ")"]


def _figure(figure: claims.Figure) -> list[Any]:
    return [f"{figure.label}: {figure.value}", *_figure_links(figure.cell_ids)]


def evidence_anchor(claim_id: str) -> str:
    return f"evidence-{claim_id.lower()}"


def claims_section(results: Results) -> Section:
    """One line per claim: the verdict, its condition, the figure that decides it, and a
    link to the rest of its evidence (``claims_evidence``)."""
    verdicts = claims.judge(results)
    stand_in = judge_in_imaps_place(results)
    rows = []
    for verdict in verdicts:
        headline = verdict.headline
        row = [
            text(Strong(verdict.claim_id)), text(verdict.claim_text), text(Strong(verdict.verdict)),
            text(verdict.condition or "—"),
            text(f"{headline.label}: {headline.value}") if headline else text("—"),
            text(Link(f"{len(verdict.figures)} figures", evidence_anchor(verdict.claim_id))),
        ]
        if stand_in:
            row.append(_stand_in_box(stand_in.get(verdict.claim_id)))
        rows.append(tuple(row))
    headers = ("id", "the article says", "verdict", "condition", "deciding figure", "evidence")
    jmap_note: tuple[Any, ...] = ()
    if stand_in:
        headers += (f"with {STAND_IN_LABEL} in IMAP's place",)
        jmap_note = (" The last column judges each claim about IMAP (C1 to C5) again by the same rule with the "
                     f"{STAND_IN_LABEL} cells in IMAP's place, beside the same POP3 cells (",
                     Code("bench/claims_jmap.py"), "); the claims about POP3 have no such reading.")
    counts = {outcome: sum(v.verdict == outcome for v in verdicts) for outcome in claims.OUTCOMES}
    tally = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n)
    return Section(
        "Claims",
        [
            Paragraph(text(
                "Each claim of the article (docs/claims.md says how each is decided) judged from this run's results "
                "alone, by one rule per claim in ", Code("bench/claims.py"), ": supported, refuted, depends (with "
                "the condition), or not measured (saying what would decide it). A device that departs from its "
                "protocol counts against a claim of sync; a tie is never a win; speed differences count only after "
                f"a correction for the number of comparisons. This run: {tally}.", *_plan_note(results), *jmap_note
            )),
            Table(headers, tuple(rows)),
        ],
    )


def _stand_in_box(verdict: claims.Verdict | None) -> Any:
    """A claim's verdict with JMAP in IMAP's place: the outcome, its condition, and a link to
    its figures; a dash for a claim about POP3."""
    if verdict is None:
        return text("—")
    return text(Strong(verdict.verdict), f": {verdict.condition}" if verdict.condition else "", " (",
                Link(f"{len(verdict.figures)} figures", evidence_anchor(f"{verdict.claim_id}-{STAND_IN}")), ")")


def _plan_note(results: Results) -> tuple[Any, ...]:
    """What a run on the decision plan leaves undecided, and the command that decides it."""
    if results.plan.get("name") != "decision":
        return ()
    return (" The run followed the decision plan, which holds the cells of the decision page and no more: a claim "
            "that needs another scenario, variant or TLS setting, or more samples for its speed test, says so, and ",
            Code("mailbench run --plan full"), " runs what every claim needs.")


def claims_evidence(results: Results) -> Section:
    """Every figure behind every verdict, with links to the cells it comes from."""
    children = []
    stand_in = judge_in_imaps_place(results)
    for verdict in claims.judge(results):
        blocks = _evidence_blocks(verdict, verdict.claim_id)
        other = stand_in.get(verdict.claim_id)
        if other is not None:
            blocks.append(Paragraph(text(f"With {STAND_IN_LABEL} in IMAP's place: {other.claim_text}")))
            blocks += _evidence_blocks(other, f"{other.claim_id}-{STAND_IN}")
        children.append(Section(f"{verdict.claim_id}: {verdict.claim_text}", blocks))
    return Section("Evidence for the claims", [Paragraph(text(
        "The figures behind each verdict of the claims table, each linked to its cells."))], children)


def _evidence_blocks(verdict: claims.Verdict, anchor: str) -> list[Any]:
    items = tuple(text(*_figure(figure)) for figure in verdict.figures)
    blocks: list[Any] = [Paragraph(text(Anchor(evidence_anchor(anchor)), Strong(verdict.verdict), ": ",
                                        verdict.condition or "—"))]
    if items:
        blocks.append(BulletList(items))
    return blocks
