"""How big generated messages are: a measured distribution of e-mail sizes.

Source. Johannes Buchner, "Modelling realistic email traffic – email size distribution"
(blog post, August 2009, http://johannes.jakeapp.com/blog/category/science/200908/
modelling-realistic-email-traffic-email-size-distribution) tabulates the cumulative
distribution of the sizes of e-mail messages handled by a mail server, as posted to the
FreeBSD networking list in October 2002 (osdir.com/ml/freebsd.devel.net/2002-10/
msg00203.html; we could not read that original post, only Buchner's table of it), in
power-of-two buckets from 2 KiB to 4 MiB:

    size below   2 KiB  4 KiB  8 KiB 16 KiB 32 KiB 64 KiB 128 KiB 256 KiB 512 KiB 1 MiB 2 MiB 4 MiB
    fraction    .2353  .4917  .676  .7958  .8536  .9047  .933    .9574   .9724  .9849 .9996 1.0

It is a measurement of whole messages, headers included, as a server sees them; it is
old (2002), so attachments today are larger, and it has no resolution below 2 KiB.
We found other published figures too small to fit anything to (a mean of about 7,000
bytes over ~16,000 messages in one person's mail spool, Chris Lightfoot's "The length
distribution of email messages", ex-parrot.com; Bertolotti & Calzarossa, "Models of mail
server workloads", Performance Evaluation 46 (2001) 65-76, whose size figures we could not
read), so this table is what the generator uses.

Model. No parametric fit: sizes are drawn by inverting the table, interpolating
linearly in log2(size) inside each bucket (as Buchner's own sampler does) and uniformly
between 900 bytes and 2 KiB for the first bucket (his choice too: a message with
real headers is hardly ever smaller). The model's median is about 4.1 KiB; its mean,
dominated by the 3% of messages above 512 KiB, is about 52 KiB. Draws are capped at
``max_bytes``.
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB
DEFAULT_MAX_BYTES = 10_000_000

# (size in bytes, fraction of messages smaller than that size), from the source above.
MEASURED_CDF: tuple[tuple[int, float], ...] = (
    (2 * KIB, 0.2353),
    (4 * KIB, 0.4917),
    (8 * KIB, 0.676),
    (16 * KIB, 0.7958),
    (32 * KIB, 0.8536),
    (64 * KIB, 0.9047),
    (128 * KIB, 0.933),
    (256 * KIB, 0.9574),
    (512 * KIB, 0.9724),
    (1 * MIB, 0.9849),
    (2 * MIB, 0.9996),
    (4 * MIB, 1.0),
)
SMALLEST_BYTES = 900


@dataclass(frozen=True)
class SizeDistribution:
    """A message-size distribution given by points of its cumulative distribution."""

    points: tuple[tuple[int, float], ...] = MEASURED_CDF
    smallest_bytes: int = SMALLEST_BYTES

    def quantile(self, p: float) -> float:
        """The size (bytes) below which a fraction ``p`` of messages fall."""
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"a quantile needs 0 <= p <= 1, got {p}")
        sizes = [size for size, _ in self.points]
        fractions = [fraction for _, fraction in self.points]
        i = bisect.bisect_left(fractions, p)
        if i == 0:
            return self.smallest_bytes + (sizes[0] - self.smallest_bytes) * p / fractions[0]
        i = min(i, len(sizes) - 1)
        lo_p, hi_p = fractions[i - 1], fractions[i]
        t = (p - lo_p) / (hi_p - lo_p)
        return 2 ** (math.log2(sizes[i - 1]) + t * (math.log2(sizes[i]) - math.log2(sizes[i - 1])))

    def cdf(self, size: float) -> float:
        """The fraction of messages smaller than ``size`` bytes."""
        if size <= self.smallest_bytes:
            return 0.0
        first_size, first_p = self.points[0]
        if size <= first_size:
            return first_p * (size - self.smallest_bytes) / (first_size - self.smallest_bytes)
        for (lo, lo_p), (hi, hi_p) in zip(self.points, self.points[1:], strict=False):
            if size <= hi:
                t = (math.log2(size) - math.log2(lo)) / (math.log2(hi) - math.log2(lo))
                return lo_p + t * (hi_p - lo_p)
        return 1.0

    def draw(self, rng: random.Random, max_bytes: int = DEFAULT_MAX_BYTES) -> int:
        """One size in bytes, at most ``max_bytes``."""
        return min(int(self.quantile(rng.random())), max_bytes)


MESSAGE_SIZES = SizeDistribution()
