"""Initial mailboxes copied from a template: when, what the copy records, and when not."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench.sample
from bench.access import AccessOptions
from bench.corpus.source import GeneratedCorpus
from bench.delivery import DeliveryReport, Refusal
from bench.mailbox_copy import COPIED, DELIVERED, MailboxCopies
from bench.modes import get_mode
from bench.sample import SampleContext
from bench.servers import get_server
from bench.servers.base import Account, MailServer


class NoCopies(MailServer):
    """A server whose store cannot be copied."""

    name = "no-copies"
    no_store_copy = "its mailboxes are entries in a database as well as folders"


class FakeServer:
    """What MailboxCopies and SampleContext use of a running server; copies are recorded."""

    def __init__(self, name: str = "dovecot", visible: bool = True, users: int = 20,
                 spec: MailServer | None = None) -> None:
        self.spec = spec or get_server(name)
        self.visible = visible
        self.users = users
        self.next_user = 2
        self.top = users
        self.copies: list[tuple[str, str]] = []
        self.flushed: list[str] = []  # accounts whose store was flushed to disk

    def fresh_account(self) -> Account:
        self.next_user += 1
        return Account(self.next_user - 1, f"user{self.next_user - 1}")

    def spare_account(self) -> Account:
        self.top -= 1
        return Account(self.top + 1, f"user{self.top + 1}")

    def copy_account(self, source: Account, target: Account) -> str | None:
        if not self.visible:
            return "this host does not see the container's files (/proc/<pid>/root)"
        self.copies.append((source.username, target.username))
        return None

    def endpoint(self, *args, **kwargs):
        return None

    def delivery_endpoint(self, account: Account):
        return None

    def settle_delivery(self, account: Account) -> None:
        pass

    def flush_store(self, account: Account) -> None:
        self.flushed.append(account.username)


class FakeDelivery:
    """``bench.sample.deliver`` without a server: stores every message but those at the
    positions in ``refuse`` (counted from the delivery's first message)."""

    def __init__(self, refuse: set[int] = frozenset()) -> None:
        self.refuse = refuse
        self.calls = 0

    def __call__(self, endpoint, messages, stored=None, settle=None) -> DeliveryReport:
        self.calls += 1
        report = DeliveryReport(0, 0, 0.01)
        for index, raw in enumerate(messages):
            if index in self.refuse:
                report.refused.append(Refusal(index, len(raw), "NO [LIMIT] too big"))
                continue
            report.messages += 1
            report.bytes += len(raw)
            stored(raw)
        return report


@pytest.fixture()
def corpus():
    return GeneratedCorpus(seed=3)


def _context(server, copies, corpus, tmp_path: Path) -> SampleContext:
    return SampleContext(server, get_mode("imap"), "full", 10, corpus, AccessOptions(), tmp_path, copies=copies)


def test_only_a_mailboxs_first_delivery_is_copied():
    assert MailboxCopies.applies(0, 10)
    assert not MailboxCopies.applies(0, 0)
    assert not MailboxCopies.applies(10, 1)  # new mail


def test_a_template_is_delivered_once_per_size_and_copied_into_each_mailbox(monkeypatch, corpus, tmp_path):
    delivery = FakeDelivery(refuse={3})
    monkeypatch.setattr(bench.sample, "deliver", delivery)
    server = FakeServer()
    copies = MailboxCopies.for_server(server, deliver_each_sample=False)
    boxes = []
    for _ in range(3):
        ctx = _context(server, copies, corpus, tmp_path)
        box = ctx.new_mailbox()
        report = ctx.deliver(box, 10)
        assert (report.messages, len(box.truth), box.delivered) == (9, 9, 10)
        assert [r.index for r in box.refused] == [3] and [r.index for r in ctx.refused] == [3]
        assert ctx.initial_mailboxes == [None]
        boxes.append(box)
    assert delivery.calls == 1  # the template's delivery
    assert server.copies == [("user20", "user2"), ("user20", "user3"), ("user20", "user4")]
    assert server.flushed == ["user2", "user3", "user4"]  # each copy goes to disk before anything is measured
    # Each mailbox's truth is its own: new mail into one is not in another's.
    ctx = _context(server, copies, corpus, tmp_path)
    ctx.deliver(boxes[0], 2)
    assert delivery.calls == 2 and server.copies[-1] == ("user20", "user4")  # an APPEND, no copy
    assert (len(boxes[0].truth), len(boxes[1].truth)) == (11, 9)
    assert boxes[0].truth.keys[:9] == boxes[1].truth.keys


def test_a_copy_gives_the_truth_an_append_gives(monkeypatch, corpus, tmp_path):
    monkeypatch.setattr(bench.sample, "deliver", FakeDelivery(refuse={1}))
    server = FakeServer()
    copied = _context(server, MailboxCopies.for_server(server, False), corpus, tmp_path)
    copied_box = copied.new_mailbox()
    copied.deliver(copied_box, 6)
    copied.deliver(copied_box, 6)  # the template is made on the first, so copy again
    again = copied.new_mailbox()
    copied.deliver(again, 6)
    appended = _context(server, MailboxCopies.for_server(server, True), corpus, tmp_path)
    appended_box = appended.new_mailbox()
    appended.deliver(appended_box, 6)
    assert [e for e in again.truth.entries] == [e for e in appended_box.truth.entries]
    assert again.refused == appended_box.refused


def test_sizes_beyond_the_spare_accounts_are_delivered(monkeypatch, corpus, tmp_path):
    monkeypatch.setattr(bench.sample, "deliver", FakeDelivery())
    server = FakeServer()
    copies = MailboxCopies(server, spare_accounts=1)
    ctx = _context(server, copies, corpus, tmp_path)
    ctx.deliver(ctx.new_mailbox(), 4)
    ctx.deliver(ctx.new_mailbox(), 5)
    assert ctx.initial_mailboxes[0] is None and "template accounts are taken" in ctx.initial_mailboxes[1]
    assert copies.describe(ctx.initial_mailboxes)["initial"] == DELIVERED


@pytest.mark.parametrize("server, each, why", [
    (FakeServer(), True, "--deliver-each-sample"),
    (FakeServer(spec=NoCopies()), False, "entries in a database"),
    (FakeServer(visible=False), False, "does not see the container's files"),
])
def test_mailboxes_are_delivered_and_say_why(monkeypatch, corpus, tmp_path, server, each, why):
    delivery = FakeDelivery()
    monkeypatch.setattr(bench.sample, "deliver", delivery)
    copies = MailboxCopies.for_server(server, each)
    for _ in range(2):
        ctx = _context(server, copies, corpus, tmp_path)
        box = ctx.new_mailbox()
        ctx.deliver(box, 5)
        assert len(box.truth) == 5
    [reason] = ctx.initial_mailboxes
    assert why in reason and not server.copies
    described = copies.describe([reason, reason])
    assert described["initial"] == DELIVERED and why in described["why"] and described["delivered"] == 2


def test_a_cell_says_how_its_mailboxes_were_made():
    copies = MailboxCopies(FakeServer())
    assert copies.describe([]) is None
    described = copies.describe([None, None])
    assert described["initial"] == COPIED and described["copied"] == 2 and "template" in described["how"]
    mixed = copies.describe([None, "turned off"])
    assert (mixed["initial"], mixed["copied"], mixed["delivered"], mixed["why"]) == (DELIVERED, 1, 1, "turned off")


def test_the_flag_turns_the_copy_off(monkeypatch, tmp_path):
    """``mailbench run --deliver-each-sample`` reaches the run's config; without it, copies."""
    from click.testing import CliRunner

    import bench.runner
    from bench.cli import cli

    configs = []

    class Stop(Exception):
        pass

    def fake_run(config, observer=None):
        configs.append(config)
        raise Stop

    monkeypatch.setattr(bench.runner, "Run", fake_run)
    for args in ([], ["--deliver-each-sample"]):
        CliRunner().invoke(cli, ["run", "--server", "dovecot", "--out", str(tmp_path), *args])
    assert [config.deliver_each_sample for config in configs] == [False, True]
