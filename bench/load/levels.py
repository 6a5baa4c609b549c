"""One cell of the many-devices scenario: its levels of users, one after another.

For each level, the accounts it needs get their starting mailbox (``SampleContext.deliver``:
a copy of the server's template where the server allows it), then Locust runs the level
(``LocustRun``): users are spawned, the level settles (at least one polling interval, so
every device has seen its mailbox once), and the window opens: the injector starts
delivering new mail and the server's counters are read, at the window's start and end and
every ``READ_EVERY_S`` in between. Users stop by themselves at the level's end. Then the
two statistics paths are read back and the level judged (``bench.load.qos``).

Levels reuse the accounts of the levels below them, so a user's per-user state on disk
grows with the levels it took part in. A level that ended early (a worker died) keeps what
it measured, says what happened, and ends the cell's stepping; so does a level that did
not pass, in a capacity search.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.access.base import LOOPBACK
from bench.load import stats
from bench.load.config import LoadConfig, UserPlan
from bench.load.cpus import CpuSplit
from bench.load.device_models import device_model
from bench.load.injector import Injector, append_one, schedule
from bench.load.processes import REPORT_SLACK_S, LocustRun, client_cpu_share
from bench.load.qos import LevelFigures, capacity, incomplete, judge, keeps_stepping
from bench.load.server_figures import connections_open, memory_per_connection, state_on_disk, summarise_window
from bench.sample import Mailbox, SampleContext, SampleOutcome

READ_EVERY_S = 2.0  # server readings in a window
PUSH_PROBE_DELAY_S = 0.5  # the probe message is delivered this long after IDLE began ...
PUSH_PROBE_S = 3.0  # ... and must be announced before this much time in IDLE has passed
LOCUST_STARTUP_S = 2.0  # Locust's processes start and the workers connect before users spawn
WATCH_S = 0.25  # how often the harness checks the Locust processes
INJECTED_MESSAGES = 20  # corpus messages the injector sends in turn
DELIVERY_PATH = "IMAP APPEND as the setup login, one session per message"


@dataclass
class LevelRecord:
    users: int
    figures: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    verdict: Any = None
    memory_bytes: float = 0.0
    connections: float = 0.0
    ended_early: bool = False
    sent: set[str] = field(default_factory=set)  # ids the injector delivered in this level
    received: set[str] = field(default_factory=set)  # ids the devices received in it


class Levels:
    """The levels of one cell, run in order against ``ctx``'s server."""

    def __init__(self, ctx: SampleContext, config: LoadConfig, cpus: CpuSplit, folder: Path) -> None:
        self.ctx = ctx
        self.config = config
        self.device = device_model(ctx.mode.name)
        self.cpus = cpus
        self.folder = folder
        self.mailboxes: list[Mailbox] = []
        self.records: list[LevelRecord] = []
        self.pushed: bool | None = None
        self.push_probe = "not tried"
        self.injected = [m for m in ctx.corpus.messages(0, INJECTED_MESSAGES)]

    # Setup -------------------------------------------------------------------------------

    def mailboxes_for(self, users: int) -> list[Mailbox]:
        """The level's accounts, with their starting mailbox; the workers' slack included
        (``UserPlan.username_of``). Each account's endpoint is asked for once, so that one
        needing another protocol's login first (Cyrus's JMAP: ``MailServer.login_first``)
        has had it before its device logs in."""
        protocol = self.ctx.mode.protocol.name
        while len(self.mailboxes) < users + self.config.all_workers:
            mailbox = self.ctx.new_mailbox()
            self.ctx.deliver(mailbox, self.ctx.messages)
            self.ctx.server.endpoint(protocol, mailbox.account, self.ctx.tls)
            self.mailboxes.append(mailbox)
        return self.mailboxes[:users + self.config.all_workers]

    def server_pushes(self) -> bool:
        """Whether a device of this mode waits for pushed news (IMAP IDLE, JMAP's event stream) or polls: tried
        once, not read from the capabilities. A server may advertise IDLE and only look at
        the mailbox every minute (Cyrus without idled, Courier without FAM, as configured
        here): a message delivered while a session idles must be announced within
        ``PUSH_PROBE_S``. The probe message stays in the first account's mailbox. A mode
        whose device has no push (``DeviceModel.pushed_with``) is not tried: it polls."""
        if self.pushed is None and self.device.pushed_with is None:
            self.pushed, self.push_probe = False, self.device.no_push
        if self.pushed is None:
            mailbox = self.mailboxes[0]
            push = self.device.pushed_with
            with self.ctx.connect(mailbox) as access:
                if not access.can_push:
                    self.pushed, self.push_probe = False, f"{push} not advertised"
                    return False
                access.watch_for_news()
                access.list_messages()
                endpoint = self.ctx.direct_server.delivery_endpoint(mailbox.account)
                deliver = threading.Timer(PUSH_PROBE_DELAY_S, append_one,
                                          (endpoint, b"Subject: push probe\r\n\r\nprobe\r\n"))
                deliver.start()
                try:
                    self.pushed = access.wait_for_news(PUSH_PROBE_S)
                finally:
                    deliver.join()
                self.push_probe = (f"{push} advertised and news pushed" if self.pushed else
                                   f"{push} advertised, but no news within {PUSH_PROBE_S:g} s of a delivery")
        return self.pushed

    # One level -----------------------------------------------------------------------------

    def run(self) -> SampleOutcome:
        levels = self.config.levels()
        for users in levels:
            record = self.run_level(users)
            self.records.append(record)
            if record.ended_early:
                break
            if self.config.find_capacity and not keeps_stepping(record.verdict):
                break
        return self.outcome()

    def run_level(self, users: int) -> LevelRecord:
        ctx, config = self.ctx, self.config
        mailboxes = self.mailboxes_for(users)
        pushed = self.server_pushes()
        protocol = ctx.mode.protocol.name
        expected_delay_s = config.qos.expected_delay_s(pushed, config.poll_interval_s)
        ramp_s = users / config.spawn_rate
        settle_s = max(config.settle_s, 0 if pushed else config.poll_interval_s + 1.0)
        run_s = ramp_s + settle_s + config.window_s + 2.0  # the users' run, from their spawn
        folder = self.folder / f"users-{users}"
        folder.mkdir(parents=True, exist_ok=True)
        endpoint = ctx.server.endpoint(protocol, mailboxes[0].account, ctx.tls)
        plan = UserPlan(mode=ctx.mode.name, protocol=protocol, host=LOOPBACK, port=endpoint.port,
                        usernames=[m.account.username for m in mailboxes], password=endpoint.password,
                        users=users, workers=config.all_workers, run_s=run_s, ends_at=time.time() + LOCUST_STARTUP_S + run_s,
                        poll_interval_s=config.poll_interval_s,
                        idle_refresh_s=config.idle_refresh_s, flag_share=config.flag_share,
                        seed=ctx.timeline_seed, records_dir=str(folder), push=pushed)
        plan_path = plan.write(folder / "plan.json")
        load = LocustRun(self.device.user_class, users, config.spawn_rate, run_s, config.workers, plan_path,
                         folder, bind_address=config.publish_address, cpus=self.cpus.load if self.cpus.pinned else None,
                         remote_workers=config.remote_workers)
        record = LevelRecord(users)
        injector: Injector | None = None
        running = ctx.direct_server
        memory: list[int] = []
        connections: list[int] = []
        window = {"opened": None, "closed": None}
        with load, ctx.ledger.part("measured"):
            window_opens = load.started_at + LOCUST_STARTUP_S + ramp_s + settle_s
            while load.check() and time.time() < window_opens:
                time.sleep(WATCH_S)
            if load.check():
                active = self.active_users(folder, self.device.logged_in)
                by_name = {m.account.username: m for m in mailboxes}
                targets = [by_name[name] for name in sorted(active) if name in by_name]
                inject_s = max(0.0, config.window_s - expected_delay_s)
                injector = Injector([running.delivery_endpoint(m.account) for m in targets], self.injected,
                                    schedule(len(targets), config.mail_per_user_s, inject_s,
                                             seed=hash((ctx.timeline_seed, users)) & 0xFFFFFFFF),
                                    label=f"u{users}-")
                window["opened"] = time.time()
                server_before, load_before = running.resources().cpu_s, load.cpu_seconds()
                injector.start()
                next_read = 0.0
                try:
                    while load.check() and time.time() < window["opened"] + config.window_s:
                        if time.time() >= next_read:
                            memory.append(running.resources().memory_bytes)
                            connections.append(connections_open(running, ctx.mode.protocol.service(ctx.tls)))
                            next_read = time.time() + READ_EVERY_S
                        time.sleep(WATCH_S)
                finally:
                    injector.stop()
                window["closed"] = time.time()
                server_after, load_after = running.resources().cpu_s, load.cpu_seconds()
                # the rest of the level: users stop by themselves; the master ends with them
                while load.check() and time.time() < plan.ends_at + REPORT_SLACK_S + 30:
                    time.sleep(WATCH_S)
            load.wait_master(15)
        record.ended_early = bool(load.events)
        record.info["events"] = list(load.events)
        if load.notes:
            record.info["notes"] = list(load.notes)
        record.info["cpu_warnings"] = load.cpu_warnings()
        self.collect(record, folder, load, plan, pushed, expected_delay_s, window, injector,
                     (server_before, server_after) if window["closed"] else None,
                     (load_before, load_after) if window["closed"] else None, memory, connections, mailboxes)
        record.info.update(ramp_s=round(ramp_s, 2), settle_s=round(settle_s, 2), run_s=round(run_s, 2))
        return record

    @staticmethod
    def active_users(folder: Path, logged_in: str) -> set[str]:
        """The accounts a device has logged in to so far: those whose records hold the
        command ``logged_in`` (``DeviceModel.logged_in``) without an error."""
        records = stats.read_records(folder.glob("worker-*.jsonl"))
        return {r["user"] for r in records if r.get("command") == logged_in and not r.get("error")}

    def collect(self, record: LevelRecord, folder: Path, load: LocustRun, plan: UserPlan, pushed: bool,
                expected_delay_s: float, window: dict, injector: Injector | None, server_cpu, load_cpu,
                memory: list[int], connections: list[int], mailboxes: list[Mailbox]) -> None:
        config = self.config
        users = record.users
        prefix = load.csv_prefix
        locust_stats = stats.parse_stats_csv(_read(Path(f"{prefix}_stats.csv")))
        locust_failures = stats.parse_failures_csv(_read(Path(f"{prefix}_failures.csv")))
        records = stats.read_records(sorted(folder.glob("worker-*.jsonl")))
        own = stats.own_figures(records)
        workers_reporting = len({p.name.split("-")[1] for p in folder.glob("worker-*.jsonl")})
        info = record.info
        info.update(
            workers=config.all_workers, workers_reporting=workers_reporting, users_seen=own.users_seen,
            locust=locust_stats, locust_failures=locust_failures, own=own.commands,
            errors_by_kind=own.errors_by_kind, agreement=stats.agreement(locust_stats, own.commands),
            pushed=pushed, expected_delay_s=expected_delay_s,
        )
        window_s = (window["closed"] - window["opened"]) if window["closed"] else 0.0
        info["window_s"] = round(window_s, 2)
        figures = record.figures
        figures["users"] = users
        total = own.commands.get(stats.AGGREGATED, {})
        for name in ("p50_ms", "p95_ms", "p99_ms"):
            if name in total:
                figures[f"latency_{name}"] = total[name]
        commands = len(own.latencies_ms)
        errors = int(total.get("failures", 0))
        on_time = sum(1 for r in records if r.get("kind") == "cmd" and not r.get("error")
                      and r["ms"] <= config.qos.command_s * 1000)
        figures.update(commands=commands, errors=errors)
        # new mail: each message sent early enough to be due before the level's end
        due_by = (window["closed"] or 0.0) - expected_delay_s
        sent = {k: v for k, v in (injector.sent if injector else {}).items() if v <= due_by}
        arrived, missing = stats.delays(sent, own.received)
        record.sent, record.received = set(injector.sent if injector else ()), set(own.received)
        on_time_mail = sum(1 for d in arrived if d <= expected_delay_s)
        info["mail"] = {"sent": len(injector.sent) if injector else 0, "due": len(sent), "arrived": len(arrived),
                        "missing": len(missing), "on_time": on_time_mail,
                        "injector_errors": injector.errors[:20] if injector else [],
                        "injector_late_s_max": round(max(injector.late_s), 3) if injector and injector.late_s else 0.0,
                        "delay_s": stats.delay_summary(arrived)}
        for name, value in stats.delay_summary(arrived).items():
            figures[f"mail_delay_{name}"] = value
        share = {"total": 0.0, "busiest": 0.0}
        if server_cpu and window_s > 0:
            cores = max(1, len(load.cpus) if load.cpus else len(self.cpus.load))
            share = client_cpu_share(load_cpu[0], load_cpu[1], window_s, cores)
            user_hours = users * window_s * config.compression / 3600.0
            cpu_s = max(0.0, server_cpu[1] - server_cpu[0])
            reading = summarise_window(server_cpu[0], server_cpu[1], memory, connections)
            record.memory_bytes, record.connections = reading.memory_bytes, reading.connections
            figures.update(server_cpu_s=round(cpu_s, 4), server_cpu_share=round(cpu_s / window_s / self.cpus.server_cores, 4),
                           server_cpu_s_per_user_hour=round(cpu_s / user_hours, 5),
                           server_memory_bytes=reading.memory_bytes, connections_open=reading.connections)
            in_window = stats.own_figures(records, since=window["opened"])
            figures["bytes_per_user_hour"] = round((in_window.bytes_up + in_window.bytes_down) / user_hours, 1)
        figures["client_cpu_share"] = max(share["total"], share["busiest"])
        info["client_cpu"] = share
        figures.update(state_on_disk(self.ctx.direct_server, [m.account for m in mailboxes[:users]]))
        verdict = judge(LevelFigures(users, commands, on_time, errors, len(sent), on_time_mail,
                                     figures["client_cpu_share"], info["cpu_warnings"]), config.qos)
        if record.ended_early:
            verdict = incomplete("the level ended early: " + "; ".join(load.events))
        record.verdict = verdict
        info["verdict"] = verdict.as_dict()
        figures["passed"] = 1.0 if verdict.passed else 0.0
        figures["client_bound"] = 1.0 if verdict.status == "client-bound" else 0.0

    # The cell ------------------------------------------------------------------------------

    def outcome(self) -> SampleOutcome:
        config = self.config
        steps = memory_per_connection([(r.memory_bytes, r.connections) for r in self.records])
        per_user = memory_per_connection([(r.memory_bytes, r.users) for r in self.records])
        for record, step, user_step in zip(self.records[1:], steps, per_user):
            if step is not None:
                record.figures["memory_bytes_per_connection"] = step
            if user_step is not None:
                record.figures["memory_bytes_per_user"] = user_step
        found = capacity([(r.users, r.verdict) for r in self.records], self.cpus.server_cores)
        metrics: dict[str, float] = {"levels_run": len(self.records),
                                     "levels_passed": sum(r.verdict.passed for r in self.records)}
        if found.users is not None:
            metrics["capacity_users"] = found.users
            metrics["capacity_users_per_core"] = round(found.per_core, 3)
            best = next(r for r in self.records if r.users == found.users)
            for name in ("server_cpu_s_per_user_hour", "bytes_per_user_hour", "latency_p95_ms", "mail_delay_p95_s"):
                if name in best.figures:
                    metrics[name] = best.figures[name]
        per_connection = [s for s in steps if s is not None]
        if per_connection:
            metrics["memory_bytes_per_connection"] = per_connection[-1]
        users_added = [s for s in per_user if s is not None]
        if users_added:
            metrics["memory_bytes_per_user"] = users_added[-1]
        ended = [event for r in self.records for event in r.info["events"]]
        info = {
            "load": config.as_dict(),
            "qos": config.qos.as_dict(),
            "cpus": self.cpus.as_dict(),
            "time_compression": config.compression,
            "new_mail_path": DELIVERY_PATH,
            "waits_with": self.device.waits_with(bool(self.pushed)),
            "push_probe": self.push_probe,
            "capacity": found.as_dict(),
            "levels": [dict(users=r.users, figures=r.figures, **r.info) for r in self.records],
        }
        if ended:
            info["ended_early"] = ended
        by_level = {f"users-{r.users}": dict(r.figures) for r in self.records}
        # The devices keep no copy to compare: what is checked is that each injected message a
        # device received is one the injector sent (in this level or an earlier one). One not received by the level's end is
        # late, which the QoS verdict counts (``info.levels[i].mail``), not a wrong copy.
        sent = set().union(*(r.sent for r in self.records))
        received = set().union(*(r.received for r in self.records))
        unexpected = sorted(received - sent)
        integrity = {"passed": not unexpected, "checked": len(received), "unexpected": unexpected[:100]}
        return SampleOutcome(metrics=metrics, integrity=integrity, info=info, by_policy=by_level)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
