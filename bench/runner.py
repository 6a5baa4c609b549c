"""Carrying out a plan: images, servers, cells, samples; results written as they come.

A failure inside a cell (a server error, a lost byte, a timeout) is recorded in that cell
and the run goes on; a server that will not start fails its cells and the run goes on to
the next server. Each cell has a wall-clock limit (``RunConfig.cell_timeout_s``): past it
the cell fails with "timed out after N s" and the next cell runs. ``results.json`` is
rewritten after every cell, so an interrupted run keeps everything it finished, and the
containers are removed on every way out.

Servers run one after another, each in one long-lived container, and each server's cells
run in a random order drawn from ``--seed`` (``bench.plan.run_order``), not grouped by
scenario, variant and mode: drift in the container over the run (memory, caches, what
earlier cells left) then falls on every mode alike instead of favouring one. The results
record the seed (``plan["order_seed"]``) and each cell's place in its container's order
(``info["position"]``, from 0); the cells of ``results.json`` are in the order they ran.

A protocol a server serves only when asked (Cyrus's JMAP) runs its cells in a container of
its own, started after the server's plain one (``bench.plan.by_container``); the server's
entry in ``environment["servers"]`` then describes both (``containers``). A cell whose
protocol the server lacks (JMAP on Dovecot) starts nothing and is recorded as not offered.

Each cell records where its wall time went (``info["time_split_s"]``, ``bench.time_split``);
a server's image work and start, shared by its cells, are recorded once per server
(``environment["servers"][name]["image_s"]`` and ``["start_s"]``).
"""

from __future__ import annotations

import datetime as dt
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

from docker.errors import DockerException

from bench import disk_space, environment, results, side_by_side
from bench.environment import merge_probes
from bench.access import AccessOptions, WireMeter, open_access
from bench.corpus.source import CorpusSource, open_corpus
from bench.delivery import refusal_summary
from bench.errors import IntegrityError, MailbenchError, UsageError, one_line
from bench.links import LinkProfile, limit_seconds, parse_link
from bench.links.cell import open_cell_link
from bench.load.config import LoadConfig
from bench.load.cpus import CpuSplit, split_cpus
from bench.mailbox_copy import TEMPLATE_ACCOUNTS, MailboxCopies
from bench.modes import get_mode
from bench.plan import (
    PLAN_MESSAGES, Cell, build_plan, by_container, can_serve, exclusions, resolve_plan, run_order, samples_per_cell,
)
from bench.results import CellResult, Results
from bench.servers import clean, get_server, run_server
from bench.servers.base import RunningServer, check_port_free
from bench.servers.docker_client import connect
from bench.servers.images import ensure_base_image, ensure_server_image
from bench.time_split import TimeLedger, rounded
from bench.tls import RunCertificates, make_certificates
from scenarios import get_scenario
from bench.sample import SampleContext


@dataclass
class RunConfig:
    """Everything ``mailbench run`` was asked; the defaults are the default comparison."""

    plan: str | None = None  # "decision" or "full"; None: decision, or full when scenarios are named
    scenarios: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    tls: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    messages: int | None = None
    repeat: int | None = None  # samples per cell; None: each scenario's default_repeat
    seed: int = 1
    corpus: Path | None = None
    out: Path = Path("reports")
    port_base: int | None = None
    pipelining: bool = True
    cell_timeout_s: float = 3600.0  # wall-clock limit of one cell, all its samples included
    deliver_each_sample: bool = False  # True: no mailbox copied from a template (bench.mailbox_copy)
    load: LoadConfig | None = None  # many-devices: levels, workers, QoS limits (bench.load.config)
    # Cells on relayed links run for all servers at once, a process each (bench.side_by_side).
    side_by_side: bool = True
    command: str = field(default_factory=lambda: shlex.join(["mailbench", *sys.argv[1:]]))


class Observer(Protocol):
    """Where a run tells its progress (the CLI shows a progress bar)."""

    def say(self, line: str) -> None: ...
    def start(self, total_samples: int) -> None: ...
    def advance(self, label: str) -> None: ...


class QuietObserver:
    """Progress for library callers and tests: lines go to a list, nothing is shown."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, line: str) -> None:
        self.lines.append(line)

    def start(self, total_samples: int) -> None:
        pass

    def advance(self, label: str) -> None:
        pass


class CellTimeout(MailbenchError):
    """A cell ran past its wall-clock limit (``--cell-timeout``)."""


# After the first CellTimeout, raised again this often until the cell has ended: a scenario
# that catches every exception (a failure is an outage to a device) cannot swallow it.
TIMEOUT_REPEAT_S = 5.0


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``CellTimeout`` in the block when it runs longer than ``seconds`` of wall time.

    SIGALRM from ``setitimer``: the exception surfaces wherever the block is, a blocked
    socket read included. Only in the main thread (signals go there); elsewhere, or with
    ``seconds`` None, the block runs without a limit. The previous SIGALRM handler and any
    timer already running (pytest-timeout's, say) are restored afterwards.
    """
    if not seconds or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield
        return
    armed = True

    def expire(signum: int, frame: object) -> None:
        if armed:
            raise CellTimeout(f"timed out after {seconds:g} s")

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    earlier = signal.setitimer(signal.ITIMER_REAL, seconds, TIMEOUT_REPEAT_S)
    try:
        yield
    finally:
        while True:  # an alarm landing in here must not skip the restore
            try:
                armed = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
                if earlier[0]:
                    left = earlier[0] - (time.monotonic() - started)
                    signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), earlier[1])
                break
            except CellTimeout:
                continue


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _capabilities(running: RunningServer, protocol: str, tls: str = "off") -> list[str]:
    """What the live server advertises to a logged-in client (IMAP CAPABILITY, POP3 CAPA)."""
    endpoint = running.endpoint(protocol, running.account(1), tls)
    with open_access(protocol, endpoint, WireMeter()) as access:
        return sorted(access.capabilities)


def _probe(running: RunningServer) -> dict[str, object]:
    """Server version, TLS, and what each protocol advertises, read from the live server."""
    return {
        "version": running.version(),
        "tls": running.ssl_context is not None,
        "protocols": list(running.spec.protocols),
        "switched_off": [name for name in running.spec.switchable if name not in running.spec.protocols],
        "capabilities": {protocol: _capabilities(running, protocol) for protocol in running.spec.protocols},
        "counters": _counters_source(running),
    }


def _counters_source(running: RunningServer) -> str:
    """Where this server's CPU and memory readings come from: "cgroup files" or "docker stats"."""
    running.resources()
    return running.counters_source


# A perfect protocol, per connection: the TCP handshake, one round trip to greet and
# authenticate, one to ask for everything and receive it.
PERFECT_ROUND_TRIPS_PER_CONNECTION = 2


def _against_the_limit(profile: LinkProfile, metrics: dict[str, float]) -> dict[str, float]:
    """The time a perfect protocol would need on this link for what the sample moved, and
    the sample's efficiency against it (1.0: as fast as the link allows)."""
    if not {"elapsed_s", "bytes_down", "connections"} <= metrics.keys():
        return {}
    connections = int(metrics["connections"])
    limit = limit_seconds(profile, int(metrics.get("message_bytes", metrics["bytes_down"])), 0,
                          PERFECT_ROUND_TRIPS_PER_CONNECTION * connections, connections=connections)
    return {"limit_s": limit, "efficiency": limit / metrics["elapsed_s"] if metrics["elapsed_s"] else 0.0}


class Run:
    """One run of a plan; ``execute()`` returns the folder holding its results and report."""

    def __init__(self, config: RunConfig, observer: Observer | None = None, run_id: str | None = None) -> None:
        self.config = config
        self.observer: Observer = observer or QuietObserver()
        self.plan = resolve_plan(config.plan, config.scenarios)
        self.corpus: CorpusSource = open_corpus(config.corpus, config.seed)
        self.messages = self.corpus.resolve_count(config.messages, PLAN_MESSAGES[self.plan])
        self.links = {profile.name: profile for profile in map(parse_link, config.links or ["lan"])}
        self.cells = build_plan(config.scenarios, config.servers, config.modes, config.variants, config.tls,
                                list(self.links) if config.links else [], config.plan)
        for cell in self.cells:  # a scenario's default links (bulk-fetch's mobile-4g) beside lan
            if cell.link not in self.links:
                self.links[cell.link] = parse_link(cell.link)
        self.repeats = samples_per_cell(self.cells, config.repeat, self.plan)
        self.excluded = exclusions(config.scenarios, config.modes, config.variants, self.plan)
        self.order = run_order(self.cells, config.seed)
        if config.port_base is not None:  # refuse a taken port now, before any container
            for offset in range(max(len(get_server(c.server).ports) for c in self.cells)):
                check_port_free(config.port_base + offset)
        self.run_id = run_id or new_run_id()  # given: a server's process of a run (bench.side_by_side)
        self.folder = config.out / self.run_id
        self.path = self.folder / "results.json"
        self.results = Results(run_id=self.run_id, started_at=now_iso(), command=config.command)
        self._saved_cells: dict[int, dict] = {}  # each finished cell's JSON data, by id(), for ``save``
        # Whether each sample's mailbox is freed after it (``bench.disk_space``): set by the check.
        self.free_mailboxes = False
        # The many-devices options, or their defaults where the run gave none.
        self.load = config.load or LoadConfig()

    def _plan_json(self) -> dict[str, object]:
        config = self.config
        return {
            "name": self.plan,
            "scenarios": sorted({c.scenario for c in self.cells}),
            "servers": list(dict.fromkeys(c.server for c in self.cells)),
            "modes": list(dict.fromkeys(c.mode for c in self.cells)),
            "variants": list(dict.fromkeys(c.variant for c in self.cells)),
            "tls": list(dict.fromkeys(c.tls for c in self.cells)),
            "links": {name: profile.as_dict() for name, profile in self.links.items()},
            "cells": len(self.cells),
            "messages": self.messages,
            "repeat": config.repeat if config.repeat else self.repeats.by_scenario,
            "repeat_on_links": self.repeats.on_links,
            "seed": config.seed,
            "order_seed": config.seed,
            "excluded": [exclusion.as_dict() for exclusion in self.excluded],
            "pipelining": config.pipelining,
            "cell_timeout_s": config.cell_timeout_s,
            "corpus": self.corpus.describe(self.messages),
            "mailboxes_freed": self.free_mailboxes,
            **({"load": self.load.as_dict()}
               if any(get_scenario(c.scenario).pins_cpus for c in self.cells) else {}),
        }

    def save(self, last: bool = False) -> None:
        """Write the results so far (compact, after each cell, each finished cell's data
        made once: a cell never changes once in the results), or indented and every cell's
        data made again, ``last``."""
        results.save(self.results, self.path, readable=last, finished_cells=None if last else self._saved_cells)

    def execute(self) -> Path:
        say = self.observer.say
        client = connect()
        served = [cell for cell in self.cells if can_serve(cell)]  # the others start nothing
        disk = disk_space.check(client, served,
                                lambda c: self.repeats.of(c) * get_scenario(c.scenario).accounts_per_sample(self.load),
                                self.corpus, self.messages, self.config.out, self.config.deliver_each_sample)
        devices, self.free_mailboxes = disk.devices, disk.free_mailboxes
        if disk.why is not None:
            say(disk.why)
        for name in clean(client, orphans_only=True):
            say(f"removed leftover container {name} of an earlier, interrupted run")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.results.environment = environment.describe(client)
        self.results.environment["device_folder"] = devices.as_dict()
        self.results.plan = self._plan_json()
        self.save()
        base = ensure_base_image(client, say)
        self.results.environment["base_image"] = {"ref": base.ref, "source": base.source}
        self.results.environment["servers"] = {}
        for exclusion in self.excluded:
            say(f"left out of the plan: {exclusion.scenario} {exclusion.mode} with variant {exclusion.variant} "
                f"({exclusion.reason})")

        self.corpus.keep_first(self.messages)  # made once for the run, before any sample's memory is read
        self.observer.start(sum(self.repeats.of(c) for c in self.cells))
        later = side_by_side.apart(self.order, self.links, self.config.side_by_side and self.config.port_base is None)
        with tempfile.TemporaryDirectory(prefix="mailbench-run-", dir=devices.path) as workdir:
            certificates = make_certificates(Path(workdir) / "tls")  # this run's CA, never kept
            for server_name, cells in self.order.items():
                now = [cell for cell in cells if cell not in later.get(server_name, ())]
                self._run_server(client, base, server_name, now, Path(workdir), certificates)
        if later:
            side_by_side.run_side_by_side(self, later)
        self.results.finished_at = now_iso()
        self.save(last=True)
        return self.folder

    def _run_server(self, client, base, server_name: str, cells: list[Cell], workdir: Path,
                    certificates: RunCertificates) -> None:
        groups, lacking = by_container(server_name, cells)
        self._record_not_offered(lacking)
        for group in groups:
            self._run_container(client, base, server_name, group.switched_on, group.cells, workdir, certificates)

    def _record_not_offered(self, cells: list[Cell]) -> None:
        """Cells whose protocol the server lacks: recorded as such, with the server's one line."""
        for cell in cells:
            result = CellResult(cell.scenario, cell.server, cell.mode, cell.variant, cell.tls, cell.link)
            result.not_offered(get_server(cell.server).not_offered(get_mode(cell.mode).protocol.name))
            self.results.cells.append(result)
            for _ in range(self.repeats.of(cell)):
                self.observer.advance(f"{cell.id} not offered")
        if cells:
            self.save()

    def _run_container(self, client, base, server_name: str, switched_on: tuple[str, ...], cells: list[Cell],
                       workdir: Path, certificates: RunCertificates) -> None:
        spec = get_server(server_name).offering(*switched_on)
        users = sum(self.repeats.of(c) * get_scenario(c.scenario).accounts_per_sample(self.load) for c in cells) \
            + 1 + TEMPLATE_ACCOUNTS
        # a scenario that loads the server from this host pins it to CPUs of its own
        cpus = split_cpus() if any(get_scenario(c.scenario).pins_cpus for c in cells) else None
        try:
            started = time.perf_counter()
            image = ensure_server_image(client, server_name, base, self.observer.say, spec.image_stage)
            image_s = time.perf_counter() - started
            with run_server(client, spec, image, users=users, run_id=self.run_id, certificates=certificates,
                            port_base=self.config.port_base, say=self.observer.say,
                            cpuset_cpus=cpus.server_cpuset if cpus else None,
                            publish_address=self.load.publish_address) as running:
                start_s = time.perf_counter() - started - image_s
                running.fresh_account()  # user1 is for probes and readiness checks
                probe = dict(_probe(running), image_s=round(image_s, 3), start_s=round(start_s, 3))
                if cpus is not None:
                    probe["cpus"] = cpus.as_dict()
                servers = self.results.environment["servers"]
                servers[server_name] = merge_probes(servers.get(server_name), probe)
                self.save()
                copies = MailboxCopies.for_server(running, self.config.deliver_each_sample)
                for position, cell in enumerate(cells):
                    self._run_cell(running, cell, workdir, position, copies, cpus)
        except UsageError:
            raise  # the user must act (a port in use, say): end the run with their one line
        except (MailbenchError, DockerException) as exc:
            self.fail_remaining(cells, f"server {server_name} unavailable: {one_line(exc)}")

    def fail_remaining(self, cells: Sequence[Cell], error: str) -> None:
        """Record each of ``cells`` not in the results yet as failed with ``error``."""
        done = {r.id for r in self.results.cells}
        for position, cell in enumerate(cells):
            if cell.id not in done:
                result = CellResult(cell.scenario, cell.server, cell.mode, cell.variant, cell.tls, cell.link)
                result.info["position"] = position
                result.fail(error)
                self.results.cells.append(result)
                for _ in range(self.repeats.of(cell)):
                    self.observer.advance(f"{cell.id} failed")
        self.save()

    def _run_cell(self, running: RunningServer, cell: Cell, workdir: Path, position: int,
                  copies: MailboxCopies | None = None, cpus: CpuSplit | None = None) -> None:
        result = CellResult(cell.scenario, cell.server, cell.mode, cell.variant, cell.tls, cell.link)
        result.info["position"] = position  # its place in its container's run order
        ledger = TimeLedger()
        try:
            with ledger.part("containers"):
                revived = running.revive()  # an earlier cell's fault or a crash may have left it down
            if revived is not None:
                result.info["server_revived"] = revived
                self.observer.say(f"{running.name} was down before {cell.id}; {revived}")
            with time_limit(self.config.cell_timeout_s):
                self._run_samples(running, cell, result, workdir, ledger, copies, cpus)
        except Exception as exc:  # a cell's failure is its own: record it, go on
            result.fail(one_line(exc))
            if isinstance(exc, IntegrityError):
                result.integrity = dict(exc.integrity, samples=len(result.samples) + 1)
            for _ in range(self.repeats.of(cell) - len(result.samples)):
                self.observer.advance(f"{cell.id} failed")
        result.info["time_split_s"] = rounded(ledger.split())
        self.results.cells.append(result)
        self.save()

    def _free(self, running: RunningServer, accounts: list) -> int:
        """Remove a finished sample's mailboxes from the server; how many were removed. A
        failure is said, and the run goes on (a later sample may then find the disk full,
        and fail on its own)."""
        freed = 0
        for account in accounts:
            try:
                running.discard_store(account)
                freed += 1
            except (MailbenchError, DockerException) as exc:
                self.observer.say(f"could not free {account.username}'s mailbox on {running.name}: {one_line(exc)}")
        return freed

    def _run_samples(self, running: RunningServer, cell: Cell, result: CellResult, workdir: Path,
                     ledger: TimeLedger, copies: MailboxCopies | None = None, cpus: CpuSplit | None = None) -> None:
        """The cell's samples, each added to ``result`` as it finishes; their time marked in
        the cell's ``ledger``; how their mailboxes were made in ``info["mailboxes"]``."""
        scenario = get_scenario(cell.scenario)
        mode = get_mode(cell.mode)
        profile = self.links[cell.link]
        cuttable = scenario.needs_link_control
        checked = 0
        made: list[str | None] = []  # how each initial mailbox was made (bench.mailbox_copy)
        result.info["capabilities"] = _capabilities(running, mode.protocol.name, cell.tls)
        result.info["server_version"] = self.results.environment["servers"][running.name]["version"]
        result.info["link"] = profile.as_dict()
        services = [mode.protocol.service(cell.tls)]
        with open_cell_link(running, services, profile, cuttable=cuttable) as cell_link:
            for repeat in range(self.repeats.of(cell)):
                sample_dir = Path(tempfile.mkdtemp(prefix="sample-", dir=workdir))
                ctx: SampleContext | None = None
                try:
                    ctx = SampleContext(running, mode, cell.variant, self.messages, self.corpus,
                                        AccessOptions(pipelining=self.config.pipelining), sample_dir,
                                        tls=cell.tls, sample=repeat, run_seed=self.config.seed, ledger=ledger,
                                        link=cell_link if profile.relayed or cuttable else None, copies=copies,
                                        load=self.load, cpus=cpus)
                    outcome = scenario.run_sample(ctx)
                finally:
                    shutil.rmtree(sample_dir, ignore_errors=True)
                    if self.free_mailboxes and ctx is not None:
                        freed = self._free(running, ctx.accounts)
                        result.info["mailboxes_freed"] = result.info.get("mailboxes_freed", 0) + freed
                    made += ctx.initial_mailboxes if ctx is not None else []
                    if copies is not None and made:
                        result.info["mailboxes"] = copies.describe(made)
                    refused = refusal_summary(ctx.refused) if ctx is not None else None
                    if refused is not None:  # with the cell even when the sample fails
                        result.info["refused"] = refused
                if refused is not None:
                    outcome.info = dict(outcome.info, refused=refused)
                if profile.relayed:
                    outcome.metrics.update(_against_the_limit(profile, outcome.metrics))
                result.add_sample(outcome.metrics, outcome.by_policy)
                for command, stats in outcome.commands.items():
                    merged = result.commands.setdefault(command, {"count": 0, "latency_ms": []})
                    merged["count"] += stats["count"]
                    merged["latency_ms"].extend(stats["latency_ms"])
                result.info.update(outcome.info)  # facts; the last sample's stand for the cell
                result.sample_info.append(outcome.info)
                checked += outcome.integrity.get("checked", 0)
                result.integrity = dict(outcome.integrity, checked=checked, samples=repeat + 1)
                self.observer.advance(cell.id)
