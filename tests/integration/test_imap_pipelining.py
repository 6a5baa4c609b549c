"""IMAP FETCH pipelining on every server: the same bytes as one command at a time, fewer
round trips (counted by the meter), and a session left in order when a fetch stops early."""

from __future__ import annotations

import dataclasses

import pytest

from bench.access import AccessOptions, WireMeter, imap, open_access
from bench.corpus import generate_messages
from bench.corpus.canonical import header_block
from bench.delivery import deliver
from bench.links import open_link, parse_link

pytestmark = pytest.mark.integration

COUNT = 36
BATCH = 5  # messages per FETCH in these tests, so that COUNT makes several batches
BATCHES = -(-COUNT // BATCH)


@pytest.fixture()
def mailbox(server, monkeypatch):
    monkeypatch.setattr(imap, "FETCH_BATCH_MESSAGES", BATCH)
    account = server.fresh_account()
    messages = list(generate_messages(COUNT, seed=11))
    assert deliver(server.endpoint("imap", account), messages).messages == COUNT
    return account, messages


def _fetch(endpoint, pipelining, part="full"):
    """Fetch every message; the round trips of the fetch alone, and the session's flag."""
    meter = WireMeter()
    with open_access("imap", endpoint, meter, AccessOptions(pipelining=pipelining)) as access:
        refs = access.list_messages().refs
        before, up_before = meter.round_trips, meter.bytes_up
        fetched = [(ref.id, raw) for ref, raw in access.fetch(refs, part)]
        return fetched, meter.round_trips - before, meter.bytes_up - up_before, access.pipelined, meter


@pytest.mark.parametrize("part", ["full", "headers"])
def test_pipelined_fetch_returns_the_same_bytes_in_one_round_trip(server, mailbox, part):
    account, messages = mailbox
    endpoint = server.endpoint("imap", account)
    one, one_trips, one_up, one_pipelined, one_meter = _fetch(endpoint, False, part)
    many, many_trips, many_up, many_pipelined, many_meter = _fetch(endpoint, True, part)
    expected = messages if part == "full" else [header_block(raw) for raw in messages]
    assert [raw for _, raw in many] == [raw for _, raw in one]  # same messages, same order
    assert sorted(raw for _, raw in many) == sorted(expected)
    assert one_trips == BATCHES  # one wait per FETCH ...
    assert many_trips == 1  # ... against one for all of them
    assert many_up == one_up  # the same commands, only written together
    assert (one_pipelined, many_pipelined) == (False, True)
    assert one_meter.commands()["FETCH"]["count"] == 1 + BATCHES  # the listing, then the batches
    assert many_meter.commands()["FETCH (pipelined)"]["count"] == BATCHES


def test_commands_beyond_one_write_go_in_several(server, mailbox, monkeypatch):
    account, messages = mailbox
    monkeypatch.setattr(imap, "PIPELINE_BYTES", 100)  # two commands (about 46 bytes each) per write
    fetched, trips, _, pipelined, _ = _fetch(server.endpoint("imap", account), True)
    assert sorted(raw for _, raw in fetched) == sorted(messages)
    assert pipelined and 1 < trips < BATCHES


def test_a_single_batch_is_not_pipelined(server, mailbox, monkeypatch):
    account, messages = mailbox
    monkeypatch.setattr(imap, "FETCH_BATCH_MESSAGES", COUNT)
    fetched, trips, _, pipelined, _ = _fetch(server.endpoint("imap", account), True)
    assert sorted(raw for _, raw in fetched) == sorted(messages)
    assert trips == 1 and not pipelined


def test_a_fetch_left_early_reads_its_answers_before_the_next_command(server, mailbox):
    account, messages = mailbox
    with open_access("imap", server.endpoint("imap", account), WireMeter()) as access:
        refs = access.list_messages().refs
        access.set_flags(refs[-1:], ["\\Flagged"])
        fetching = access.fetch(refs)
        first = [next(fetching) for _ in range(BATCH + 2)]  # into the second batch
        fetching.close()
        assert [raw for _, raw in first] == messages[: BATCH + 2]
        # The next command gets its own answers, not the rest of the fetch.
        located = access.locate(refs)
        assert set(located) == {ref.id for ref in refs}
        assert [ref.id for ref in refs if located[ref.id].flags] == [refs[-1].id]
        again = [raw for _, raw in access.fetch(refs[-BATCH - 1:])]
        assert again == messages[-BATCH - 1:]


def test_pipelining_in_each_folder_of_a_fetch(server, mailbox):
    account, messages = mailbox
    with open_access("imap", server.endpoint("imap", account), WireMeter()) as access:
        refs = access.list_messages().refs
        moved = access.move(refs[: 2 * BATCH + 1], "Archive")
        wanted = [moved[ref.id] for ref in refs[: 2 * BATCH + 1]] + refs[2 * BATCH + 1:]
        fetched = [raw for _, raw in access.fetch(wanted)]
        assert access.pipelined and not access.unavailable
    assert sorted(fetched) == sorted(messages)


def test_expunged_messages_are_skipped_in_a_pipelined_fetch(server, mailbox):
    account, messages = mailbox
    endpoint = server.endpoint("imap", account)
    with open_access("imap", endpoint, WireMeter()) as access:
        refs = access.list_messages().refs
        with open_access("imap", endpoint, WireMeter()) as other:
            other.delete([refs[1], refs[BATCH + 3]])
        # Until told, a session may still read an expunged message (all three servers do);
        # NOOP tells it, and the UIDs then match nothing.
        access.client.noop()
        fetched = [ref.id for ref, _ in access.fetch(refs)]
        assert access.unavailable == {refs[1].id, refs[BATCH + 3].id}
    assert fetched == [ref.id for ref in refs if ref.id not in access.unavailable]


def test_pipelining_through_a_relayed_link(server, mailbox):
    account, messages = mailbox
    endpoint = server.endpoint("imap", account)
    with open_link(endpoint.port, parse_link("rtt=20ms,down=50mbit,up=10mbit")) as link:
        relayed = dataclasses.replace(endpoint, port=link.port)
        one, one_trips, *_ = _fetch(relayed, False)
        many, many_trips, _, pipelined, _ = _fetch(relayed, True)
    assert [raw for _, raw in many] == [raw for _, raw in one]
    assert sorted(raw for _, raw in many) == sorted(messages)
    assert (one_trips, many_trips, pipelined) == (BATCHES, 1, True)
