"""JMAP's request builders and readers, without a server: back-references, keyword patches,
moves and destroys, packing within the server's limits, the download URL, the session."""

from __future__ import annotations

import json

import pytest

from bench.access import jmap_requests as jr
from bench.access.jmap_requests import header_block
from bench.access.jmap_session import local_path
from bench.corpus import generate_messages
from bench.corpus.canonical import header_block as canonical_header_block

# A session resource as Cyrus 3.6 shapes it (its limits; URLs relative to its httpd).
SESSION = {
    "capabilities": {
        jr.CORE: {"maxSizeUpload": 1073741824, "maxConcurrentUpload": 5, "maxSizeRequest": 10485760,
                  "maxConcurrentRequests": 5, "maxCallsInRequest": 50, "maxObjectsInGet": 4096,
                  "maxObjectsInSet": 4096, "collationAlgorithms": []},
        jr.MAIL: {},
    },
    "accounts": {"user1": {"name": "user1", "isPersonal": True, "isReadOnly": False}},
    "primaryAccounts": {jr.MAIL: "user1"},
    "username": "user1",
    "apiUrl": "/jmap/",
    "downloadUrl": "/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
    "uploadUrl": "/jmap/upload/{accountId}/",
    "eventSourceUrl": "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
    "state": "0",
}


def test_the_session_gives_the_account_urls_and_limits():
    session = jr.Session.of(SESSION)
    assert (session.account_id, session.api_url) == ("user1", "/jmap/")
    assert session.limits == jr.Limits(max_objects_in_get=4096, max_objects_in_set=4096, max_calls_in_request=50,
                                       max_size_request=10485760)
    assert "urn:ietf:params:jmap:core maxCallsInRequest=50 maxConcurrentRequests=5 maxConcurrentUpload=5 " \
           "maxObjectsInGet=4096 maxObjectsInSet=4096 maxSizeRequest=10485760 maxSizeUpload=1073741824" \
           in session.capability_list()
    assert jr.MAIL in session.capability_list()


def test_a_session_without_mail_is_refused():
    document = {**SESSION, "capabilities": {jr.CORE: SESSION["capabilities"][jr.CORE]}}
    with pytest.raises(jr.SessionError, match="JMAP Mail"):
        jr.Session.of(document)
    with pytest.raises(jr.SessionError, match="primary account"):
        jr.Session.of({**SESSION, "primaryAccounts": {}})


def test_missing_limits_keep_the_minimum_rfc_8620_recommends():
    assert jr.Limits.of({}) == jr.Limits(500, 500, 16, 10_000_000)


def test_query_and_get_travel_together_by_back_reference():
    calls = jr.email_query_and_get("u", "mb-inbox", "c7", position=4096, limit=4096, total=True)
    assert [(name, call_id) for name, _, call_id in calls] == [("Email/query", "c7"), ("Email/get", "c7.get")]
    query, get = calls[0][1], calls[1][1]
    assert query["filter"] == {"inMailbox": "mb-inbox"}
    assert (query["position"], query["limit"], query["calculateTotal"]) == (4096, 4096, True)
    assert query["sort"] == [{"property": "receivedAt", "isAscending": True}]
    assert get["#ids"] == {"resultOf": "c7", "name": "Email/query", "path": "/ids"}
    assert "ids" not in get and "blobId" in get["properties"]


def test_a_subject_search_is_a_query_condition():
    query = jr.email_query_and_get("u", "mb", "s", subject="Invoice")[0][1]
    assert query["filter"] == {"inMailbox": "mb", "header": ["Subject", "Invoice"]}


def test_changes_and_the_gets_of_created_and_updated_travel_together():
    calls = jr.email_changes_and_get("u", "4711", "c2", max_changes=4096)
    assert [(name, call_id) for name, _, call_id in calls] == [
        ("Email/changes", "c2"), ("Email/get", "c2.created"), ("Email/get", "c2.updated")]
    assert calls[0][1] == {"accountId": "u", "sinceState": "4711", "maxChanges": 4096}
    assert calls[1][1]["#ids"] == {"resultOf": "c2", "name": "Email/changes", "path": "/created"}
    assert calls[2][1]["#ids"] == {"resultOf": "c2", "name": "Email/changes", "path": "/updated"}
    assert jr.MESSAGE_ID in calls[1][1]["properties"]


def test_flags_become_keyword_patches_set_and_cleared():
    seen = jr.email_set_keywords("u", ["a", "b"], ["\\Seen"], True, "k")[0]
    assert seen[0] == "Email/set"
    assert seen[1]["update"] == {"a": {"keywords/$seen": True}, "b": {"keywords/$seen": True}}
    cleared = jr.email_set_keywords("u", ["a"], ["\\Seen", "\\Flagged"], False, "k")[0][1]
    assert cleared["update"] == {"a": {"keywords/$seen": None, "keywords/$flagged": None}}


def test_a_move_replaces_the_mailboxes_and_a_destroy_lists_ids():
    move = jr.email_move("u", ["a", "b"], "mb-archive", "m")[0][1]
    assert move["update"] == {"a": {"mailboxIds": {"mb-archive": True}}, "b": {"mailboxIds": {"mb-archive": True}}}
    assert jr.email_destroy("u", ["a", "b"], "d") == [("Email/set", {"accountId": "u", "destroy": ["a", "b"]}, "d")]


def test_mailbox_get_asks_for_every_mailbox_and_create_names_its_parent():
    assert jr.mailbox_get("u", "g")[0][1]["ids"] is None
    create = jr.mailbox_create("u", "Archive", "n")[0][1]
    assert create["create"] == {"n": {"name": "Archive", "parentId": None}}


def test_a_request_names_core_and_mail_and_encodes_compactly():
    document = jr.request(jr.email_destroy("u", ["a"], "d"))
    assert document == {"using": [jr.CORE, jr.MAIL], "methodCalls": [["Email/set", {"accountId": "u",
                                                                                     "destroy": ["a"]}, "d"]]}
    assert json.loads(jr.encode(document)) == document
    assert b" " not in jr.encode(document)


def test_pack_fills_requests_up_to_the_call_limit_and_never_splits_a_group():
    limits = jr.Limits(max_calls_in_request=5)
    groups = [jr.email_query_and_get("u", "mb", f"q{i}", position=i) for i in range(5)]  # 2 calls each
    requests = jr.pack(groups, limits)
    assert [len(calls) for calls in requests] == [4, 4, 2]
    for calls in requests:  # each get is in the request of the query it refers to
        ids = {call_id for _, _, call_id in calls}
        assert all(args["#ids"]["resultOf"] in ids for name, args, _ in calls if name == "Email/get")


def test_pack_respects_the_size_limit():
    groups = [jr.email_destroy("u", [f"id{n:05d}" for n in range(i * 100, i * 100 + 100)], f"d{i}") for i in range(4)]
    one = len(jr.encode(jr.request(groups[0])))
    requests = jr.pack(groups, jr.Limits(max_size_request=2 * one + 100))
    assert [len(calls) for calls in requests] == [2, 2]
    assert all(len(jr.encode(jr.request(calls))) <= 2 * one + 100 for calls in requests)


def test_a_group_beyond_the_limits_is_refused():
    with pytest.raises(ValueError, match="exceeds"):
        jr.pack([jr.email_changes_and_get("u", "1", "c", max_changes=10)], jr.Limits(max_calls_in_request=2))


def test_chunks_keep_each_call_within_the_object_limit():
    assert [list(part) for part in jr.chunks(["a", "b", "c", "d", "e"], 2)] == [["a", "b"], ["c", "d"], ["e"]]


def test_the_download_url_fills_the_template_percent_encoded():
    url = jr.download_url(SESSION["downloadUrl"], "user1", "G0f1e2d", name="message.eml", type_="message/rfc822")
    assert url == "/jmap/download/user1/G0f1e2d/message.eml?accept=message%2Frfc822"
    assert jr.download_url("/d/{accountId}/{blobId}", "a b", "x/y") == "/d/a%20b/x%2Fy"


def test_responses_by_call_id_and_a_method_error_raises_with_its_type():
    answers = jr.responses({"methodResponses": [
        ["Email/query", {"ids": ["a"]}, "c0"],
        ["error", {"type": "cannotCalculateChanges"}, "c1"],
    ], "sessionState": "0"})
    assert jr.result(answers, "c0", "Email/query") == {"ids": ["a"]}
    with pytest.raises(jr.MethodError) as caught:
        jr.result(answers, "c1", "Email/changes")
    assert caught.value.type == "cannotCalculateChanges"
    with pytest.raises(jr.MethodError, match="noResponse"):
        jr.result(answers, "c9", "Email/get")
    with pytest.raises(jr.MethodError, match="unexpectedResponse"):
        jr.result(answers, "c0", "Email/get")


def test_urls_the_server_gives_are_followed_on_the_endpoint_only():
    assert local_path("http://mailbench:8008/jmap/") == "/jmap/"
    assert local_path("https://127.0.0.1:32770/jmap/download/a/b?accept=x") == "/jmap/download/a/b?accept=x"
    assert local_path("/jmap/") == "/jmap/"


def test_a_header_block_is_rebuilt_from_the_raw_fields():
    raw = next(iter(generate_messages(1, seed=3)))
    block = canonical_header_block(raw)
    fields, field = [], b""
    for line in block[:-2].split(b"\r\n")[:-1]:  # unfold into fields, as JMAP's "headers" gives them
        if line[:1] in (b" ", b"\t"):
            field += b"\r\n" + line
        else:
            if field:
                fields.append(field)
            field = line
    fields.append(field)
    headers = [{"name": f.split(b":", 1)[0].decode(), "value": f.split(b":", 1)[1].decode()} for f in fields]
    assert header_block(headers) == block
