"""new-mail: how soon a device knows about new mail, and what keeping watch costs.

A device holds the mailbox (``ctx.messages`` messages); then messages arrive one by one at
seeded times while the device keeps watch under each policy its mode can have, one after
the other (``scenarios.new_mail.notify``): ``push`` (the server tells an open session: IMAP
IDLE where the server has it, JMAP's event stream where the session names one) and polling
at each interval (a session every interval). For each
policy, under the policy's name in the sample's ``by_policy``: delivery-to-visible latency
(from the moment the APPEND that delivers a message is sent to the end of the sync that put
it on the device; ``pushed_share`` of ``push``: how many the server announced while the
device waited rather than found by the device's own sync at the end of a wait), and the cost of keeping watch while no mail comes,
measured over a quiet window of ``quiet_s`` and given per hour: connections opened, bytes
both ways, round trips, server CPU (the container's).

A poll that finds nothing is also measured on its own (``empty_poll_*``): at the
intervals real clients use (minutes), that is the cost of polling, and the report can
scale it to any interval. Every message on the device is checked against the truth.

With a corpus read from disk, the arriving messages are the corpus's last ones, held back
for every policy a mode can have (``push`` and each interval), and the mailbox is what is
left (``bench.devices.playback.fit_to_corpus``). An arriving message the server refuses fails the
cell, naming it: its latency cannot be measured.

Servers that advertise IDLE but do not push (as configured here, Cyrus without its
``idled`` and Courier without FAM poll the mailbox every 60 s) show a latency near
``push_timeout_s``, the interval at which the device re-issues IDLE on its own. Cyrus's JMAP
push is its own poll of the account every ``jmap_pushpoll`` seconds (1 s here,
docker/cyrus/imapd-jmap.conf), so up to that much of its latency is there by construction.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.access import WireMeter
from bench.access.base import INBOX
from bench.devices.device import SyncDevice, SyncPolicy
from bench.devices.playback import corpus_split, fit_to_corpus, merged_commands
from bench.errors import IntegrityError, MailbenchError
from bench.sample import SampleContext, SampleOutcome
from scenarios.base import Scenario
from scenarios.new_mail.notify import Arrivals, arrival_gaps, keep_watch, watch, watch_policies

INTERVALS_S = (1.0, 5.0)  # the polling intervals unless told: the report names its policies from these


class NewMail(Scenario):
    name = "new-mail"
    description = "delivery-to-visible latency and cost per hour, push (IMAP IDLE, JMAP EventSource) against polling"
    variants = ("trickle",)
    in_default_plan = False  # about 20 s a sample of real-time watching: run it by name

    def __init__(self, intervals_s: tuple[float, ...] = INTERVALS_S, arrivals: int = 3,
                 gap_s: tuple[float, float] = (0.3, 1.5), push_timeout_s: float = 5.0,
                 quiet_s: float = 3.0) -> None:
        self.intervals_s = intervals_s
        self.arrivals = arrivals
        self.gap_s = gap_s
        self.push_timeout_s = push_timeout_s
        self.quiet_s = quiet_s

    def policy_names(self, can_push: bool = True) -> list[str]:
        """The watching policies a cell runs, in order: ``push`` where the server can push,
        then ``poll_<interval>`` for each interval."""
        return [policy.name for policy in watch_policies(can_push, self.intervals_s, self.push_timeout_s)]

    def run_sample(self, ctx: SampleContext) -> SampleOutcome:
        # Arriving messages for every policy a mode can have (push only where the server
        # tells, which is known once connected), so the mailbox never depends on the server.
        arriving = self.arrivals * (1 + len(self.intervals_s))
        initial = fit_to_corpus(ctx, self.name, lambda initial: initial + arriving,
                                "arriving while the device keeps watch")
        mailbox = ctx.new_mailbox()
        ctx.deliver(mailbox, initial)
        stored_first = len(mailbox.truth.entries)
        device = SyncDevice("device", SyncPolicy.for_mode(ctx.mode, folders=(INBOX,)), Path(ctx.workdir) / "device")
        try:
            with ctx.connect(mailbox) as access:
                device.session(access)
                can_push = access.can_push
            with ctx.ledger.part("measured"):  # the empty poll, the watch and the quiet window
                metrics: dict[str, float] = {}
                meter = WireMeter()
                start = time.perf_counter()
                with ctx.connect(mailbox, meter) as access:
                    device.session(access)
                metrics.update(empty_poll_ms=(time.perf_counter() - start) * 1000,
                               empty_poll_bytes=meter.bytes_up + meter.bytes_down,
                               empty_poll_bytes_down=meter.bytes_down, empty_poll_round_trips=meter.round_trips)
                info: dict[str, object] = {"policies": [], "latencies_ms": {}}
                by_policy: dict[str, dict[str, float]] = {}
                meters = [meter]
                for policy in watch_policies(can_push, self.intervals_s, self.push_timeout_s):
                    name = policy.name
                    info["policies"].append(name)
                    gaps = arrival_gaps(ctx.timeline_seed, self.arrivals, *self.gap_s)
                    wait = policy.push_timeout_s if policy.push else policy.interval_s
                    arrivals = Arrivals(ctx, mailbox, gaps)
                    try:
                        result = watch(ctx, mailbox, device, policy, arrivals, sum(gaps) + 2 * wait + 3.0)
                    except Exception as exc:
                        answer = arrivals.refusal(exc)
                        if answer is None:
                            raise
                        raise MailbenchError(
                            f"the server refused corpus message {mailbox.delivered} "
                            f"({mailbox.truth.entries[-1].size_bytes} bytes), arriving while the device kept watch "
                            f"({name}): {answer}; new-mail measures when each arriving "
                            "message shows, so give a corpus without it") from exc
                    meters.append(result.meter)
                    latencies = result.latencies_ms(arrivals.sent)
                    info["latencies_ms"][name] = [round(v, 3) for v in latencies]
                    info.setdefault("syncs", {})[name] = result.syncs
                    figures = by_policy[name] = {"missed": len(arrivals.sent) - len(latencies)}
                    if latencies:
                        figures["latency_ms"] = statistics.median(latencies)
                        figures["latency_ms_max"] = max(latencies)
                    if policy.push:
                        figures["pushed_share"] = (
                            sum(key in result.announced for key, _ in arrivals.sent) / len(arrivals.sent))
                    figures.update(keep_watch(ctx, mailbox, device, policy, self.quiet_s).per_hour())
            report = mailbox.truth.check(device.full)
            if not report.passed:
                raise IntegrityError(f"device copy differs from the truth: {report.summary()}", report.to_json())
        finally:
            device.close()
        info["capabilities_used"] = sorted(access.capabilities_used)
        info["timeline_seed"] = ctx.timeline_seed
        info["arrival_gaps_s"] = [round(g, 3) for g in arrival_gaps(ctx.timeline_seed, self.arrivals, *self.gap_s)]
        split = corpus_split(ctx, mailbox, stored_first)
        if split is not None:
            info["corpus_split"] = split
        return SampleOutcome(metrics=metrics, integrity=report.to_json(), commands=merged_commands(meters), info=info,
                             by_policy=by_policy)
