"""JMAP access (RFC 8620, RFC 8621): the mail client's interface on one JMAP session
(``bench.access.jmap_session``), every byte and wait counted by the meter.

Method calls that depend on each other travel in one request by back-reference
(``Email/query`` with ``Email/get`` of its ids; ``Email/changes`` with ``Email/get`` of what
was created and of what was updated), and independent calls share requests as far as the
server's limits allow. A whole message is its blob (``Email`` ``blobId``), downloaded from
the session's download URL: one request per message, since JMAP has no download of several
blobs at once, the requests pipelined on the kept-alive connection (``HttpClient.get_all``:
a window of them costs one round trip, as an HTTP/2 client's multiplexed downloads would)
unless ``AccessOptions.pipelining`` is off. A header block is rebuilt from the ``headers``
property.

Folders are JMAP mailboxes (``JmapSession.mailboxes``). A message's id is its JMAP id, the
same in every folder and session (a move keeps it); its ``handle`` is its place in the
listing, which JMAP does not need.

Push is the session's event stream (EventSource, RFC 8620 section 7.3;
``bench.access.event_source``) on a connection of its own, metered like the other: it
announces the account's new Email state, and news is a state this session's own requests
have not reported. WebSocket push (RFC 8887) is not used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from bench.access import jmap_requests as jr
from bench.access.base import (
    INBOX, LISTINGS, SYNC_FLAGS, AccessOptions, Endpoint, FolderChanges, FolderSnapshot, Listing, MailAccess,
    MessageRef, MessageState, Part,
)
from bench.access.event_source import RECONNECTED, EventStream
from bench.access.jmap_session import JmapSession, RequestFailed, basic_authorization, local_path
from bench.access.meter import WireMeter
from bench.protocols import JMAP

# Messages whose header blocks one request asks for (each a few kB of JSON), within the
# server's maxObjectsInGet: the client holds one such batch at a time.
HEADERS_BATCH = 1000
# Email/changes requests one sync may take while the server says it has more.
MAX_CHANGES_REQUESTS = 100_000
# Seconds between the event stream's pings when nothing else comes (RFC 8620 section 7.3's
# example value): they keep a real client's connection alive through NAT, and none falls
# within a measured wait of seconds, as no IDLE renewal does for IMAP.
PING_S = 300


@dataclass(frozen=True)
class ListingToken:
    """What a listing remembers: the account's Email state then, and the inbox's message ids
    it listed (a message moved into the inbox later is new to the device, as in IMAP)."""

    state: str
    ids: frozenset[str]


def _flags(email: dict[str, Any]) -> frozenset[str]:
    keywords = email.get("keywords") or {}
    return frozenset(jr.FLAGS[k] for k, on in keywords.items() if on and k in jr.FLAGS) & SYNC_FLAGS


def _message_id(email: dict[str, Any]) -> str | None:
    value = email.get(jr.MESSAGE_ID)
    return (" ".join(value.split()) or None) if isinstance(value, str) else None


def _refs(emails: list[dict[str, Any]], folder: str = INBOX) -> list[MessageRef]:
    return [MessageRef(email["id"], int(email.get("size", 0)), place, folder) for place, email in enumerate(emails, 1)]


class JmapAccess(MailAccess):
    """JMAP Mail on one account (the session's primary mail account)."""

    protocol = JMAP
    can_search = True

    def __init__(self, endpoint: Endpoint, meter: WireMeter, options: AccessOptions) -> None:
        super().__init__(endpoint, meter, options)
        self.jmap = JmapSession(endpoint, meter)
        self.session = self.jmap.session
        self.limits = self.jmap.limits
        self.account = self.jmap.account
        self._listing: str | None = None  # set by prepare_sync
        self._blobs: dict[str, str] = {}  # message id -> blob id, as listed in this session
        self._pipelined = False  # whether a download wrote several requests before reading
        self._stream: EventStream | None = None  # push: opened by watch_for_news or wait_for_news

    @property
    def pipelined(self) -> bool:
        """True once this session wrote several downloads' requests before their responses
        (HTTP/1.1 needs no capability for it: nothing goes to ``capabilities_used``)."""
        return self._pipelined

    @property
    def capabilities(self) -> frozenset[str]:
        """The session's capabilities, each with the limits it states (``name key=value ...``)."""
        return self.session.capability_list()

    def ensure_folder(self, folder: str) -> None:
        if self.jmap.folder_id(folder) is None:
            self.jmap.create_folder(folder)

    def folders(self) -> list[str]:
        """The logical names of the folders on the server (for observers)."""
        return sorted(self.jmap.mailboxes(fresh=True))

    # -- listings --------------------------------------------------------------------------

    def _list_folder(self, folder: str, properties: tuple[str, ...] = jr.LISTING_PROPERTIES,
                     subject: str | None = None) -> tuple[list[dict[str, Any]], str]:
        """Every message of ``folder`` (oldest first) with ``properties``, and the Email state
        the gets reported: ``Email/query`` and ``Email/get`` by back-reference, a page of
        ``maxObjectsInGet`` messages each; the first page tells the total, and the other
        pages then go together, as many per request as the server's limits allow."""
        mailbox = self.jmap.folder_id(folder)
        if mailbox is None:
            return [], ""
        page, tag = self.limits.max_objects_in_get, self.jmap.tag()
        answers = self.jmap.call(jr.email_query_and_get(self.account, mailbox, tag, limit=page,
                                                        properties=properties, subject=subject, total=True))
        total = int(jr.result(answers, tag, "Email/query").get("total", 0))
        first = jr.result(answers, f"{tag}.get", "Email/get")
        emails, state = list(first.get("list", ())), str(first.get("state", ""))
        tags = [self.jmap.tag() for _ in range(page, total, page)]
        if tags:
            answers = self.jmap.call_all(
                jr.email_query_and_get(self.account, mailbox, tag, position=position, limit=page,
                                       properties=properties, subject=subject)
                for tag, position in zip(tags, range(page, total, page)))
            for tag in tags:
                emails.extend(jr.result(answers, f"{tag}.get", "Email/get").get("list", ()))
        unique = list({email["id"]: email for email in emails}.values())
        self._blobs.update((email["id"], email["blobId"]) for email in unique if "blobId" in email)
        return unique, state

    def list_messages(self, after: Any = None) -> Listing:
        """The inbox's messages; after a listing's token, those it did not list, found with
        ``Email/changes`` (one request with the gets of what was created and updated) when
        the server can say what changed since, else with a full listing."""
        known = after.ids if isinstance(after, ListingToken) else frozenset()
        if isinstance(after, ListingToken) and after.state:
            changed = self._changed_since(after.state)
            if changed is not None:
                found, state = changed
                inbox = self.jmap.folder_id(INBOX)
                new = [email for email in found.values()
                       if inbox in (email.get("mailboxIds") or {}) and email["id"] not in known]
                return Listing(_refs(new), ListingToken(state, known | {email["id"] for email in new}))
        emails, state = self._list_folder(INBOX)
        new = [email for email in emails if email["id"] not in known]
        return Listing(_refs(new), ListingToken(state, known | {email["id"] for email in new}))

    def _changed_since(self, since: str) -> tuple[dict[str, dict[str, Any]], str] | None:
        """Every message created or updated since the state ``since``, as it is now, by id (a
        destroyed one as an empty dict), and the new state: ``Email/changes`` with the two
        gets in one request, again while the server has more. None when the server cannot
        tell the changes since that state."""
        found: dict[str, dict[str, Any]] = {}
        state = since
        for _ in range(MAX_CHANGES_REQUESTS):
            tag = self.jmap.tag()
            answers = self.jmap.call(jr.email_changes_and_get(self.account, state, tag,
                                                              max_changes=self.limits.max_objects_in_get))
            try:
                changes = jr.result(answers, tag, "Email/changes")
            except jr.MethodError as exc:
                if exc.type == "cannotCalculateChanges":
                    return None
                raise
            found.update((gone, {}) for gone in changes.get("destroyed", ()))
            for part in ("created", "updated"):
                got = jr.result(answers, f"{tag}.{part}", "Email/get")
                found.update((email["id"], email) for email in got.get("list", ()))
                found.update((gone, {}) for gone in got.get("notFound", ()))  # destroyed meanwhile
            self._blobs.update((id_, email["blobId"]) for id_, email in found.items() if "blobId" in email)
            state = str(changes.get("newState", state))
            if not changes.get("hasMoreChanges"):
                return found, state
        raise RequestFailed("JMAP Email/changes kept reporting more changes")

    def search(self, term: str) -> list[MessageRef]:
        """``Email/query`` of the inbox's messages whose Subject holds ``term``, with their
        sizes by back-reference, in one request (per ``maxObjectsInGet`` matches)."""
        return _refs(self._list_folder(INBOX, ("id", "blobId", "size"), subject=term)[0])

    # -- messages --------------------------------------------------------------------------

    def fetch(self, refs: Iterable[MessageRef], part: Part = "full") -> Iterator[tuple[MessageRef, bytes]]:
        refs = list(refs)
        if part == "headers":
            yield from self._fetch_headers(refs)
            return
        unknown = [ref.id for ref in refs if ref.id not in self._blobs]
        if unknown:
            found, _ = self.jmap.get_emails(unknown, ("id", "blobId"))
            self._blobs.update((id_, email["blobId"]) for id_, email in found.items())
        listed = [ref for ref in refs if ref.id in self._blobs]
        self.unavailable.update(ref.id for ref in refs if ref.id not in self._blobs)  # gone since it was listed
        blobs = [self._blobs[ref.id] for ref in listed]
        if self.options.pipelining:
            self._pipelined = self._pipelined or len(blobs) > 1
            downloads = self.jmap.download_all(blobs)
        else:
            downloads = (self.jmap.download(blob) for blob in blobs)
        for raw, ref in zip(downloads, listed):  # downloads first: its generator runs to its end
            if raw is None:  # gone since it was listed
                self.unavailable.add(ref.id)
                continue
            yield ref, raw

    def _fetch_headers(self, refs: list[MessageRef]) -> Iterator[tuple[MessageRef, bytes]]:
        batch = min(HEADERS_BATCH, self.limits.max_objects_in_get)
        for start in range(0, len(refs), batch):
            part = refs[start:start + batch]
            tag = self.jmap.tag()
            got = jr.result(self.jmap.call(jr.email_get(self.account, [ref.id for ref in part], tag,
                                                        ("id", "headers"))), tag, "Email/get")
            by_id = {email["id"]: email for email in got.get("list", ())}
            for ref in part:
                if ref.id in by_id:
                    yield ref, jr.header_block(by_id[ref.id].get("headers") or [])
                else:
                    self.unavailable.add(ref.id)

    def _set(self, calls_of: Any, refs: Iterable[MessageRef], what: str) -> set[str]:
        done, gone = self.jmap.set_emails(calls_of, list(dict.fromkeys(ref.id for ref in refs)), what)
        self.unavailable |= gone
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
        target = self.jmap.folder_id(folder) or self.jmap.create_folder(folder)
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
        mailbox = self.jmap.folder_id(folder)
        if mailbox is None:
            return FolderChanges(folder, "full", vanished=frozenset(known.ids))
        changed = None
        if known.state and (self._listing or "changes") == "changes":
            changed = self._changed_since(known.state)
        if changed is not None:
            found, state = changed
            here = {id_: email for id_, email in found.items() if mailbox in (email.get("mailboxIds") or {})}
            method = "changes"
            vanished = {id_ for id_ in found if id_ in known.ids and id_ not in here}
        else:
            emails, state = self._list_folder(folder, jr.NEW_PROPERTIES)
            here = {email["id"]: email for email in emails}
            method = "full"
            vanished = set(known.ids) - set(here)
        refs = dict(zip(here, _refs(list(here.values()), folder)))
        updated = [MessageState(refs[id_], _flags(email)) for id_, email in here.items() if id_ in known.ids]
        new = [MessageState(refs[id_], _flags(email), _message_id(email))
               for id_, email in here.items() if id_ not in known.ids]
        return FolderChanges(folder, method, updated=updated, new=new, vanished=frozenset(vanished), state=state)

    def locate(self, refs: Iterable[MessageRef]) -> dict[str, MessageState]:
        refs = list(refs)
        if not refs:
            return {}
        found, _ = self.jmap.get_emails(list(dict.fromkeys(ref.id for ref in refs)), ("id", "mailboxIds", "keywords"))
        located: dict[str, MessageState] = {}
        for ref in refs:
            email = found.get(ref.id)
            if email is not None and self.jmap.folder_id(ref.folder) in (email.get("mailboxIds") or {}):
                located[ref.id] = MessageState(ref, _flags(email))
        return located

    # -- push ------------------------------------------------------------------------------

    @property
    def can_push(self) -> bool:
        """True where the session names an ``eventSourceUrl`` (RFC 8620 requires one); a
        server that has no push answers it with something other than an event stream, which
        ``wait_for_news`` reports (``NoEventStream``: Debian's Cyrus httpd answers 204)."""
        return bool(self.session.event_source_url)

    def watch_for_news(self) -> None:
        """Open the event stream (its GET written, the answer read by ``wait_for_news``)."""
        if self.can_push and not self._events.is_open:
            self._events.open()

    @property
    def _events(self) -> EventStream:
        if self._stream is None:
            url = jr.event_source_url(str(self.session.event_source_url), types="Email", closeafter="no", ping=PING_S)
            self._stream = EventStream(self.endpoint, self.meter, local_path(url),
                                       {"Authorization": basic_authorization(self.endpoint)})
        return self._stream

    def wait_for_news(self, timeout_s: float) -> bool:
        """Read the event stream (opened now if ``watch_for_news`` did not) until the server
        pushes an Email state this session has not seen, or ``timeout_s`` passes; True if it
        pushed one. A state the session's own requests already reported is old news; a stream
        the server had ended is opened again and the wait ends (False), so the caller syncs."""
        if not self.can_push:
            return super().wait_for_news(timeout_s)
        self.capabilities_used.add("EventSource")
        self.watch_for_news()
        deadline = time.monotonic() + timeout_s
        while True:
            event = self._events.next_event(max(0.0, deadline - time.monotonic()))
            if event is None or event is RECONNECTED:
                return False
            if event.type == "state":
                state = jr.pushed_state(event.data, self.account)
                if state is not None and state not in self.jmap.email_states:
                    return True

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self.jmap.close()
