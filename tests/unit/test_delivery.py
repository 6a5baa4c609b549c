"""Delivery when a server refuses a message: only that message is left out, in every path.

``deliver_to`` runs against a stand-in for the IMAP session that behaves as the servers
were seen to (docs/servers.md): a refusal inside a MULTIAPPEND refuses the whole batch,
and Cyrus closes the connection on a non-synchronizing literal it will not take. The real
servers' answers are checked in tests/integration/test_refused_message.py.
"""

from __future__ import annotations

import time

import pytest

from bench import delivery
from bench.delivery import DeliveryReport, Refusal, _chunks, deliver_to, refusal_summary
from bench.errors import MailbenchError
from bench.report import build_document, markdown
from bench.results import CellResult, Results

LIMIT = 1000
NO = "NO [TOOBIG] Message size exceeds fixed limit"


class FakeSession:
    """An INBOX with a size limit. ``close_on_refusal``: a refused non-synchronizing
    literal ends the session (Cyrus); ``stores_part``: a refused batch leaves the messages
    before the refused one stored (what no server may do, RFC 3502)."""

    def __init__(self, batched: bool = True, close_on_refusal: bool = False, stores_part: bool = False) -> None:
        self.batched = batched
        self.close_on_refusal = close_on_refusal
        self.stores_part = stores_part
        self.inbox: list[bytes] = [b"already there"]
        self.alive = True
        self.reopened = 0
        self.batches = 0

    def append_many(self, messages: list[bytes]) -> str | None:
        assert self.alive
        self.batches += 1
        for position, raw in enumerate(messages):
            if len(raw) > LIMIT:
                if self.stores_part:
                    self.inbox += messages[:position]
                if self.close_on_refusal:
                    self.alive = False
                    raise ConnectionError("socket error: EOF")
                return NO
        self.inbox += messages
        return None

    def append_one(self, raw: bytes) -> str | None:
        assert self.alive
        if len(raw) > LIMIT:
            return NO
        self.inbox.append(raw)
        return None

    def count(self) -> int:
        if not self.alive:
            self.alive = True
            self.reopened += 1
        return len(self.inbox)


def corpus(count: int, big: set[int]) -> list[bytes]:
    return [(b"B" if i in big else b"m") * (LIMIT + 1 if i in big else 10 + i) for i in range(count)]


@pytest.mark.parametrize("session", [FakeSession(), FakeSession(close_on_refusal=True), FakeSession(batched=False)],
                         ids=["batch refused", "connection closed", "one at a time"])
def test_only_the_refused_messages_are_left_out(monkeypatch, session):
    monkeypatch.setattr(delivery, "BATCH", 4)
    messages = corpus(10, big={2, 9})
    stored: list[bytes] = []
    report = deliver_to(session, messages, stored.append)
    kept = [m for i, m in enumerate(messages) if i not in {2, 9}]
    assert stored == kept  # every other message, in order
    assert session.inbox[1:] == kept
    assert report.refused == [Refusal(2, LIMIT + 1, NO), Refusal(9, LIMIT + 1, NO)]
    assert (report.messages, report.bytes, report.offered) == (8, sum(map(len, kept)), 10)


def test_a_batch_without_a_refusal_stays_one_command(monkeypatch):
    monkeypatch.setattr(delivery, "BATCH", 4)
    session = FakeSession()
    report = deliver_to(session, corpus(8, big=set()))
    assert session.batches == 2 and report.refused == [] and report.messages == 8


def test_after_a_closed_connection_delivery_goes_on_in_a_new_session(monkeypatch):
    monkeypatch.setattr(delivery, "BATCH", 4)
    session = FakeSession(close_on_refusal=True)
    deliver_to(session, corpus(10, big={1, 6}))
    assert session.reopened == 2


def test_a_server_that_stores_part_of_a_refused_batch_is_an_error(monkeypatch):
    monkeypatch.setattr(delivery, "BATCH", 4)
    with pytest.raises(MailbenchError, match="stored part of the batch"):
        deliver_to(FakeSession(stores_part=True), corpus(4, big={2}))


def test_batches_hold_at_most_so_many_messages_and_bytes_past_their_first():
    sizes = [5, 5, 5, 20, 1, 1, 1, 1, 1]
    chunks = list(_chunks((b"m" * n for n in sizes), 4, max_bytes=12))
    assert [[len(m) for m in chunk] for chunk in chunks] == [[5, 5], [5], [20], [1, 1, 1, 1], [1]]
    assert [len(chunk) for chunk in _chunks([b"m"] * 9, 4)] == [4, 4, 1]


class WatchedSession(FakeSession):
    """Sends batch ``n`` only once the messages of batch ``n + 1`` were made and those of
    batch ``n - 1`` recorded: possible only while one batch is on the wire and the next is
    being made and the one before recorded."""

    def __init__(self, total: int, batch: int) -> None:
        super().__init__()
        self.total, self.batch = total, batch
        self.made = self.recorded = 0
        self.overlapped: list[bool] = []

    def messages(self):
        for i in range(self.total):
            self.made += 1
            yield b"m" * 10

    def record(self, raw: bytes) -> None:
        self.recorded += 1

    def append_many(self, messages: list[bytes]) -> str | None:
        n = len(self.overlapped)
        deadline = time.monotonic() + 5
        while (self.made < min(self.total, (n + 2) * self.batch) or self.recorded < n * self.batch) \
                and time.monotonic() < deadline:
            time.sleep(0.001)
        self.overlapped.append(time.monotonic() < deadline)
        return super().append_many(messages)


def test_the_next_batch_is_made_and_the_one_before_recorded_while_a_batch_is_on_the_wire(monkeypatch):
    monkeypatch.setattr(delivery, "BATCH", 4)
    session = WatchedSession(total=18, batch=4)
    report = deliver_to(session, session.messages(), session.record)
    assert session.overlapped == [True] * 5
    assert report.messages == session.recorded == 18 and len(session.inbox) == 19


def test_refusal_summary_counts_places_from_one_and_keeps_the_first_answer():
    assert refusal_summary([]) is None
    summary = refusal_summary([Refusal(2, 5000, NO), Refusal(7, 6000, "NO other")])
    assert summary == {"count": 2, "positions": [3, 8], "sizes_bytes": [5000, 6000], "answer": NO}


def test_report_counts_offered_and_stored_apart():
    report = DeliveryReport(messages=3, bytes=30, seconds=2.0, refused=[Refusal(1, 9, NO)])
    assert report.offered == 4 and report.messages_per_s == 1.5


def test_the_integrity_table_and_summary_name_the_refusal():
    cell = CellResult("bulk-fetch", "cyrus", "imap", "full", integrity={"checked": 5, "passed": True, "samples": 1})
    cell.samples = [{"elapsed_s": 0.1, "messages": 5}]
    cell.info["refused"] = refusal_summary([Refusal(2, 27_774_496, NO)])
    results = Results(run_id="r", started_at="now", command="mailbench run", cells=[cell])
    text = markdown.render(build_document(results))
    row = next(line for line in text.splitlines() if line.startswith(f"| `{cell.id}`") and "refused" in line)
    assert "1 corpus message refused by the server at delivery" in row and "27.8 MB" in row and NO in row
    assert "In 1 cell the server refused corpus messages at delivery" in text
