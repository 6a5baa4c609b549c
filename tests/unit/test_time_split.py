"""The time ledger alone (a clock the test moves), and the end-of-run summary line."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from bench.time_split import PARTS, TimeLedger, rounded, summary_line, summary_lines, totals_by_scenario


class Clock:
    """A perf_counter the test moves by hand; ``sleep`` moves it too."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def ledger_and_clock() -> tuple[TimeLedger, Clock]:
    clock = Clock()
    return TimeLedger(clock=clock, sleep=clock.sleep), clock


def test_the_parts_and_other_add_up_to_the_total():
    ledger, clock = ledger_and_clock()
    clock.sleep(1.0)  # other
    with ledger.part("delivery"):
        clock.sleep(2.0)
    with ledger.part("measured"):
        clock.sleep(3.0)
    with ledger.part("containers"):
        clock.sleep(0.5)
    ledger.wait(4.0)
    clock.sleep(0.25)  # other
    split = ledger.split()
    assert split == {"containers": 0.5, "delivery": 2.0, "measured": 3.0, "waiting": 4.0, "other": 1.25,
                     "total": 10.75}
    assert sum(split[name] for name in (*PARTS, "other")) == pytest.approx(split["total"])


def test_a_wait_inside_a_measured_section_counts_once_as_waiting():
    ledger, clock = ledger_and_clock()
    with ledger.part("measured"):
        clock.sleep(1.0)
        ledger.wait(5.0)
        clock.sleep(2.0)
    split = ledger.split()
    assert split["waiting"] == 5.0 and split["measured"] == 3.0
    assert split["total"] == 8.0 and split["other"] == 0.0


def test_the_innermost_part_wins_at_every_depth():
    ledger, clock = ledger_and_clock()
    with ledger.part("measured"):
        clock.sleep(1.0)
        with ledger.part("delivery"):
            clock.sleep(2.0)
            with ledger.part("waiting"):
                clock.sleep(4.0)
            clock.sleep(8.0)
        clock.sleep(16.0)
    split = ledger.split()
    assert (split["measured"], split["delivery"], split["waiting"]) == (17.0, 10.0, 4.0)
    assert split["total"] == 31.0 and split["other"] == 0.0


def test_a_part_left_by_an_exception_still_counts():
    ledger, clock = ledger_and_clock()
    with pytest.raises(RuntimeError), ledger.part("delivery"):
        clock.sleep(3.0)
        raise RuntimeError("refused")
    clock.sleep(1.0)
    assert ledger.split()["delivery"] == 3.0 and ledger.split()["other"] == 1.0


def test_an_open_part_counts_up_to_the_reading():
    ledger, clock = ledger_and_clock()
    with ledger.part("measured"):
        clock.sleep(2.0)
        assert ledger.split()["measured"] == 2.0
        clock.sleep(1.0)
    assert ledger.split()["measured"] == 3.0


def test_a_negative_wait_does_not_sleep():
    ledger, clock = ledger_and_clock()
    ledger.wait(-1.0)
    assert ledger.split()["total"] == 0.0


def test_an_unknown_part_is_refused():
    ledger, _ = ledger_and_clock()
    with pytest.raises(ValueError, match="no part 'setup'"), ledger.part("setup"):
        pass


def test_marks_from_another_thread_are_left_out():
    ledger, clock = ledger_and_clock()

    def elsewhere() -> None:
        with ledger.part("delivery"):
            clock.sleep(5.0)

    with ledger.part("measured"):
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    split = ledger.split()
    assert split["delivery"] == 0.0 and split["measured"] == 5.0


def test_the_real_clock_adds_up():
    ledger = TimeLedger()
    with ledger.part("measured"):
        ledger.wait(0.01)
    split = ledger.split()
    assert split["waiting"] >= 0.01
    assert sum(split[name] for name in (*PARTS, "other")) == pytest.approx(split["total"])


def test_rounding_keeps_the_parts_adding_up():
    split = {"containers": 0.0004, "delivery": 1.0004, "measured": 2.0004, "waiting": 0.0, "other": 0.0006,
             "total": 3.0018}
    shown = rounded(split)
    assert shown["total"] == 3.002
    assert sum(shown[name] for name in (*PARTS, "other")) == pytest.approx(shown["total"], abs=1e-9)


def cell(scenario: str, **split: float) -> SimpleNamespace:
    return SimpleNamespace(scenario=scenario, info={"time_split_s": split} if split else {})


def test_totals_add_up_cells_per_scenario_and_leave_out_cells_without_a_split():
    cells = [cell("bulk-fetch", delivery=60, measured=10, waiting=20, containers=0, other=10, total=100),
             cell("new-mail", measured=5, waiting=5, total=10),
             cell("bulk-fetch", delivery=1, measured=2, waiting=0, containers=0, other=42, total=45),
             cell("bulk-fetch")]
    totals = totals_by_scenario(cells)
    assert list(totals) == ["bulk-fetch", "new-mail"]
    assert totals["bulk-fetch"] == {"delivery": 61, "measured": 12, "waiting": 20, "containers": 0, "other": 52,
                                    "total": 145}
    assert totals["new-mail"]["other"] == 0


def test_the_summary_line_gives_the_total_and_each_parts_share():
    split = {"delivery": 88.45, "measured": 17.4, "waiting": 29, "containers": 0, "other": 10.15, "total": 145}
    assert summary_line("bulk-fetch", split) == (
        "bulk-fetch: 145 s = delivery 61 % · measured 12 % · waiting 20 % · containers 0 % · other 7 %")


def test_an_empty_total_has_no_share():
    assert summary_line("x", {"total": 0.0}) == (
        "x: 0 s = delivery 0 % · measured 0 % · waiting 0 % · containers 0 % · other 0 %")


def test_summary_lines_one_per_scenario():
    cells = [cell("a", delivery=1, total=2), cell("b", measured=3, total=3), cell("c")]
    assert [line.split(":")[0] for line in summary_lines(cells)] == ["a", "b"]
