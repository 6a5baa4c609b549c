"""JMAP requests (RFC 8620) for mail (RFC 8621), built and read without any I/O.

What is built here:

- the session (``Session.of``): the account, the API and download URLs and the server's
  limits (``Limits``: ``maxObjectsInGet``, ``maxObjectsInSet``, ``maxCallsInRequest``,
  ``maxSizeRequest``), read from the session resource;
- method calls, in groups that must travel in one request because one call reads another's
  result (a back-reference, ``#ids``): ``Email/query`` with ``Email/get`` of its ``/ids``,
  ``Email/changes`` with ``Email/get`` of its ``/created`` and of its ``/updated``,
  ``Mailbox/get``, ``Mailbox/set``, and ``Email/set`` for keywords, ``mailboxIds`` (a move)
  and destroy;
- requests packed from such groups within the server's limits (``pack``);
- a blob's download URL from the session's template (RFC 6570 level 1, as RFC 8620 says);
- the method responses by call id, a method error raised as ``MethodError``;
- a message's header block from its ``headers`` property.

A group's calls carry ids made from a tag the caller gives (``tag``, ``tag.created``...), so
that the groups packed into one request never share an id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence
from urllib.parse import quote

CORE = "urn:ietf:params:jmap:core"
MAIL = "urn:ietf:params:jmap:mail"
WEBSOCKET = "urn:ietf:params:jmap:websocket"
USING = (CORE, MAIL)

# IMAP's system flags as JMAP keywords (RFC 8621 section 4.1.1).
KEYWORDS = {"\\Seen": "$seen", "\\Flagged": "$flagged", "\\Answered": "$answered", "\\Draft": "$draft"}
FLAGS = {keyword: flag for flag, keyword in KEYWORDS.items()}

# What a listing asks of each message: its blob (the whole message), size, place and keywords.
LISTING_PROPERTIES = ("id", "blobId", "size", "mailboxIds", "keywords")
# What a sync asks of a message it did not know: also its Message-ID field as it is in the
# message (raw: IMAP's sync reads the same field), not JMAP's parsed ``messageId``.
MESSAGE_ID = "header:Message-ID"
NEW_PROPERTIES = LISTING_PROPERTIES + (MESSAGE_ID,)

Call = tuple[str, dict[str, Any], str]  # [method name, arguments, call id]


class MethodError(Exception):
    """A method call answered ``error`` (RFC 8620 section 3.6.2): ``type`` says which."""

    def __init__(self, call: str, type_: str, description: str = "") -> None:
        super().__init__(f"{call}: {type_}" + (f" ({description})" if description else ""))
        self.type = type_


class SessionError(Exception):
    """The session resource lacks what a mail client needs."""


@dataclass(frozen=True)
class Limits:
    """The server's limits on requests, from the core capability (RFC 8620 section 2)."""

    max_objects_in_get: int = 500
    max_objects_in_set: int = 500
    max_calls_in_request: int = 16
    max_size_request: int = 10_000_000

    @classmethod
    def of(cls, core: Mapping[str, Any]) -> "Limits":
        """From the ``urn:ietf:params:jmap:core`` capability's object; a limit it lacks keeps
        the minimum RFC 8620 recommends."""
        def read(name: str, default: int) -> int:
            value = core.get(name)
            return int(value) if isinstance(value, int) and value > 0 else default

        return cls(read("maxObjectsInGet", cls.max_objects_in_get), read("maxObjectsInSet", cls.max_objects_in_set),
                   read("maxCallsInRequest", cls.max_calls_in_request),
                   read("maxSizeRequest", cls.max_size_request))


@dataclass(frozen=True)
class Session:
    """What a mail client reads from the session resource (RFC 8620 section 2)."""

    username: str
    account_id: str
    api_url: str
    download_url: str
    event_source_url: str | None
    state: str
    capabilities: Mapping[str, Any] = field(default_factory=dict)
    limits: Limits = Limits()

    @classmethod
    def of(cls, document: Mapping[str, Any]) -> "Session":
        capabilities = document.get("capabilities")
        if not isinstance(capabilities, dict) or MAIL not in capabilities or CORE not in capabilities:
            raise SessionError(f"the session resource names no JMAP Mail ({MAIL}): "
                               f"capabilities {sorted(capabilities or {})}")
        account = (document.get("primaryAccounts") or {}).get(MAIL)
        if not account:
            raise SessionError("the session resource has no primary account for JMAP Mail")
        for name in ("apiUrl", "downloadUrl"):
            if not isinstance(document.get(name), str):
                raise SessionError(f"the session resource has no {name}")
        return cls(str(document.get("username", "")), account, document["apiUrl"], document["downloadUrl"],
                   document.get("eventSourceUrl"), str(document.get("state", "")), capabilities,
                   Limits.of(capabilities[CORE]))

    def capability_list(self) -> frozenset[str]:
        """Each capability as one string, its name then its limits (``name a=1 b=2``), as the
        report lists IMAP's and POP3's capabilities with their parameters."""
        items = []
        for name, value in self.capabilities.items():
            parameters = sorted(f"{key}={item}" for key, item in (value or {}).items()
                                if isinstance(item, (int, str)) and not isinstance(item, bool))
            items.append(" ".join([name, *parameters]))
        return frozenset(items)


# -- method calls -----------------------------------------------------------------------


def _ref(call_id: str, name: str, path: str) -> dict[str, str]:
    return {"resultOf": call_id, "name": name, "path": path}


def email_query_and_get(account: str, mailbox: str, tag: str, *, position: int = 0, limit: int | None = None,
                        properties: Sequence[str] = LISTING_PROPERTIES, subject: str | None = None,
                        total: bool = False) -> list[Call]:
    """``Email/query`` of a mailbox's messages, oldest first (the order IMAP lists them),
    from ``position``, at most ``limit`` (the server's ``maxObjectsInGet``, so that the get
    stays within it), optionally only those whose Subject holds ``subject``; then
    ``Email/get`` of the ids it found, by back-reference. Ids: ``tag``, ``tag.get``.

    The Subject condition is ``header: ["Subject", text]`` (the field contains the text),
    not the ``subject`` filter: Cyrus 3.6 answers that one, and every text filter, with
    ``serverFail`` unless it has a Xapian search index (its log: "guidsearch_run_xapian:
    can't begin search"), which IMAP SEARCH does not need."""
    condition: dict[str, Any] = {"inMailbox": mailbox}
    if subject is not None:
        condition["header"] = ["Subject", subject]
    query: dict[str, Any] = {"accountId": account, "filter": condition,
                             "sort": [{"property": "receivedAt", "isAscending": True}], "position": position}
    if limit is not None:
        query["limit"] = limit
    if total:
        query["calculateTotal"] = True
    get = {"accountId": account, "#ids": _ref(tag, "Email/query", "/ids"), "properties": list(properties)}
    return [("Email/query", query, tag), ("Email/get", get, f"{tag}.get")]


def email_changes_and_get(account: str, since: str, tag: str, *, max_changes: int,
                          properties: Sequence[str] = NEW_PROPERTIES) -> list[Call]:
    """``Email/changes`` since the state ``since`` (at most ``max_changes``, so that each get
    stays within ``maxObjectsInGet``), then ``Email/get`` of the created messages and of the
    updated ones, by back-reference. Ids: ``tag``, ``tag.created``, ``tag.updated``."""
    changes = {"accountId": account, "sinceState": since, "maxChanges": max_changes}
    return [
        ("Email/changes", changes, tag),
        ("Email/get", {"accountId": account, "#ids": _ref(tag, "Email/changes", "/created"),
                       "properties": list(properties)}, f"{tag}.created"),
        ("Email/get", {"accountId": account, "#ids": _ref(tag, "Email/changes", "/updated"),
                       "properties": list(properties)}, f"{tag}.updated"),
    ]


def email_get(account: str, ids: Sequence[str], tag: str, properties: Sequence[str]) -> list[Call]:
    return [("Email/get", {"accountId": account, "ids": list(ids), "properties": list(properties)}, tag)]


def mailbox_get(account: str, tag: str, properties: Sequence[str] = ("id", "name", "parentId", "role")) -> list[Call]:
    """``Mailbox/get`` of every mailbox (``ids`` null)."""
    return [("Mailbox/get", {"accountId": account, "ids": None, "properties": list(properties)}, tag)]


def mailbox_create(account: str, name: str, tag: str, parent: str | None = None) -> list[Call]:
    """``Mailbox/set`` creating ``name`` (below ``parent``, top level when None); its creation
    id is ``tag``."""
    return [("Mailbox/set", {"accountId": account, "create": {tag: {"name": name, "parentId": parent}}}, tag)]


def keyword_patches(flags: Iterable[str], value: bool) -> dict[str, Any]:
    """An Email/set patch setting (``value`` true) or removing each of IMAP's ``flags`` as
    its keyword (``\\Seen`` → ``keywords/$seen``)."""
    patch: dict[str, Any] = {}
    for flag in flags:
        keyword = KEYWORDS.get(flag, flag)
        patch[f"keywords/{keyword}"] = True if value else None
    return patch


def email_update(account: str, patches: Mapping[str, Mapping[str, Any]], tag: str) -> list[Call]:
    """``Email/set`` with one patch per message id."""
    return [("Email/set", {"accountId": account, "update": {id_: dict(patch) for id_, patch in patches.items()}}, tag)]


def email_set_keywords(account: str, ids: Sequence[str], flags: Iterable[str], value: bool, tag: str) -> list[Call]:
    patch = keyword_patches(list(flags), value)
    return email_update(account, {id_: patch for id_ in ids}, tag)


def email_move(account: str, ids: Sequence[str], mailbox: str, tag: str) -> list[Call]:
    """``Email/set`` giving each message ``mailbox`` as its only mailbox: a move."""
    return email_update(account, {id_: {"mailboxIds": {mailbox: True}} for id_ in ids}, tag)


def email_destroy(account: str, ids: Sequence[str], tag: str) -> list[Call]:
    return [("Email/set", {"accountId": account, "destroy": list(ids)}, tag)]


# -- requests -----------------------------------------------------------------------------


def request(calls: Iterable[Call], using: Sequence[str] = USING) -> dict[str, Any]:
    return {"using": list(using), "methodCalls": [list(call) for call in calls]}


def encode(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def pack(groups: Iterable[list[Call]], limits: Limits) -> list[list[Call]]:
    """The calls of ``groups`` in as few requests as the server's limits allow: at most
    ``maxCallsInRequest`` calls and ``maxSizeRequest`` bytes each, a group never split (its
    calls refer to each other). A group alone beyond a limit is an error of the caller."""
    requests: list[list[Call]] = []
    current: list[Call] = []
    for group in groups:
        if len(group) > limits.max_calls_in_request or len(encode(request(group))) > limits.max_size_request:
            raise ValueError(f"a group of {len(group)} calls exceeds the server's limits on a request ({limits})")
        candidate = current + group
        if current and (len(candidate) > limits.max_calls_in_request
                        or len(encode(request(candidate))) > limits.max_size_request):
            requests.append(current)
            candidate = list(group)
        current = candidate
    if current:
        requests.append(current)
    return requests


def download_url(template: str, account: str, blob: str, name: str = "message.eml",
                 type_: str = "message/rfc822") -> str:
    """The session's ``downloadUrl`` with its variables filled in (RFC 6570 level 1: each
    value percent-encoded, reserved characters too)."""
    values = {"accountId": account, "blobId": blob, "name": name, "type": type_}
    url = template
    for key, value in values.items():
        url = url.replace("{" + key + "}", quote(value, safe=""))
    return url


def event_source_url(template: str, types: str = "Email", closeafter: str = "no", ping: int = 0) -> str:
    """The session's ``eventSourceUrl`` with its variables filled in (RFC 8620 section 7.3):
    the data types whose changes to push (comma-separated, or ``*``), ``closeafter``
    (``state``: end the response after one state event; ``no``: keep it open) and the
    seconds between ``ping`` events when nothing else is sent (0: none)."""
    values = {"types": types, "closeafter": closeafter, "ping": str(ping)}
    url = template
    for key, value in values.items():
        url = url.replace("{" + key + "}", quote(value, safe=","))
    return url


# The response arguments that hold an object type's state after each method (RFC 8620
# section 5): what a client then knows of the server's data.
STATE_ARGUMENTS = {"get": "state", "changes": "newState", "set": "newState"}


def states_of(answers: Mapping[str, tuple[str, Mapping[str, Any]]], type_: str = "Email") -> list[str]:
    """The states of ``type_`` that the method responses report, in their order."""
    found = []
    for name, arguments in answers.values():
        kind, _, method = name.partition("/")
        key = STATE_ARGUMENTS.get(method)
        if kind == type_ and key and isinstance(arguments.get(key), str):
            found.append(arguments[key])
    return found


def pushed_state(data: str, account: str, type_: str = "Email") -> str | None:
    """The state of ``type_`` in ``account`` that a pushed ``StateChange`` (the data of an
    EventSource ``state`` event) announces; None where it announces none, or is no JSON."""
    try:
        change = json.loads(data)
    except ValueError:
        return None
    if not isinstance(change, dict) or change.get("@type") != "StateChange":
        return None
    state = ((change.get("changed") or {}).get(account) or {}).get(type_)
    return state if isinstance(state, str) else None


def responses(document: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """A response's method responses by call id: (name, arguments)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, arguments, call_id in document.get("methodResponses", ()):
        # A method that answers with several responses (none here) keeps the first.
        found.setdefault(call_id, (name, arguments))
    return found


def result(answers: Mapping[str, tuple[str, dict[str, Any]]], call_id: str, name: str) -> dict[str, Any]:
    """The arguments of call ``call_id``'s response, which must be ``name``; a method error
    raises ``MethodError``."""
    if call_id not in answers:
        raise MethodError(name, "noResponse", f"the response holds no answer to call {call_id!r}")
    answered, arguments = answers[call_id]
    if answered == "error":
        raise MethodError(name, str(arguments.get("type", "unknown")), str(arguments.get("description", "")))
    if answered != name:
        raise MethodError(name, "unexpectedResponse", f"call {call_id!r} was answered by {answered}")
    return arguments


def header_block(headers: list[dict[str, str]]) -> bytes:
    """A message's header block from its JMAP ``headers`` (each field's name and raw value,
    in order), ending with the empty line, as ``bench.corpus.canonical.header_block`` gives it."""
    return b"".join(f"{field['name']}:{field['value']}\r\n".encode() for field in headers) + b"\r\n"
