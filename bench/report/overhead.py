"""What TLS costs, from one run: the same cell with TLS off and with TLS on (or STARTTLS).

For each server, mode, variant and link, the ratio of the median times and of the bytes the TCP
connection carried to the client (``wire_bytes_down``: TLS records and handshakes
included). A ratio is ``None`` ("n/a" in a report) when either cell is missing or failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

from bench.report.cells import Grid, Stat, stat_of
from bench.report.stats import ALPHA, Difference, adjust_p_values, differs
from bench.results import CellResult

TIME = "elapsed_s"
WIRE_DOWN = "wire_bytes_down"
BASELINE = "off"


@dataclass(frozen=True)
class Overhead:
    """One cell with TLS (``tls``) against the same cell without."""

    server: str
    mode: str
    variant: str
    tls: str
    link: str
    off: CellResult | None
    on: CellResult | None
    time_off: Stat | None
    time_on: Stat | None
    wire_off: Stat | None
    wire_on: Stat | None

    @staticmethod
    def _ratio(on: Stat | None, off: Stat | None) -> float | None:
        if on is None or off is None or off.median <= 0:
            return None
        return on.median / off.median

    @property
    def time_ratio(self) -> float | None:
        return self._ratio(self.time_on, self.time_off)

    @property
    def wire_ratio(self) -> float | None:
        return self._ratio(self.wire_on, self.wire_off)

    @property
    def time_difference(self) -> Difference | None:
        """Whether the two cells' times differ beyond the noise of their samples."""
        if self.time_on is None or self.time_off is None:
            return None
        return differs(self.time_off.values, self.time_on.values)

    @property
    def cell_ids(self) -> tuple[str, ...]:
        return tuple(cell.id for cell in (self.off, self.on) if cell is not None)


def overheads(grid: Grid, server: str | None = None) -> list[Overhead]:
    """Every (server, variant, link, mode, TLS setting other than off) of which a cell ran:
    TLS is compared on the same link only."""
    found = []
    for s in grid.servers if server is None else [server]:
        for variant in grid.variants:
            for link in grid.links:
                for mode in grid.modes:
                    off = grid.cell(s, mode, variant, BASELINE, link)
                    for tls in grid.tls:
                        if tls == BASELINE:
                            continue
                        on = grid.cell(s, mode, variant, tls, link)
                        if off is None and on is None:
                            continue
                        found.append(Overhead(
                            s, mode, variant, tls, link, off, on,
                            stat_of(off, TIME), stat_of(on, TIME), stat_of(off, WIRE_DOWN), stat_of(on, WIRE_DOWN),
                        ))
    return found


EFFECT = 0.10  # a TLS cost (or gain) under 10 % of the time is not called one


def beyond_noise(found: list[Overhead], alpha: float = ALPHA) -> set[tuple[str, ...]]:
    """The overheads whose times differ beyond the noise once corrected for how many were
    compared (Benjamini–Hochberg over ``found``) and by at least ``EFFECT``: a run of two
    dozen TLS comparisons at p < 0.05 each would otherwise show one or two by chance.
    Keyed by ``cell_ids``."""
    tested = [(o, d.p_value) for o in found if (d := o.time_difference) is not None and d.p_value is not None]
    if not tested:
        return set()
    adjusted = adjust_p_values([p for _, p in tested])
    return {o.cell_ids for (o, _), q in zip(tested, adjusted)
            if q < alpha and o.time_ratio is not None and abs(o.time_ratio - 1) >= EFFECT}


def typical(ratios: list[float | None]) -> float | None:
    """The median of the ratios that could be computed, ``None`` if none could."""
    known = [r for r in ratios if r is not None]
    return float(numpy.median(known)) if known else None
