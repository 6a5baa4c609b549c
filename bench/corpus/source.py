"""Where a run's messages come from: the seeded generator, or the user's own mail.

Both give messages by position (``messages(start, count)``), so a scenario can deliver a
mailbox and later "new mail" from the same sequence without caring which source it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

from bench.corpus.generate import generate_messages, message_size
from bench.corpus.importer import open_mailbox
from bench.corpus.workers import WORKERS_FROM, configured_workers, generate_in_workers

DEFAULT_MESSAGES = 300
# The generated corpus keeps the messages it made while their bytes stay under this, since
# samples ask for the same ones again (a scenario's truth, a search's matches): 300
# messages take about 0.3 s to make on this project's machine and are 17 MB.
KEEP_BYTES = 64 * 1024 * 1024
CANONICALISATION = (
    "messages are compared byte for byte after canonicalisation: every line ending (LF, CR or "
    "CRLF) made CRLF and a missing final line ending added, as IMAP and POP3 carry mail"
)


class CorpusSource(ABC):
    @abstractmethod
    def messages(self, start: int, count: int) -> Iterator[bytes]:
        """Canonical messages ``start`` .. ``start + count - 1``."""

    @abstractmethod
    def resolve_count(self, requested: int | None, default: int = DEFAULT_MESSAGES) -> int:
        """How many messages a mailbox gets when the user asked for ``requested`` (None:
        the run's plan's ``default``, for a source that has no end)."""

    @abstractmethod
    def describe(self, count: int) -> dict[str, Any]:
        """What the results file says about the corpus."""

    def keep_first(self, count: int) -> None:
        """Have the first ``count`` messages at hand for the run, where the source keeps
        messages (the generated corpus, up to ``KEEP_BYTES``); a run calls it before its
        first sample, so that no sample's memory growth holds them."""


class GeneratedCorpus(CorpusSource):
    """The seeded generator's messages. The first ones, up to ``KEEP_BYTES``, are kept once
    made: a run of a few hundred messages makes each of them once, not once a sample
    (``keep_first``, before the first sample; later, only a request from the corpus's
    start adds to them). A large request beyond them is made in worker processes
    (``bench.corpus.workers``), so that a delivery is not paced by the generator."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.workers = configured_workers()  # read once, so a bad setting stops a run before it starts
        self._kept: list[bytes] = []
        self._kept_bytes = 0
        self._keeping = True

    def messages(self, start: int, count: int) -> Iterator[bytes]:
        end = start + count
        if start == 0:
            self.keep_first(end)
        if end <= len(self._kept):
            return iter(self._kept[start:end])
        if count >= WORKERS_FROM and self.workers:
            return generate_in_workers(count, self.seed, start=start, workers=self.workers)
        return generate_messages(count, self.seed, start=start)

    def keep_first(self, count: int) -> None:
        if self._keeping and count > len(self._kept):
            self._keep_up_to(count)

    def _keep_up_to(self, end: int) -> None:
        """Make and keep messages up to ``end`` if their bytes fit, else keep no more."""
        planned = self._kept_bytes + sum(message_size(self.seed, i) for i in range(len(self._kept), end))
        if planned > KEEP_BYTES:
            self._keeping = False
            return
        made = list(generate_messages(end - len(self._kept), self.seed, start=len(self._kept)))
        self._kept += made
        self._kept_bytes += sum(map(len, made))

    def resolve_count(self, requested: int | None, default: int = DEFAULT_MESSAGES) -> int:
        return requested or default

    def describe(self, count: int) -> dict[str, Any]:
        described = {"source": "generated", "seed": self.seed, "messages": count,
                     "canonicalisation": CANONICALISATION}
        if count >= WORKERS_FROM:  # how a mailbox of this size is made for its delivery
            described["made_by_workers"] = self.workers
        return described


class FileCorpus(CorpusSource):
    """A user's mbox, Maildir or .eml: checked whole before anything starts, then read
    from disk message by message, so a large mailbox is never held in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mailbox = open_mailbox(path)

    def messages(self, start: int, count: int) -> Iterator[bytes]:
        return islice(iter(self._mailbox), start, start + count)

    def resolve_count(self, requested: int | None, default: int = DEFAULT_MESSAGES) -> int:
        """All of the user's mail unless fewer messages are asked for: a plan's default
        size is for the generated corpus."""
        return min(requested or len(self._mailbox), len(self._mailbox))

    def describe(self, count: int) -> dict[str, Any]:
        return {"source": str(self.path), "format": self._mailbox.kind, "messages": count,
                "available": len(self._mailbox), "canonicalisation": CANONICALISATION}


def open_corpus(path: Path | None, seed: int) -> CorpusSource:
    return FileCorpus(path) if path is not None else GeneratedCorpus(seed)
