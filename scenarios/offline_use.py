"""offline-use: a device loses its connection, is used offline, comes back; then it is lost.

The timeline (``bench.devices.timeline.offline_timeline``, the same for every mode): the mailbox
arrives and both devices, ``mobile`` and ``desk``, sync; new mail arrives and desk acts
while mobile is away; then an **outage**, during which mobile is used offline (reads,
flags, moves, deletions, queued); mobile comes back, sends its queue (conflicts counted)
and catches up; both sync once more. Beside mobile (which keeps full copies), passive
devices with the other caching policies the mode has (IMAP: ``online`` only, ``headers``
cached; POP3 has only full copies) follow mobile's connectivity, to show what each policy
can read offline.

Variants, and what each really does:

- ``server-down``: the server container is paused (``docker pause``) for the outage round
  and unpaused after, always. A device trying to connect gets a TCP connection (the Docker
  proxy and the container's kernel still answer) but never a greeting, and gives up after
  ``attempt_timeout_s``: ``offline_detect_s`` is that wait.
- ``link-cut``: the cell's link relay (``ctx.link``; this scenario asks the runner for a
  cuttable relay even on ``lan``) cuts the path to the server, resetting open connections
  and new ones, and the same connection attempt measures how a cut link shows. A context
  without a link (a library caller's) has the device simply not connect: it knows it is
  offline (a phone in flight mode); nothing is cut and no attempt is measured.

Figures: what each policy can read offline (``readable_offline_share``, per cache policy in
the sample's ``by_policy``, and for the whole sample the full copy's); the queue and
its conflicts; time and bytes to catch up after reconnecting; time and bytes to a usable
mailbox at the first sync; and **device loss**: messages that exist nowhere once mobile
is gone (not on the server, no whole copy on another device).
"""

from __future__ import annotations

import time

from bench.devices.device import SyncPolicy, cache_policies
from bench.errors import MailbenchError
from bench.devices.playback import DeviceSpec, Playback, corpus_split, fit_timeline
from bench.devices.timeline import offline_timeline
from bench.sample import Mailbox, SampleContext, SampleOutcome
from scenarios.base import Scenario
from scenarios.multi_device_sync import sync_metrics

OUTAGE_ROUND = 2  # of offline_timeline


class Outage:
    """The variant's outage, as hooks of the playback: begins when the outage round starts,
    ends when the next round starts, and is always ended on the way out."""

    def __init__(self, ctx: SampleContext, mailbox: Mailbox, attempt_timeout_s: float) -> None:
        self.ctx = ctx
        self.mailbox = mailbox
        self.link = ctx.link
        self.attempt_timeout_s = attempt_timeout_s
        self.active = False
        self.detect_s: float | None = None
        self.reading: dict[str, tuple[int, int, int]] = {}
        if ctx.variant == "server-down":
            self.does = "server container paused (docker pause) for the outage round"
        elif self.link is not None:
            self.does = "link relay cut for new and open connections for the outage round"
        else:
            self.does = "no link relay in this cell: the device does not connect (it knows it is offline)"

    @property
    def real(self) -> bool:
        return self.ctx.variant == "server-down" or self.link is not None

    def _begin(self) -> None:
        if self.ctx.variant == "server-down":
            with self.ctx.ledger.part("containers"):
                self.ctx.server.container.pause()
        elif self.link is not None:
            self.link.cut()
        self.active = True

    def _end(self) -> None:
        if not self.active:
            return
        self.active = False
        if self.ctx.variant == "server-down":
            with self.ctx.ledger.part("containers"):
                self.ctx.server.container.unpause()
        elif self.link is not None:
            self.link.restore()

    def _attempt(self) -> float:
        """Try to connect as mobile would; the outage must make it fail."""
        start = time.perf_counter()
        try:
            with self.ctx.ledger.part("waiting"):  # a connect timeout waited out
                access = self.ctx.connect_within(self.mailbox, self.attempt_timeout_s)
        except Exception:  # refused, reset, timed out: all mean "offline" to a device
            return time.perf_counter() - start
        access.close()
        raise MailbenchError(f"the outage ({self.does}) did not stop a new connection")

    def round_started(self, playback: Playback, round_: int) -> None:
        if round_ == OUTAGE_ROUND:
            if self.real:
                self._begin()
                self.detect_s = self._attempt()
            for name, spec in playback.specs.items():
                if name == "mobile" or spec.follows == "mobile":
                    since = playback.last_session_round(name, round_)
                    self.reading[spec.policy.cache] = playback.offline_reading(name, since)
        elif round_ == OUTAGE_ROUND + 1:
            self._end()

    def finish(self, playback: Playback) -> None:
        self._end()


class OfflineUse(Scenario):
    name = "offline-use"
    description = "a device used through an outage (link cut or server down), caught up after, then lost"
    variants = ("link-cut", "server-down")
    needs_link_control = True
    decision_variants = ("link-cut",)  # the device loses its connection, the usual way to be offline

    def __init__(self, new_mail: int = 3, desk_actions: int = 4, offline_actions: int = 6,
                 attempt_timeout_s: float = 1.0) -> None:
        self.new_mail = new_mail
        self.desk_actions = desk_actions
        self.offline_actions = offline_actions
        self.attempt_timeout_s = attempt_timeout_s

    def whole_copies_on_devices(self) -> int:
        return 2  # mobile and desk cache whole messages; mobile's followers, headers or nothing

    def run_sample(self, ctx: SampleContext) -> SampleOutcome:
        timeline = fit_timeline(ctx, self.name, lambda initial: offline_timeline(
            ctx.timeline_seed, initial, self.new_mail, self.desk_actions, self.offline_actions))
        devices = [DeviceSpec("mobile", SyncPolicy.for_mode(ctx.mode, cache="full"))]
        devices += [DeviceSpec(f"mobile-{policy}", SyncPolicy.for_mode(ctx.mode, cache=policy), follows="mobile")
                    for policy in cache_policies(ctx.mode) if policy != "full"]
        devices.append(DeviceSpec("desk", SyncPolicy.for_mode(ctx.mode)))
        mailbox = ctx.new_mailbox()
        outage = Outage(ctx, mailbox, self.attempt_timeout_s)
        playback = Playback(ctx, mailbox, timeline, devices, hooks=outage)
        try:
            with ctx.measure() as measured:
                playback.run()
            integrity = playback.check_stores()
            metrics = dict(measured.metrics)
            figures, by_policy = self._metrics(playback, outage)
            metrics.update(figures)
            info = {
                "outage": outage.does,
                "rounds": playback.rounds,
                "timeline_seed": ctx.timeline_seed,
                "timeline": playback.timeline.summary(),
                "cache_policies": list(cache_policies(ctx.mode)),
                "offline_reading": {policy: dict(zip(("messages", "listed", "readable"), counts))
                                    for policy, counts in outage.reading.items()},
                "capabilities_used": sorted(playback.capabilities_used),
            }
            split = corpus_split(ctx, playback.mailbox, playback.timeline.delivered_by(0))
            if split is not None:
                info["corpus_split"] = split
        finally:
            playback.close()
        integrity.update(views_checked=playback.checked_views)
        return SampleOutcome(metrics=metrics, integrity=integrity, commands=playback.commands(), info=info,
                             by_policy=by_policy)

    def _metrics(self, playback: Playback, outage: Outage) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        """The sample's figures, and each cache policy's (what its device reads offline, and
        its first sync and catch-up), keyed by the policy."""
        base = sync_metrics(playback)
        metrics: dict[str, float] = {key: base[key] for key in (
            "bytes_up", "bytes_down", "round_trips", "connections", "messages_missing", "states_wrong",
            "consistency_final_min", "changes_tracked", "changes_seen", "sync_misses", "sync_miss_rounds",
            "sync_rounds", "sync_misses_worst_round") if key in base}
        metrics.update({key: value for key, value in base.items() if key.startswith("changes_seen_share")})
        by_policy: dict[str, dict[str, float]] = {}
        for policy, (messages, listed, readable) in outage.reading.items():
            if messages:
                by_policy.setdefault(policy, {}).update(readable_offline_share=readable / messages,
                                                        listed_offline_share=listed / messages)
        if "readable_offline_share" in by_policy.get("full", {}):
            metrics["readable_offline_share"] = by_policy["full"]["readable_offline_share"]
        if outage.detect_s is not None:
            metrics["offline_detect_s"] = outage.detect_s
        mobile = playback.devices["mobile"].counters
        metrics.update(
            offline_actions=mobile["actions"],
            offline_actions_impossible=mobile["impossible"],
            offline_actions_replayed=mobile["replayed"],
            conflicts=mobile["conflicts_gone"] + mobile["conflicts_changed"],
            conflicts_gone=mobile["conflicts_gone"],
            conflicts_changed=mobile["conflicts_changed"],
        )
        policy_of = {spec.name: spec.policy.cache for spec in playback.specs.values()
                     if spec.name == "mobile" or spec.follows == "mobile"}
        for session in playback.sessions:
            policy = policy_of.get(session.device)
            if policy is None:
                continue
            stage = {0: "ready", OUTAGE_ROUND + 1: "catchup"}.get(session.round)
            if stage is None:
                continue
            if session.device == "mobile":
                metrics[f"{stage}_s"] = session.seconds
                metrics[f"{stage}_bytes_down"] = session.bytes_down
                metrics[f"{stage}_bytes_up"] = session.bytes_up
                metrics[f"{stage}_round_trips"] = session.round_trips
            by_policy.setdefault(policy, {}).update({f"{stage}_bytes_down": session.bytes_down,
                                                     f"{stage}_s": session.seconds})
        back = playback.rounds[OUTAGE_ROUND + 1]["devices"]["mobile"]
        metrics["consistency_after_catchup"] = back["consistency"]
        metrics["messages_lost_with_device"] = playback.lost_with("mobile")
        return metrics, by_policy
