"""How figures are written in a report: significant digits, byte units, factors.

Every number a report shows goes through these functions, so the tables, the findings
and the charts agree on how a figure looks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass


def number(value: float) -> str:
    """Three significant digits below 1,000; whole numbers with separators from 1,000."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if isinstance(value, int):  # counts stay whole; a measured 12.0 is shown as 12.0
        return str(value)
    rounded = float(f"{value:.3g}")  # 99.95 rounds to 100, which then has no decimals
    if abs(rounded) >= 1000:
        return f"{rounded:,.0f}"
    decimals = max(0, 2 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:.{decimals}f}"


def factor(value: float) -> str:
    """A ratio such as 1.61×."""
    return f"{value:.2f}×" if value < 10 else f"{number(value)}×"


def close_factor(value: float) -> str:
    """A ratio close to 1, with the digits that tell it from 1: 1.007×."""
    return f"{value:.3f}×" if value < 10 else factor(value)


@dataclass(frozen=True)
class ByteUnit:
    """A decimal byte unit (kB = 1,000 bytes), as network figures are usually given."""

    symbol: str
    size: int

    def __call__(self, value: float) -> str:
        return number(value / self.size)


BYTE_UNITS = (ByteUnit("B", 1), ByteUnit("kB", 10**3), ByteUnit("MB", 10**6), ByteUnit("GB", 10**9))


def byte_unit(values: Iterable[float]) -> ByteUnit:
    """The largest unit in which the largest value is still at least 1."""
    largest = max((abs(v) for v in values), default=0)
    chosen = BYTE_UNITS[0]
    for unit in BYTE_UNITS:
        if largest >= unit.size:
            chosen = unit
    return chosen


def byte_size(value: float) -> str:
    """One byte count in its own unit: ``4.19 MB``."""
    unit = byte_unit([value])
    return f"{unit(value)} {unit.symbol}"


def seconds(value: float) -> str:
    return f"{number(value)} s"


def share(value: float) -> str:
    """A share as a percentage: ``100%``, ``98.5%``, ``0%``."""
    return f"{number(value * 100)}%"


def span(values: Iterable[float], fmt: Callable[[float], str] = number) -> str:
    """Several figures as one: ``7`` when they read the same, else ``7–8`` (lowest–highest)."""
    shown = sorted(set(values))
    if not shown:
        return "n/a"
    low, high = fmt(shown[0]), fmt(shown[-1])
    return low if low == high else f"{low}–{high}"
