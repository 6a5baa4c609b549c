"""One sample as a scenario sees it: the harness's side of the scenario contract.

``SampleContext`` hands a scenario everything it may use (a fresh mailbox, delivery of
the corpus, devices, metered sessions in the cell's protocol and TLS, through the cell's
link, and measurement); ``SampleOutcome`` is what the scenario hands back. The device
model (``bench.devices``) and the scenarios' own helpers take a ``SampleContext``, so
they live in ``bench/`` and never reach into ``scenarios/``.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from bench import measurement
from bench.access import AccessOptions, MailAccess, WireMeter, open_access
from bench.corpus import Truth
from bench.corpus.source import CorpusSource
from bench.delivery import DeliveryReport, Refusal, deliver
from bench.devices.device import Device, DeviceStore
from bench.links.cell import CellLink, LinkedServer
from bench.mailbox_copy import MailboxCopies
from bench.modes import Mode
from bench.servers import RunningServer
from bench.servers.base import Account
from bench.time_split import TimeLedger

if TYPE_CHECKING:
    from bench.load.config import LoadConfig
    from bench.load.cpus import CpuSplit


@dataclass
class Mailbox:
    """A test account on the server and the truth of what was delivered into it.

    ``delivered`` counts the corpus messages offered to the server so far (the next delivery
    starts there); ``truth`` holds only the messages the server stored, and ``refused`` the
    ones it would not take (larger than it accepts, say), each with its corpus position in
    ``index`` (0 for the corpus's first message)."""

    account: Account
    truth: Truth = field(default_factory=Truth)
    delivered: int = 0
    refused: list[Refusal] = field(default_factory=list)


@dataclass
class SampleOutcome:
    """What one repetition produced: figures of the whole sample (``metrics``) and, for a
    scenario that measures several client policies, each policy's figures under its name
    (``by_policy``: ``{"poll_1s": {"latency_ms": 420.0, ...}}``)."""

    metrics: dict[str, float]
    integrity: dict[str, Any]
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    by_policy: dict[str, dict[str, float]] = field(default_factory=dict)


class SampleContext:
    """The harness as one sample sees it."""

    def __init__(
        self,
        server: RunningServer,
        mode: Mode,
        variant: str,
        messages: int,
        corpus: CorpusSource,
        options: AccessOptions,
        workdir: Path,
        tls: str = "off",
        link: CellLink | None = None,
        sample: int = 0,
        run_seed: int | None = None,
        ledger: TimeLedger | None = None,
        copies: MailboxCopies | None = None,
        load: "LoadConfig | None" = None,
        cpus: "CpuSplit | None" = None,
    ) -> None:
        # Devices reach the server through the cell's link; setup (delivery) goes direct.
        self.direct_server: RunningServer = server
        self.server: RunningServer | LinkedServer = link.view(server) if link is not None else server
        # None where the link is the plain loopback; else ``cut()`` / ``restore()``.
        self.link = link
        self.mode = mode
        self.variant = variant
        self.messages = messages
        self.corpus = corpus
        self.options = options
        self.workdir = workdir
        self.tls = tls
        # Which repetition of the cell this is (0, 1, ...): scenarios that draw seeded fault
        # points draw different ones per repetition, the same on every server and mode.
        self.sample = sample
        # The run's --seed (None: the corpus's, as ``seed``), from which ``timeline_seed`` is drawn.
        self.run_seed = run_seed
        # Messages a server refused in this sample's deliveries (``deliver``), for the results.
        self.refused: list[Refusal] = []
        # Where the cell's wall time goes (``bench.time_split``): the runner passes the
        # cell's ledger, shared by its samples; delivery and measurement mark themselves.
        self.ledger = ledger if ledger is not None else TimeLedger()
        # The server's template mailboxes (``bench.mailbox_copy``); None: every delivery is an APPEND.
        self.copies = copies
        # How each initial mailbox of the sample was made: None for a copy, else why it was
        # delivered (for the cell's ``info["mailboxes"]``).
        self.initial_mailboxes: list[str | None] = []
        # The accounts this sample's mailboxes are in, for the runner to free after it.
        self.accounts: list[Account] = []
        # The run's many-devices options (``bench.load.config``) and the CPU split of the
        # server and the load generator (``bench.load.cpus``); None where the run has none.
        self.load = load
        self.cpus = cpus

    def wait(self, seconds: float) -> None:
        """A deliberate wait (a polling interval, an outage, a settle wait): sleeps, and
        counts it as waiting in the cell's time split."""
        self.ledger.wait(seconds)

    def new_mailbox(self) -> Mailbox:
        """An empty mailbox no other sample has touched."""
        account = self.server.fresh_account()
        self.accounts.append(account)
        return Mailbox(account)

    def deliver(self, mailbox: Mailbox, count: int) -> DeliveryReport:
        """Deliver the corpus's next ``count`` messages; the truth records each message the
        server stored. One it refused is left out of the truth and recorded, with its corpus
        position, in ``mailbox.refused`` and ``self.refused``; the rest are delivered.

        A mailbox's first delivery is a copy of the server's template holding the same
        messages where the server allows it (``bench.mailbox_copy``), with the truth and
        refusals of the template's own APPEND delivery; later ones are APPENDs. An APPEND is
        followed by the server's settle step (``RunningServer.settle_delivery``), a copy by a
        flush of the store (``flush_store``), its time counted in the delivery's."""
        first = mailbox.delivered
        server = self.direct_server
        with self.ledger.part("delivery"):
            report = self._copied(mailbox, count)
            if report is None:
                report = deliver(server.delivery_endpoint(mailbox.account), self.corpus.messages(first, count),
                                 stored=mailbox.truth.add, settle=lambda: server.settle_delivery(mailbox.account))
        report.refused = [replace(refusal, index=first + refusal.index) for refusal in report.refused]
        mailbox.refused += report.refused
        self.refused += report.refused
        mailbox.delivered += report.offered
        return report

    def _copied(self, mailbox: Mailbox, count: int) -> DeliveryReport | None:
        """The first ``count`` messages put into an empty mailbox by a copy of the server's
        template; None when the mailbox is not empty or no copy could be made."""
        if self.copies is None or not self.copies.applies(mailbox.delivered, count):
            return None

        server = self.direct_server

        def template_delivery(account: Account, truth: Truth) -> DeliveryReport:
            return deliver(server.delivery_endpoint(account), self.corpus.messages(0, count), stored=truth.add)

        made = self.copies.copy_into(mailbox.account, count, template_delivery)
        if isinstance(made, str):
            self.initial_mailboxes.append(made)
            return None
        report, mailbox.truth = made
        started = time.perf_counter()
        server.flush_store(mailbox.account)  # the copy's files, written without an fsync, go to disk
        report.seconds += time.perf_counter() - started
        self.initial_mailboxes.append(None)
        return report

    def device(self, name: str) -> Device:
        store = DeviceStore(Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir)))
        return Device(name, self.mode, store)

    def connect(self, mailbox: Mailbox, meter: WireMeter | None = None) -> MailAccess:
        """A logged-in session in this cell's protocol and TLS; unmetered setup passes no meter."""
        endpoint = self.server.endpoint(self.mode.protocol.name, mailbox.account, self.tls)
        return open_access(self.mode.protocol.name, endpoint, meter or WireMeter(), self.options)

    @contextmanager
    def measure(self) -> Iterator[measurement.Measurement]:
        """Measure the block; its timed window counts as measured in the time split."""
        with measurement.measure(self.server) as m, self.ledger.part("measured"):
            yield m

    # For device scenarios (multi-device-sync, offline-use, new-mail, storage-exposure).

    @property
    def seed(self) -> int:
        """The corpus's seed (the run's ``--seed`` for the generated corpus; 1 with a corpus
        read from disk)."""
        return getattr(self.corpus, "seed", 1)

    @property
    def timeline_seed(self) -> int:
        """The seed of this sample's timeline: drawn from the run's seed and the sample's
        index, so each sample of a cell plays a timeline of its own (its outcome figures
        have a spread), while sample i plays the same one on every server and mode, and
        ``--seed`` reproduces them all. Device scenarios record it in their info."""
        return draw_timeline_seed(self.seed if self.run_seed is None else self.run_seed, self.sample)

    def connect_within(self, mailbox: Mailbox, timeout_s: float, meter: WireMeter | None = None) -> MailAccess:
        """As ``connect``, but giving up after ``timeout_s`` without an answer (a device
        finding out that it is offline)."""
        endpoint = self.server.endpoint(self.mode.protocol.name, mailbox.account, self.tls, timeout_s=timeout_s)
        return open_access(self.mode.protocol.name, endpoint, meter or WireMeter(), self.options)


def draw_timeline_seed(run_seed: int, sample: int) -> int:
    """A 32-bit seed from (run seed, sample index), the same in every process and Python
    version (a digest, not ``hash``, which is salted per process)."""
    digest = hashlib.sha256(f"timeline:{run_seed}:{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big")
