"""The seeded timeline: deterministic, the same for every mode, and shaped as its spec says."""

from __future__ import annotations

import pytest

from bench.devices.timeline import (
    ACTIONS, ARCHIVE, Event, MailState, SyncSpec, Timeline, apply_action, offline_timeline, sync_timeline,
)


def test_a_seed_gives_one_timeline_and_another_seed_another():
    assert sync_timeline(7, 30) == sync_timeline(7, 30)
    assert sync_timeline(7, 30).events != sync_timeline(8, 30).events
    assert offline_timeline(7, 30) == offline_timeline(7, 30)


def test_deliveries_are_contiguous_and_the_initial_mailbox_comes_first():
    timeline = sync_timeline(3, 25)
    deliveries = [e for e in timeline.events if e.kind == "deliver"]
    assert deliveries[0] == Event(0, "deliver", message=0, count=25)
    expected_next = 0
    for event in deliveries:
        assert event.message == expected_next
        expected_next += event.count
    assert timeline.messages == expected_next


@pytest.mark.parametrize("seed", range(6))
def test_actions_touch_delivered_messages_once_a_round_and_only_what_the_device_saw(seed):
    spec = SyncSpec()
    timeline = sync_timeline(seed, 20, spec)
    for round_ in range(timeline.rounds):
        acted = [e for e in timeline.round_events(round_) if e.kind in ACTIONS]
        assert len({e.message for e in acted}) == len(acted)
        for event in acted:
            # a device acts on what it showed at its last session, never on this round's mail
            last_session = max(r for r in range(round_) if event.device in timeline.sessions(r))
            assert event.message < timeline.delivered_by(last_session)


def test_joins_offline_windows_and_settle_rounds_follow_the_spec():
    spec = SyncSpec(rounds=6, joins=(("tablet", 3),), offline=(("phone", 2, 4),), settle_rounds=2)
    timeline = sync_timeline(1, 10, spec)
    assert timeline.rounds == 1 + 6 + 2
    for round_ in range(timeline.rounds):
        sessions = timeline.sessions(round_)
        assert ("tablet" in sessions) == (round_ >= 3)
        assert ("phone" in sessions) == (round_ not in (2, 3))
        assert "laptop" in sessions
    assert not any(e.device == "tablet" and e.kind in ACTIONS and e.round <= 3 for e in timeline.events)
    for round_ in (7, 8):
        assert timeline.round_events(round_) == []


def test_an_offline_window_must_end_before_the_settle_rounds():
    with pytest.raises(ValueError, match="offline"):
        SyncSpec(rounds=4, offline=(("phone", 2, 5),))
    with pytest.raises(ValueError, match="join"):
        SyncSpec(rounds=4, joins=(("watch", 2),))


def test_the_offline_timeline_has_its_five_rounds():
    timeline = offline_timeline(1, 12, new_mail=2, desk_actions=3, offline_actions=5)
    assert timeline.devices == ("mobile", "desk")
    assert [timeline.sessions(r) for r in range(5)] == [
        ["mobile", "desk"], ["desk"], [], ["mobile", "desk"], ["mobile", "desk"]]
    assert timeline.outage(2) and not any(timeline.outage(r) for r in (0, 1, 3, 4))
    actions = timeline.actions()
    assert {e.device for e in actions if e.round == 1} == {"desk"}
    assert {e.device for e in actions if e.round == 2} == {"mobile"}
    assert len([e for e in actions if e.round == 2]) == 5
    # mobile acts on what it showed in round 0: not on round 1's mail
    assert all(e.message < 12 for e in actions if e.device == "mobile")


def test_offline_actions_often_meet_the_desks_changes():
    meetings = 0
    for seed in range(10):
        timeline = offline_timeline(seed, 30)
        desk = {e.message for e in timeline.actions() if e.device == "desk"}
        meetings += any(e.message in desk for e in timeline.actions() if e.device == "mobile")
    assert meetings >= 5


def test_steps_run_deliveries_then_actions_then_sessions_then_the_checkpoint():
    timeline = sync_timeline(2, 8, SyncSpec(rounds=3, joins=(), offline=()))
    kinds = [(s.round, s.kind) for s in timeline.steps()]
    order = {"deliver": 0, "act": 1, "session": 2, "checkpoint": 3}
    for round_ in range(timeline.rounds):
        in_round = [order[k] for r, k in kinds if r == round_]
        assert in_round == sorted(in_round) and in_round[-1] == 3


def test_followers_sync_right_after_the_device_they_follow():
    timeline = offline_timeline(1, 5)
    assert timeline.sessions(0, {"mobile-online": "mobile"}) == ["mobile", "mobile-online", "desk"]
    assert timeline.sessions(1, {"mobile-online": "mobile"}) == ["desk"]


def test_the_intent_of_each_action():
    box = {1: MailState(), 2: MailState(flagged=True)}
    apply_action(box, "read", 1)
    apply_action(box, "unflag", 2)
    apply_action(box, "move", 2)
    assert box == {1: MailState(seen=True), 2: MailState(folder=ARCHIVE)}
    apply_action(box, "delete", 1)
    apply_action(box, "flag", 1)  # gone: nothing happens
    assert box == {2: MailState(folder=ARCHIVE)}


def test_a_timeline_says_who_is_online_when():
    timeline = Timeline(0, ("a", "b"), 4, (
        Event(0, "deliver", message=0, count=1), Event(1, "join", "b"), Event(2, "offline", "a"),
        Event(3, "online", "a"),
    ))
    assert [timeline.sessions(r) for r in range(4)] == [["a"], ["a", "b"], ["b"], ["a", "b"]]
    assert timeline.to_json()["timeline"][0] == {"round": 0, "kind": "deliver", "message": 0, "count": 1}
