"""interrupted-sync against real containers: each fault in each mode on each server, and the
figures the scenario reports checked against an independent count: the server's mailbox read
here with imapclient, and the device's store read from its folder on disk."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from imapclient import IMAPClient

from bench.access import AccessOptions
from bench.corpus.canonical import canonical
from bench.corpus.source import FileCorpus, GeneratedCorpus
from scenarios.interrupted_sync.faults import FAULTS
from bench.links import parse_link
from bench.links.cell import open_cell_link
from bench.modes import MODES
from bench.sample import SampleContext
from scenarios.interrupted_sync import InterruptedSync

pytestmark = pytest.mark.integration

MESSAGES = 8
SEED = 3
CLIENT_TIMEOUT_S = 1.0


def _sha(raw: bytes) -> str:
    return hashlib.sha256(canonical(raw)).hexdigest()


def _server_mailbox(server, username: str) -> list[str]:
    """The inbox as the server holds it, read with a plain IMAP client."""
    with IMAPClient("127.0.0.1", port=server.host_ports["imap"], ssl=False, timeout=30) as client:
        client.login(username, server.spec.password)
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        data = client.fetch(uids, [b"BODY.PEEK[]"]) if uids else {}
        return [_sha(item[b"BODY[]"]) for item in data.values()]


def _device_files(workdir) -> tuple[list[str], int]:
    (store,) = workdir.glob("phone-*")
    whole = [_sha(path.read_bytes()) for path in (store / "cur").iterdir()]
    return whole, sum(1 for _ in (store / "tmp").iterdir())


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_is_counted_as_the_server_and_the_device_show_it(server, tmp_path, fault, mode):
    truth = [_sha(raw) for raw in GeneratedCorpus(seed=SEED).messages(0, MESSAGES)]
    scenario = InterruptedSync(client_timeout_s=CLIENT_TIMEOUT_S, outage_s=0.2, recovery_limit_s=60.0)
    service = MODES[mode].protocol.service("off")
    with open_cell_link(server, [service], parse_link("lan"), cuttable=True) as link:
        ctx = SampleContext(server, MODES[mode], fault, MESSAGES, GeneratedCorpus(seed=SEED), AccessOptions(),
                            tmp_path, link=link, sample=1)
        outcome = scenario.run_sample(ctx)
        assert not any(relay.is_cut for relay in link.links.values())  # the link is back
    server.container.reload()
    assert server.container.status == "running"  # killed or paused, it was brought back

    m, info = outcome.metrics, outcome.info
    on_server = _server_mailbox(server, info["account"])
    whole, unfinished = _device_files(tmp_path)
    delivered, kept, held = Counter(truth), Counter(on_server), Counter(whole)
    lost = sum(n - max(kept[key], held[key]) for key, n in delivered.items() if max(kept[key], held[key]) < n)
    duplicated = sum(n - delivered[key] for key, n in held.items() if key in delivered and n > delivered[key])
    partial = unfinished + sum(n for key, n in held.items() if key not in delivered)
    assert (m["messages_lost"], m["messages_duplicated"], m["messages_partial"]) == (lost, duplicated, partial)
    assert m["left_on_server"] == sum((kept & delivered).values())
    assert m["whole_on_device"] == sum((held & delivered).values())

    # What the servers really do: after the device recovered, nothing is lost, no copy is
    # doubled or half-written, and only pop3-delete emptied the server.
    assert (lost, duplicated, partial) == (0, 0, 0)
    assert m["left_on_server"] == (0 if mode == "pop3-delete" else MESSAGES)
    assert m["whole_on_device"] == MESSAGES and outcome.integrity["passed"]
    assert m["recover_attempts"] >= 1 and m["recover_bytes_down"] > 0
    if fault != "cut-between-commands":  # these strike in the middle of a message
        assert info["session_error"] and m["kept_through_fault"] < MESSAGES
        assert m["detect_s"] >= 0.0
    if fault == "server-paused":
        assert m["detect_s"] >= CLIENT_TIMEOUT_S * 0.9  # noticed only by its read timeout
    if fault == "server-killed":
        assert m["server_restart_s"] > 0.0


def test_a_fault_that_cannot_strike_fails_the_sample_instead_of_reporting_nothing_lost(dovecot, tmp_path):
    """A mid-message fault armed on a message the device never fetches (its headers only are
    asked for here: the middle line never crosses) is an error, not a clean result."""
    scenario = InterruptedSync(client_timeout_s=CLIENT_TIMEOUT_S, outage_s=0.1)
    with open_cell_link(dovecot, ["imap"], parse_link("lan"), cuttable=True) as link:
        ctx = SampleContext(dovecot, MODES["imap"], "cut-mid-message", MESSAGES, GeneratedCorpus(seed=SEED),
                            AccessOptions(), tmp_path, link=link)
        ctx.device = _headers_only_device(ctx.device)
        with pytest.raises(Exception, match="never struck"):
            scenario.run_sample(ctx)
        assert not any(relay.is_cut for relay in link.links.values())


def _headers_only_device(make):
    def device(name):
        made = make(name)
        sync = made.sync
        made.sync = lambda access, part="full", at=None: sync(access, "headers", at)
        return made

    return device


def test_a_message_the_server_refused_is_not_counted_as_lost(dovecot, tmp_path, oversized_corpus):
    path, _ = oversized_corpus
    corpus = FileCorpus(path)
    with open_cell_link(dovecot, ["pop3"], parse_link("lan"), cuttable=True) as link:
        ctx = SampleContext(dovecot, MODES["pop3-delete"], "cut-mid-message", corpus.resolve_count(None), corpus,
                            AccessOptions(), tmp_path, link=link)
        outcome = InterruptedSync(client_timeout_s=CLIENT_TIMEOUT_S, outage_s=0.1).run_sample(ctx)
    assert [refusal.index for refusal in ctx.refused] == [2]
    m = outcome.metrics
    assert (m["messages_lost"], m["whole_on_device"], m["left_on_server"]) == (0, 5, 0)
