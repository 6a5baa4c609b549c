"""Comparing two runs: changes beyond the noise, regressions and improvements.

The runs are the real small run in ``tests/data/results_real_tls.json`` and copies of it
changed by the tests.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bench.compare import Change, StatusChange, compare_runs, direction
from bench.errors import UsageError
from bench.report.stats import differs, mann_whitney_can_decide
from bench.results import Results, load

REAL = Path(__file__).parent.parent / "data" / "results_real_tls.json"
CELL = "bulk-fetch/courier/imap/full/tls-on"


@pytest.fixture(scope="module")
def run() -> Results:
    return load(REAL)


def changed(run: Results, cell_id: str, metric: str, factor: float) -> Results:
    """A copy of the run with one metric of one cell multiplied in every sample."""
    copied = copy.deepcopy(run)
    copied.run_id = "changed"
    cell = next(c for c in copied.cells if c.id == cell_id)
    for sample in cell.samples:
        sample[metric] *= factor
    return copied


def test_a_run_against_itself_changes_nothing(run):
    comparison = compare_runs(run, run)
    assert comparison.changes  # every shared figure with a direction was compared
    assert not comparison.significant and not comparison.regressions and not comparison.improvements
    assert not comparison.only_old and not comparison.only_new and not comparison.plan_differences
    assert comparison.lines()[-1].startswith("no change beyond the noise")


def test_twice_the_time_in_one_cell_is_that_regression_only(run):
    comparison = compare_runs(run, changed(run, CELL, "elapsed_s", 2.0))
    (regression,) = comparison.regressions
    assert isinstance(regression, Change)
    assert (regression.cell_id, regression.metric) == (CELL, "elapsed_s")
    assert regression.change_pct == pytest.approx(100.0)
    assert regression.significant and regression.regression
    assert not comparison.improvements
    assert any(line.startswith(f"REGRESSION  {CELL}  elapsed_s") for line in comparison.lines())


def test_half_the_time_is_an_improvement_not_a_regression(run):
    comparison = compare_runs(run, changed(run, CELL, "elapsed_s", 0.5))
    assert not comparison.regressions
    (improvement,) = comparison.improvements
    assert (improvement.cell_id, improvement.metric) == (CELL, "elapsed_s")
    assert improvement.change_pct == pytest.approx(-50.0)


def test_a_lower_rate_is_a_regression(run):
    comparison = compare_runs(run, changed(run, CELL, "messages_per_s", 0.5))
    assert [(c.cell_id, c.metric) for c in comparison.regressions] == [(CELL, "messages_per_s")]


def test_a_change_below_the_threshold_or_within_the_noise_is_not_flagged(run):
    small = compare_runs(run, changed(run, CELL, "bytes_down", 1.05))  # beyond the noise, below 10 %
    assert not small.significant
    assert compare_runs(run, changed(run, CELL, "bytes_down", 1.05), threshold_pct=1).regressions
    # the samples' ranges overlap after the change: within the noise, however large the medians' gap
    noisy = copy.deepcopy(run)
    cell = next(c for c in noisy.cells if c.id == CELL)
    times = sorted(sample["elapsed_s"] for sample in cell.samples)
    cell.samples[0]["elapsed_s"], cell.samples[1]["elapsed_s"] = times[0], times[2] * 3
    cell.samples[2]["elapsed_s"] = times[2] * 3
    assert not any(c.metric == "elapsed_s" and c.cell_id == CELL for c in compare_runs(run, noisy).significant)


def test_a_cell_that_failed_is_a_regression_and_one_that_recovered_is_listed(run):
    broken = copy.deepcopy(run)
    cell = next(c for c in broken.cells if c.id == CELL)
    cell.fail("IntegrityError: 1 missing")
    comparison = compare_runs(run, broken)
    (regression,) = comparison.regressions
    assert isinstance(regression, StatusChange) and regression.cell_id == CELL
    assert any(f"{CELL}  ok → failed: IntegrityError" in line for line in comparison.lines())
    back = compare_runs(broken, run)
    assert not back.regressions and [c.cell_id for c in back.improvements] == [CELL]


def test_cells_in_one_run_only_are_listed(run):
    fewer = copy.deepcopy(run)
    fewer.cells = [c for c in fewer.cells if c.id != CELL]
    fewer.plan["tls"] = ["off"]
    comparison = compare_runs(run, fewer)
    assert comparison.only_old == [CELL] and comparison.only_new == []
    assert "tls: off, on → off" in comparison.plan_differences
    assert compare_runs(fewer, run).only_new == [CELL]


def test_write_gives_a_markdown_comparison(run, tmp_path):
    comparison = compare_runs(run, changed(run, CELL, "elapsed_s", 2.0))
    path = comparison.write(tmp_path / "cmp")
    md = path.read_text(encoding="utf-8")
    assert path.name == "comparison.md"
    regressions = md.split("## Regressions", 1)[1].split("\n## ", 1)[0]
    assert f"`{CELL}`" in regressions and "+100.0%" in regressions
    assert "None beyond the noise." in md.split("## Improvements", 1)[1]


def test_only_metrics_with_a_direction_are_compared(run):
    assert direction("elapsed_s") == direction("wire_bytes_down") == direction("server_mem_mb") == -1
    assert direction("messages_per_s") == direction("mb_per_s") == 1
    assert direction("server_disk_bytes") is None and direction("messages") is None
    metrics = {c.metric for c in compare_runs(run, run).changes}
    assert "messages" not in metrics and {"elapsed_s", "bytes_down", "wire_bytes_up", "round_trips"} <= metrics


def test_a_negative_threshold_is_refused(run):
    with pytest.raises(UsageError, match="threshold"):
        compare_runs(run, run, threshold_pct=-1)


def test_noise_test_uses_mann_whitney_only_where_it_can_decide():
    assert not mann_whitney_can_decide(3, 3)  # its smallest two-sided p is 0.10
    assert mann_whitney_can_decide(4, 4)
    few = differs([1.0, 1.1, 1.2], [2.0, 2.1, 2.2])
    assert few.significant and few.test == "min–max ranges apart"
    many = differs([1.0, 1.1, 1.2, 1.3, 1.15], [2.0, 2.1, 2.2, 2.3, 2.15])
    assert many.significant and many.test == "Mann–Whitney U" and many.p_value < 0.05
    assert not differs([1.0, 1.5, 2.0, 1.2], [1.1, 1.6, 1.9, 1.3]).significant


def test_comparison_reads_results_files_alone(tmp_path, run):
    # what `mailbench compare OLD NEW` does: two files in, no other state
    data = json.loads(REAL.read_text(encoding="utf-8"))
    for cell in data["cells"]:
        if cell["id"] == CELL:
            for sample in cell["samples"]:
                sample["round_trips"] *= 3
    path = tmp_path / "new.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    comparison = compare_runs(load(REAL), load(path))
    assert [(c.cell_id, c.metric) for c in comparison.regressions] == [(CELL, "round_trips")]


# --- Links ---------------------------------------------------------------------------------

LINKS = Path(__file__).parent.parent / "data" / "results_links.json"
SATELLITE = "bulk-fetch/dovecot/imap/full/tls-off/satellite"


@pytest.fixture(scope="module")
def linked() -> Results:
    return load(LINKS)


def test_efficiency_is_higher_better_and_the_limit_is_not_compared():
    assert direction("efficiency") == 1
    assert direction("limit_s") is None


def test_a_linked_run_against_itself_changes_nothing(linked):
    comparison = compare_runs(linked, linked)
    assert not comparison.regressions and not comparison.improvements
    compared = {(c.cell_id, c.metric) for c in comparison.changes}
    assert (SATELLITE, "efficiency") in compared and (SATELLITE, "elapsed_s") in compared
    assert not any(metric == "limit_s" for _, metric in compared)


def test_lower_efficiency_on_a_link_is_that_cells_regression(linked):
    comparison = compare_runs(linked, changed(linked, SATELLITE, "efficiency", 0.5))
    assert [(c.cell_id, c.metric) for c in comparison.regressions] == [(SATELLITE, "efficiency")]
    better = compare_runs(linked, changed(linked, SATELLITE, "efficiency", 1.5))
    assert not better.regressions and [(c.cell_id, c.metric) for c in better.improvements] == [(SATELLITE, "efficiency")]


def test_a_changed_limit_is_not_flagged(linked):
    comparison = compare_runs(linked, changed(linked, SATELLITE, "limit_s", 3.0))
    assert not comparison.regressions and not comparison.improvements


def test_cells_are_matched_by_link(linked):
    # the same scenario, server, mode, variant and TLS on another link is another cell
    fewer = copy.deepcopy(linked)
    fewer.cells = [c for c in fewer.cells if c.id != SATELLITE]
    fewer.plan["links"] = {name: figures for name, figures in fewer.plan["links"].items() if name != "mobile-4g"}
    comparison = compare_runs(linked, fewer)
    assert comparison.only_old == [SATELLITE] and not comparison.regressions
    assert "links: lan, mobile-4g, satellite → lan, satellite" in comparison.plan_differences
    assert {c.cell_id for c in comparison.changes} == {c.id for c in fewer.cells}
