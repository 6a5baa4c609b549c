"""IMAP and POP3 access against each real server: bytes, round trips, deletion, flags."""

from __future__ import annotations

import tracemalloc

import pytest

from bench.access import AccessOptions, WireMeter, open_access
from bench.corpus import Truth, generate_messages
from bench.corpus.canonical import header_block
from bench.delivery import deliver
from bench.errors import Unsupported

pytestmark = pytest.mark.integration

COUNT = 40


@pytest.fixture()
def mailbox(server):
    """A fresh account holding COUNT generated messages, and their truth."""
    account = server.fresh_account()
    messages = list(generate_messages(COUNT, seed=7))
    report = deliver(server.endpoint("imap", account), messages)
    assert report.messages == COUNT
    return account, messages


def _session(server, protocol, account, meter=None, **options):
    endpoint = server.endpoint(protocol, account)
    return open_access(protocol, endpoint, meter or WireMeter(), AccessOptions(**options))


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("part", ["full", "headers"])
def test_fetch_returns_every_message_byte_for_byte(server, mailbox, protocol, part):
    account, messages = mailbox
    meter = WireMeter()
    with _session(server, protocol, account, meter) as access:
        listing = access.list_messages()
        fetched = [raw for _, raw in access.fetch(listing.refs, part)]
    expected = messages if part == "full" else [header_block(raw) for raw in messages]
    # POP3 numbers messages in the server's order, not always the delivery order (Courier).
    assert sorted(fetched) == sorted(expected)
    assert meter.bytes_down > sum(map(len, expected))
    assert meter.bytes_up > 0
    assert meter.round_trips >= 3  # greeting, login, and at least one fetch


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_listing_after_a_token_shows_only_new_mail(server, mailbox, protocol):
    account, messages = mailbox
    with _session(server, protocol, account) as access:
        token = access.list_messages().token
    extra = list(generate_messages(3, seed=7, start=COUNT))
    deliver(server.endpoint("imap", account), extra)
    with _session(server, protocol, account) as access:
        listing = access.list_messages(token)
        assert sorted(raw for _, raw in access.fetch(listing.refs)) == sorted(extra)


def test_an_imap_session_polling_with_noop_lists_new_mail_without_selecting_again(server, mailbox):
    """A device on one connection (many-devices) polls with NOOP, then lists above its last
    UID on the inbox it keeps selected; a listing with no NOOP before it selects again,
    since Dovecot and Courier report mail delivered meanwhile to NOOP or SELECT, not to a
    UID FETCH."""
    account, _ = mailbox
    meter = WireMeter()
    with _session(server, "imap", account, meter) as access:
        token = access.list_messages().token
        for batch, start in enumerate((COUNT, COUNT + 3)):
            extra = list(generate_messages(3, seed=7, start=start))
            deliver(server.endpoint("imap", account), extra)
            if batch == 0:
                access.noop()
            listing = access.list_messages(token)
            assert sorted(raw for _, raw in access.fetch(listing.refs)) == sorted(extra)
            token = listing.token
    commands = meter.commands()
    assert commands["SELECT"]["count"] == 2  # the first listing's, and the one without a NOOP
    assert commands["NOOP"]["count"] == 1


def test_an_imap_poll_of_an_empty_inbox_on_its_kept_selection_finds_nothing(server):
    account = server.fresh_account()
    with _session(server, "imap", account) as access:
        token = access.list_messages().token
        access.noop()
        assert access.list_messages(token).refs == []


def test_pop3_pipelining_saves_round_trips_not_bytes(server, mailbox):
    account, _ = mailbox
    meters = {}
    for pipelining in (False, True):
        meters[pipelining] = meter = WireMeter()
        with _session(server, "pop3", account, meter, pipelining=pipelining) as access:
            list(access.fetch(access.list_messages().refs))
            assert access.pipelined == pipelining
            assert ("PIPELINING" in access.capabilities_used) == pipelining
    # The same answers (a few bytes apart: some servers' replies carry counts or timings).
    assert abs(meters[True].bytes_down - meters[False].bytes_down) < 64
    assert meters[True].round_trips < meters[False].round_trips - COUNT // 2


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_delete_removes_messages_from_the_server(server, mailbox, protocol):
    account, _ = mailbox
    with _session(server, protocol, account) as access:
        refs = access.list_messages().refs
        access.delete(refs[:5])
    with _session(server, protocol, account) as access:
        remaining = access.list_messages().refs
    assert len(remaining) == COUNT - 5
    assert {r.id for r in remaining} == {r.id for r in refs[5:]}


def test_pop3_deletion_is_undone_when_the_session_does_not_end_cleanly(server, mailbox):
    account, _ = mailbox
    access = _session(server, "pop3", account)
    access.delete(access.list_messages().refs)
    access._conn.sock.close()  # the link dies before QUIT: RFC 1939 says nothing is deleted
    with _session(server, "pop3", account) as again:
        assert len(again.list_messages().refs) == COUNT


def test_flags_are_imap_only(server, mailbox):
    account, _ = mailbox
    with _session(server, "imap", account) as access:
        refs = access.list_messages().refs
        access.set_flags(refs[:1], [b"\\Flagged"])
        assert b"\\Flagged" in access.client.get_flags([refs[0].handle])[refs[0].handle]
    with _session(server, "pop3", account) as access:
        with pytest.raises(Unsupported):
            access.set_flags(access.list_messages().refs[:1], ["\\Flagged"])


def test_truth_detects_a_changed_message(server, mailbox):
    account, messages = mailbox
    truth = Truth()
    for raw in messages:
        truth.add(raw)
    with _session(server, "pop3", account) as access:
        fetched = [raw for _, raw in access.fetch(access.list_messages().refs)]
    assert truth.check(fetched, "full").passed
    fetched[3] = fetched[3].replace(b"Subject:", b"Subject: X", 1)
    report = truth.check(fetched, "full")
    assert not report.passed and len(report.changed) == 1


def test_an_imap_fetch_holds_the_answer_and_no_string_made_of_it(server, mailbox):
    """IMAPClient turns imaplib's debug output on, and imaplib then formats each FETCH
    answer as a string (a copy of the batch) for a logger that drops it; the client turns
    that off, so what a fetch holds at its peak is the answer itself and the messages
    handed over."""
    account, messages = mailbox
    size = sum(map(len, messages))
    with _session(server, "imap", account) as access:
        listing = access.list_messages()
        tracemalloc.start()
        try:
            fetched = sum(len(raw) for _, raw in access.fetch(listing.refs))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert fetched == size
    assert peak < 2 * size, (peak, size)
