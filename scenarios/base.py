"""What a scenario is: a workload written once against the harness.

A scenario is written once against ``bench.sample.SampleContext`` (mailboxes, devices,
metered access, measurement) and runs unchanged for every server and mode: it never asks
which protocol it is running, and it talks to a server only through the context's
sessions (``connect``) and the device model, never through a protocol library.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from bench.sample import SampleContext, SampleOutcome


class Scenario(ABC):
    """A workload. Subclasses declare ``name``, ``description`` and ``variants``."""

    name: ClassVar[str]
    description: ClassVar[str]
    variants: ClassVar[tuple[str, ...]]
    # True where the scenario cuts the link itself: its cells then get a relay even on lan.
    needs_link_control: ClassVar[bool] = False
    # Whether the full plan (``bench.plan``) runs this one, and with which TLS settings.
    in_default_plan: ClassVar[bool] = True
    # The variants the decision plan runs (TLS off): those the decision page reads; none:
    # the page reads nothing from this scenario and the decision plan leaves it out.
    decision_variants: ClassVar[tuple[str, ...]] = ()
    default_tls: ClassVar[tuple[str, ...]] = ("off",)
    # The TLS settings it can run with at all, and why not the others (None: every one):
    # a run asking for another is refused before anything starts (``bench.plan``).
    tls_settings: ClassVar[tuple[str, ...] | None] = None
    tls_why: ClassVar[str] = ""
    # (mode, variant) pairs no plan holds, each with the reason (``mailbench list`` shows it).
    excluded: ClassVar[dict[tuple[str, str], str]] = {}
    # Samples per cell when the run does not say (``--repeat``).
    default_repeat: ClassVar[int] = 3
    # Links a run that names none adds beside lan, each with the variants it runs there
    # (TLS off only): what a figure on a slow link needs, without every cell paying for it.
    default_links: ClassVar[dict[str, tuple[str, ...]]] = {}

    # True where the scenario needs the server and its load generator on CPUs of their own
    # (``bench.load.cpus``): the container is then pinned.
    pins_cpus: ClassVar[bool] = False

    def accounts_per_sample(self, load) -> int:
        """Accounts one sample takes from the server (``load``: the run's ``LoadConfig``)."""
        return 1

    def whole_copies_on_devices(self) -> int:
        """How many devices of one sample may each keep every message whole: the disk check
        before a run (``bench.disk_space``) counts that many copies of a mailbox."""
        return 1

    @abstractmethod
    def run_sample(self, ctx: SampleContext) -> SampleOutcome:
        """Run one repetition; raise ``IntegrityError`` when the device's copy is wrong."""
