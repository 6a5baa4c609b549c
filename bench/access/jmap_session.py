"""One JMAP session (RFC 8620) on the metered HTTP/1.1 client: the wire under ``JmapAccess``.

It starts with the session resource (``GET /.well-known/jmap``, following its redirect,
Basic authentication): the account, the API and download URLs and the server's limits. It
then sends method calls, one request per call to ``call`` or, with ``call_all``, groups of
calls packed into as few requests as the limits allow (``maxCallsInRequest``,
``maxSizeRequest``: ``jmap_requests.pack``), reads mailboxes, gets and sets messages in
calls of ``maxObjectsInGet`` and ``maxObjectsInSet``, and downloads blobs.

Every latency is recorded under the names of the request's methods (``Email/query+Email/get``),
``session`` (the session resource and its redirect) or ``download`` (a blob). A 401 raises
``LoginRefused`` in one line; any other refusal of a whole request, ``RequestFailed``.
"""

from __future__ import annotations

import base64
import json
from itertools import count
from typing import Any, Callable, Iterable, Iterator, Sequence
from urllib.parse import urlsplit

from bench.access import jmap_requests as jr
from bench.access.base import INBOX, Endpoint
from bench.access.http import HttpClient, HttpResponse
from bench.access.meter import WireMeter
from bench.errors import LoginRefused, MailbenchError

SESSION_PATH = "/.well-known/jmap"
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)

Answers = dict[str, tuple[str, dict[str, Any]]]


class RequestFailed(MailbenchError):
    """The server refused a JMAP request as a whole (an HTTP status other than 200)."""


def local_path(url: str) -> str:
    """The path (and query) of a URL the server gave: requests always go to the endpoint,
    which may be a relay in front of the server, never to a host the server names."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def basic_authorization(endpoint: Endpoint) -> str:
    credentials = f"{endpoint.username}:{endpoint.password}".encode()
    return "Basic " + base64.b64encode(credentials).decode()


class JmapSession:
    """The session resource read, and the requests of one JMAP client after it."""

    def __init__(self, endpoint: Endpoint, meter: WireMeter) -> None:
        self.endpoint = endpoint
        self.http = HttpClient(endpoint, meter, {"Authorization": basic_authorization(endpoint),
                                                 "Accept": "application/json"})
        self._tags = count()
        self._folders: dict[str, str] | None = None  # logical name -> mailbox id
        # Every Email state the responses reported: what this client has seen of the mail
        # (a pushed state among them is old news).
        self.email_states: set[str] = set()
        try:
            self.session = self._discover()
        except BaseException:
            self.http.close()
            raise
        self.limits = self.session.limits
        self.account = self.session.account_id
        self._api = local_path(self.session.api_url)

    def _get(self, path: str, label: str) -> HttpResponse:
        """A GET, following redirects to the server's own paths."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self.http.request("GET", path, label=label)
            location = response.header("Location")
            if response.status not in REDIRECTS or not location:
                return response
            path = local_path(location)
        raise RequestFailed(f"JMAP: more than {MAX_REDIRECTS} redirects from {SESSION_PATH}")

    def refused(self, response: HttpResponse, what: str) -> MailbenchError:
        if response.status == 401:
            return LoginRefused(f"JMAP login refused for {self.endpoint.username} at "
                                f"{self.endpoint.host}:{self.endpoint.port}: {response.status} {response.reason} "
                                "(wrong user name or password)")
        detail = ""
        try:
            problem = json.loads(response.body)
            if isinstance(problem, dict):
                detail = " ".join(str(problem.get(key, "")) for key in ("type", "limit", "detail"))
        except ValueError:
            detail = response.body[:200].decode(errors="replace")
        detail = " ".join(detail.split())
        return RequestFailed(f"JMAP {what} answered {response.status} {response.reason}"
                             + (f": {detail}" if detail else ""))

    def _discover(self) -> jr.Session:
        response = self._get(SESSION_PATH, "session")
        if response.status != 200:
            raise self.refused(response, "session resource")
        try:
            return jr.Session.of(json.loads(response.body))
        except ValueError:
            raise RequestFailed(f"JMAP session resource is not JSON: {response.body[:100]!r}") from None
        except jr.SessionError as exc:
            raise RequestFailed(f"JMAP: {exc}") from None

    def tag(self) -> str:
        """A call id no other call of this session has."""
        return f"c{next(self._tags)}"

    def call(self, calls: list[jr.Call]) -> Answers:
        """One request holding ``calls``; their responses by call id."""
        label = "+".join(dict.fromkeys(name for name, _, _ in calls))
        response = self.http.request("POST", self._api, jr.encode(jr.request(calls)), label=label,
                                     headers={"Content-Type": "application/json"})
        if response.status != 200:
            raise self.refused(response, f"request {label}")
        answers = jr.responses(json.loads(response.body))
        self.email_states.update(jr.states_of(answers))
        return answers

    def call_all(self, groups: Iterable[list[jr.Call]]) -> Answers:
        """The groups in as few requests as the server's limits allow; every response."""
        answers: Answers = {}
        for calls in jr.pack(groups, self.limits):
            answers.update(self.call(calls))
        return answers

    # -- mailboxes ---------------------------------------------------------------------------

    def mailboxes(self, fresh: bool = False) -> dict[str, str]:
        """Mailbox ids by logical folder name: ``INBOX`` is the mailbox whose role is
        ``inbox``, any other folder the top-level mailbox of that name. Read once, or again
        when ``fresh``."""
        if self._folders is None or fresh:
            tag = self.tag()
            found = jr.result(self.call(jr.mailbox_get(self.account, tag)), tag, "Mailbox/get")
            folders: dict[str, str] = {}
            for mailbox in found.get("list", ()):
                if mailbox.get("role") == "inbox":
                    folders[INBOX] = mailbox["id"]
                elif mailbox.get("parentId") is None:
                    folders.setdefault(mailbox["name"], mailbox["id"])
            self._folders = folders
        return self._folders

    def folder_id(self, folder: str) -> str | None:
        folders = self.mailboxes()
        if folder not in folders:
            folders = self.mailboxes(fresh=True)
        return folders.get(folder)

    def create_folder(self, folder: str) -> str:
        """Create the top-level mailbox ``folder`` (or find it, made meanwhile by another
        client); its id."""
        tag = self.tag()
        answer = jr.result(self.call(jr.mailbox_create(self.account, folder, tag)), tag, "Mailbox/set")
        created = (answer.get("created") or {}).get(tag)
        if created is not None:
            self.mailboxes()[folder] = created["id"]
            return created["id"]
        found = self.folder_id(folder)
        if found is None:
            raise RequestFailed(f"JMAP could not create mailbox {folder!r}: {(answer.get('notCreated') or {}).get(tag)}")
        return found

    # -- messages ----------------------------------------------------------------------------

    def get_emails(self, ids: list[str], properties: tuple[str, ...]) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """``Email/get`` of ``ids`` in calls of ``maxObjectsInGet``, packed into requests: the
        messages found by id, and the ids not found."""
        groups, tags = [], []
        for part in jr.chunks(ids, self.limits.max_objects_in_get):
            tags.append(self.tag())
            groups.append(jr.email_get(self.account, part, tags[-1], properties))
        answers = self.call_all(groups)
        found: dict[str, dict[str, Any]] = {}
        missing: set[str] = set()
        for tag in tags:
            got = jr.result(answers, tag, "Email/get")
            found.update((email["id"], email) for email in got.get("list", ()))
            missing.update(got.get("notFound", ()))
        return found, missing

    def set_emails(self, calls_of: Callable[[list[str], str], list[jr.Call]], ids: list[str],
                   what: str) -> tuple[set[str], set[str]]:
        """``Email/set`` calls made by ``calls_of(ids, tag)``, ``maxObjectsInSet`` ids each,
        packed into requests; the ids ``what`` (``updated``, ``destroyed``) and those the
        server no longer has. Any other refusal raises."""
        groups, tags = [], []
        for part in jr.chunks(ids, self.limits.max_objects_in_set):
            tags.append(self.tag())
            groups.append(calls_of(list(part), tags[-1]))
        done: set[str] = set()
        gone: set[str] = set()
        answers = self.call_all(groups) if groups else {}
        for tag in tags:
            answer = jr.result(answers, tag, "Email/set")
            done.update(answer.get(what) or ())  # destroyed: a list; updated: a map by id
            for id_, error in (answer.get(f"not{what[0].upper()}{what[1:]}") or {}).items():
                if (error or {}).get("type") != "notFound":
                    raise RequestFailed(f"JMAP Email/set refused to change {id_}: {error}")
                gone.add(id_)
        return done, gone

    def download(self, blob: str) -> bytes | None:
        """A blob from the session's download URL; None when the server has it no more."""
        url = jr.download_url(self.session.download_url, self.account, blob)
        response = self.http.request("GET", local_path(url), label="download")
        if response.status == 404:
            return None
        if response.status != 200:
            raise self.refused(response, "download")
        return response.body

    def download_all(self, blobs: Sequence[str]) -> Iterator[bytes | None]:
        """The blobs in order, as ``download`` gives each, their GETs pipelined
        (``HttpClient.get_all``): a window of them costs one round trip."""
        paths = [local_path(jr.download_url(self.session.download_url, self.account, blob)) for blob in blobs]
        for response in self.http.get_all(paths, label="download"):
            if response.status == 404:
                yield None
            elif response.status != 200:
                raise self.refused(response, "download")
            else:
                yield response.body

    def close(self) -> None:
        """JMAP has no logout: the connection is closed."""
        self.http.close()
