"""How soon a device learns of new mail: push (IMAP IDLE, JMAP's event stream) or polling,
measured for real.

``Arrivals`` delivers messages at seeded times from a thread of its own (one IMAP session,
APPEND per message), recording when each APPEND was sent; ``watch`` runs one device under
one ``WatchPolicy`` until every arrival shows on it or a deadline passes, recording when
each message became visible. Every wait is bounded.

- ``poll_<interval>``: every interval the device opens a session, syncs, and closes it
  (IMAP and POP3 alike);
- ``push``: the device keeps one session open, waiting for news (``MailAccess.wait_for_news``:
  IMAP IDLE, or JMAP's event stream, opened before the session's first sync so that nothing
  arriving meanwhile goes unannounced), and syncs whenever the server reports a change; it
  also syncs on its own every ``push_timeout_s`` (as real clients re-issue IDLE), so a
  server that does not push is measured, not waited on forever.

``keep_watch`` measures what watching costs when no mail comes (a quiet window): for
polling, whole intervals each ending in a poll; for push, one wait on a session opened
before the window (IMAP's IDLE and DONE included, the opening and JMAP's stream request not).
"""

from __future__ import annotations

import imaplib
import random
import threading
import time
from dataclasses import dataclass, field

from bench.access import AccessOptions, WireMeter
from bench.access.base import INBOX
from bench.access.imap import ImapAccess
from bench.devices.device import SyncDevice
from bench.sample import Mailbox, SampleContext


PUSH = "push"  # the policy where the server tells an open session (IMAP IDLE, JMAP EventSource)


@dataclass(frozen=True)
class WatchPolicy:
    name: str
    interval_s: float | None = None  # polling interval; None: push
    push_timeout_s: float = 10.0

    @property
    def push(self) -> bool:
        return self.interval_s is None


def poll_name(interval_s: float) -> str:
    return f"poll_{interval_s:g}s" if interval_s >= 1 and interval_s == int(interval_s) else \
        f"poll_{round(interval_s * 1000)}ms"


def watch_policies(can_push: bool, intervals_s: tuple[float, ...], push_timeout_s: float) -> list[WatchPolicy]:
    """Push where the session can be told of new mail, then polling at each interval."""
    policies = [WatchPolicy(PUSH, None, push_timeout_s)] if can_push else []
    return policies + [WatchPolicy(poll_name(interval), interval) for interval in intervals_s]


def arrival_gaps(seed: int, count: int, low_s: float, high_s: float) -> list[float]:
    """Seeded gaps between arrivals (the first from the start of the watch)."""
    rng = random.Random(f"arrivals-{seed}")
    return [rng.uniform(low_s, high_s) for _ in range(count)]


class Arrivals(threading.Thread):
    """Delivers the corpus's next messages into a mailbox at the given gaps, over one IMAP
    session straight to the server (not through the cell's link: delivery is not the
    device's traffic); each message goes into the mailbox's truth first. ``sent`` holds
    (key, time the APPEND was sent, ``time.perf_counter``) for each."""

    def __init__(self, ctx: SampleContext, mailbox: Mailbox, gaps_s: list[float]) -> None:
        super().__init__(name="mailbench-arrivals", daemon=True)
        self.ctx = ctx
        self.mailbox = mailbox
        self.gaps_s = gaps_s
        self.sent: list[tuple[str, float]] = []
        self.error: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            server = getattr(self.ctx, "direct_server", self.ctx.server)
            endpoint = server.endpoint("imap", self.mailbox.account)
            with ImapAccess(endpoint, WireMeter(), AccessOptions()) as access:
                due = time.perf_counter()
                for gap in self.gaps_s:
                    due += gap  # in this thread: outside the cell's time split (bench.time_split)
                    time.sleep(max(0.0, due - time.perf_counter()))
                    raw = next(iter(self.ctx.corpus.messages(self.mailbox.delivered, 1)))
                    key = self.mailbox.truth.add(raw)
                    self.mailbox.delivered += 1
                    sent = time.perf_counter()
                    access.client.append(INBOX, raw)
                    self.sent.append((key, sent))
        except BaseException as exc:  # reported by the watcher, which ends the sample
            self.error = exc
        finally:
            self.done.set()

    def refusal(self, exc: BaseException) -> str | None:
        """The server's answer, in one line, when ``exc`` is this delivery's APPEND refused
        (a NO or BAD: the message will not be stored); ``None`` for anything else, a broken
        connection included."""
        if exc is not self.error or not isinstance(exc, imaplib.IMAP4.error) or isinstance(exc, imaplib.IMAP4.abort):
            return None
        return " ".join(str(exc).split())[:300]


@dataclass
class WatchResult:
    policy: WatchPolicy
    visible_at: dict[str, float] = field(default_factory=dict)
    announced: set[str] = field(default_factory=set)  # shown after the server pushed news
    meter: WireMeter = field(default_factory=WireMeter)
    started: float = 0.0
    ended: float = 0.0
    syncs: int = 0

    def latencies_ms(self, sent: list[tuple[str, float]]) -> list[float]:
        return [(self.visible_at[key] - at) * 1000 for key, at in sent if key in self.visible_at]

    @property
    def window_s(self) -> float:
        return self.ended - self.started


def _complete(arrivals: Arrivals, device: SyncDevice) -> bool:
    if not arrivals.done.is_set():
        return False
    view = device.view()
    return all(key in view for key, _ in arrivals.sent)


def _record(device: SyncDevice, result: WatchResult, pushed: bool) -> None:
    now = time.perf_counter()
    for key in device.view():
        if key not in result.visible_at:
            result.visible_at[key] = now
            if pushed:
                result.announced.add(key)


def watch(ctx: SampleContext, mailbox: Mailbox, device: SyncDevice, policy: WatchPolicy, arrivals: Arrivals,
          deadline_s: float) -> WatchResult:
    """Run ``device`` under ``policy`` while ``arrivals`` delivers; stop when all arrived
    messages show on the device, or ``deadline_s`` (from now) passes."""
    result = WatchResult(policy)
    for key in device.view():
        result.visible_at[key] = 0.0  # already there before the watch
    result.started = time.perf_counter()
    deadline = result.started + deadline_s
    arrivals.start()
    try:
        if policy.push:
            with ctx.connect(mailbox, result.meter) as access:
                access.watch_for_news()
                device.begin(access)
                device.sync(access)
                while time.perf_counter() < deadline and not _complete(arrivals, device):
                    news = access.wait_for_news(min(policy.push_timeout_s, max(0.0, deadline - time.perf_counter())))
                    device.sync(access)
                    result.syncs += 1
                    _record(device, result, news)
        else:
            due = result.started
            while time.perf_counter() < deadline and not _complete(arrivals, device):
                due += policy.interval_s
                ctx.wait(min(due, deadline) - time.perf_counter())
                with ctx.connect(mailbox, result.meter) as access:
                    device.session(access)
                result.syncs += 1
                _record(device, result, False)
    finally:
        result.ended = time.perf_counter()
        arrivals.join(timeout=max(0.0, deadline - time.perf_counter()) + 5.0)
    if arrivals.error is not None:
        raise arrivals.error
    return result


@dataclass
class WatchCost:
    """What keeping watch cost over a quiet window: connections opened, bytes, round trips,
    and the server's CPU (the container's, read at the window's two ends)."""

    window_s: float
    connections: int
    bytes_up: int
    bytes_down: int
    round_trips: int
    server_cpu_s: float

    def per_hour(self) -> dict[str, float]:
        scale = 3600.0 / self.window_s
        return {
            "connections_opened_per_hour": self.connections * scale,
            "bytes_per_hour": (self.bytes_up + self.bytes_down) * scale,
            "round_trips_per_hour": self.round_trips * scale,
            "server_cpu_s_per_hour": max(0.0, self.server_cpu_s) * scale,
        }


def _difference(after: dict[str, int], before: dict[str, int], window_s: float, server_cpu_s: float) -> WatchCost:
    return WatchCost(window_s, *(after.get(k, 0) - before.get(k, 0)
                                 for k in ("connections", "bytes_up", "bytes_down", "round_trips")), server_cpu_s)


def keep_watch(ctx: SampleContext, mailbox: Mailbox, device: SyncDevice, policy: WatchPolicy, quiet_s: float) -> WatchCost:
    """Keep watch under ``policy`` for about ``quiet_s`` with no mail arriving. For push, the
    window holds the wait alone, its session opened and synced before; for polling, the polls."""
    meter = WireMeter()
    if policy.push:
        with ctx.connect(mailbox, meter) as access:
            access.watch_for_news()
            device.begin(access)
            device.sync(access)
            # What the watch's start brought and no one has read yet (the answer to a JMAP
            # stream's request, there since the sync) is read now, not counted in the window.
            access.wait_for_news(0)
            before, cpu_before = meter.totals(), ctx.server.resources().cpu_s
            start = time.perf_counter()
            with ctx.ledger.part("waiting"):  # the quiet window, kept on purpose
                access.wait_for_news(quiet_s)
            window = time.perf_counter() - start
            return _difference(meter.totals(), before, window, ctx.server.resources().cpu_s - cpu_before)
    polls = max(1, round(quiet_s / policy.interval_s))
    cpu_before = ctx.server.resources().cpu_s
    start = time.perf_counter()
    for poll in range(1, polls + 1):
        ctx.wait(start + poll * policy.interval_s - time.perf_counter())
        with ctx.connect(mailbox, meter) as access:
            device.session(access)
    return _difference(meter.totals(), {}, polls * policy.interval_s, ctx.server.resources().cpu_s - cpu_before)
