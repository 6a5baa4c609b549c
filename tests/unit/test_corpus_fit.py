"""Device scenarios on a corpus that ends: the initial mailbox leaves room for the new mail,
a corpus too small fails with one line saying how many messages it needs, and a message
the server refuses is left out without shifting the timeline's messages.

No server here: delivery runs against a stand-in session (``deliver_to``'s interface)
that refuses messages over a size limit, as Dovecot and Cyrus do over 25 MiB."""

from __future__ import annotations

import email.message
import mailbox as mailboxes
from pathlib import Path

import pytest

import bench.sample
from bench.access import AccessOptions
from bench.corpus.source import FileCorpus, GeneratedCorpus
from bench.delivery import deliver_to
from bench.devices.device import SyncPolicy
from bench.modes import MODES
from bench.devices.playback import CorpusTooSmall, DeviceSpec, Playback, corpus_split, fit_timeline, fit_to_corpus
from bench.devices.sync_truth import ExpectedModel, Semantics, agreement, intended_by_round
from bench.devices.timeline import (
    ACTIONS, Event, SyncSpec, TooFewMessages, fit_initial, offline_timeline, sync_timeline,
)
from bench.sample import Mailbox, SampleContext
from scenarios.multi_device_sync import MultiDeviceSync
from scenarios.new_mail import NewMail
from scenarios.offline_use import OfflineUse
from scenarios.storage_exposure import StorageExposure

LIMIT = 2000
NO = "NO [TOOBIG] Message size exceeds fixed limit"
SPEC = SyncSpec(rounds=3, new_mail=(1, 2), actions=(2, 4), joins=(("tablet", 2),), offline=(("phone", 1, 3),))


def user_mbox(path: Path, count: int, big: frozenset[int] = frozenset()) -> Path:
    """An mbox of ``count`` small messages as a user's mail client writes them; those at
    the positions in ``big`` (0-based) are over ``LIMIT``."""
    box = mailboxes.mbox(str(path))
    for i in range(count):
        message = email.message.EmailMessage()
        message["From"] = "a@example.org"
        message["To"] = "b@example.org"
        message["Subject"] = f"hello {i}"
        message["Message-ID"] = f"<u{i}@example.org>"
        message.set_content("body line\n" * (LIMIT // 10 + 5 if i in big else 5))
        box.add(message)
    box.flush()
    box.close()
    return path


def context(tmp_path: Path, corpus, messages: int, mode: str = "imap", variant: str = "incremental") -> SampleContext:
    return SampleContext(None, MODES[mode], variant, messages, corpus, AccessOptions(), tmp_path)


# -- fit_initial: pure ------------------------------------------------------------------


def test_a_corpus_with_no_end_gets_the_mailbox_asked_for_untouched():
    asked = []
    assert fit_initial(300, None, lambda k: asked.append(k) or 10**9) == 300
    assert asked == []


def test_the_mailbox_asked_for_is_kept_where_the_new_mail_fits_after_it():
    assert fit_initial(10, 20, lambda k: k + 10) == 10
    assert fit_initial(10, 19, lambda k: k + 10) == 9


def test_the_largest_mailbox_whose_deliveries_fit_is_taken_when_the_new_mail_varies():
    new_mail = {10: 9, 9: 9, 8: 1, 7: 0}
    assert fit_initial(10, 12, lambda k: k + new_mail.get(k, 20)) == 8


def test_too_small_a_corpus_says_the_fewest_messages_that_would_do():
    new_mail = {1: 20, 2: 16, 3: 20}
    with pytest.raises(TooFewMessages) as short:
        fit_initial(6, 6, lambda k: k + new_mail.get(k, 30))
    assert (short.value.needed, short.value.initial, short.value.available) == (18, 2, 6)


# -- the scenarios' timelines -----------------------------------------------------------


def test_with_the_generated_corpus_the_timeline_is_the_one_drawn_before(tmp_path):
    ctx = context(tmp_path, GeneratedCorpus(seed=11), 40)
    assert fit_timeline(ctx, "multi-device-sync", lambda k: sync_timeline(ctx.seed, k)) == sync_timeline(11, 40)
    assert fit_timeline(ctx, "offline-use", lambda k: offline_timeline(ctx.seed, k)) == offline_timeline(11, 40)
    assert corpus_split(ctx, Mailbox(None), 40) is None


def test_a_user_corpus_holds_the_initial_mailbox_and_the_new_mail_that_follows(tmp_path):
    corpus = FileCorpus(user_mbox(tmp_path / "user.mbox", 30))
    ctx = context(tmp_path, corpus, corpus.resolve_count(None))
    timeline = fit_timeline(ctx, "multi-device-sync", lambda k: sync_timeline(ctx.seed, k))
    assert timeline.messages <= 30
    assert timeline == sync_timeline(ctx.seed, timeline.delivered_by(0))
    assert sync_timeline(ctx.seed, timeline.delivered_by(0) + 1).messages > 30  # the largest that fits
    # --messages smaller than the corpus: that mailbox, new mail from the messages after it
    ctx = context(tmp_path, corpus, 5)
    assert fit_timeline(ctx, "multi-device-sync", lambda k: sync_timeline(ctx.seed, k)) == sync_timeline(1, 5)


def test_the_six_message_mbox_is_enough_for_offline_use_only(tmp_path):
    corpus = FileCorpus(user_mbox(tmp_path / "user.mbox", 6))
    ctx = context(tmp_path, corpus, corpus.resolve_count(None))
    timeline = fit_timeline(ctx, "offline-use", lambda k: offline_timeline(ctx.seed, k))
    assert (timeline.delivered_by(0), timeline.messages) == (3, 6)
    with pytest.raises(CorpusTooSmall) as error:
        fit_timeline(ctx, "multi-device-sync", lambda k: sync_timeline(ctx.seed, k))
    needed = min(sync_timeline(1, k).messages for k in range(1, 30))
    message = str(error.value)
    assert message.startswith(f"multi-device-sync needs a corpus of at least {needed} messages (")
    assert "this one has 6: give a corpus of" in message and "\n" not in message


@pytest.mark.parametrize("scenario, variant", [
    (MultiDeviceSync(), "incremental"), (StorageExposure(), "timeline"), (NewMail(), "trickle"),
    (OfflineUse(new_mail=8), "link-cut"),
])
def test_each_device_scenario_fails_a_corpus_too_small_with_one_line_before_any_delivery(tmp_path, scenario, variant):
    corpus = FileCorpus(user_mbox(tmp_path / "user.mbox", 6))
    ctx = context(tmp_path, corpus, 6, variant=variant)  # no server: nothing may reach one
    with pytest.raises(CorpusTooSmall, match=rf"^{scenario.name} needs a corpus of at least \d+ messages .* has 6: "):
        scenario.run_sample(ctx)


def test_new_mail_holds_back_the_arrivals_of_every_policy(tmp_path):
    corpus = FileCorpus(user_mbox(tmp_path / "user.mbox", 12))
    ctx = context(tmp_path, corpus, 12)
    arriving = 2 * (1 + 1)  # idle and one polling interval, two arrivals each
    assert fit_to_corpus(ctx, "new-mail", lambda k: k + arriving, "arriving") == 8
    with pytest.raises(CorpusTooSmall, match="needs a corpus of at least 5 messages .1 in the mailbox at the start, "
                                             "4 arriving.* has 3"):
        fit_to_corpus(context(tmp_path, FileCorpus(user_mbox(tmp_path / "small.mbox", 3)), 3), "new-mail",
                      lambda k: k + arriving, "arriving")


# -- Timeline.without: the timeline as played when the server refused messages -------------


def test_a_timeline_without_a_message_drops_its_delivery_and_actions_and_keeps_the_rest():
    drawn = sync_timeline(3, 6, SPEC)
    gone = {2, drawn.messages - 1}
    played = drawn.without(gone)
    assert drawn.without(set()) is drawn
    assert played.events[0] == Event(0, "deliver", message=0, count=2)
    assert played.events[1] == Event(0, "deliver", message=3, count=3)
    assert played.messages == drawn.messages - 2
    assert played.arrived(played.rounds - 1) == [i for i in range(drawn.messages) if i not in gone]
    kept = [e for e in drawn.events if not (e.kind in ACTIONS and e.message in gone) and e.kind != "deliver"]
    assert [e for e in played.events if e.kind != "deliver"] == kept
    assert (played.seed, played.devices, played.rounds) == (drawn.seed, drawn.devices, drawn.rounds)
    assert all(2 not in state for state in intended_by_round(played))


def test_agreement_over_the_messages_delivered_is_the_same_as_over_a_count_when_none_is_missing():
    drawn = sync_timeline(3, 6, SPEC)
    last = drawn.rounds - 1
    intended = intended_by_round(drawn)[last]
    view = {}
    assert drawn.arrived(last) == list(range(drawn.delivered_by(last)))
    assert agreement(view, intended, drawn.arrived(last)) == agreement(view, intended, drawn.delivered_by(last))
    played = drawn.without({2})
    missing = agreement(view, intended_by_round(played)[last], played.arrived(last))
    assert missing.pairs == 4 * len(intended_by_round(played)[last]) + (
        len(played.arrived(last)) - len(intended_by_round(played)[last]))


# -- refused messages in a playback -----------------------------------------------------


class LimitedSession:
    """An INBOX taking one message at a time, refusing those over ``LIMIT``."""

    batched = False

    def append_one(self, raw: bytes) -> str | None:
        return NO if len(raw) > LIMIT else None

    def count(self) -> int:
        return 0


@pytest.fixture()
def limited_server(monkeypatch):
    """A stand-in server for ``SampleContext.deliver``: the real delivery logic, against
    ``LimitedSession``."""
    monkeypatch.setattr(bench.sample, "deliver",
                        lambda endpoint, messages, stored, settle: deliver_to(LimitedSession(), messages, stored))

    class Server:
        def endpoint(self, *args, **kwargs):
            return None

        def delivery_endpoint(self, account):
            return None

        def settle_delivery(self, account):
            pass

    return Server()


def deliveries(tmp_path, server, corpus_size, big, messages, spec):
    corpus = FileCorpus(user_mbox(tmp_path / "user.mbox", corpus_size, frozenset(big)))
    ctx = SampleContext(server, MODES["imap"], "incremental", messages, corpus, AccessOptions(), tmp_path)
    timeline = sync_timeline(ctx.seed, messages, spec)
    devices = [DeviceSpec(name, SyncPolicy.for_mode(ctx.mode)) for name in spec.devices]
    playback = Playback(ctx, Mailbox(None), timeline, devices)
    return ctx, timeline, playback


def play_deliveries(playback: Playback) -> None:
    for step in playback.drawn.steps():
        if step.kind == "deliver":
            playback._deliver(step.event, step.round)


def test_a_refused_message_is_left_out_of_the_timeline_and_every_other_keeps_its_index(tmp_path, limited_server):
    ctx, drawn, playback = deliveries(tmp_path, limited_server, 20, {1, 6}, 4, SPEC)
    try:
        play_deliveries(playback)
        assert playback.refused_messages == {1, 6} and [r.index for r in ctx.refused] == [1, 6]
        assert playback.keys == {i: f"<u{i}@example.org>" for i in range(drawn.messages) if i not in (1, 6)}
        assert playback.timeline == drawn.without({1, 6})
        assert playback.intended == intended_by_round(drawn.without({1, 6}))
        caches = {name: "full" for name in SPEC.devices}
        assert playback.expected == ExpectedModel(Semantics.of(MODES["imap"]), caches).play(drawn.without({1, 6}))
        assert corpus_split(ctx, playback.mailbox, playback.timeline.delivered_by(0)) == {
            "corpus_messages": 20, "requested": 4, "initial_mailbox": 3, "new_mail": drawn.messages - 4 - 1,
            "refused": 2, "unused": 20 - drawn.messages}
    finally:
        playback.close()


def test_a_refusal_needs_no_spare_message_in_the_corpus(tmp_path, limited_server):
    needed = sync_timeline(1, 4, SPEC).messages
    ctx, drawn, playback = deliveries(tmp_path, limited_server, needed, {2, needed - 1}, 4, SPEC)
    try:
        play_deliveries(playback)
    finally:
        playback.close()
    assert playback.mailbox.delivered == needed and playback.timeline.messages == needed - 2


def test_a_playback_refuses_a_timeline_longer_than_the_corpus(tmp_path, limited_server):
    with pytest.raises(CorpusTooSmall, match="the timeline delivers \\d+ messages and the corpus has 6"):
        deliveries(tmp_path, limited_server, 6, set(), 6, SPEC)
