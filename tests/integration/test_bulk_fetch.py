"""bulk-fetch end to end on real servers: every mode and variant passes its integrity
check, a device whose copy is wrong fails the cell, and a search finds on every server
what the corpus says it should."""

from __future__ import annotations

import pytest

from bench.access import AccessOptions
from bench.access.imap import ImapAccess
from bench.corpus.canonical import message_id
from bench.corpus.source import GeneratedCorpus
from bench.errors import IntegrityError
from bench.modes import MODES
from bench.search import SEARCH_TERM, subject_contains
from scenarios import get_scenario
from bench.sample import SampleContext

pytestmark = pytest.mark.integration

MESSAGES = 30


def _context(server, tmp_path, mode, variant, messages=MESSAGES, seed=3):
    return SampleContext(server, MODES[mode], variant, messages, GeneratedCorpus(seed=seed),
                         AccessOptions(), tmp_path)


@pytest.mark.parametrize("variant", ["full", "headers", "new"])
@pytest.mark.parametrize("mode", list(MODES))
def test_every_mode_and_variant_downloads_the_truth(server, tmp_path, mode, variant):
    outcome = get_scenario("bulk-fetch").run_sample(_context(server, tmp_path, mode, variant))
    expected = MESSAGES // 10 if variant == "new" else MESSAGES
    assert outcome.metrics["messages"] == expected
    assert outcome.integrity["passed"] and outcome.integrity["checked"] == MESSAGES
    assert outcome.metrics["bytes_down"] > outcome.metrics["message_bytes"] > 0
    assert outcome.metrics["round_trips"] >= 3
    assert outcome.metrics["server_cpu_s"] >= 0 and outcome.metrics["client_cpu_s"] > 0
    assert outcome.metrics["server_disk_bytes"] > 0


def test_pop3_delete_leaves_the_server_empty_and_keep_does_not(server, tmp_path):
    from bench.access import WireMeter, open_access

    for mode, left in (("pop3-delete", 0), ("pop3-keep", MESSAGES)):
        ctx = _context(server, tmp_path, mode, "full")
        mailbox = ctx.new_mailbox()
        ctx.deliver(mailbox, MESSAGES)
        device = ctx.device("phone")
        with ctx.connect(mailbox) as access:
            device.sync(access)
        endpoint = server.endpoint("imap", mailbox.account)
        with open_access("imap", endpoint, WireMeter()) as imap:
            assert len(imap.list_messages().refs) == left
        assert len(device.store) == MESSAGES


def test_a_corrupted_device_copy_fails_the_sample(server, tmp_path, monkeypatch):
    from bench.devices.device import DeviceStore

    original_put = DeviceStore.put

    def put_with_one_flipped_byte(self, message_id, raw):
        if len(self) == 5:
            raw = raw[:-10] + bytes([raw[-10] ^ 0x01]) + raw[-9:]
        original_put(self, message_id, raw)

    monkeypatch.setattr(DeviceStore, "put", put_with_one_flipped_byte)
    with pytest.raises(IntegrityError, match="changed"):
        get_scenario("bulk-fetch").run_sample(_context(server, tmp_path, "imap", "full"))


# Among seed 1's first 200 messages, some hold the term in a Subject of RFC 2047 encoded
# words ("Café menu for Friday ☕"; the test asserts it): every server must decode those.
SEARCH_MESSAGES = 200
SEARCH_SEED = 1


def test_search_finds_the_corpus_matches_and_imap_downloads_less_than_pop3(server, tmp_path):
    corpus = list(GeneratedCorpus(seed=SEARCH_SEED).messages(0, SEARCH_MESSAGES))
    expected = {message_id(raw) for raw in corpus if subject_contains(raw, SEARCH_TERM)}
    assert any(b"Subject: =?utf-8?" in raw and message_id(raw) in expected for raw in corpus)
    bytes_down = {}
    for mode in ("imap", "pop3-keep"):
        ctx = _context(server, tmp_path, mode, "search", SEARCH_MESSAGES, SEARCH_SEED)
        devices = []
        make_device = ctx.device
        ctx.device = lambda name: devices.append(make_device(name)) or devices[-1]
        outcome = get_scenario("bulk-fetch").run_sample(ctx)
        assert {message_id(raw) for raw in devices[0].store} == expected, mode
        assert outcome.integrity["passed"] and outcome.integrity["checked"] == len(expected)
        assert outcome.metrics["search_matches"] == outcome.metrics["messages"] == len(expected)
        downloaded = len(expected) if mode == "imap" else SEARCH_MESSAGES
        assert outcome.metrics["messages_downloaded_to_search"] == downloaded
        assert outcome.info["search"] == f"SUBJECT {SEARCH_TERM}"
        bytes_down[mode] = outcome.metrics["bytes_down"]
    assert bytes_down["imap"] < bytes_down["pop3-keep"]


def test_a_server_search_answer_unlike_the_corpus_fails_the_sample_naming_the_message(dovecot, tmp_path,
                                                                                     monkeypatch):
    original_search = ImapAccess.search
    monkeypatch.setattr(ImapAccess, "search", lambda self, term: original_search(self, term)[1:])
    first = next(raw for raw in GeneratedCorpus(seed=SEARCH_SEED).messages(0, MESSAGES)
                 if subject_contains(raw, SEARCH_TERM))
    with pytest.raises(IntegrityError, match=f"missing: {message_id(first)}"):
        get_scenario("bulk-fetch").run_sample(_context(dovecot, tmp_path, "imap", "search", seed=SEARCH_SEED))
