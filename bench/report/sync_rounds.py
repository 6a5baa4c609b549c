"""Sync quality round by round, read from the device scenarios' samples.

Two series per cell, one value per round and sample:

- **changes reached**: of the changes made on one device so far (read, flag, move, delete)
  and of the new mail, the share that reached the other devices by the end of the round,
  from each sample's ``change_rounds`` (``sample_info[i]["change_rounds"]``: a list of
  ``{"round": r, "by_kind": {kind: {"made": n, "reached": m}}, "misses": k}``, cumulative);
- **messages present**: of the intended mailbox, the share of messages the joined devices
  show at the round's end (mean over the devices), from each sample's ``rounds`` (each
  device's ``missing`` messages; the intended count is ``(pairs - delivered) / 3``, as
  ``bench.devices.sync_truth.Agreement`` counts pairs).

Untouched messages do not weigh in either: a mode that shows every message but none of the
other devices' changes reads 100 % present and 0 % reached, where a blended consistency read
0.98. Samples without these records (in files written before they were kept) give empty
series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy

from bench.report.cells import Grid
from bench.results import CellResult

KINDS = ("read", "flag", "move", "delete", "new")
SHARE_PREFIX = "changes_seen_share_"  # the final share per kind: changes_seen_share_<kind>


@dataclass(frozen=True)
class Point:
    """One round's share: the median over the samples, their range, and how many there were."""

    round: int
    median: float
    low: float
    high: float
    n: int


def _point(round_: int, values: Sequence[float]) -> Point:
    return Point(round_, float(numpy.median(values)), min(values), max(values), len(values))


def _change_rounds(cell: CellResult) -> list[list[dict[str, Any]]]:
    """Each sample's change records, those that have them."""
    found = []
    for info in cell.sample_info:
        records = info.get("change_rounds")
        if isinstance(records, list) and records:
            found.append([r for r in records if isinstance(r, dict) and isinstance(r.get("round"), int)])
    return [records for records in found if records]


def kinds_of(cells: Sequence[CellResult]) -> list[str]:
    """The kinds of change the cells' records count, in ``KINDS`` order, then any other."""
    seen = {kind for cell in cells for records in _change_rounds(cell) for record in records
            for kind in (record.get("by_kind") or {})}
    return [kind for kind in KINDS if kind in seen] + sorted(seen - set(KINDS))


def reached(cell: CellResult | None, kinds: Sequence[str] | None = None) -> list[Point]:
    """Per round, the share of the changes made so far (of ``kinds``, else every kind) that
    reached the other devices; a round where none had been made is left out."""
    if cell is None or not cell.ok:
        return []
    per_round: dict[int, list[float]] = {}
    for records in _change_rounds(cell):
        for record in records:
            made = hit = 0
            for kind, counts in (record.get("by_kind") or {}).items():
                if kinds is not None and kind not in kinds:
                    continue
                made += int(counts.get("made", 0))
                hit += int(counts.get("reached", 0))
            if made > 0:
                per_round.setdefault(record["round"], []).append(hit / made)
    return [_point(r, values) for r, values in sorted(per_round.items())]


def present(cell: CellResult | None) -> list[Point]:
    """Per round, the mean share of the intended messages the joined devices show."""
    if cell is None or not cell.ok:
        return []
    per_round: dict[int, list[float]] = {}
    for info in cell.sample_info:
        rounds = info.get("rounds")
        for record in rounds if isinstance(rounds, list) else []:
            if not isinstance(record, dict) or not isinstance(record.get("round"), int):
                continue
            shares = []
            delivered = record.get("delivered")
            for device in (record.get("devices") or {}).values():
                pairs, missing = device.get("pairs"), device.get("missing")
                if not isinstance(delivered, int) or not isinstance(pairs, int) or not isinstance(missing, int):
                    continue
                intended = (pairs - delivered) / 3
                if intended > 0:
                    shares.append(1 - missing / intended)
            if shares:
                per_round.setdefault(record["round"], []).append(sum(shares) / len(shares))
    return [_point(r, values) for r, values in sorted(per_round.items())]


def has_rounds(grid: Grid) -> bool:
    """Whether any cell of the grid recorded changes round by round."""
    return any(_change_rounds(cell) for cell in grid.cells.values())
