"""The four device scenarios on a user's small mbox, on Dovecot: the new mail comes from the
corpus's last messages, every message of the corpus is accounted for, and a message the
server refuses (over its 25 MiB limit) is left out of the timeline without shifting the
others; an arriving message it refuses in new-mail fails the cell with one line naming it.
The same runs with a corpus too small fail before any delivery (tests/unit/test_corpus_fit.py)."""

from __future__ import annotations

import email.message
import mailbox as mailboxes
from pathlib import Path

import pytest

from bench.access import AccessOptions
from bench.corpus.source import FileCorpus
from bench.errors import MailbenchError
from bench.modes import MODES
from bench.devices.timeline import SyncSpec, offline_timeline, sync_timeline
from bench.sample import SampleContext, draw_timeline_seed
from scenarios.multi_device_sync import MultiDeviceSync
from scenarios.new_mail import NewMail
from scenarios.offline_use import OfflineUse
from scenarios.storage_exposure import StorageExposure

pytestmark = pytest.mark.integration

SPEC = SyncSpec(rounds=3, new_mail=(1, 2), actions=(2, 4), joins=(("tablet", 2),), offline=(("phone", 1, 3),))
# The timeline of sample 0 of a run with a corpus file and no --seed (the corpus's seed, 1).
SEED = draw_timeline_seed(1, 0)
SMALL_NEW_MAIL = dict(intervals_s=(0.4,), arrivals=2, gap_s=(0.1, 0.3), push_timeout_s=1.0, quiet_s=0.4)
CORPUS = 14


def add_user_messages(path: Path, first: int, count: int) -> Path:
    """Append ``count`` messages as a mail client writes them (LF line ends, unique ids)."""
    box = mailboxes.mbox(str(path))
    for i in range(first, first + count):
        message = email.message.EmailMessage()
        message["From"] = "a@example.org"
        message["To"] = "b@example.org"
        message["Subject"] = f"hello {i}"
        message["Message-ID"] = f"<u{i}@example.org>"
        message.set_content("body line\n" * 5)
        box.add(message)
    box.flush()
    box.close()
    return path


def _context(server, tmp_path, corpus: FileCorpus, mode: str, variant: str) -> SampleContext:
    return SampleContext(server, MODES[mode], variant, corpus.resolve_count(None), corpus, AccessOptions(), tmp_path)


def _largest_fitting(make, available: int) -> int:
    return max(k for k in range(1, available + 1) if make(k).messages <= available)


@pytest.mark.parametrize("mode", ["imap", "pop3-delete"])
def test_the_device_scenarios_run_on_a_small_user_mbox(dovecot, tmp_path, mode):
    corpus = FileCorpus(add_user_messages(tmp_path / "user.mbox", 0, CORPUS))
    runs = {
        "multi-device-sync": (MultiDeviceSync(SPEC), "incremental", lambda k: sync_timeline(SEED, k, SPEC)),
        "storage-exposure": (StorageExposure(SPEC), "timeline", lambda k: sync_timeline(SEED, k, SPEC)),
        "offline-use": (OfflineUse(new_mail=2, desk_actions=3, offline_actions=4, attempt_timeout_s=0.5),
                        "server-down", lambda k: offline_timeline(SEED, k, 2, 3, 4)),
    }
    for name, (scenario, variant, make) in runs.items():
        outcome = scenario.run_sample(_context(dovecot, tmp_path / name, corpus, mode, variant))
        assert outcome.integrity["passed"] and outcome.integrity["views_checked"] > 0, name
        initial = _largest_fitting(make, CORPUS)
        delivered = make(initial).messages
        assert outcome.info["corpus_split"] == {
            "corpus_messages": CORPUS, "requested": CORPUS, "initial_mailbox": initial,
            "new_mail": delivered - initial, "refused": 0, "unused": CORPUS - delivered}, name
        assert outcome.info["timeline"] == make(initial).summary(), name
    dovecot.container.reload()
    assert dovecot.container.status == "running"

    outcome = NewMail(**SMALL_NEW_MAIL).run_sample(_context(dovecot, tmp_path / "new-mail", corpus, mode, "trickle"))
    assert outcome.integrity["passed"]
    policies = outcome.info["policies"]
    arrived = 2 * len(policies)
    assert outcome.info["corpus_split"] == {  # arrivals held back for push and polling, in every mode
        "corpus_messages": CORPUS, "requested": CORPUS, "initial_mailbox": CORPUS - 4, "new_mail": arrived,
        "refused": 0, "unused": 4 - arrived}
    assert all(outcome.by_policy[policy]["missed"] == 0 for policy in policies)
    if mode == "imap":  # the device holds every message delivered, checked against the truth
        assert outcome.integrity["checked"] == CORPUS


def test_a_message_over_the_servers_limit_is_left_out_of_the_timeline(dovecot, tmp_path, oversized_corpus):
    path, _ = oversized_corpus  # six messages, the third over the limit
    corpus = FileCorpus(add_user_messages(path, 0, 10))
    ctx = _context(dovecot, tmp_path, corpus, "imap", "incremental")
    outcome = MultiDeviceSync(SPEC).run_sample(ctx)
    assert outcome.integrity["passed"]
    assert [r.index for r in ctx.refused] == [2]
    initial = _largest_fitting(lambda k: sync_timeline(SEED, k, SPEC), 16)
    drawn = sync_timeline(SEED, initial, SPEC)
    assert outcome.info["timeline"] == drawn.without({2}).summary()
    split = outcome.info["corpus_split"]
    assert (split["initial_mailbox"], split["refused"]) == (initial - 1, 1)
    assert split["initial_mailbox"] + split["new_mail"] + split["refused"] + split["unused"] == 16
    assert outcome.metrics["intended_messages"] <= drawn.messages - 1


def test_new_mail_fails_with_one_line_when_an_arriving_message_is_refused(dovecot, tmp_path, oversized_corpus):
    path, size = oversized_corpus  # six messages, the third over the limit: the first to arrive
    ctx = _context(dovecot, tmp_path, FileCorpus(path), "imap", "trickle")
    with pytest.raises(MailbenchError) as error:
        NewMail(**SMALL_NEW_MAIL).run_sample(ctx)
    message = str(error.value)
    assert message.startswith(f"the server refused corpus message 3 ({size} bytes), arriving while the device "
                              "kept watch (push): ")
    assert message.endswith("so give a corpus without it") and "\n" not in message
