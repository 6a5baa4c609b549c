"""The article's claims about IMAP, judged again with JMAP in IMAP's place.

The article weighs IMAP against POP3; JMAP is IMAP's successor, and someone choosing today
asks whether what the article says of IMAP holds for it too. C1 to C5 are the claims about
IMAP (in sync, a new device, faster and more flexible, needs the server, exposes more);
each is judged here by its own rule in ``bench.claims``, unchanged, on a view of the
results in which the JMAP cells stand where IMAP's would, beside the same POP3 cells (so
C3 and C5 compare JMAP with POP3 on the server that offers JMAP). C6 to C10 are claims
about POP3, and C11 is derived from the IMAP verdicts: neither has a JMAP reading.

A JMAP cell keeps its own id, so every figure links to the JMAP cell it comes from, and
the words of the verdict name JMAP where the rule's text names IMAP. A JMAP verdict never
moves the IMAP one: ``bench.claims`` reads IMAP and POP3 cells only.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from bench import claims
from bench.modes import get_mode
from bench.protocols import POP3
from bench.results import CellResult, Results

STAND_IN = "jmap"
# The claims about IMAP (docs/claims.md), by rule.
IMAP_RULES = (claims.c1, claims.c2, claims.c3, claims.c4, claims.c5)
_IMAP_WORD = re.compile(r"\bIMAP\b")
_IMAP_MODE = re.compile(r"\bimap\b")


class _InImapsPlace:
    """A JMAP cell as the rules see it: mode ``imap``, everything else its own (its id too)."""

    def __init__(self, cell: CellResult) -> None:
        self._cell = cell
        self.mode = "imap"

    @property
    def id(self) -> str:
        return self._cell.id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cell, name)


def has_stand_in(results: Results, mode: str = STAND_IN) -> bool:
    """Whether the run has a cell of ``mode`` that succeeded."""
    return any(cell.ok and cell.mode == mode for cell in results.cells)


def _renamed(text: str, mode: str) -> str:
    return _IMAP_MODE.sub(mode, _IMAP_WORD.sub(get_mode(mode).protocol.label, text))


def _figure(figure: claims.Figure | None, mode: str) -> claims.Figure | None:
    if figure is None:
        return None
    return claims.Figure(_renamed(figure.label, mode), _renamed(figure.value, mode), figure.cell_ids)


def _verdict(verdict: claims.Verdict, mode: str) -> claims.Verdict:
    return dataclasses.replace(
        verdict, claim_text=_renamed(verdict.claim_text, mode), condition=_renamed(verdict.condition, mode),
        figures=[_figure(f, mode) for f in verdict.figures], deciding=_figure(verdict.deciding, mode),
        parts={aspect: (outcome, _renamed(condition, mode)) for aspect, (outcome, condition) in verdict.parts.items()})


def judge_in_imaps_place(results: Results, mode: str = STAND_IN) -> dict[str, claims.Verdict]:
    """C1 to C5 with ``mode``'s cells in IMAP's place, by claim id; empty where the run has
    no cell of ``mode`` that succeeded."""
    if not has_stand_in(results, mode):
        return {}
    cells = [_InImapsPlace(c) if c.mode == mode else c for c in results.cells
             if c.mode == mode or get_mode(c.mode).protocol is POP3]
    view = dataclasses.replace(results, cells=cells)
    return {verdict.claim_id: _verdict(verdict, mode) for verdict in (rule(view) for rule in IMAP_RULES)}
