"""The metered HTTP client against a scripted peer on 127.0.0.1: every byte counted, a
round trip per request (and one to open), keep-alive, and a response cut anywhere raises
instead of returning part of it."""

from __future__ import annotations

import http.client

import pytest

from bench.access.base import Endpoint
from bench.access.http import HttpClient, ResponseTruncated
from bench.access.meter import WireMeter
from tests.unit.scripted_peer import CLOSE, TIMEOUT_S, ScriptedPeer



def _response(body: bytes, *headers: str) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Type: application/json", *(h.encode() for h in headers)]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _sized(body: bytes, *headers: str) -> bytes:
    return _response(body, f"Content-Length: {len(body)}", *headers)


def _chunked(body: bytes) -> bytes:
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7))
    return _response(chunks + b"0\r\n\r\n", "Transfer-Encoding: chunked")


def _client(peer: ScriptedPeer, meter: WireMeter) -> HttpClient:
    return HttpClient(Endpoint(peer.port, "user1", "secret", timeout_s=TIMEOUT_S), meter)


def test_every_byte_both_ways_is_counted_and_a_request_is_one_round_trip(peer_of):
    answers = [_sized(b'{"a": 1}'), _chunked(b'{"b": "a body in several chunks"}')]
    peer = peer_of(answers)
    meter = WireMeter()
    client = _client(peer, meter)
    first = client.request("POST", "/jmap/", b'{"x": 1}', label="Email/get",
                           headers={"Content-Type": "application/json"})
    second = client.request("GET", "/jmap/", label="session")
    client.close()
    assert (first.status, first.body, second.body) == (200, b'{"a": 1}', b'{"b": "a body in several chunks"}')
    assert meter.connections == 1  # kept alive
    assert meter.round_trips == 1 + 2  # opening, then one per request
    assert meter.bytes_down == sum(map(len, answers))
    assert meter.bytes_up == sum(map(len, peer.requests))
    assert set(meter.commands()) == {"Email/get", "session"}


def test_a_body_cut_short_of_its_length_raises(peer_of):
    body = b'{"list": "' + b"x" * 5000 + b'"}'
    peer = peer_of([_sized(body)[:-100], CLOSE])
    client = _client(peer, WireMeter())
    with pytest.raises(ResponseTruncated, match=r"after \d+ bytes of the response's body, 100 more expected"):
        client.request("GET", "/jmap/download/a/b/c", label="download")


def test_a_chunked_body_cut_in_a_chunk_raises(peer_of):
    answer = _chunked(b"0123456789" * 30)
    peer = peer_of([answer[: len(answer) // 2], CLOSE])
    client = _client(peer, WireMeter())
    with pytest.raises(ResponseTruncated) as caught:
        client.request("GET", "/x", label="download")
    assert "\n" not in str(caught.value)


def test_a_response_cut_in_its_headers_raises(peer_of):
    peer = peer_of([b"HTTP/1.1 200 OK\r\nContent-Type: appl", CLOSE])
    client = _client(peer, WireMeter())
    with pytest.raises(ResponseTruncated, match="headers"):
        client.request("GET", "/x", label="session")


def test_a_new_connection_closed_without_an_answer_raises(peer_of):
    peer = peer_of([CLOSE])
    client = _client(peer, WireMeter())
    with pytest.raises(ResponseTruncated, match="before answering"):
        client.request("GET", "/x", label="session")


def test_a_kept_alive_connection_closed_while_idle_is_opened_again_once(peer_of):
    peer = peer_of([_sized(b"one"), CLOSE], [_sized(b"two")])
    meter = WireMeter()
    client = _client(peer, meter)
    assert client.request("GET", "/1", label="get").body == b"one"
    assert client.request("GET", "/2", label="get").body == b"two"
    assert meter.connections == 2
    assert meter.commands()["get"]["count"] == 2


def test_connection_close_is_honoured_and_the_next_request_opens_another(peer_of):
    peer = peer_of([_response(b"until the end", "Connection: close"), CLOSE], [_sized(b"next")])
    meter = WireMeter()
    client = _client(peer, meter)
    assert client.request("GET", "/1", label="get").body == b"until the end"
    assert client.request("GET", "/2", label="get").body == b"next"
    assert meter.connections == 2
    assert meter.round_trips == 4


def test_http_has_no_starttls():
    import ssl

    endpoint = Endpoint(1, "u", "p", tls="starttls", ssl_context=ssl.create_default_context())
    with pytest.raises(ValueError, match="STARTTLS"):
        HttpClient(endpoint, WireMeter())


def test_a_provisional_response_is_refused_not_taken_for_the_answer(peer_of):
    peer = peer_of([b"HTTP/1.1 102 Processing\r\n\r\n" + _sized(b"late"), CLOSE])
    client = _client(peer, WireMeter())
    with pytest.raises(http.client.HTTPException, match="provisional response"):
        client.request("POST", "/jmap/", b"{}", label="Email/get")


# --- Pipelined GETs ------------------------------------------------------------------------

def test_pipelined_gets_cost_one_round_trip_and_the_bytes_of_single_requests(peer_of):
    bodies = [b"message %d" % n * (n + 1) for n in range(5)]
    peer = peer_of([_sized(body) for body in bodies] + [_sized(b"single")])
    meter = WireMeter()
    client = _client(peer, meter)
    got = [response.body for response in client.get_all([f"/blob/{n}" for n in range(5)], label="download")]
    assert got == bodies
    assert meter.round_trips == 1 + 1  # opening, then the window
    client.request("GET", "/blob/0", label="single")
    client.close()
    assert meter.connections == 1
    assert peer.requests[0] == peer.requests[5]  # a pipelined request is written as a single one is
    assert meter.bytes_up == sum(map(len, peer.requests))
    assert meter.commands()["download"]["count"] == 5


def test_pipelined_gets_go_in_windows_of_pipeline_requests(peer_of, monkeypatch):
    monkeypatch.setattr("bench.access.http.PIPELINE_REQUESTS", 2)
    peer = peer_of([_sized(b"%d" % n) for n in range(5)])
    meter = WireMeter()
    client = _client(peer, meter)
    assert [r.body for r in client.get_all([f"/{n}" for n in range(5)], label="download")] == [b"0", b"1", b"2", b"3", b"4"]
    assert meter.round_trips == 1 + 3


def test_requests_left_unanswered_by_a_closing_server_go_again_on_a_new_connection(peer_of):
    peer = peer_of([_sized(b"one"), _sized(b"two", "Connection: close"), CLOSE], [_sized(b"three"), _sized(b"four")])
    meter = WireMeter()
    client = _client(peer, meter)
    got = [response.body for response in client.get_all(["/1", "/2", "/3", "/4"], label="download")]
    assert got == [b"one", b"two", b"three", b"four"]
    assert meter.connections == 2
    assert [request.split(b" ")[1] for request in peer.requests] == [b"/1", b"/2", b"/3", b"/4"]


def test_a_pipelined_response_cut_short_raises_after_the_whole_ones(peer_of):
    peer = peer_of([_sized(b"whole"), _sized(b"x" * 5000)[:-10], CLOSE])
    client = _client(peer, WireMeter())
    got = []
    with pytest.raises(ResponseTruncated, match="10 more expected"):
        for response in client.get_all(["/1", "/2", "/3"], label="download"):
            got.append(response.body)
    assert got == [b"whole"]


def test_a_new_connection_that_answers_no_pipelined_request_raises(peer_of):
    peer = peer_of([CLOSE])
    client = _client(peer, WireMeter())
    with pytest.raises(ResponseTruncated, match="before answering 2 pipelined requests"):
        list(client.get_all(["/1", "/2"], label="download"))


def test_a_provisional_response_in_a_pipeline_is_refused_not_taken_for_an_answer(peer_of):
    peer = peer_of([_sized(b"one"), b"HTTP/1.1 102 Processing\r\n\r\n" + _sized(b"late"), CLOSE])
    client = _client(peer, WireMeter())
    got = []
    with pytest.raises(http.client.HTTPException, match="provisional response"):
        for response in client.get_all(["/1", "/2"], label="download"):
            got.append(response.body)
    assert got == [b"one"]
