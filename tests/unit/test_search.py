"""The search rule (``bench.search``) and a device's search policy (``Device.search``)."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

import pytest

from bench.protocols import POP3
from bench.access.base import AccessOptions, Endpoint, FolderChanges, FolderSnapshot, Listing, MailAccess, MessageRef
from bench.access.meter import WireMeter
from bench.corpus import generate_messages
from bench.devices.device import Device, DeviceStore
from bench.errors import Unsupported
from bench.modes import MODES
from bench.search import SEARCH_TERM, subject_contains, subjects


def message(*headers: str, body: str = "Hello.") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body + "\r\n").encode()


def test_case_is_not_considered_and_a_substring_is_enough():
    raw = message("Subject: Slides for the Friday call")
    assert subject_contains(raw, "friday")
    assert subject_contains(raw, "FRIDAY CA")
    assert subject_contains(raw, "iday")
    assert not subject_contains(raw, "monday")


def test_encoded_words_are_decoded_and_folded_lines_joined():
    quoted = message("Subject: =?utf-8?q?Caf=C3=A9_menu_for_Friday_=E2=98=95?=")
    base64 = message("Subject: =?utf-8?b?Q2Fmw6kgbWVudSBmb3IgRnJpZGF5IOKYlQ==?=")
    folded = message("Subject: =?utf-8?q?Caf=C3=A9_menu?=\r\n =?utf-8?q?_for_Friday?=")
    for raw in (quoted, base64, folded):
        assert subject_contains(raw, "café menu for friday"), subjects(raw)
    assert subjects(message("Subject: a\r\n\tb")) == ["a\tb"]  # unfolding keeps the white space


def test_only_the_subject_counts_and_every_subject_field_does():
    assert not subject_contains(message("Subject: hello", "X-Note: friday", body="Friday"), "friday")
    assert not subject_contains(message("From: a@example.org"), "friday")
    assert subject_contains(message("Subject: hello", "Subject: see you friday"), "friday")


def test_an_empty_term_is_refused():
    with pytest.raises(ValueError, match="empty"):
        subject_contains(message("Subject: x"), "")


def test_the_term_finds_plain_and_encoded_subjects_of_the_generated_corpus():
    found = [raw for raw in generate_messages(300, seed=1) if subject_contains(raw, SEARCH_TERM)]
    assert 0 < len(found) < 300 // 5
    assert any(b"=?utf-8?" in raw.split(b"\r\n\r\n")[0] for raw in found)  # an encoded subject
    assert any(b"Friday" in raw.split(b"\r\n\r\n")[0] for raw in found)


class _Inbox(MailAccess):
    """An in-memory inbox behind the interface, to test the device's policy alone."""

    protocol = POP3  # the facts of a protocol with no server state: a plain inbox

    def __init__(self, messages: list[bytes], searches: bool) -> None:
        super().__init__(Endpoint(1, "u", "p"), WireMeter(), AccessOptions())
        self.messages = dict(enumerate(messages, start=1))
        self.searches = searches
        self.fetched: list[int] = []
        self.deleted: list[int] = []

    @property
    def can_search(self) -> bool:  # type: ignore[override]
        return self.searches

    def _ref(self, handle: int) -> MessageRef:
        return MessageRef(f"id-{handle}", len(self.messages[handle]), handle)

    @property
    def capabilities(self) -> frozenset[str]:
        return frozenset()

    def list_messages(self, after: Any = None) -> Listing:
        return Listing([self._ref(handle) for handle in self.messages], None)

    def search(self, term: str) -> list[MessageRef]:
        if not self.searches:
            return super().search(term)
        return [self._ref(h) for h, raw in self.messages.items() if subject_contains(raw, term)]

    def fetch(self, refs: Iterable[MessageRef], part: str = "full") -> Iterator[tuple[MessageRef, bytes]]:
        for ref in refs:
            self.fetched.append(ref.handle)
            yield ref, self.messages[ref.handle]

    def delete(self, refs: Iterable[MessageRef]) -> None:
        self.deleted += [ref.handle for ref in refs]

    def set_flags(self, refs: Iterable[MessageRef], flags: Iterable[str]) -> None:
        raise Unsupported("no flags")

    def changes(self, folder: str, known: FolderSnapshot) -> FolderChanges:
        raise Unsupported("no sync")

    def locate(self, refs: Iterable[MessageRef]) -> dict:
        return {}

    def close(self) -> None:
        pass


MAILBOX = [message("Subject: Lunch on Friday?"), message("Subject: Budget", body="friday"),
           message("Subject: FRIDAY notes"), message("Subject: Monday")]


def test_a_device_asks_a_server_that_searches_and_downloads_the_matches_only(tmp_path):
    inbox = _Inbox(MAILBOX, searches=True)
    device = Device("phone", MODES["imap"], DeviceStore(tmp_path))
    report = device.search(inbox, "friday")
    assert inbox.fetched == [1, 3] and inbox.deleted == []
    assert (report.matches, report.downloaded) == (2, 2)
    assert report.match_bytes == report.downloaded_bytes == len(MAILBOX[0]) + len(MAILBOX[2])
    assert sorted(device.store) == sorted([MAILBOX[0], MAILBOX[2]])


@pytest.mark.parametrize("mode, deleted", [("pop3-keep", []), ("pop3-delete", [1, 2, 3, 4])])
def test_without_server_search_a_device_downloads_everything_and_keeps_the_matches(tmp_path, mode, deleted):
    inbox = _Inbox(MAILBOX, searches=False)
    with pytest.raises(Unsupported):
        inbox.search("friday")
    device = Device("phone", MODES[mode], DeviceStore(tmp_path))
    report = device.search(inbox, "friday")
    assert inbox.fetched == [1, 2, 3, 4] and inbox.deleted == deleted
    assert (report.matches, report.downloaded) == (2, 4)
    assert report.downloaded_bytes == sum(len(raw) for raw in MAILBOX)
    assert sorted(device.store) == sorted([MAILBOX[0], MAILBOX[2]])
