"""The statistics a report, the claims and a comparison of runs draw on, all from scipy.

- ``median_interval``: a confidence interval of a median from order statistics
  (``scipy.stats.quantile_test``), distribution-free, so it holds for skewed timings.
  With fewer than 6 samples no interval of order statistics reaches 95 %: the widest
  there is, min–max, is returned with the confidence it does have (75 % for 3 samples),
  and the report says so rather than print a 95 % it does not have.
- ``differs``: whether two sets of samples differ beyond their noise: a two-sided
  Mann–Whitney U test (``scipy.stats.mannwhitneyu``) when the sample sizes let it reach
  ``alpha`` at all. Below that (3 against 3 cannot: its smallest two-sided p is 0.10) no
  difference is claimed: two min–max ranges of 3 samples fall apart by chance too often
  (a run of 18 TLS comparisons found two "faster with TLS").
  For one comparison of two sets of samples (a report's TLS overhead, its fastest mode).
- ``noise_test`` and ``adjust_p_values``: what ``bench.compare`` judges hundreds of figures
  with at once. ``noise_test`` gives two p-values for one figure: Welch's t-test
  (``scipy.stats.ttest_ind``, ``equal_var=False``) on the logarithms of the samples when
  every sample is positive (a ratio model: timings are skewed, and a slowdown multiplies
  them), on the samples themselves otherwise; and a two-sided Mann–Whitney U, which cannot
  reach ``alpha`` at all with 3 samples against 3. ``adjust_p_values`` corrects the first
  over every figure compared with Benjamini–Hochberg (``scipy.stats.false_discovery_control``).
"""

from __future__ import annotations

import math
import warnings
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
    return Difference(False, f"too few samples ({len(a)} against {len(b)}) to tell from noise")


@dataclass(frozen=True)
class NoiseTest:
    """Two views of whether two sets of samples differ; ``bench.compare`` needs both to agree.

    ``p_value`` is Welch's t-test's (``None`` below 2 samples a side: no variance to
    estimate); ``on_logs`` says whether it was taken on the logarithms. ``rank_p`` is the
    two-sided Mann–Whitney U's, and ``rank_can_decide`` whether the sample sizes let it
    reach ``alpha`` at all (``mann_whitney_can_decide``)."""

    p_value: float | None
    on_logs: bool
    rank_p: float | None
    rank_can_decide: bool


def noise_test(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA) -> NoiseTest:
    """Welch's t (on logarithms when every sample is positive) and Mann–Whitney U for ``a``
    against ``b``. With at least 2 samples a side that are constant within each set, the
    t-test's p is 1 when the two constants are equal and 0 when they are not (no spread:
    any difference is beyond it); the rank test still needs its sample sizes."""
    x, y = numpy.asarray(a, dtype=float), numpy.asarray(b, dtype=float)
    if x.size == 0 or y.size == 0:
        return NoiseTest(None, False, None, False)
    on_logs = bool(x.min() > 0 and y.min() > 0)
    if on_logs:
        x, y = numpy.log(x), numpy.log(y)
    identical = bool(numpy.ptp(numpy.concatenate([x, y])) == 0)
    rank_p = 1.0 if identical else float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
    can_decide = mann_whitney_can_decide(len(a), len(b), alpha)
    if x.size < 2 or y.size < 2:
        return NoiseTest(None, on_logs, rank_p, can_decide)
    if numpy.ptp(x) == 0 and numpy.ptp(y) == 0:
        return NoiseTest(1.0 if identical else 0.0, on_logs, rank_p, can_decide)
    with warnings.catch_warnings():  # samples equal to many digits (byte counts) lose precision: harmless
        warnings.simplefilter("ignore", RuntimeWarning)
        p_value = float(stats.ttest_ind(x, y, equal_var=False).pvalue)
    return NoiseTest(p_value if math.isfinite(p_value) else None, on_logs, rank_p, can_decide)


def adjust_p_values(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values, in the order given: rejecting where the adjusted
    p is below ``alpha`` keeps the expected share of false findings at most ``alpha``, and,
    when nothing changed at all, the chance of any false finding at most ``alpha``."""
    if not p_values:
        return []
    return [float(p) for p in stats.false_discovery_control(numpy.asarray(p_values, dtype=float), method="bh")]
