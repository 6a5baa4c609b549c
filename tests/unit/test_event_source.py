"""The EventSource client: the event stream format, and a stream read from a scripted peer
on 127.0.0.1 (events in order, a wait that times out, a server ending or resetting the stream, a GET
answered without a stream), with its bytes and round trips metered. JMAP's push helpers
(the eventSourceUrl template, states in responses and in pushed StateChanges) beside it."""

from __future__ import annotations

import json
import time

import pytest

from bench.access import jmap_requests as jr
from bench.access.base import Endpoint
from bench.access.event_source import RECONNECTED, Event, EventParser, EventStream, NoEventStream
from bench.access.meter import WireMeter
from tests.unit.scripted_peer import CLOSE, HOLD, RESET, TIMEOUT_S, ScriptedPeer

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"


def _parse(text: str) -> list[Event]:
    parser = EventParser()
    return [event for line in text.splitlines(keepends=True) if (event := parser.feed(line.encode())) is not None]


def test_events_are_split_on_blank_lines_with_their_type_data_and_id():
    stream = ("event: state\nid: 42\ndata: {\"a\":\ndata: 1}\n\n"
              ": a comment\n\n"
              "data:no space\r\n\r\n"
              "event: ping\ndata: {}\n\n")
    assert _parse(stream) == [Event("state", '{"a":\n1}', "42"), Event("message", "no space", "42"),
                              Event("ping", "{}", "42")]


def test_an_event_without_data_is_not_given():
    assert _parse("event: state\n\nevent: ping\ndata: x\n\n") == [Event("ping", "x")]


def _stream(peer: ScriptedPeer, meter: WireMeter) -> EventStream:
    endpoint = Endpoint(peer.port, "user1", "secret", timeout_s=TIMEOUT_S)
    return EventStream(endpoint, meter, "/events?types=Email", {"Authorization": "Basic x"})


def _state(value: str) -> bytes:
    change = {"@type": "StateChange", "changed": {"user1": {"Email": value}}}
    return b"event: state\nid: 7\ndata: " + json.dumps(change).encode() + b"\n\n"


def test_events_come_in_order_and_a_quiet_wait_ends_by_its_timeout(peer_of):
    peer = peer_of([(HEAD + _state("s1"), 0.2, _state("s2")), HOLD])
    meter = WireMeter()
    stream = _stream(peer, meter)
    stream.open()
    try:
        first = stream.next_event(TIMEOUT_S)
        second = stream.next_event(TIMEOUT_S)
        started = time.monotonic()
        nothing = stream.next_event(0.2)
        waited = time.monotonic() - started
    finally:
        stream.close()
    assert [jr.pushed_state(e.data, "user1") for e in (first, second)] == ["s1", "s2"]
    assert nothing is None and waited >= 0.2
    request = peer.requests[0]
    assert request.startswith(b"GET /events?types=Email HTTP/1.1\r\n")
    assert b"Accept: text/event-stream" in request and b"Authorization: Basic x" in request
    # one connection: its opening, then one wait for the answer; pushed events cost no round trip
    assert (meter.connections, meter.round_trips) == (1, 2)
    assert meter.bytes_up == len(request) and meter.bytes_down == len(HEAD + _state("s1") + _state("s2"))


@pytest.mark.parametrize("ending", [CLOSE, RESET])
def test_a_stream_the_server_ends_or_resets_is_opened_again_and_the_wait_says_so(peer_of, ending):
    peer = peer_of([HEAD + _state("s1"), ending], [HEAD + _state("s2"), HOLD])
    meter = WireMeter()
    stream = _stream(peer, meter)
    try:
        assert jr.pushed_state(stream.next_event(TIMEOUT_S).data, "user1") == "s1"
        assert stream.next_event(TIMEOUT_S) is RECONNECTED
        assert jr.pushed_state(stream.next_event(TIMEOUT_S).data, "user1") == "s2"
    finally:
        stream.close()
    assert stream.opened == 2 and meter.connections == 2 and len(peer.requests) == 2


@pytest.mark.parametrize("answer, said", [
    (b"HTTP/1.1 204 No Content\r\n\r\n", "answered 204 No Content, not an event stream"),
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
     "answered 200 OK (application/json), not an event stream"),
])
def test_a_get_answered_without_a_stream_is_one_clear_line(peer_of, answer, said):
    stream = _stream(peer_of([answer, HOLD]), WireMeter())
    with pytest.raises(NoEventStream) as caught:
        stream.next_event(TIMEOUT_S)
    assert said in str(caught.value) and "\n" not in str(caught.value)
    assert not stream.is_open


def test_the_event_source_url_template_is_filled_in():
    template = "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}"
    assert jr.event_source_url(template, "Email,Mailbox", "no", 300) == \
        "/jmap/eventsource/?types=Email,Mailbox&closeafter=no&ping=300"
    assert jr.event_source_url(template) == "/jmap/eventsource/?types=Email&closeafter=no&ping=0"


def test_the_states_a_response_reports_are_those_of_gets_changes_and_sets():
    answers = {"c0": ("Email/query", {"queryState": "q"}), "c0.get": ("Email/get", {"state": "10"}),
               "c1": ("Email/changes", {"oldState": "10", "newState": "11"}),
               "c2": ("Email/set", {"oldState": "11", "newState": "12"}),
               "c3": ("Mailbox/get", {"state": "m"}), "c4": ("error", {"type": "serverFail"})}
    assert jr.states_of(answers) == ["10", "11", "12"]
    assert jr.states_of(answers, "Mailbox") == ["m"]


@pytest.mark.parametrize("data, expected", [
    ('{"@type":"StateChange","changed":{"u1":{"Email":"5","Mailbox":"3"}}}', "5"),
    ('{"@type":"StateChange","changed":{"u1":{"Mailbox":"3"}}}', None),
    ('{"@type":"StateChange","changed":{"u2":{"Email":"5"}}}', None),
    ('{"interval":300}', None),
    ("not json", None),
])
def test_a_pushed_state_change_names_the_accounts_email_state(data, expected):
    assert jr.pushed_state(data, "u1") == expected
