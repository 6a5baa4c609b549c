"""The statistics a report, the claims and a comparison of runs draw on, all from scipy.

- ``median_interval``: a confidence interval of a median from order statistics
  (``scipy.stats.quantile_test``), distribution-free, so it holds for skewed timings.
  With fewer than 6 samples no interval of order statistics reaches 95 %: the widest
  there is, min–max, is returned with the confidence it does have (75 % for 3 samples),
  and the report says so rather than print a 95 % it does not have.
- ``differs``: whether two sets of samples differ beyond their noise. A two-sided
  Mann–Whitney U test (``scipy.stats.mannwhitneyu``) when the sample sizes let it reach
  ``alpha`` at all; below that (3 against 3 cannot: its smallest two-sided p is 0.10),
  the samples' min–max ranges must not overlap, the strongest evidence so few samples give.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy
from scipy import stats
from scipy.special import comb

CONFIDENCE = 0.95
ALPHA = 0.05
MIN_SAMPLES = 3  # below this a report shows no interval at all ("n<3")


@dataclass(frozen=True)
class MedianInterval:
    """``low``–``high`` holds the true median with probability at least ``confidence``."""

    low: float
    high: float
    confidence: float
    n: int

    @property
    def reaches(self) -> bool:
        """Whether the interval has the confidence that was asked for (else it is min–max)."""
        return self.confidence >= CONFIDENCE - 1e-12


def median_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> MedianInterval | None:
    """The order-statistics interval of the median; ``None`` below ``MIN_SAMPLES`` samples."""
    n = len(values)
    if n < MIN_SAMPLES:
        return None
    data = numpy.asarray(values, dtype=float)
    median = float(numpy.median(data))
    interval = stats.quantile_test(data, q=median, p=0.5).confidence_interval(confidence)
    if math.isfinite(interval.low) and math.isfinite(interval.high):
        return MedianInterval(float(interval.low), float(interval.high), confidence, n)
    # Too few samples for that confidence: min..max misses the median only when every
    # sample falls on the same side of it.
    achieved = 1 - 2 * float(stats.binom.cdf(0, n, 0.5))
    return MedianInterval(float(data.min()), float(data.max()), achieved, n)


@dataclass(frozen=True)
class Difference:
    """The verdict of ``differs``: ``test`` names how it was decided."""

    significant: bool
    test: str
    p_value: float | None = None

    def describe(self) -> str:
        if self.p_value is None:
            return self.test
        return f"{self.test}, p = {self.p_value:.3g}"


def mann_whitney_can_decide(n_a: int, n_b: int, alpha: float = ALPHA) -> bool:
    """Whether a two-sided Mann–Whitney U test on these sizes can reach ``alpha`` at all:
    its smallest p is two over the number of ways to split the pooled samples."""
    return n_a > 0 and n_b > 0 and 2 / comb(n_a + n_b, n_a, exact=True) <= alpha


def differs(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA) -> Difference:
    """Whether samples ``a`` and ``b`` differ beyond the noise of their repeats."""
    if not a or not b:
        return Difference(False, "no samples")
    if min(a) == max(a) == min(b) == max(b):
        return Difference(False, "identical samples")
    if mann_whitney_can_decide(len(a), len(b), alpha):
        p = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
        return Difference(bool(p < alpha), "Mann–Whitney U", p)
    apart = max(a) < min(b) or max(b) < min(a)
    return Difference(apart, "min–max ranges apart" if apart else "min–max ranges overlap")
