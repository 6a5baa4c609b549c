"""JMAP access (RFC 8620, RFC 8621) over the metered HTTP/1.1 client, every byte and wait
counted by the meter.

A session starts with the session resource (``GET /.well-known/jmap``, following its
redirect, Basic authentication): the account, the API and download URLs and the server's
limits. Method calls that depend on each other travel in one request by back-reference
(``Email/query`` with ``Email/get`` of its ids; ``Email/changes`` with ``Email/get`` of what
was created and updated), and independent calls share requests as far as the server's
limits allow (``maxCallsInRequest``, ``maxSizeRequest``, ``maxObjectsInGet`` and
``maxObjectsInSet`` per call: ``bench.access.jmap_requests.pack``). A whole message is its
blob (``Email`` ``blobId``), downloaded from the session's download URL: one request per
message, since JMAP has no download of several blobs at once. A message's header block is
rebuilt from its ``headers`` property (each field's name and raw value, in order).

Every latency is recorded under the names of the request's methods (``Email/query+Email/get``),
``session`` (the session resource and its redirect) or ``download`` (a blob).

Folders are JMAP mailboxes: ``INBOX`` is the one whose role is ``inbox``, any other folder
the top-level mailbox of that name. A message's id is its JMAP id, the same in every folder
and session (a move keeps it). Push (EventSource, WebSocket) is not used yet: ``can_push``
is false.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from itertools import count
from typing import Any, Iterable, Iterator
from urllib.parse import urlsplit

from bench.access import jmap_requests as jr
from bench.access.base import (
    INBOX, LISTINGS, SYNC_FLAGS, AccessOptions, Endpoint, FolderChanges, FolderSnapshot, Listing, MailAccess,
    MessageRef, MessageState, Part,
)
from bench.access.http import HttpClient, HttpResponse
from bench.access.meter import WireMeter
from bench.errors import LoginRefused, MailbenchError
from bench.protocols import JMAP

SESSION_PATH = "/.well-known/jmap"
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
# Messages whose header blocks one request asks for (each a few kB of JSON), within the
# server's maxObjectsInGet: the client holds one such batch at a time.
HEADERS_BATCH = 1000


class RequestFailed(MailbenchError):
    """The server refused a JMAP request as a whole (an HTTP status other than 200)."""


@dataclass(frozen=True)
class ListingToken:
    """What a listing remembers: the account's Email state then, and the inbox's message ids
    it listed (a message moved into the inbox later is new to the device, as in IMAP)."""

    state: str
    ids: frozenset[str]


def local_path(url: str) -> str:
    """The path (and query) of a URL the server gave: requests always go to the endpoint,
    which may be a relay in front of the server, never to a host the server names."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return path + (f"?{parts.query}" if parts.query else "")


def header_block(headers: list[dict[str, str]]) -> bytes:
    """A message's header block from its JMAP ``headers`` (name and raw value of each field,
    in order), ending with the empty line, as ``bench.corpus.canonical.header_block`` gives it."""
    return b"".join(f"{field['name']}:{field['value']}\r\n".encode() for field in headers) + b"\r\n"


def _flags(email: dict[str, Any]) -> frozenset[str]:
    keywords = email.get("keywords") or {}
    return frozenset(jr.FLAGS[k] for k, on in keywords.items() if on and k in jr.FLAGS) & SYNC_FLAGS


def _message_id(email: dict[str, Any]) -> str | None:
    value = email.get(jr.MESSAGE_ID)
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return text or None


class JmapAccess(MailAccess):
    """JMAP Mail on one account (the session's primary mail account)."""

    protocol = JMAP
    can_search = True

    def __init__(self, endpoint: Endpoint, meter: WireMeter, options: AccessOptions) -> None:
        super().__init__(endpoint, meter, options)
        credentials = base64.b64encode(f"{endpoint.username}:{endpoint.password}".encode()).decode()
        self._http = HttpClient(endpoint, meter, {"Authorization": f"Basic {credentials}",
                                                  "Accept": "application/json"})
        self._tags = count()
        self._listing: str | None = None  # set by prepare_sync
        self._folders: dict[str, str] | None = None  # logical name -> mailbox id
        self._blobs: dict[str, str] = {}  # message id -> blob id, as listed in this session
        try:
            self.session = self._discover()
        except BaseException:
            self._http.close()
            raise
        self.limits = self.session.limits
        self.account = self.session.account_id
        self._api = local_path(self.session.api_url)

    # -- the wire ------------------------------------------------------------------------

    def _get(self, path: str, label: str) -> HttpResponse:
        """A GET, following redirects to the server's own paths."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._http.request("GET", path, label=label)
            location = response.header("Location")
            if response.status not in REDIRECTS or not location:
                return response
            path = local_path(location)
        raise RequestFailed(f"JMAP: more than {MAX_REDIRECTS} redirects from {SESSION_PATH}")

    def _refused(self, response: HttpResponse, what: str) -> MailbenchError:
        if response.status == 401:
            return LoginRefused(f"JMAP login refused for {self.endpoint.username} at "
                                f"{self.endpoint.host}:{self.endpoint.port}: {response.status} {response.reason} "
                                "(wrong user name or password)")
        detail = ""
        try:
            problem = json.loads(response.body)
            if isinstance(problem, dict):
                detail = " ".join(str(problem.get(key, "")) for key in ("type", "limit", "detail")).strip()
        except ValueError:
            detail = response.body[:200].decode(errors="replace")
        detail = " ".join(detail.split())
        return RequestFailed(f"JMAP {what} answered {response.status} {response.reason}" + (f": {detail}" if detail else ""))

    def _discover(self) -> jr.Session:
        response = self._get(SESSION_PATH, "session")
        if response.status != 200:
            raise self._refused(response, "session resource")
        try:
            document = json.loads(response.body)
        except ValueError:
            raise RequestFailed(f"JMAP session resource is not JSON: {response.body[:100]!r}") from None
        try:
            return jr.Session.of(document)
        except jr.SessionError as exc:
            raise RequestFailed(f"JMAP: {exc}") from None

    def _tag(self) -> str:
        return f"c{next(self._tags)}"

    def _call(self, calls: list[jr.Call]) -> dict[str, tuple[str, dict[str, Any]]]:
        """One request holding ``calls``; their responses by call id."""
        label = "+".join(dict.fromkeys(name for name, _, _ in calls))
        response = self._http.request("POST", self._api, jr.encode(jr.request(calls)), label=label,
                                      headers={"Content-Type": "application/json"})
        if response.status != 200:
            raise self._refused(response, f"request {label}")
        return jr.responses(json.loads(response.body))

    def _call_all(self, groups: Iterable[list[jr.Call]]) -> dict[str, tuple[str, dict[str, Any]]]:
        """The groups in as few requests as the server's limits allow; every response."""
        answers: dict[str, tuple[str, dict[str, Any]]] = {}
        for calls in jr.pack(groups, self.limits):
            answers.update(self._call(calls))
        return answers

    @property
    def capabilities(self) -> frozenset[str]:
        """The session's capabilities, each with the limits it states (``name key=value ...``)."""
        return self.session.capability_list()

    # -- folders ---------------------------------------------------------------------------

    def _mailboxes(self, fresh: bool = False) -> dict[str, str]:
        if self._folders is None or fresh:
            tag = self._tag()
            found = jr.result(self._call(jr.mailbox_get(self.account, tag)), tag, "Mailbox/get")
            folders: dict[str, str] = {}
            for mailbox in found.get("list", ()):
                if mailbox.get("role") == "inbox":
                    folders[INBOX] = mailbox["id"]
                elif mailbox.get("parentId") is None:
                    folders.setdefault(mailbox["name"], mailbox["id"])
            self._folders = folders
        return self._folders

    def _folder_id(self, folder: str) -> str | None:
        folders = self._mailboxes()
        if folder not in folders:
            folders = self._mailboxes(fresh=True)
        return folders.get(folder)

    def ensure_folder(self, folder: str) -> None:
        if self._folder_id(folder) is not None:
            return
        tag = self._tag()
        answer = jr.result(self._call(jr.mailbox_create(self.account, folder, tag)), tag, "Mailbox/set")
        created = (answer.get("created") or {}).get(tag)
        if created is None and self._folder_id(folder) is None:  # not made by another device meanwhile
            raise RequestFailed(f"JMAP could not create mailbox {folder!r}: {(answer.get('notCreated') or {}).get(tag)}")
        if created is not None:
            self._mailboxes()[folder] = created["id"]

    def folders(self) -> list[str]:
        """The logical names of the folders on the server (for observers)."""
        return sorted(self._mailboxes(fresh=True))

    # -- listings --------------------------------------------------------------------------

    def _list_folder(self, folder: str, properties: tuple[str, ...] = jr.LISTING_PROPERTIES,
                     subject: str | None = None) -> tuple[list[dict[str, Any]], str]:
        """Every message of ``folder`` (oldest first) with ``properties``, and the Email state
        the gets reported: ``Email/query`` and ``Email/get`` by back-reference, a page of
        ``maxObjectsInGet`` messages each; the first page tells the total, and the other
        pages then go together, as many per request as the server's limits allow."""
        mailbox = self._folder_id(folder)
        if mailbox is None:
            return [], ""
        page = self.limits.max_objects_in_get
        tag = self._tag()
        answers = self._call(jr.email_query_and_get(self.account, mailbox, tag, limit=page, properties=properties,
                                                    subject=subject, total=True))
        total = int(jr.result(answers, tag, "Email/query").get("total", 0))
        first = jr.result(answers, f"{tag}.get", "Email/get")
        emails, state = list(first.get("list", ())), str(first.get("state", ""))
        groups, tags = [], []
        for position in range(page, total, page):
            tags.append(self._tag())
            groups.append(jr.email_query_and_get(self.account, mailbox, tags[-1], position=position, limit=page,
                                                 properties=properties, subject=subject))
        if groups:
            answers = self._call_all(groups)
            for tag in tags:
                emails.extend(jr.result(answers, f"{tag}.get", "Email/get").get("list", ()))
        seen: set[str] = set()
        unique = [email for email in emails if not (email["id"] in seen or seen.add(email["id"]))]
        for email in unique:
            if "blobId" in email:
                self._blobs[email["id"]] = email["blobId"]
        return unique, state

    def _refs(self, emails: list[dict[str, Any]], folder: str = INBOX) -> list[MessageRef]:
        return [MessageRef(email["id"], int(email.get("size", 0)), place, folder)
                for place, email in enumerate(emails, 1)]

    def list_messages(self, after: Any = None) -> Listing:
        """The inbox's messages; after a listing's token, those it did not list, found with
        ``Email/changes`` (one request with the gets of what was created and updated) when
        the server can say what changed since, else with a full listing."""
        if isinstance(after, ListingToken) and after.state:
            try:
                found, state = self._changed_since(after.state)
            except jr.MethodError as exc:
                if exc.type != "cannotCalculateChanges":
                    raise
            else:
                inbox = self._folder_id(INBOX)
                new = [email for email in found.values()
                       if inbox in (email.get("mailboxIds") or {}) and email["id"] not in after.ids]
                return Listing(self._refs(new), ListingToken(state, after.ids | {email["id"] for email in new}))
        emails, state = self._list_folder(INBOX)
        known = after.ids if isinstance(after, ListingToken) else frozenset()
        new = [email for email in emails if email["id"] not in known]
        return Listing(self._refs(new), ListingToken(state, known | {email["id"] for email in new}))

    def _changed_since(self, since: str, properties: tuple[str, ...] = jr.NEW_PROPERTIES
                       ) -> tuple[dict[str, dict[str, Any]], str]:
        """Every message created or updated since the state ``since``, as it is now (by id;
        a destroyed one maps to an empty dict), and the new state: ``Email/changes`` with the
        two gets in one request, again while the server has more changes."""
        found: dict[str, dict[str, Any]] = {}
        state = since
        for _ in range(100_000):
            tag = self._tag()
            answers = self._call(jr.email_changes_and_get(self.account, state, tag,
                                                          max_changes=self.limits.max_objects_in_get,
                                                          properties=properties))
            changes = jr.result(answers, tag, "Email/changes")
            for destroyed in changes.get("destroyed", ()):
                found[destroyed] = {}
            for part in ("created", "updated"):
                got = jr.result(answers, f"{tag}.{part}", "Email/get")
                for email in got.get("list", ()):
                    found[email["id"]] = email
                    if "blobId" in email:
                        self._blobs[email["id"]] = email["blobId"]
                for gone in got.get("notFound", ()):  # destroyed since the changes were read
                    found.setdefault(gone, {})
            state = str(changes.get("newState", state))
            if not changes.get("hasMoreChanges"):
                return found, state
        raise RequestFailed("JMAP Email/changes kept reporting more changes")

    def search(self, term: str) -> list[MessageRef]:
        """``Email/query`` of the inbox's messages whose Subject holds ``term``, with their
        sizes by back-reference: one request (a page of ``maxObjectsInGet``)."""
        emails, _ = self._list_folder(INBOX, ("id", "blobId", "size"), subject=term)
        return self._refs(emails)

    # -- messages --------------------------------------------------------------------------

    def _get_many(self, ids: list[str], properties: tuple[str, ...]) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """``Email/get`` of ``ids`` in calls of ``maxObjectsInGet``, packed into requests: the
        messages found by id, and the ids not found."""
        groups, tags = [], []
        for part in jr.chunks(ids, self.limits.max_objects_in_get):
            tags.append(self._tag())
            groups.append(jr.email_get(self.account, part, tags[-1], properties))
        answers = self._call_all(groups)
        found: dict[str, dict[str, Any]] = {}
        missing: set[str] = set()
        for tag in tags:
            got = jr.result(answers, tag, "Email/get")
            found.update((email["id"], email) for email in got.get("list", ()))
            missing.update(got.get("notFound", ()))
        return found, missing

    def fetch(self, refs: Iterable[MessageRef], part: Part = "full") -> Iterator[tuple[MessageRef, bytes]]:
        refs = list(refs)
        if part == "headers":
            yield from self._fetch_headers(refs)
            return
        unknown = [ref.id for ref in refs if ref.id not in self._blobs]
        if unknown:
            found, _ = self._get_many(unknown, ("id", "blobId"))
            self._blobs.update((id_, email["blobId"]) for id_, email in found.items())
        for ref in refs:
            blob = self._blobs.get(ref.id)
            if blob is None:
                self.unavailable.add(ref.id)
                continue
            url = jr.download_url(self.session.download_url, self.account, blob)
            response = self._http.request("GET", local_path(url), label="download")
            if response.status == 404:  # gone since it was listed
                self.unavailable.add(ref.id)
                continue
            if response.status != 200:
                raise self._refused(response, "download")
            yield ref, response.body

    def _fetch_headers(self, refs: list[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        batch = min(HEADERS_BATCH, self.limits.max_objects_in_get)
        for start in range(0, len(refs), batch):
            part = refs[start:start + batch]
            tag = self._tag()
            got = jr.result(self._call(jr.email_get(self.account, [ref.id for ref in part], tag, ("id", "headers"))),
                            tag, "Email/get")
            by_id = {email["id"]: email for email in got.get("list", ())}
            for ref in part:
                email = by_id.get(ref.id)
                if email is None:
                    self.unavailable.add(ref.id)
                    continue
                yield ref, header_block(email.get("headers") or [])

    def _set(self, calls_of: Any, refs: Iterable[MessageRef], what: str) -> set[str]:
        """``Email/set`` calls made by ``calls_of(ids, tag)`` for ``refs``, ``maxObjectsInSet``
        ids each, packed into requests; the ids done. An id the server no longer has goes to
        ``unavailable``; any other refusal raises."""
        ids = list(dict.fromkeys(ref.id for ref in refs))
        groups, tags = [], []
        for part in jr.chunks(ids, self.limits.max_objects_in_set):
            tags.append(self._tag())
            groups.append(calls_of(list(part), tags[-1]))
        if not groups:
            return set()
        answers = self._call_all(groups)
        done: set[str] = set()
        for tag in tags:
            answer = jr.result(answers, tag, "Email/set")
            done.update(answer.get(what) or ())  # destroyed: a list; updated: a map by id
            refused = answer.get(f"not{what[0].upper()}{what[1:]}") or {}
            for id_, error in refused.items():
                if (error or {}).get("type") == "notFound":
                    self.unavailable.add(id_)
                else:
                    raise RequestFailed(f"JMAP Email/set refused to change {id_}: {error}")
        return done

    def delete(self, refs: Iterable[MessageRef]) -> None:
        self._set(lambda ids, tag: jr.email_destroy(self.account, ids, tag), refs, "destroyed")

    def set_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        flags = list(flags)
        self._set(lambda ids, tag: jr.email_set_keywords(self.account, ids, flags, True, tag), refs, "updated")

    def clear_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        flags = list(flags)
        self._set(lambda ids, tag: jr.email_set_keywords(self.account, ids, flags, False, tag), refs, "updated")

    def move(self, refs: Iterable[MessageRef], folder: str) -> dict[str, MessageRef]:
        """``Email/set`` giving each message ``folder`` as its only mailbox; a message keeps
        its id, so the new refs differ from the old in their folder only."""
        refs = list(refs)
        self.ensure_folder(folder)
        target = self._folder_id(folder)
        done = self._set(lambda ids, tag: jr.email_move(self.account, ids, target, tag), refs, "updated")
        return {ref.id: MessageRef(ref.id, ref.size, ref.handle, folder) for ref in refs if ref.id in done}

    # -- what a syncing device needs ---------------------------------------------------

    def prepare_sync(self, listing: str = "best") -> str:
        """``changes`` (``Email/changes`` since the snapshot's state) unless ``listing`` is
        ``full``; JMAP needs nothing enabled."""
        if listing not in LISTINGS:
            raise ValueError(f"listing must be one of {LISTINGS}, got {listing!r}")
        if self._listing is None:
            self._listing = "full" if listing == "full" else "changes"
        return self._listing

    def changes(self, folder: str, known: FolderSnapshot) -> FolderChanges:
        """What changed in ``folder`` since ``known``: with its state, ``Email/changes`` and
        the gets of what was created and updated, in one request (more while the server has
        more); a message now elsewhere, or destroyed, vanished from the folder. Without a
        state, or when the server cannot tell changes since it, a full listing."""
        mailbox = self._folder_id(folder)
        if mailbox is None:
            return FolderChanges(folder, "full", vanished=frozenset(known.ids))
        if known.state and (self._listing or "changes") == "changes":
            try:
                found, state = self._changed_since(known.state)
            except jr.MethodError as exc:
                if exc.type != "cannotCalculateChanges":
                    raise
            else:
                updated, new, vanished = [], [], set()
                for id_, email in found.items():
                    here = mailbox in (email.get("mailboxIds") or {})
                    if id_ in known.ids:
                        if here:
                            updated.append(MessageState(MessageRef(id_, int(email.get("size", 0)), 0, folder),
                                                        _flags(email)))
                        else:
                            vanished.add(id_)
                    elif here:
                        new.append(MessageState(MessageRef(id_, int(email.get("size", 0)), 0, folder),
                                                _flags(email), _message_id(email)))
                return FolderChanges(folder, "changes", updated=updated, new=new, vanished=frozenset(vanished),
                                     state=state)
        emails, state = self._list_folder(folder, jr.NEW_PROPERTIES)
        present = {email["id"] for email in emails}
        updated = [MessageState(ref, _flags(email)) for ref, email in zip(self._refs(emails, folder), emails)
                   if email["id"] in known.ids]
        new = [MessageState(ref, _flags(email), _message_id(email))
               for ref, email in zip(self._refs(emails, folder), emails) if email["id"] not in known.ids]
        return FolderChanges(folder, "full", updated=updated, new=new, vanished=frozenset(known.ids - present),
                             state=state)

    def locate(self, refs: Iterable[MessageRef]) -> dict[str, MessageState]:
        refs = list(refs)
        if not refs:
            return {}
        found, _ = self._get_many(list(dict.fromkeys(ref.id for ref in refs)), ("id", "mailboxIds", "keywords"))
        located: dict[str, MessageState] = {}
        for ref in refs:
            email = found.get(ref.id)
            if email is not None and self._folder_id(ref.folder) in (email.get("mailboxIds") or {}):
                located[ref.id] = MessageState(ref, _flags(email))
        return located

    def close(self) -> None:
        """JMAP has no logout: the connection is closed."""
        self._http.close()
