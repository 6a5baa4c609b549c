"""The seeded fault points of interrupted-sync, named for a reader.

The samples of an interrupted-sync cell are not repeats of one measurement: each strikes at
its own seeded point (``scenarios.interrupted_sync.faults.draw_point``: the same point for every server and mode
in the same sample), so a report shows them point by point, never as a median. A sample's
point is in its ``sample_info`` (``fault_point``: ``whole_before``, ``between``).
"""

from __future__ import annotations

from typing import Any

from bench.report.cells import Grid

BETWEEN_FAULT = "cut-between-commands"  # strikes between commands: the point is ``between``
BETWEEN_SAID = {"listed": "after the listing", "fetched": "after the last message", "done": "before QUIT / LOGOUT"}


def point_label(fault: str, info: dict[str, Any] | None) -> str | None:
    """``message 120`` (cut in the middle of it), ``after the listing``; ``None`` unrecorded."""
    point = (info or {}).get("fault_point")
    if not isinstance(point, dict):
        return None
    if fault == BETWEEN_FAULT:
        between = point.get("between")
        return BETWEEN_SAID.get(between, str(between)) if between else None
    whole = point.get("whole_before")
    return f"message {whole + 1}" if isinstance(whole, int) else None


def point_labels(grid: Grid, fault: str) -> list[str]:
    """A label per sample of the fault's cells (the most samples any of them has): the
    point as recorded by the first cell that has it, else ``sample i``."""
    cells = [cell for key, cell in grid.cells.items() if key[2] == fault]
    count = max((len(cell.samples) for cell in cells), default=0)
    labels = []
    for index in range(count):
        found = (point_label(fault, cell.sample_info[index]) for cell in cells if index < len(cell.sample_info))
        labels.append(next((label for label in found if label), f"sample {index + 1}"))
    return labels
