"""JMAP access against the real Cyrus JMAP endpoint (Cyrus 3.6's httpd), started by the suite.

Session discovery, batched calls with back-references in one round trip, incremental
changes after a flag change, a move and a deletion, a response cut mid-body, a wrong
password, TLS, push of new mail over the event stream, and the servers that do not offer JMAP."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from bench.access import AccessOptions, WireMeter, open_access
from bench.access import jmap_requests as jr
from bench.access.base import INBOX, FLAGGED, SEEN, FolderSnapshot
from bench.access.http import ResponseTruncated
from bench.access.jmap import JmapAccess
from bench.access.jmap_session import JmapSession, local_path
from bench.corpus import generate_messages
from bench.corpus.canonical import header_block
from bench.delivery import deliver
from bench.errors import LoginRefused, NotOffered
from bench.links import Relay, parse_link

pytestmark = pytest.mark.integration

COUNT = 30


@pytest.fixture(scope="module")
def cyrus(running_servers):
    return running_servers("cyrus")


@pytest.fixture()
def mailbox(cyrus):
    """A fresh account holding COUNT generated messages (delivered over IMAP)."""
    account = cyrus.fresh_account()
    messages = list(generate_messages(COUNT, seed=11))
    assert deliver(cyrus.endpoint("imap", account), messages).messages == COUNT
    return account, messages


def _jmap(server, account, meter=None, tls="off") -> JmapAccess:
    access = open_access("jmap", server.endpoint("jmap", account, tls), meter or WireMeter(), AccessOptions())
    assert isinstance(access, JmapAccess)
    return access


def test_session_discovery_follows_the_well_known_redirect_and_reads_the_limits(cyrus, mailbox):
    account, _ = mailbox
    meter = WireMeter()
    with _jmap(cyrus, account, meter) as access:
        session = access.session
        assert session.account_id == account.username
        assert local_path(session.api_url) == "/jmap/"
        # Cyrus 3.6's defaults (imapd.conf(5): jmap_max_*)
        assert access.limits == jr.Limits(max_objects_in_get=4096, max_objects_in_set=4096,
                                          max_calls_in_request=50, max_size_request=10 * 1024 * 1024)
        assert {jr.CORE, jr.MAIL} <= set(session.capabilities)
        assert any(item.startswith(jr.CORE + " ") and "maxCallsInRequest=50" in item for item in access.capabilities)
    assert meter.commands()["session"]["count"] == 2  # /.well-known/jmap, then where it redirects
    assert meter.connections == 1  # the redirect and the session on one kept-alive connection
    assert meter.round_trips == 1 + 2


def test_query_and_get_by_back_reference_take_one_round_trip_and_blobs_are_the_messages(cyrus, mailbox):
    account, messages = mailbox
    meter = WireMeter()
    with _jmap(cyrus, account, meter) as access:
        access.folders()  # the mailboxes are known: what follows is the listing alone
        before = meter.round_trips
        listing = access.list_messages()
        assert meter.round_trips - before == 1
        assert meter.commands()["Email/query+Email/get"]["count"] == 1
        assert len(listing.refs) == COUNT
        assert sorted(ref.size for ref in listing.refs) == sorted(map(len, messages))
        before = meter.round_trips
        fetched = dict(access.fetch(listing.refs))
        assert meter.round_trips - before == 1  # the downloads pipelined: one window
        assert meter.commands()["download"]["count"] == COUNT  # one request per message
        assert access.pipelined
        headers = dict(access.fetch(listing.refs, "headers"))
    # In receivedAt order (here the messages' dates, as delivered), byte for byte.
    assert sorted(fetched.values()) == sorted(messages)
    assert {ref: header_block(raw) for ref, raw in fetched.items()} == headers
    assert meter.connections == 1
    assert meter.bytes_down > sum(map(len, messages))


def test_without_pipelining_each_download_waits_for_the_one_before(cyrus, mailbox):
    account, messages = mailbox
    pipelined, one_by_one = WireMeter(), WireMeter()
    fetched = []
    for meter, options in ((pipelined, AccessOptions()), (one_by_one, AccessOptions(pipelining=False))):
        with open_access("jmap", cyrus.endpoint("jmap", account), meter, options) as access:
            refs = access.list_messages().refs
            before, sent = meter.round_trips, meter.bytes_up
            fetched.append(dict(access.fetch(refs)))
            meter.round_trips -= before
            meter.bytes_up -= sent
            assert access.pipelined == options.pipelining
    assert fetched[0] == fetched[1] and sorted(fetched[0].values()) == sorted(messages)
    assert (pipelined.round_trips, one_by_one.round_trips) == (1, COUNT)
    assert pipelined.bytes_up == one_by_one.bytes_up  # the same requests, written together


def test_a_listing_after_a_token_shows_only_new_mail(cyrus, mailbox):
    account, _ = mailbox
    with _jmap(cyrus, account) as access:
        token = access.list_messages().token
    extra = list(generate_messages(3, seed=11, start=COUNT))
    deliver(cyrus.endpoint("imap", account), extra)
    meter = WireMeter()
    with _jmap(cyrus, account, meter) as access:
        listing = access.list_messages(token)
        assert sorted(raw for _, raw in access.fetch(listing.refs)) == sorted(extra)
    assert meter.commands()["Email/changes+Email/get"]["count"] == 1


def test_changes_after_a_flag_change_a_move_and_a_deletion(cyrus, mailbox):
    account, _ = mailbox
    with _jmap(cyrus, account) as device:
        assert device.prepare_sync() == "changes"
        first = device.changes(INBOX, FolderSnapshot())
        assert first.method == "full" and len(first.new) == COUNT and first.state
        snapshot = first.snapshot(FolderSnapshot())
        flagged, moved, deleted = (state.ref for state in first.new[:3])
        assert all(state.message_id and state.message_id.startswith("<") for state in first.new)
    with _jmap(cyrus, account) as other:
        other.set_flags([flagged], [FLAGGED])
        other.move([moved], "Archive")
        other.delete([deleted])
        other.clear_flags([flagged], [SEEN])  # not set: changes nothing
    with open_access("imap", cyrus.endpoint("imap", account), WireMeter()) as imap:  # the same on IMAP
        assert len(imap.list_messages().refs) == COUNT - 2
    meter = WireMeter()
    with _jmap(cyrus, account, meter) as device:
        device.prepare_sync()
        device.folders()
        before = meter.round_trips
        changes = device.changes(INBOX, snapshot)
        assert meter.round_trips - before == 1  # Email/changes and both gets in one request
        assert changes.method == "changes" and changes.state not in (None, "", first.state)
        assert [(state.ref.id, state.flags) for state in changes.updated] == [(flagged.id, frozenset({FLAGGED}))]
        assert changes.vanished == {moved.id, deleted.id}
        assert changes.new == []
        archive = device.changes("Archive", FolderSnapshot(state=first.state))
        assert [state.ref.id for state in archive.new] == [moved.id]  # a move keeps the id
        assert changes.snapshot(snapshot).ids == snapshot.ids - {moved.id, deleted.id}
        unchanged = device.changes(INBOX, changes.snapshot(snapshot))
        assert (unchanged.updated, unchanged.new, unchanged.vanished) == ([], [], frozenset())
        located = device.locate([flagged, moved, deleted])  # moved is no longer in the INBOX
        assert set(located) == {flagged.id} and located[flagged.id].flags == {FLAGGED}


def test_a_subject_search_finds_what_imap_finds(cyrus, mailbox):
    account, messages = mailbox
    subjects = [line for raw in messages for line in header_block(raw).split(b"\r\n") if line.startswith(b"Subject:")]
    term = subjects[0].split()[1].decode().lower()  # a word of a real subject, in another case
    with open_access("imap", cyrus.endpoint("imap", account), WireMeter()) as imap:
        by_imap = sorted(ref.size for ref in imap.search(term))
    assert by_imap
    meter = WireMeter()
    with _jmap(cyrus, account, meter) as access:
        access.folders()
        before = meter.round_trips
        found = access.search(term)
        assert meter.round_trips - before == 1
    assert sorted(ref.size for ref in found) == by_imap


def test_a_response_cut_mid_body_raises_and_returns_nothing(cyrus, mailbox):
    account, messages = mailbox
    big = max(messages, key=len)
    pattern = big[len(big) // 2: len(big) // 2 + 48]
    assert sum(raw.count(pattern) for raw in messages) == 1
    endpoint = cyrus.endpoint("jmap", account)
    with Relay(endpoint.port, parse_link("lan")) as relay:
        linked = dataclasses.replace(endpoint, port=relay.port)
        with JmapAccess(linked, WireMeter(), AccessOptions()) as access:
            refs = [ref for ref in access.list_messages().refs if ref.size == len(big)]
            fired = relay.cut_when_seen(pattern)
            got = []
            with pytest.raises(ResponseTruncated, match="body") as caught:
                for ref, raw in access.fetch(refs):
                    got.append(raw)
            assert fired.is_set()
            assert got == [] and "\n" not in str(caught.value)


def test_a_wrong_password_is_one_clear_line(cyrus, mailbox):
    account, _ = mailbox
    wrong = dataclasses.replace(cyrus.endpoint("jmap", account), password="not-the-password")
    with pytest.raises(LoginRefused) as caught:
        JmapAccess(wrong, WireMeter(), AccessOptions())
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"JMAP login refused for {account.username} at 127.0.0.1:") and "401" in message


def test_jmap_over_tls_with_the_runs_certificate(cyrus, mailbox):
    account, messages = mailbox
    meter = WireMeter()
    with _jmap(cyrus, account, meter, tls="on") as access:
        listing = access.list_messages()
        assert len(listing.refs) == COUNT
        assert next(access.fetch(listing.refs[:1]))[1] in messages
    assert meter.wire_bytes_down > meter.bytes_down  # TLS records and handshake


def _deliver_later(server, account, delay_s: float, seed: int) -> tuple[threading.Thread, dict]:
    """Deliver one generated message over IMAP after ``delay_s``, from a thread; the dict
    gets the time its delivery began (``time.monotonic``)."""
    sent: dict = {}

    def deliver_one() -> None:
        time.sleep(delay_s)
        sent["at"] = time.monotonic()
        deliver(server.endpoint("imap", account), list(generate_messages(1, seed=seed)))

    thread = threading.Thread(target=deliver_one, daemon=True)
    thread.start()
    return thread, sent


def test_push_of_new_mail_over_the_event_stream(cyrus, mailbox):
    """The session names WebSocket and an event stream (Cyrus's httpd built with Wslay,
    the image's jmap-push stage); a message delivered while the client waits is announced
    within Cyrus's jmap_pushpoll (1 s) of its delivery, and a sync then finds it."""
    account, _ = mailbox
    meter = WireMeter()
    with _jmap(cyrus, account, meter) as access:
        assert jr.WEBSOCKET in access.session.capabilities and access.can_push
        access.watch_for_news()  # the stream first: nothing arriving during the sync goes unannounced
        listing = access.list_messages()
        assert len(listing.refs) == COUNT
        connections = meter.connections
        thread, sent = _deliver_later(cyrus, account, 0.5, seed=41)
        assert access.wait_for_news(10.0)
        announced = time.monotonic() - sent["at"]
        thread.join(10.0)
        assert len(access.list_messages(after=listing.token).refs) == 1
        assert "EventSource" in access.capabilities_used
    assert 0 < announced < 1.0 + 1.0  # jmap_pushpoll, and the delivery itself
    assert connections == 2  # the API's and the stream's, each metered


def test_the_clients_own_changes_and_a_quiet_wait_are_not_news(cyrus, mailbox):
    """A state the client's own requests reported (a flag it set) is old news; with nothing
    else changing, the wait ends by its timeout."""
    account, _ = mailbox
    meter = WireMeter()
    with _jmap(cyrus, account, meter) as access:
        access.watch_for_news()
        refs = access.list_messages().refs
        access.set_flags(refs[:1], [FLAGGED])
        before = meter.bytes_down
        started = time.monotonic()
        assert not access.wait_for_news(2.5)
        assert time.monotonic() - started >= 2.5
        assert meter.bytes_down > before  # Cyrus checks every second: its event came, and was old


def test_an_event_stream_opened_late_still_announces_new_mail(cyrus, mailbox):
    """``wait_for_news`` opens the stream itself when ``watch_for_news`` was not called."""
    account, _ = mailbox
    with _jmap(cyrus, account) as access:
        access.list_messages()
        thread, _ = _deliver_later(cyrus, account, 0.3, seed=43)
        assert access.wait_for_news(10.0)
        thread.join(10.0)


def test_a_fresh_account_gets_its_inbox_before_its_first_jmap_session(cyrus):
    """httpd does not create a user's INBOX: before any IMAP or POP3 login the session
    names the account, but its methods answer accountNotFound. The endpoint logs in over
    IMAP once first."""
    never = cyrus.fresh_account()
    raw = dataclasses.replace(cyrus.endpoint("imap", never), port=cyrus.host_ports["jmap"])
    session = JmapSession(raw, WireMeter())
    try:
        assert session.account == never.username
        with pytest.raises(jr.MethodError) as caught:
            session.mailboxes()
        assert caught.value.type == "accountNotFound"
    finally:
        session.close()
    account = cyrus.fresh_account()
    with _jmap(cyrus, account) as access:
        assert access.list_messages().refs == []
        assert INBOX in access.folders()


def test_dovecot_does_not_offer_jmap(dovecot):
    with pytest.raises(NotOffered) as caught:
        dovecot.endpoint("jmap", dovecot.account(2))
    assert str(caught.value) == "JMAP is not offered by this server (dovecot)"
    assert ("jmap", "off") not in dovecot.services() and "jmap" not in dovecot.host_ports


def test_a_cyrus_container_not_asked_for_jmap_serves_no_http_and_keeps_no_conversations(docker_client, server_image):
    """JMAP needs Cyrus's conversations database, which every IMAP and POP3 change then
    updates too: a container for IMAP and POP3 alone (every run today) has neither."""
    import os

    from bench.servers import get_server, run_server

    with run_server(docker_client, get_server("cyrus"), server_image("cyrus"), users=3,
                    run_id=f"pytest-{os.getpid()}-cyrus-no-jmap") as plain:
        with pytest.raises(NotOffered) as caught:
            plain.endpoint("jmap", plain.account(2))
        assert str(caught.value) == "JMAP is off in this cyrus container: the run did not ask for it"
        assert "jmap" not in plain.host_ports
        code, output = plain.container.exec_run(["sh", "-c", "grep -c '^conversations: 1' /etc/imapd.conf; "
                                                 "grep -c '^ *https\\{0,1\\} ' /etc/cyrus.conf"])
        assert output.decode().split() == ["0", "0"], output
