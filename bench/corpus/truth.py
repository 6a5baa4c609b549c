"""The truth every integrity check compares against, and the report of a check.

A ``Truth`` is built from the messages as they were delivered and keeps, for each, only
its key (its Message-ID, or ``#<index>`` when it has none), its size and two SHA-256
digests of its canonical form: of the whole message and of its header block. Memory
grows with the number of messages, never with their size.

A check compares what came back with the truth as multisets of digests, after
canonicalising what came back, so order does not matter and duplicate messages (user
mail has them, duplicate Message-IDs too) count once each. What does not match is
sorted out by key:

- ``missing``: truth messages nothing matched, whose key no unmatched received message has;
- ``changed``: received messages that match no truth digest but carry the key of a truth
  message nothing matched (the key is reported once per such pair);
- ``unexpected``: received messages that match nothing and whose key is not among those
  unmatched truth keys.

A received message without a Message-ID has key ``#<its position in what was received>``,
so it pairs with the truth's ``#<index>`` when the order was kept. Either way a check of
a lost or altered message fails; the keys only say which one it was.

``checker(part)`` gives the streaming form: feed each message as it is downloaded and
drop it, then ask for the report.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.corpus.canonical import canonical, canonical_header_block, header_block, message_id

Part = Literal["full", "headers"]
PARTS: tuple[Part, ...] = ("full", "headers")


@dataclass(frozen=True)
class Entry:
    """What the truth keeps of one delivered message."""

    key: str
    size_bytes: int
    full_digest: bytes
    headers_digest: bytes

    def digest(self, part: Part) -> bytes:
        return self.full_digest if part == "full" else self.headers_digest


@dataclass
class IntegrityReport:
    """What a check found: how many messages it saw and the keys of those that differ."""

    checked: int
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not (self.missing or self.changed or self.unexpected)

    def summary(self) -> str:
        """One line, for an error message or a log."""
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"integrity {verdict}: {self.checked} checked, {len(self.missing)} missing, "
            f"{len(self.changed)} changed, {len(self.unexpected)} unexpected"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "passed": self.passed,
            "missing": list(self.missing),
            "changed": list(self.changed),
            "unexpected": list(self.unexpected),
        }


class Truth:
    """Digests and keys of the messages as delivered, in delivery order."""

    def __init__(self, messages: Iterable[bytes] = ()) -> None:
        self._entries: list[Entry] = []
        for raw in messages:
            self.add(raw)

    def add(self, raw: bytes) -> str:
        """Record one delivered message; returns its key."""
        message = canonical(raw)
        head = canonical_header_block(message)
        key = message_id(head) or f"#{len(self._entries)}"
        self._entries.append(Entry(key=key, size_bytes=len(message), full_digest=_digest(message),
                                   headers_digest=_digest(head)))
        return key

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> tuple[Entry, ...]:
        return tuple(self._entries)

    @property
    def keys(self) -> list[str]:
        return [entry.key for entry in self._entries]

    @property
    def total_bytes(self) -> int:
        return sum(entry.size_bytes for entry in self._entries)

    def checker(self, part: Part = "full") -> TruthChecker:
        """A streaming check: ``add`` each received message, then ``report()``."""
        return TruthChecker(self._entries, part)

    def check(self, received: Iterable[bytes], part: Part = "full") -> IntegrityReport:
        """Compare everything received with the truth (see the module's docstring)."""
        checker = self.checker(part)
        for raw in received:
            checker.add(raw)
        return checker.report()


class TruthChecker:
    """One check in progress; keeps digests and keys only, never message bodies."""

    def __init__(self, entries: list[Entry], part: Part) -> None:
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {part!r}")
        self._entries = entries
        self._part: Part = part
        self._unmatched_truth: dict[bytes, list[int]] = {}
        for index, entry in enumerate(entries):
            self._unmatched_truth.setdefault(entry.digest(part), []).append(index)
        self._unmatched_received: list[str] = []
        self._checked = 0

    def add(self, raw: bytes) -> None:
        """Check one received message (whole, or its header block for ``"headers"``)."""
        digest = part_digest(raw, self._part)
        waiting = self._unmatched_truth.get(digest)
        if waiting:
            waiting.pop(0)
        else:
            self._unmatched_received.append(message_id(raw) or f"#{self._checked}")
        self._checked += 1

    def report(self) -> IntegrityReport:
        """The outcome so far; the checker can go on after it."""
        left = sorted(index for indices in self._unmatched_truth.values() for index in indices)
        by_key: dict[str, list[int]] = {}
        for index in left:
            by_key.setdefault(self._entries[index].key, []).append(index)
        changed, unexpected, paired = [], [], set()
        for key in self._unmatched_received:
            if by_key.get(key):
                paired.add(by_key[key].pop(0))
                changed.append(key)
            else:
                unexpected.append(key)
        missing = [self._entries[index].key for index in left if index not in paired]
        return IntegrityReport(self._checked, missing, changed, unexpected)


def part_digest(raw: bytes, part: Part) -> bytes:
    """The digest the truth keeps of one message's ``part`` (``Entry.digest``), to check a
    single downloaded message without building a truth for it."""
    return _digest(canonical(raw) if part == "full" else header_block(raw))


def _digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
