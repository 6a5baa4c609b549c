"""How IMAP FETCH commands are cut into batches and into writes (pure logic, no server)."""

from __future__ import annotations

from bench.access import imap
from bench.access.base import MessageRef
from bench.access.imap import write_groups


def test_write_groups_fill_each_write_up_to_the_limit():
    assert write_groups([10, 10, 10, 10, 10], 30) == [range(0, 3), range(3, 5)]
    assert write_groups([10] * 4, 1000) == [range(0, 4)]


def test_a_command_larger_than_the_limit_is_a_write_of_its_own():
    assert write_groups([5, 50, 5], 20) == [range(0, 1), range(1, 2), range(2, 3)]


def test_no_commands_no_writes():
    assert write_groups([], 100) == []


def test_batches_are_bounded_by_count_and_bytes(monkeypatch):
    monkeypatch.setattr(imap, "FETCH_BATCH_MESSAGES", 3)
    monkeypatch.setattr(imap, "FETCH_BATCH_BYTES", 100)
    refs = [MessageRef(str(n), size, n) for n, size in enumerate([10, 10, 10, 10, 90, 200, 5], 1)]
    batches = [[ref.handle for ref in batch] for batch in imap._batches(refs)]
    assert batches == [[1, 2, 3], [4, 5], [6], [7]]  # 10 + 90 fits in 100; 200 alone
