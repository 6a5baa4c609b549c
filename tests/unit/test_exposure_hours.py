"""Exposure over time: message-hours from when each message was readable to when it was
found gone (storage-exposure), and the clock of a playback's steps."""

from __future__ import annotations

from bench.devices.playback import StepClock
from scenarios.storage_exposure import Readable, message_hours, most_at_once


def test_a_message_delivered_at_1h_and_deleted_at_5h_gives_4_message_hours():
    readable = Readable()
    readable.found(["a"], 1.0)
    readable.only(set(), 5.0)
    assert readable.spans() == [(1.0, 5.0)]
    assert message_hours(readable.spans(), end=48.0) == 4.0


def test_a_message_never_deleted_counts_to_the_end():
    readable = Readable()
    readable.found(["a", "b"], 1.0)
    readable.only({"b"}, 5.0)  # a gone at 5 h, b still there
    readable.found(["b"], 9.0)  # found again: still readable since 1 h
    assert sorted(readable.spans(), key=str) == [(1.0, 5.0), (1.0, None)]
    assert message_hours(readable.spans(), end=24.0) == 4.0 + 23.0


def test_a_message_readable_again_after_being_gone_opens_a_new_span():
    readable = Readable()
    readable.found(["a"], 0.0)
    readable.only(set(), 2.0)
    readable.found(["a"], 6.0)
    assert message_hours(readable.spans(), end=10.0) == 2.0 + 4.0


def test_most_at_once_counts_spans_open_together_and_an_end_meeting_a_start_as_one():
    assert most_at_once([]) == 0
    assert most_at_once([(0.0, 6.0), (1.0, None), (6.0, 8.0)]) == 2
    assert most_at_once([(0.0, 6.0), (1.0, 7.0), (2.0, None)]) == 3


def test_the_steps_of_a_round_are_spaced_evenly_in_it():
    assert StepClock(0, 0, 4).hours(24.0) == 0.0
    assert StepClock(0, 1, 4).hours(24.0) == 6.0
    assert StepClock(2, 3, 4).hours(24.0) == 2 * 24.0 + 18.0
    assert StepClock(1, 2, 5).rounds == 1.4
