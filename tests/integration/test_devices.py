"""Devices and the access they need, on every real server: folder listings with and without
QRESYNC/CONDSTORE, moves, IDLE, POP3's limits, and SyncDevice's state, queue and caches."""

from __future__ import annotations

import threading
import time

import pytest

from bench.access import AccessOptions, WireMeter, open_access
from bench.access.base import FLAGGED, INBOX, SEEN, FolderSnapshot
from bench.corpus import generate_messages
from bench.delivery import deliver
from bench.devices.device import LocalMessage, SyncDevice, SyncPolicy
from bench.devices.timeline import ARCHIVE
from bench.errors import Unsupported
from bench.modes import MODES

pytestmark = pytest.mark.integration

COUNT = 8


@pytest.fixture()
def account(server):
    account = server.fresh_account()
    deliver(server.endpoint("imap", account), list(generate_messages(COUNT, seed=11)))
    return account


def _session(server, protocol, account, meter=None):
    return open_access(protocol, server.endpoint(protocol, account), meter or WireMeter(), AccessOptions())


def _state(access, folder):
    """Every message of ``folder`` as a fresh full listing sees it: id -> flags."""
    return {s.ref.id: s.flags for s in access.changes(folder, FolderSnapshot()).new}


def test_incremental_and_full_listings_agree_and_say_how_they_listed(server, account):
    snapshots, methods = {}, {}
    for listing in ("best", "condstore", "full"):
        with _session(server, "imap", account) as access:
            methods[listing] = access.prepare_sync(listing)
            first = access.changes(INBOX, FolderSnapshot())
            assert first.method == "full" and len(first.new) == COUNT
            assert all(s.message_id and s.message_id.startswith("<mb-11-") for s in first.new)
            snapshots[listing] = (first.snapshot(FolderSnapshot()), {s.ref.id: s.flags for s in first.new})
    with _session(server, "imap", account) as access:
        capabilities = access.capabilities
        refs = [s.ref for s in access.changes(INBOX, FolderSnapshot()).new]
        access.set_flags(refs[:1], [SEEN])
        access.set_flags(refs[1:2], [FLAGGED])
        access.move(refs[2:3], ARCHIVE)
        access.delete(refs[3:4])
    deliver(server.endpoint("imap", account), list(generate_messages(1, seed=11, start=COUNT)))
    with _session(server, "imap", account) as access:
        truth = _state(access, INBOX)
    for listing, (snapshot, known) in snapshots.items():
        meter = WireMeter()
        with _session(server, "imap", account, meter) as access:
            assert access.prepare_sync(listing) == methods[listing]
            changes = access.changes(INBOX, snapshot)
            assert changes.method == methods[listing]
            for state in changes.updated:
                known[state.ref.id] = state.flags
            for gone in changes.vanished:
                del known[gone]
            for state in changes.new:
                known[state.ref.id] = state.flags
            assert known == truth, listing
            again = access.changes(INBOX, changes.snapshot(snapshot))
            assert again.method == ("full" if methods[listing] == "full" else "unchanged")
            assert not again.new and not again.vanished
    expected = {"best": "qresync" if "QRESYNC" in capabilities else "condstore" if "CONDSTORE" in capabilities
                else "full", "full": "full"}
    assert methods["best"] == expected["best"] and methods["full"] == "full"


def test_every_listing_sees_the_folder_s_last_message_expunged(server, account):
    """The message with the highest UID is the one a "1:*" range no longer reaches once it
    is gone (Cyrus reads "*" as the highest UID present): each listing must still report it."""
    snapshots = {}
    for listing in ("best", "condstore", "full"):
        with _session(server, "imap", account) as access:
            access.prepare_sync(listing)
            snapshots[listing] = access.changes(INBOX, FolderSnapshot()).snapshot(FolderSnapshot())
    with _session(server, "imap", account) as access:
        newest = max(access.changes(INBOX, FolderSnapshot()).new, key=lambda s: s.ref.handle).ref
        access.delete([newest])
    for listing, snapshot in snapshots.items():
        with _session(server, "imap", account) as access:
            access.prepare_sync(listing)
            changes = access.changes(INBOX, snapshot)
            assert changes.vanished == {newest.id}, listing
            assert not changes.new


def test_moves_use_move_or_copy_and_expunge_and_say_where_the_message_went(server, account):
    with _session(server, "imap", account) as access:
        access.ensure_folder(ARCHIVE)
        access.ensure_folder(ARCHIVE)  # twice is fine
        listed = access.changes(INBOX, FolderSnapshot()).new
        moved = access.move([listed[0].ref], ARCHIVE)
        new_ref = moved[listed[0].ref.id]
        assert new_ref.folder == ARCHIVE
        # ids stay unique across folders, even where two folders share a UIDVALIDITY (Cyrus)
        assert new_ref.id.startswith(f"{ARCHIVE}/") and new_ref.id not in {s.ref.id for s in listed}
        archived = access.changes(ARCHIVE, FolderSnapshot()).new
        assert [(s.ref.id, s.message_id) for s in archived] == [(new_ref.id, listed[0].message_id)]
        assert listed[0].ref.id not in access.locate([s.ref for s in listed])
        assert ("MOVE" if "MOVE" in access.capabilities else "UIDPLUS") in access.capabilities_used
        assert ARCHIVE in access.folders()


def test_pop3_has_neither_folders_nor_flags_nor_push(server, account):
    with _session(server, "pop3", account) as access:
        assert not (access.keeps_flags or access.has_folders or access.mirrors_mailbox or access.can_push)
        assert access.prepare_sync("best") == "uidl"
        changes = access.changes(INBOX, FolderSnapshot())
        assert changes.method == "uidl" and len(changes.new) == COUNT
        refs = [s.ref for s in changes.new]
        for call in (lambda: access.changes(ARCHIVE, FolderSnapshot()), lambda: access.ensure_folder(ARCHIVE),
                     lambda: access.move(refs[:1], ARCHIVE), lambda: access.clear_flags(refs[:1], [SEEN]),
                     lambda: access.wait_for_news(0.1)):
            with pytest.raises(Unsupported):
                call()
        assert set(access.locate(refs[:3])) == {ref.id for ref in refs[:3]}


def test_idle_waits_are_bounded_and_a_sync_after_them_finds_the_new_mail(server, account):
    timeout = 2.0
    with _session(server, "imap", account) as access:
        assert access.can_push
        known = access.changes(INBOX, FolderSnapshot())
        snapshot = known.snapshot(FolderSnapshot())
        later = threading.Timer(0.3, lambda: deliver(server.endpoint("imap", account),
                                                     list(generate_messages(1, seed=11, start=50))))
        later.start()
        start = time.perf_counter()
        pushed = access.wait_for_news(timeout)
        elapsed = time.perf_counter() - start
        later.join()
        assert elapsed < (timeout if pushed else timeout + 1.0)
        assert len(access.changes(INBOX, snapshot).new) == 1
        start = time.perf_counter()
        assert access.wait_for_news(0.3) is False  # nothing more comes
        assert time.perf_counter() - start < 1.3


def _device(tmp_path, name, mode, **choices):
    return SyncDevice(name, SyncPolicy.for_mode(MODES[mode], **choices), tmp_path / name)


def _sync(server, mode, account, device, meter=None):
    protocol = MODES[mode].protocol.name
    with _session(server, protocol, account, meter) as access:
        return device.session(access)


@pytest.mark.parametrize("mode", list(MODES))
def test_what_one_device_does_shows_on_another_as_the_protocol_allows(server, account, tmp_path, mode):
    phone, laptop = _device(tmp_path, "phone", mode), _device(tmp_path, "laptop", mode)
    _sync(server, mode, account, phone)
    _sync(server, mode, account, laptop)
    keys = sorted(phone.view())
    assert len(keys) == COUNT
    assert len(laptop.view()) == (0 if mode == "pop3-delete" else COUNT)
    for kind, key in zip(("read", "flag", "move", "delete"), keys):
        assert phone.act(kind, key)
    _sync(server, mode, account, phone)
    _sync(server, mode, account, laptop)
    view = laptop.view()
    if MODES[mode].protocol.keeps_flags:  # imap, jmap
        assert view[keys[0]].seen and view[keys[1]].flagged and view[keys[2]].folder == ARCHIVE
        assert keys[3] not in view and view == phone.view()
    elif mode == "pop3-keep":
        # nothing but the deletion reached the server, and the laptop keeps its copy anyway
        assert all(view[key] == LocalMessage(INBOX, False, False, "full") for key in keys)
        assert phone.view()[keys[2]].folder == ARCHIVE  # a local folder
    else:
        assert view == {}
    for device in (phone, laptop):
        device.close()


def test_an_offline_action_on_a_message_moved_meanwhile_is_a_conflict(server, account, tmp_path):
    phone, laptop = _device(tmp_path, "phone", "imap"), _device(tmp_path, "laptop", "imap")
    _sync(server, "imap", account, phone)
    _sync(server, "imap", account, laptop)
    first, second = sorted(phone.view())[:2]
    phone.act("flag", first)  # offline: queued
    phone.act("read", second)
    laptop.act("move", first)
    laptop.act("flag", second)
    _sync(server, "imap", account, laptop)
    report = _sync(server, "imap", account, phone)
    assert (report.conflicts_gone, report.conflicts_changed, report.replayed) == (1, 1, 1)
    view = phone.view()
    assert view[first] == LocalMessage(ARCHIVE, False, False, "full")  # the flag was lost
    assert view[second] == LocalMessage(INBOX, True, True, "full")  # both changes kept


@pytest.mark.parametrize("mode", ["imap", "pop3-keep"])
def test_local_state_outlives_the_process(server, account, tmp_path, mode):
    device = _device(tmp_path, "phone", mode)
    _sync(server, mode, account, device)
    device.act("read", sorted(device.view())[0])
    before = device.view()
    device.close()
    again = _device(tmp_path, "phone", mode)
    assert again.view() == before and again.state.outbox() == [("read", sorted(before)[0])]
    meter = WireMeter()
    _sync(server, mode, account, again, meter)
    assert again.state.outbox() == []
    again.close()


def test_caching_policies_hold_what_they_say_and_cost_accordingly(server, account, tmp_path):
    costs = {}
    for cache in ("online", "headers", "full"):
        device = _device(tmp_path, cache, "imap", cache=cache)
        meter = WireMeter()
        _sync(server, "imap", account, device, meter)
        costs[cache] = meter.bytes_down
        assert {m.body for m in device.view().values()} == {{"online": "none"}.get(cache, cache)}
        assert len(device.full) == (COUNT if cache == "full" else 0)
        assert len(device.headers) == (COUNT if cache == "headers" else 0)
        assert all((device.readable(key) is not None) == (cache == "full") for key in device.view())
        device.close()
    assert costs["online"] < costs["headers"] < costs["full"]
