"""The intended mailbox and the protocol-expected views, from timelines alone."""

from __future__ import annotations

import pytest

from bench.modes import MODES
from bench.devices.sync_truth import (
    ChangeTracker, ExpectedModel, Semantics, Shown, agreement, expected_views, intended_by_round,
)
from bench.devices.timeline import ARCHIVE, INBOX, Event, MailState, SyncSpec, Timeline, sync_timeline

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
        assert access.protocol is MODES[mode].protocol
        assert (semantics.keeps_flags, semantics.has_folders, semantics.mirrors_mailbox) == (
            access.protocol.keeps_flags, access.protocol.has_folders, access.protocol.mirrors_mailbox)
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


def _shown(seen=False, flagged=False, folder=INBOX):
    return Shown(folder, seen, flagged, "full")


BOTH = {0: _shown(), 1: _shown()}


def test_a_change_seen_after_the_next_session_of_another_device_is_reached_with_no_miss():
    tracker = ChangeTracker()
    tracker.acted("read", 0, "laptop", {"laptop": BOTH, "phone": BOTH}, 1, 10.0)
    tracker.observed("laptop", {0: _shown(seen=True), 1: _shown()}, 1, 11.0)  # sent
    misses = tracker.observed("phone", {0: _shown(seen=True), 1: _shown()}, 1, 12.5)
    assert misses == 0
    summary = tracker.summary()
    assert summary["changes_seen_share_read"] == 1.0 and summary["changes_seen"] == 1
    assert summary["change_visible_s_median"] == 2.5 and summary["change_visible_rounds_median"] == 0
    assert (summary["sync_misses"], summary["sync_miss_rounds"], summary["sync_rounds"]) == (0, 0, 1)


def test_a_session_after_the_change_was_sent_that_does_not_show_it_is_a_miss():
    tracker = ChangeTracker()
    tracker.acted("read", 0, "laptop", {"laptop": BOTH, "phone": BOTH}, 1, 10.0)
    # before the laptop's session the change has not left it: the phone could not know it
    assert tracker.observed("phone", BOTH, 1, 11.0) == 0
    tracker.observed("laptop", {0: _shown(seen=True), 1: _shown()}, 1, 12.0)
    tracker.round_ended(1)
    assert tracker.observed("phone", BOTH, 2, 13.0) == 1
    tracker.observed("laptop", {0: _shown(seen=True), 1: _shown()}, 2, 13.5)
    assert tracker.observed("phone", BOTH, 2, 14.0) == 1
    tracker.round_ended(2)
    summary = tracker.summary()
    assert summary["changes_seen_share_read"] == 0.0 and summary["changes_seen_share"] == 0.0
    assert (summary["sync_misses"], summary["sync_miss_rounds"], summary["sync_rounds"],
            summary["sync_misses_worst_round"]) == (2, 1, 2, 2)
    assert [r["misses"] for r in tracker.change_rounds] == [0, 2]
    assert tracker.change_rounds[-1]["by_kind"]["read"] == {"made": 1, "reached": 0}


def test_new_mail_is_a_change_for_every_joined_device():
    tracker = ChangeTracker()
    tracker.delivered([2], ["phone", "laptop"], 1, 10.0)
    assert tracker.observed("phone", {2: _shown()}, 1, 11.0) == 0  # the phone took it (POP3 delete)
    assert tracker.observed("laptop", {}, 1, 12.0) == 1  # the laptop never will
    tracker.round_ended(1)
    assert tracker.change_rounds == [{"round": 1, "misses": 1, "by_kind": {
        "read": {"made": 0, "reached": 0}, "flag": {"made": 0, "reached": 0}, "move": {"made": 0, "reached": 0},
        "delete": {"made": 0, "reached": 0}, "new": {"made": 2, "reached": 1}}}]
    summary = tracker.summary()
    assert summary["changes_seen_share_new"] == 0.5 == summary["changes_seen_share"]
    assert "change_visible_s_median" not in summary  # new mail is not an action on a device


def test_kinds_are_counted_apart_and_unflag_is_a_flag():
    tracker = ChangeTracker()
    views = {"laptop": {0: _shown(flagged=True), 1: _shown(), 2: _shown()}}
    views["phone"] = dict(views["laptop"])
    tracker.acted("unflag", 0, "laptop", views, 1, 1.0)
    tracker.acted("move", 1, "laptop", views, 1, 1.0)
    tracker.acted("delete", 2, "laptop", views, 1, 1.0)
    after = {0: _shown(), 1: _shown(folder=ARCHIVE)}
    tracker.observed("laptop", after, 1, 2.0)
    tracker.observed("phone", {0: _shown(), 1: _shown(), 2: _shown()}, 1, 3.0)  # only the unflag reached it
    summary = tracker.summary()
    assert (summary["changes_seen_share_flag"], summary["changes_seen_share_move"],
            summary["changes_seen_share_delete"]) == (1.0, 0.0, 0.0)
    assert "changes_seen_share_read" not in summary and summary["sync_misses"] == 2


def test_a_change_sent_later_supersedes_one_on_the_same_state_and_a_delete_supersedes_all():
    tracker = ChangeTracker()
    views = {"laptop": BOTH, "phone": BOTH}
    tracker.acted("flag", 0, "phone", views, 2, 1.0)  # phone offline: not sent yet
    tracker.acted("read", 0, "laptop", views, 3, 2.0)
    tracker.acted("flag", 1, "laptop", views, 3, 2.0)
    tracker.observed("laptop", {0: _shown(seen=True), 1: _shown(flagged=True)}, 3, 3.0)
    tracker.acted("delete", 1, "phone", {"laptop": {1: _shown(flagged=True)}, "phone": BOTH}, 4, 4.0)
    # phone back: its flag of 0 and its delete of 1 are sent; the delete ends the laptop's flag of 1
    assert tracker.observed("phone", {0: _shown(seen=True, flagged=True)}, 4, 5.0) == 0
    assert tracker.superseded == 1
    assert tracker.observed("laptop", {0: _shown(seen=True, flagged=True)}, 4, 6.0) == 0
    summary = tracker.summary()
    assert (summary["changes_tracked"], summary["changes_seen"]) == (3, 3)


def test_a_change_its_own_device_no_longer_shows_after_its_session_is_dropped():
    tracker = ChangeTracker()
    tracker.acted("flag", 0, "phone", {"laptop": BOTH, "phone": BOTH}, 2, 1.0)
    # the message was moved elsewhere: the server dropped the flag (a conflict); the phone mirrors it
    tracker.observed("phone", {0: _shown(folder=ARCHIVE), 1: _shown()}, 4, 2.0)
    assert tracker.dropped == 1 and tracker.summary()["changes_tracked"] == 0
