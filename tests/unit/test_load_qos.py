"""The QoS verdict of a level and the capacity search (bench.load.qos)."""

import pytest

from bench.load.qos import (
    CLIENT_BOUND, FAIL, INCOMPLETE, PASS, LevelFigures, QosLimits, Verdict, capacity, incomplete, judge, ladder, levels_to_run,
)

LIMITS = QosLimits()


def level(users=10, commands=1000, on_time=1000, errors=0, due=100, mail_on_time=100, cpu=0.3, warnings=0):
    return LevelFigures(users, commands, on_time, errors, due, mail_on_time, cpu, warnings)


def test_a_level_within_every_limit_passes():
    assert judge(level(on_time=960, errors=0, mail_on_time=96), LIMITS) == Verdict(PASS)


def test_a_level_fails_on_slow_commands_late_mail_and_errors_each_with_its_reason():
    verdict = judge(level(on_time=900, errors=5, mail_on_time=90), LIMITS)
    assert verdict.status == FAIL
    assert len(verdict.reasons) == 3
    assert "90.0% of commands within 1 s" in verdict.reasons[0]
    assert "0.50% errors" in verdict.reasons[1]
    assert "new mail" in verdict.reasons[2]


def test_errors_at_the_limit_fail():
    assert judge(level(commands=1000, errors=1), LIMITS).status == FAIL  # 0.1% is not below 0.1%
    assert judge(level(commands=2000, on_time=2000, errors=1), LIMITS).status == PASS


def test_a_saturated_load_generator_makes_the_level_client_bound_whatever_else():
    assert judge(level(cpu=0.9), LIMITS).status == CLIENT_BOUND
    assert judge(level(on_time=10, cpu=0.95), LIMITS).status == CLIENT_BOUND  # not counted as a server failure
    assert judge(level(warnings=1), LIMITS).status == CLIENT_BOUND


def test_a_level_without_commands_fails_and_one_without_mail_is_judged_on_commands():
    assert judge(level(commands=0, on_time=0), LIMITS).status == FAIL
    assert judge(level(due=0, mail_on_time=0), LIMITS).status == PASS


def test_expected_delay_is_the_push_limit_or_the_interval_plus_slack():
    assert LIMITS.expected_delay_s(True, 5.0) == 2.0
    assert LIMITS.expected_delay_s(False, 5.0) == 7.0


def test_capacity_is_the_last_pass_before_the_first_failure_per_core():
    verdicts = [(10, Verdict(PASS)), (20, Verdict(PASS)), (50, Verdict(FAIL, ("slow",))), (100, Verdict(PASS))]
    found = capacity(verdicts, server_cores=1)
    assert found.users == 20 and found.per_core == 20
    assert found.stopped_at == 50 and found.stopped_because == FAIL
    assert found.levels == (10, 20, 50)  # the search stopped there: 100 is not looked at


def test_a_client_bound_level_is_never_capacity_and_stops_the_search():
    found = capacity([(10, Verdict(PASS)), (20, Verdict(CLIENT_BOUND))], server_cores=2)
    assert found.users == 10 and found.per_core == 5
    assert found.stopped_because == CLIENT_BOUND


def test_a_level_cut_short_is_incomplete_and_ends_the_search():
    found = capacity([(10, Verdict(PASS)), (20, incomplete("a worker died"))], server_cores=1)
    assert found.users == 10 and found.stopped_because == INCOMPLETE


def test_no_passing_level_means_no_capacity():
    found = capacity([(10, Verdict(FAIL))], server_cores=1)
    assert found.users is None and found.per_core is None


def test_the_ladder_climbs_1_2_5_steps_up_to_the_most():
    assert ladder(10, 300) == [10, 20, 50, 100, 200, 300]
    assert ladder(3, 12) == [3, 5, 10, 12]
    assert ladder(7, 7) == [7]
    with pytest.raises(ValueError):
        ladder(0, 10)


def test_levels_are_the_users_given_sorted_or_the_ladder_from_the_smallest():
    assert levels_to_run([30, 10, 30], False, 300) == [10, 30]
    assert levels_to_run([20], True, 100) == [20, 50, 100]
    assert levels_to_run([], True, 50) == [10, 20, 50]
