"""The device scenarios end to end on every real server and mode, small: each checks its
devices against the protocol-expected view every round, so these runs passing means the
harness and the model agree; the tests below that corrupt a device (or break the harness)
show that a disagreement fails the cell."""

from __future__ import annotations

import sqlite3

import pytest

from bench.access import AccessOptions
from bench.corpus.source import GeneratedCorpus
from bench.devices.device import DeviceStore, SyncDevice
from bench.errors import IntegrityError
from bench.links import parse_link
from bench.links.cell import open_cell_link
from bench.modes import MODES
from bench.devices.timeline import SyncSpec
from bench.sample import SampleContext
from scenarios.multi_device_sync import MultiDeviceSync
from scenarios.new_mail import NewMail
from scenarios.offline_use import OfflineUse
from scenarios.storage_exposure import StorageExposure

pytestmark = pytest.mark.integration

MESSAGES = 8
SPEC = SyncSpec(rounds=3, new_mail=(1, 2), actions=(2, 4), joins=(("tablet", 2),), offline=(("phone", 1, 3),))


def _context(server, tmp_path, mode, variant, link=None):
    return SampleContext(server, MODES[mode], variant, MESSAGES, GeneratedCorpus(seed=5), AccessOptions(),
                         tmp_path, link=link)


@pytest.mark.parametrize("mode", list(MODES))
def test_multi_device_sync_runs_and_shows_each_mode_for_what_it_is(server, tmp_path, mode):
    outcome = MultiDeviceSync(SPEC).run_sample(_context(server, tmp_path, mode, "incremental"))
    m = outcome.metrics
    assert outcome.integrity["passed"] and outcome.integrity["views_checked"] > 0
    rounds = outcome.info["rounds"]
    assert [r["round"] for r in rounds] == list(range(1 + SPEC.rounds + SPEC.settle_rounds))
    assert all(0.0 <= d["consistency"] <= 1.0 for r in rounds for d in r["devices"].values())
    assert m["consistency_round_0"] == (0.5 if mode == "pop3-delete" else 1.0)  # phone took it all
    changes = outcome.info["change_rounds"]
    assert [r["round"] for r in changes] == [r["round"] for r in rounds]
    assert sum(r["misses"] for r in changes) == m["sync_misses"]
    assert sum(s["misses"] for r in rounds for s in r.get("sessions", {}).values()) == m["sync_misses"]
    last = changes[-1]["by_kind"]
    assert sum(k["made"] for k in last.values()) == m["changes_tracked"] > 0
    assert sum(k["reached"] for k in last.values()) == m["changes_seen"]
    assert m["sync_rounds"] == len(rounds)  # no outage: every round had sessions
    assert m["join_s_per_session"] > 0 and m["join_bytes_down_per_session"] > 0
    if MODES[mode].protocol.keeps_flags:  # imap, jmap: the server keeps the mailbox and its states
        assert m["messages_missing"] == 0 and m["other_device_messages_share"] == 1.0
        assert m["sync_misses"] == m["sync_miss_rounds"] == m["sync_misses_worst_round"] == 0
        assert m["changes_seen_share_read"] == m["changes_seen_share"] == 1.0
        assert m["join_visible_share"] == m["join_readable_share"] == 1.0
    elif mode == "pop3-keep":
        assert m["other_device_messages_share"] == 1.0
        assert m["changes_seen_share_read"] == 0.0 and m["changes_seen_share_new"] == 1.0
        assert m["sync_misses"] > 0 and m["sync_miss_rounds"] > 0
    else:
        assert m["other_device_messages_share"] == 0.0 and m["messages_missing"] > 0
        assert m["changes_seen_share_new"] < 1.0 and m["sync_misses"] > 0
        assert m["join_visible_share"] < 0.5  # the phone took the mailbox long before
    assert m["bytes_down"] > m["message_bytes_downloaded"] > 0
    listing = {"pop3": ("UIDL",), "imap": ("FETCH",), "jmap": ("Email/query", "Email/changes")}
    listed = sum(stats["count"] for name, stats in outcome.commands.items()
                 if name.startswith(listing[MODES[mode].protocol.name]))
    assert listed >= m["connections"]  # every session listed


def test_qresync_or_condstore_save_bytes_per_sync_where_the_server_has_them(server, tmp_path):
    runs = {variant: MultiDeviceSync(SPEC).run_sample(_context(server, tmp_path / variant, "imap", variant))
            for variant in ("incremental", "full-resync")}
    methods = {v: {key.split(":")[1] for key in run.info["listing_methods"]} for v, run in runs.items()}
    assert methods["full-resync"] == {"full"}
    # the same timeline ends in the same place either way
    assert runs["incremental"].metrics["consistency_final_min"] == runs["full-resync"].metrics["consistency_final_min"]
    if methods["incremental"] == {"full"}:  # Courier: neither extension, the fallback ran
        return
    assert "unchanged" in methods["incremental"]
    saved = runs["incremental"].metrics["sync_bytes_down_per_session"]
    assert saved < runs["full-resync"].metrics["sync_bytes_down_per_session"]


@pytest.mark.parametrize("mode", list(MODES))
def test_offline_use_with_the_server_down(server, tmp_path, mode):
    scenario = OfflineUse(new_mail=2, desk_actions=3, offline_actions=4, attempt_timeout_s=0.5)
    outcome = scenario.run_sample(_context(server, tmp_path, mode, "server-down"))
    m = outcome.metrics
    server.container.reload()
    assert server.container.status == "running"
    assert 0.4 < m["offline_detect_s"] < 1.5
    policy = outcome.by_policy
    assert m["readable_offline_share"] == policy["full"]["readable_offline_share"] == 1.0
    if MODES[mode].protocol.keeps_flags:  # imap, jmap: a device may cache less than everything
        assert policy["online"]["readable_offline_share"] == policy["headers"]["readable_offline_share"] == 0.0
        assert policy["headers"]["listed_offline_share"] == 1.0
        assert (policy["online"]["ready_bytes_down"] < policy["headers"]["ready_bytes_down"]
                < policy["full"]["ready_bytes_down"])
    assert m["offline_actions_replayed"] + m["conflicts_gone"] <= m["offline_actions"]
    assert m["conflicts"] == m["conflicts_gone"] + m["conflicts_changed"]
    assert m["catchup_bytes_down"] > 0 and m["catchup_s"] > 0
    assert (m["messages_lost_with_device"] > 0) == (mode == "pop3-delete")


@pytest.mark.parametrize("mode", ["imap", "pop3-keep"])
def test_offline_use_with_the_link_cut_by_a_relay(dovecot, tmp_path, mode):
    service = MODES[mode].protocol.service("off")
    with open_cell_link(dovecot, [service], parse_link("lan"), cuttable=True) as link:
        outcome = OfflineUse(attempt_timeout_s=2.0).run_sample(_context(dovecot, tmp_path, mode, "link-cut", link))
        assert not any(l.is_cut for l in link.links.values())
    assert "relay cut" in outcome.info["outage"]
    assert outcome.metrics["offline_detect_s"] < 1.0  # a cut link resets at once, no timeout
    assert outcome.metrics["readable_offline_share"] == 1.0


def test_without_a_relay_the_link_cut_device_just_stays_offline(dovecot, tmp_path):
    outcome = OfflineUse().run_sample(_context(dovecot, tmp_path, "imap", "link-cut"))
    assert "does not connect" in outcome.info["outage"]
    assert "offline_detect_s" not in outcome.metrics


def test_the_server_is_unpaused_when_the_outage_fails(dovecot, tmp_path, monkeypatch):
    from bench.devices.playback import Playback

    def broken(self, name, since_round):
        raise RuntimeError("boom during the outage")

    monkeypatch.setattr(Playback, "offline_reading", broken)
    with pytest.raises(RuntimeError, match="boom"):
        OfflineUse(attempt_timeout_s=0.3).run_sample(_context(dovecot, tmp_path, "imap", "server-down"))
    dovecot.container.reload()
    assert dovecot.container.status == "running"


SMALL_NEW_MAIL = dict(intervals_s=(0.4,), arrivals=2, gap_s=(0.1, 0.3), push_timeout_s=1.0, quiet_s=0.4)


@pytest.mark.parametrize("mode", list(MODES))
def test_new_mail_is_seen_under_every_policy_within_its_bounds(server, tmp_path, mode):
    outcome = NewMail(**SMALL_NEW_MAIL).run_sample(_context(server, tmp_path, mode, "trickle"))
    m = outcome.by_policy
    assert outcome.integrity["passed"]
    policies = outcome.info["policies"]
    assert ("push" in policies) == (mode in ("imap", "jmap")) and "poll_400ms" in policies
    assert list(m) == policies
    for policy in policies:
        assert m[policy]["missed"] == 0
        # JMAP push on Cyrus: its own check of the account every jmap_pushpoll (1 s), then the sync
        bound_s = 0.4 + 0.5 if policy.startswith("poll") else 1.0 + (1.0 if mode == "jmap" else 0.5)
        assert 0 < m[policy]["latency_ms_max"] < bound_s * 1000
        assert m[policy]["server_cpu_s_per_hour"] >= 0
        assert m[policy]["bytes_per_hour"] > 0 or (policy == "push" and mode == "jmap")  # a quiet stream: no bytes
    assert m["poll_400ms"]["connections_opened_per_hour"] == pytest.approx(3600 / 0.4)
    if mode in ("imap", "jmap"):
        assert m["push"]["connections_opened_per_hour"] == 0
    if mode == "imap":
        # the quiet window holds the wait alone, not its session's opening and sync, so an idle
        # IMAP session costs the server less than a session every 400 ms (Cyrus's JMAP push
        # is its own check of the account every second, so no such bound holds for it)
        assert m["push"]["server_cpu_s_per_hour"] < m["poll_400ms"]["server_cpu_s_per_hour"]
    if mode == "imap" and m["push"]["pushed_share"] == 1.0:  # the server pushed: faster than re-issuing IDLE
        assert m["push"]["latency_ms_max"] < 1000


def test_jmap_push_announces_every_arrival(running_servers, tmp_path):
    """With the device's own sync 5 s apart (the scenario's default), each message reaches a
    JMAP device because the event stream announced it: Cyrus checks every second."""
    small = dict(SMALL_NEW_MAIL, push_timeout_s=5.0)
    outcome = NewMail(**small).run_sample(_context(running_servers("cyrus"), tmp_path, "jmap", "trickle"))
    push = outcome.by_policy["push"]
    assert outcome.integrity["passed"] and push["missed"] == 0
    assert push["pushed_share"] == 1.0
    assert push["latency_ms_max"] < (1.0 + 1.0) * 1000  # jmap_pushpoll, then the sync


def test_storage_exposure_per_mode(server, tmp_path):
    exposed, hours = {}, {}
    for mode in [m for m in MODES if server.spec.offers(MODES[m].protocol.name)]:
        outcome = StorageExposure(SPEC).run_sample(_context(server, tmp_path / mode, mode, "timeline"))
        m = outcome.metrics
        readings = outcome.info["readings"]
        rounds = 1 + SPEC.rounds + SPEC.settle_rounds
        assert len(readings) == rounds and outcome.info["timeline_hours"] == rounds * 24.0
        assert m["server_store_bytes"] > 0 and m["device_exposed_messages"] > 0
        assert m["exposed_messages_max"] >= m["exposed_messages"]
        # no message can be readable longer than the timeline
        assert 0 < m["exposed_message_hours"] <= m["delivered_messages"] * rounds * 24.0
        assert m["exposed_messages_mean"] == pytest.approx(m["exposed_message_hours"] / (rounds * 24.0))
        assert m["device_exposed_message_hours"] == max(outcome.info["device_message_hours"].values()) > 0
        exposed[mode], hours[mode] = m["exposed_messages"], m["exposed_message_hours"]
        if mode == "pop3-delete":  # the mailbox waited on the server for the phone's first poll
            assert m["exposed_messages_max"] >= MESSAGES
    assert exposed["pop3-delete"] == 0 < exposed["pop3-keep"] <= exposed["imap"]
    assert 0 < hours["pop3-delete"] < hours["imap"]


def test_the_default_timeline_separates_the_protocols_by_changes_reached_and_exposure(dovecot, tmp_path):
    """The scenarios' own timeline (ten rounds, a late tablet, an offline phone) on 12 messages."""

    def run(scenario, mode, variant):
        ctx = SampleContext(dovecot, MODES[mode], variant, 12, GeneratedCorpus(seed=1), AccessOptions(),
                            tmp_path / f"{scenario.name}-{mode}-{variant}")
        return scenario.run_sample(ctx).metrics

    for variant in MultiDeviceSync.variants:
        imap = run(MultiDeviceSync(), "imap", variant)
        assert imap["sync_misses"] == 0 and imap["changes_seen_share_read"] == 1.0
        assert imap["join_visible_share"] == 1.0
    keep = run(MultiDeviceSync(), "pop3-keep", "incremental")
    assert keep["changes_seen_share_read"] == 0.0 and keep["sync_misses"] > 0
    exposure = {mode: run(StorageExposure(), mode, "timeline") for mode in ("imap", "pop3-delete")}
    assert 0 < exposure["pop3-delete"]["exposed_message_hours"] < exposure["imap"]["exposed_message_hours"]


# -- a device or the harness wrong: the cell must fail ---------------------------------------


def _corrupt_after_sessions(monkeypatch, device_name, sessions, statement):
    """Run ``statement`` on the device's SQLite state after its ``sessions``-th session."""
    original = SyncDevice.sync

    def sync(self, access):
        report = original(self, access)
        if self.name == device_name and self.counters["sessions"] == sessions:
            with sqlite3.connect(self.state.path) as db:
                db.execute(statement)
        return report

    monkeypatch.setattr(SyncDevice, "sync", sync)


def test_a_device_that_loses_a_message_fails_the_cell(dovecot, tmp_path, monkeypatch):
    _corrupt_after_sessions(monkeypatch, "laptop", 2,
                            "DELETE FROM messages WHERE key = (SELECT min(key) FROM messages)")
    with pytest.raises(IntegrityError, match=r"round 1: .*laptop: <mb-5-\d+@mailbench.test> missing") as error:
        MultiDeviceSync(SPEC).run_sample(_context(dovecot, tmp_path, "imap", "incremental"))
    assert error.value.integrity["round"] == 1


@pytest.mark.parametrize("mode", ["imap", "pop3-keep"])
def test_a_device_with_a_flipped_flag_fails_the_cell(dovecot, tmp_path, monkeypatch, mode):
    _corrupt_after_sessions(monkeypatch, "tablet", 1,
                            "UPDATE messages SET flagged = 1 - flagged WHERE key = (SELECT max(key) FROM messages)")
    with pytest.raises(IntegrityError, match="tablet: .* != expected"):
        MultiDeviceSync(SPEC).run_sample(_context(dovecot, tmp_path, mode, "incremental"))


def test_a_changed_byte_in_a_device_store_fails_the_cell(dovecot, tmp_path, monkeypatch):
    original = DeviceStore.put
    calls = []

    def put(self, message_id, raw):
        calls.append(message_id)
        if len(calls) == 3:
            raw = raw[:-10] + bytes([raw[-10] ^ 1]) + raw[-9:]
        original(self, message_id, raw)

    monkeypatch.setattr(DeviceStore, "put", put)
    with pytest.raises(IntegrityError, match="1 changed"):
        MultiDeviceSync(SPEC).run_sample(_context(dovecot, tmp_path, "pop3-keep", "incremental"))


def test_a_device_that_never_sends_its_queue_is_caught_not_measured(dovecot, tmp_path, monkeypatch):
    monkeypatch.setattr(SyncDevice, "_push", lambda self, access, report: self.state.clear_outbox())
    with pytest.raises(IntegrityError, match="differ from the protocol-expected state"):
        MultiDeviceSync(SPEC).run_sample(_context(dovecot, tmp_path, "imap", "incremental"))
