"""The report's TLS overhead says "beyond the noise" only when a difference survives the
correction for every TLS comparison of the run, and never from 3 samples against 3."""

from __future__ import annotations

import random

from bench.report.cells import Grid
from bench.report.overhead import beyond_noise, overheads
from bench.report.stats import differs
from bench.results import CellResult, Results


def _run(servers: int, slow_tls_on: set[str] = frozenset(), samples: int = 5) -> Results:
    draw = random.Random(7)
    cells = []
    for index in range(servers):
        server = f"s{index}"
        for tls in ("off", "on"):
            factor = 3.0 if (server in slow_tls_on and tls == "on") else 1.0
            times = [factor * draw.uniform(0.9, 1.1) for _ in range(samples)]
            cells.append(CellResult("bulk-fetch", server, "imap", "full", tls, "lan",
                                    samples=[{"elapsed_s": t, "wire_bytes_down": 1000} for t in times]))
    return Results("r", "t", "c", cells=cells)


def test_three_samples_against_three_are_never_beyond_the_noise_however_far_apart():
    assert not differs([1.0, 1.01, 1.02], [5.0, 5.1, 5.2]).significant


def test_among_many_tls_comparisons_of_one_distribution_none_is_beyond_the_noise():
    found = overheads(Grid.of(_run(24), "bulk-fetch"))
    assert len(found) == 24
    assert beyond_noise(found) == set()


def test_real_tls_costs_are_found_among_them():
    slow = {f"s{i}" for i in range(0, 24, 2)}
    found = beyond_noise(overheads(Grid.of(_run(24, slow_tls_on=slow), "bulk-fetch")))
    real = {(f"bulk-fetch/{s}/imap/full/tls-off", f"bulk-fetch/{s}/imap/full/tls-on") for s in slow}
    assert real <= found
    # the correction bounds the share of false findings, not their number: a few per cent may pass
    assert len(found - real) <= 1
