"""Delivery into Dovecot as a run does it (``SampleContext.deliver``: the setup login, its
batches sent from a thread of their own, the file system flushed after): a few thousand
generated messages land in corpus order, the truth is what the server holds, and only the
setup login goes without an fsync per message."""

from __future__ import annotations

import pytest

from bench.access import AccessOptions, WireMeter, open_access
from bench.corpus.canonical import message_id
from bench.corpus.source import GeneratedCorpus
from bench.delivery import deliver
from bench.modes import MODES
from bench.sample import SampleContext

pytestmark = pytest.mark.integration

MESSAGES = 3000  # three batches of BATCH, about 115 MB
SEED = 11


def test_a_delivery_keeps_the_corpus_order_and_the_truth_is_what_the_server_holds(dovecot, tmp_path):
    ctx = SampleContext(dovecot, MODES["imap"], "full", MESSAGES, GeneratedCorpus(seed=SEED), AccessOptions(),
                        tmp_path)
    mailbox = ctx.new_mailbox()
    report = ctx.deliver(mailbox, MESSAGES)
    corpus_order = [f"<mb-{SEED}-{i}@mailbench.test>" for i in range(MESSAGES)]
    assert report.messages == mailbox.delivered == MESSAGES and report.refused == []
    assert mailbox.truth.keys == corpus_order
    with open_access("imap", dovecot.endpoint("imap", mailbox.account), WireMeter()) as access:
        by_uid = access.list_messages().refs
        assert [message_id(raw) for _, raw in access.fetch(by_uid, "headers")] == corpus_order
        checker = mailbox.truth.checker("full")
        for _, raw in access.fetch(by_uid, "full"):
            checker.add(raw)
    assert checker.report().passed and checker.report().checked == MESSAGES


def test_only_the_setup_login_goes_without_an_fsync_per_message(dovecot):
    account = dovecot.fresh_account()

    def fsync_of(login: str) -> str:
        code, output = dovecot.container.exec_run(["doveadm", "user", "-f", "mail_fsync", login])
        assert code == 0, output
        return output.decode().strip()

    assert fsync_of(dovecot.delivery_endpoint(account).username) == "never"
    assert fsync_of(account.username) == "optimized"  # Dovecot's default, for every measured session


def test_the_flush_after_a_delivery_runs_from_the_host_or_else_in_the_container(dovecot, monkeypatch):
    account = dovecot.fresh_account()
    deliver(dovecot.delivery_endpoint(account), GeneratedCorpus(seed=SEED).messages(0, 3))
    execs = []
    run_in_container = dovecot.container.exec_run
    monkeypatch.setattr(dovecot.container, "exec_run", lambda command, *a, **k: execs.append(command)
                        or run_in_container(command, *a, **k))
    dovecot.settle_delivery(account)  # syncfs from the host: no process started in the container
    assert execs == []
    monkeypatch.setattr(dovecot, "_host_root", lambda: None)  # a daemon on another machine
    dovecot.settle_delivery(account)
    assert execs == [["sync", "-f", dovecot.spec.user_store(account.username)]]
