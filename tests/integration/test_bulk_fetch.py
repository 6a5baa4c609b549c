"""bulk-fetch end to end on a real Dovecot: every mode and variant passes its integrity
check, and a device whose copy is wrong fails the cell."""

from __future__ import annotations

import pytest

from bench.access import AccessOptions
from bench.corpus.source import GeneratedCorpus
from bench.errors import IntegrityError
from bench.modes import MODES
from scenarios import get_scenario
from scenarios.base import SampleContext

pytestmark = pytest.mark.integration

MESSAGES = 30


def _context(server, tmp_path, mode, variant):
    return SampleContext(server, MODES[mode], variant, MESSAGES, GeneratedCorpus(seed=3),
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
    from bench.device import DeviceStore

    original_put = DeviceStore.put

    def put_with_one_flipped_byte(self, message_id, raw):
        if len(self) == 5:
            raw = raw[:-10] + bytes([raw[-10] ^ 0x01]) + raw[-9:]
        original_put(self, message_id, raw)

    monkeypatch.setattr(DeviceStore, "put", put_with_one_flipped_byte)
    with pytest.raises(IntegrityError, match="changed"):
        get_scenario("bulk-fetch").run_sample(_context(server, tmp_path, "imap", "full"))
