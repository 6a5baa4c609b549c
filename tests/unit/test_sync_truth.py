"""The intended mailbox and the protocol-expected views, from timelines alone."""

from __future__ import annotations

import pytest

from bench.modes import MODES
from bench.sync_truth import (
    ChangeTracker, ExpectedModel, Semantics, Shown, agreement, expected_views, intended_by_round,
)
from bench.timeline import ARCHIVE, INBOX, Event, MailState, SyncSpec, Timeline, sync_timeline

FULL = {"phone": "full", "laptop": "full"}


def _timeline(*events: Event, rounds: int = 4) -> Timeline:
    return Timeline(0, ("phone", "laptop"), rounds, (Event(0, "deliver", message=0, count=3),) + events)


def test_the_intended_mailbox_applies_every_action_in_order():
    timeline = _timeline(Event(1, "read", "phone", 0), Event(1, "move", "laptop", 1),
                         Event(2, "flag", "laptop", 0), Event(2, "delete", "phone", 2))
    rounds = intended_by_round(timeline)
    assert rounds[0] == {0: MailState(), 1: MailState(), 2: MailState()}
    assert rounds[1] == {0: MailState(seen=True), 1: MailState(folder=ARCHIVE), 2: MailState()}
    assert rounds[3] == {0: MailState(seen=True, flagged=True), 1: MailState(folder=ARCHIVE)}


def test_semantics_agree_with_what_the_access_layer_declares():
    from bench.access.imap import ImapAccess
    from bench.access.pop3 import Pop3Access

    for mode, access in (("imap", ImapAccess), ("pop3-keep", Pop3Access), ("pop3-delete", Pop3Access)):
        semantics = Semantics.of(MODES[mode])
        assert (semantics.keeps_flags, semantics.has_folders, semantics.mirrors_mailbox) == (
            access.keeps_flags, access.has_folders, access.mirrors_mailbox)
        assert semantics.delete_after_fetch == MODES[mode].delete_after_fetch


def test_imap_devices_end_showing_the_intended_mailbox_when_nothing_conflicts():
    timeline = sync_timeline(5, 15, SyncSpec(rounds=5, joins=(("tablet", 2),), offline=(), conflict_bias=0))
    caches = {name: "full" for name in timeline.devices}
    last = expected_views(timeline, MODES["imap"], caches)[-1]
    intended = intended_by_round(timeline)[-1]
    for view in last.views.values():
        assert view == {i: Shown(s.folder, s.seen, s.flagged, "full") for i, s in intended.items()}
        assert agreement(view, intended, timeline.messages).consistency == 1.0
    assert last.server == intended


def test_pop3_keep_devices_see_every_message_but_no_change_made_elsewhere():
    timeline = _timeline(Event(1, "read", "phone", 0), Event(1, "move", "laptop", 1), Event(2, "delete", "laptop", 2))
    last = expected_views(timeline, MODES["pop3-keep"], FULL)[-1]
    assert last.views["phone"] == {0: Shown(INBOX, True, False, "full"), 1: Shown(INBOX, False, False, "full"),
                                   2: Shown(INBOX, False, False, "full")}
    assert last.views["laptop"] == {0: Shown(INBOX, False, False, "full"), 1: Shown(ARCHIVE, False, False, "full")}
    # the laptop's deletion reached the server (leave on server until deleted), nothing else did
    assert last.server == {0: MailState(), 1: MailState()}


def test_pop3_delete_gives_each_message_to_the_first_device_that_syncs():
    timeline = _timeline(Event(1, "read", "laptop", 0), Event(2, "deliver", message=3, count=1))
    expectations = expected_views(timeline, MODES["pop3-delete"], FULL)
    assert set(expectations[0].views["phone"]) == {0, 1, 2} and expectations[0].views["laptop"] == {}
    assert expectations[1].counters["laptop"]["impossible"] == 1
    assert set(expectations[2].views["phone"]) == {0, 1, 2, 3}
    assert all(e.server == {} for e in expectations)


@pytest.mark.parametrize("mode, gone", [("imap", 1), ("pop3-keep", 0), ("pop3-delete", 0)])
def test_an_offline_action_on_a_message_moved_elsewhere_is_a_conflict_where_the_server_holds_it(mode, gone):
    timeline = Timeline(0, ("phone", "laptop"), 5, (
        Event(0, "deliver", message=0, count=2),
        Event(1, "offline", "phone"), Event(1, "flag", "phone", 0), Event(1, "move", "laptop", 0),
        Event(3, "online", "phone"),
    ))
    last = expected_views(timeline, MODES[mode], FULL)[-1]
    assert last.counters["phone"]["conflicts_gone"] == gone
    if mode == "imap":
        # the flag was lost: the message shows in Archive, unflagged, on both devices
        assert last.views["phone"][0] == last.views["laptop"][0] == Shown(ARCHIVE, False, False, "full")


def test_flags_changed_elsewhere_are_a_conflict_and_the_replayed_action_still_applies():
    timeline = Timeline(0, ("phone", "laptop"), 4, (
        Event(0, "deliver", message=0, count=1),
        Event(1, "offline", "phone"), Event(1, "read", "phone", 0), Event(1, "flag", "laptop", 0),
        Event(2, "online", "phone"),
    ))
    last = expected_views(timeline, MODES["imap"], FULL)[-1]
    assert last.counters["phone"]["conflicts_changed"] == 1
    assert last.server == {0: MailState(seen=True, flagged=True)}


def test_pop3_keep_deletion_of_a_message_already_deleted_elsewhere_is_a_conflict():
    timeline = Timeline(0, ("phone", "laptop"), 4, (
        Event(0, "deliver", message=0, count=1),
        Event(1, "offline", "phone"), Event(1, "delete", "phone", 0), Event(1, "delete", "laptop", 0),
        Event(2, "online", "phone"),
    ))
    last = expected_views(timeline, MODES["pop3-keep"], FULL)[-1]
    assert last.counters["phone"]["conflicts_gone"] == 1 and last.server == {}


def test_caching_policies_show_in_what_a_device_holds():
    timeline = _timeline()
    model = ExpectedModel(Semantics.of(MODES["imap"]), {"phone": "online", "laptop": "headers"})
    last = model.play(timeline)[-1]
    assert {s.body for s in last.views["phone"].values()} == {"none"}
    assert {s.body for s in last.views["laptop"].values()} == {"headers"}


def test_a_follower_copies_its_leaders_sessions_but_never_acts():
    timeline = _timeline(Event(1, "offline", "phone"), Event(2, "online", "phone"))
    model = ExpectedModel(Semantics.of(MODES["pop3-delete"]), {"phone": "full", "shadow": "full", "laptop": "full"})
    first = model.play(timeline, {"shadow": "phone"})[0]
    assert set(first.views) == {"phone", "shadow", "laptop"}
    assert len(first.views["phone"]) == 3 and first.views["shadow"] == first.views["laptop"] == {}


def test_agreement_counts_pairs():
    intended = {0: MailState(seen=True), 1: MailState(folder=ARCHIVE)}  # message 2 was deleted
    view = {0: Shown(INBOX, True, False, "full"), 2: Shown(INBOX, False, False, "full")}
    result = agreement(view, intended, 3)
    # pairs: 3 present + 2 x 3 states = 9; right: present(0), present(2)? no (extra), present(1)? no (missing)
    assert (result.pairs, result.missing, result.extra, result.visible) == (9, 1, 1, 2)
    assert result.matching == 1 + 3  # message 0: present and all three states
    assert result.states_wrong == 1  # the extra message
    assert agreement({}, {}, 0).consistency == 1.0


def test_the_change_tracker_sees_supersedes_and_misses():
    tracker = ChangeTracker()
    phone = {0: Shown(INBOX, False, False, "full"), 1: Shown(INBOX, False, False, "full")}
    tracker.acted("read", 0, "laptop", {"laptop": phone, "phone": phone}, 1, 10.0)
    tracker.acted("flag", 1, "laptop", {"laptop": phone, "phone": phone}, 1, 10.0)
    tracker.observed("phone", {0: Shown(INBOX, True, False, "full"), 1: phone[1]}, 2, 12.5)
    assert tracker.summary() == {"changes_tracked": 2, "changes_seen": 1, "changes_seen_share": 0.5,
                                 "change_visible_s_median": 2.5, "change_visible_rounds_median": 1}
    tracker.acted("delete", 1, "laptop", {"laptop": phone, "phone": phone}, 2, 13.0)
    assert tracker.superseded == 1
    tracker.observed("phone", {0: Shown(INBOX, True, False, "full")}, 3, 14.0)
    assert tracker.summary()["changes_seen_share"] == 1.0
