"""Where a cell's wall time goes: a ledger the harness marks as the cell runs.

Every optimisation of a run's length starts from these figures, so each cell records its
wall time split into parts (``info["time_split_s"]``):

- ``containers``: work on the server's container during the cell (reviving a server an
  earlier cell left down, a fault's restart, pause or unpause). A server's start and its
  image work are shared by all its cells: they are recorded once per server
  (``environment["servers"][name]["start_s"]`` and ``["image_s"]``), not spread over cells.
- ``delivery``: setup delivery (``SampleContext.deliver``), measured or not.
- ``measured``: the scenario's measured work (the timed window of ``SampleContext.measure``,
  whose reads of the container's counters before and after fall to ``other``, and the
  sessions a scenario without it measures).
- ``waiting``: deliberate waits (polling intervals, outages, settle waits, connect
  timeouts waited out), through ``TimeLedger.wait`` or ``part("waiting")``.
- ``other``: the rest of the cell's wall time, so the parts add up to ``total`` exactly.

Nesting rule, innermost part wins: while parts are nested, time counts only to the one
opened last, so a wait inside a measured section counts once, as waiting, and a delivery
inside a measured playback counts as delivery. Only the thread that made the ledger marks
it (a scenario's background thread, say new-mail's arrivals, runs beside the cell's own
work: counting it too would count the same wall time twice). Times are
``time.perf_counter`` readings.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

PARTS = ("containers", "delivery", "measured", "waiting")
OTHER = "other"
TOTAL = "total"
# The order a split is shown in: what the run does, then the rest.
SHOWN = ("delivery", "measured", "waiting", "containers", OTHER)


class TimeLedger:
    """Wall time per part since the ledger was made; see the module's docstring."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._thread = threading.get_ident()
        self._started = self._since = clock()
        self._open: list[str] = []  # the parts open now, innermost last
        self._seconds = dict.fromkeys(PARTS, 0.0)

    def _book(self) -> None:
        """Give the time since the last change to the innermost open part."""
        now = self._clock()
        if self._open:
            self._seconds[self._open[-1]] += now - self._since
        self._since = now

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        """Count the block's wall time to ``name`` (less what inner parts take)."""
        if name not in PARTS:
            raise ValueError(f"no part {name!r}; the parts are {', '.join(PARTS)}")
        if threading.get_ident() != self._thread:
            yield
            return
        self._book()
        self._open.append(name)
        try:
            yield
        finally:
            self._book()
            self._open.pop()

    def wait(self, seconds: float) -> None:
        """A deliberate wait (``time.sleep``), counted as waiting."""
        with self.part("waiting"):
            self._sleep(max(0.0, seconds))

    def split(self) -> dict[str, float]:
        """Seconds per part so far, ``other`` and ``total``; an open part counts up to now."""
        self._book()
        seconds = dict(self._seconds)
        total = self._since - self._started
        seconds[OTHER] = max(0.0, total - sum(seconds.values()))
        seconds[TOTAL] = total
        return seconds


def rounded(split: Mapping[str, float], digits: int = 3) -> dict[str, float]:
    """``split`` rounded for the results, ``other`` taking the rounding so the parts still
    add up to ``total``."""
    out = {name: round(split.get(name, 0.0), digits) for name in PARTS}
    out[TOTAL] = round(split[TOTAL], digits)
    out[OTHER] = round(max(0.0, out[TOTAL] - sum(out[name] for name in PARTS)), digits)
    return out


def totals_by_scenario(cells: Iterable[Any]) -> dict[str, dict[str, float]]:
    """The splits of the cells (anything with ``scenario`` and ``info``) added up per
    scenario, in the order scenarios first appear; cells without a split are left out."""
    totals: dict[str, dict[str, float]] = {}
    for cell in cells:
        split = cell.info.get("time_split_s")
        if split is None:
            continue
        sums = totals.setdefault(cell.scenario, dict.fromkeys((*SHOWN, TOTAL), 0.0))
        for name in sums:
            sums[name] += split.get(name, 0.0)
    return totals


def share(split: Mapping[str, float], name: str) -> float:
    """Part ``name``'s share of the split's total, 0 to 1 (0 for an empty total)."""
    total = split.get(TOTAL, 0.0)
    return split.get(name, 0.0) / total if total > 0 else 0.0


def summary_line(scenario: str, split: Mapping[str, float]) -> str:
    """One scenario's split in a line, as the end of ``mailbench run`` prints it:
    ``bulk-fetch: 145 s = delivery 61 % · measured 12 % · ...``."""
    shares = " · ".join(f"{name} {share(split, name) * 100:.0f} %" for name in SHOWN)
    return f"{scenario}: {split.get(TOTAL, 0.0):.0f} s = {shares}"


def summary_lines(cells: Iterable[Any]) -> list[str]:
    """A ``summary_line`` per scenario of ``cells`` that recorded a split."""
    return [summary_line(scenario, split) for scenario, split in totals_by_scenario(cells).items()]
