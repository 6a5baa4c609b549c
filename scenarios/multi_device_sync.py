"""multi-device-sync: three devices (phone, laptop, tablet) keep one mailbox over a timeline.

The seeded timeline (``bench.devices.timeline.sync_timeline``, drawn per sample from
``ctx.timeline_seed``) is the same for every protocol and mode: the mailbox arrives, then each round brings new mail and actions (read, flag,
unflag, move to Archive, delete) taken on one device or another; the phone is offline for
two rounds (its actions are queued and sent when it is back, with conflicts counted), the
tablet joins half-way, and a last round with nothing new shows where everything ends up.
With a corpus read from disk, the new mail is the corpus's last messages and the initial
mailbox what is left (``bench.devices.playback.fit_timeline``).

After every round each device is checked against the protocol-expected view (a
difference fails the cell: a harness bug), and measured against the intended mailbox:
the share of (message, state) pairs it has right: present, read, flagged, folder. Each
change (an action, or new mail) is followed to the other devices
(``bench.devices.sync_truth.ChangeTracker``): the share that reached them, by kind, and the
sessions that missed one sent before them (``info["change_rounds"]``, per round). The
tablet's first session says what a new device gets: time, bytes, and the share of the
mailbox it shows and holds whole.

Variants: ``incremental`` (IMAP devices use QRESYNC, else CONDSTORE, where the server has
them; Courier has neither, so the fallback runs there) and ``full-resync`` (IMAP devices
list every message's flags at every sync, as a client without those extensions must).
POP3 has no incremental listing: both variants run the same UIDL listing there.
"""

from __future__ import annotations

import statistics
from collections import Counter

from bench.devices.device import SyncPolicy
from bench.devices.playback import DeviceSpec, Playback, corpus_split, fit_timeline
from bench.devices.timeline import SyncSpec, sync_timeline
from bench.sample import SampleContext, SampleOutcome
from scenarios.base import Scenario


class MultiDeviceSync(Scenario):
    name = "multi-device-sync"
    description = "three devices share one mailbox over a timeline of new mail, reads, flags, moves and deletions"
    variants = ("incremental", "full-resync")
    decision_variants = ("incremental",)  # a client that syncs as clients do

    def __init__(self, spec: SyncSpec = SyncSpec()) -> None:
        self.spec = spec

    def whole_copies_on_devices(self) -> int:
        return len(self.spec.devices)

    def run_sample(self, ctx: SampleContext) -> SampleOutcome:
        timeline = fit_timeline(ctx, self.name,
                                lambda initial: sync_timeline(ctx.timeline_seed, initial, self.spec))
        listing = "full" if ctx.variant == "full-resync" else "best"
        devices = [DeviceSpec(name, SyncPolicy.for_mode(ctx.mode, listing=listing)) for name in self.spec.devices]
        playback = Playback(ctx, ctx.new_mailbox(), timeline, devices)
        try:
            with ctx.measure() as measured:
                playback.run()
            integrity = playback.check_stores()
            metrics = dict(measured.metrics)
            metrics.update(sync_metrics(playback))
            info = {
                "rounds": playback.rounds,
                "timeline_seed": ctx.timeline_seed,
                "timeline": playback.timeline.summary(),
                "listing": listing,
                "listing_methods": dict(Counter(f"{folder}:{method}" for s in playback.sessions
                                                for folder, method in s.methods.items())),
                "capabilities_used": sorted(playback.capabilities_used),
                "device_counters": {name: dict(d.counters) for name, d in playback.devices.items()},
                "change_rounds": playback.tracker.change_rounds,
            }
            split = corpus_split(ctx, playback.mailbox, playback.timeline.delivered_by(0))
            if split is not None:
                info["corpus_split"] = split
        finally:
            playback.close()
        integrity.update(views_checked=playback.checked_views)
        return SampleOutcome(metrics=metrics, integrity=integrity, commands=playback.commands(), info=info)


def sync_metrics(playback: Playback) -> dict[str, float]:
    """The figures of a multi-device playback (also used by storage-exposure's base)."""
    final = playback.final()
    metrics: dict[str, float] = {
        "messages_missing": max(a.missing for a in final.values()),
        "states_wrong": max(a.states_wrong for a in final.values()),
        "consistency_final_min": min(a.consistency for a in final.values()),
        "consistency_final_mean": statistics.mean(a.consistency for a in final.values()),
        "intended_messages": len(playback.intended[-1]),
    }
    for name, measured in final.items():
        metrics[f"visible_messages_{name}"] = measured.visible
        metrics[f"consistency_final_{name}"] = measured.consistency
    for record in playback.rounds:
        shares = [d["consistency"] for d in record["devices"].values()]
        if shares:
            metrics[f"consistency_round_{record['round']}"] = statistics.mean(shares)
    share = playback.other_device_share()
    if share is not None:
        metrics["other_device_messages_share"] = share
    metrics.update(playback.tracker.summary())

    sessions = playback.sessions
    for key in ("bytes_up", "bytes_down", "round_trips", "connections"):
        metrics[key] = sum(getattr(s, key) for s in sessions)
    first = {}
    for s in sessions:
        first.setdefault(s.device, s)
    steady = [s for s in sessions if first[s.device] is not s]
    initial = [s for s in first.values() if s.round == 0]
    late = [s for s in first.values() if s.round > 0]
    for label, group in (("sync", steady), ("initial_sync", initial), ("join", late)):
        if group:
            metrics[f"{label}_bytes_down_per_session"] = statistics.mean(s.bytes_down for s in group)
            metrics[f"{label}_bytes_up_per_session"] = statistics.mean(s.bytes_up for s in group)
            metrics[f"{label}_round_trips_per_session"] = statistics.mean(s.round_trips for s in group)
            metrics[f"{label}_s_per_session"] = statistics.mean(s.seconds for s in group)
            # what a session cost besides the messages it downloaded: listing, flags, queue
            metrics[f"{label}_overhead_bytes_down_per_session"] = statistics.mean(
                s.bytes_down - s.downloaded_bytes for s in group)
    # a device joining late: what of the intended mailbox it shows, and holds whole, after its first session
    joins = [reading for _, reading in playback.join_readings.values() if reading[0]]
    if joins:
        metrics["join_visible_share"] = statistics.mean(listed / messages for messages, listed, _ in joins)
        metrics["join_readable_share"] = statistics.mean(readable / messages for messages, _, readable in joins)
    settled = [s for s in sessions if s.settle_checks]
    if settled:
        metrics["sessions_that_removed_mail"] = len(settled)
        metrics["sessions_still_listing_removed_mail"] = sum(s.settle_checks > 1 for s in settled)
        metrics["removed_mail_listed_for_ms_max"] = max(s.settle_ms for s in settled)
    counters = Counter()
    for device in playback.devices.values():
        counters.update(device.counters)
    metrics.update(
        actions=counters["actions"],
        actions_impossible=counters["impossible"],
        actions_replayed=counters["replayed"],
        conflicts=counters["conflicts_gone"] + counters["conflicts_changed"],
        conflicts_gone=counters["conflicts_gone"],
        conflicts_changed=counters["conflicts_changed"],
        messages_downloaded=counters["downloaded"],
        message_bytes_downloaded=counters["downloaded_bytes"],
        messages_listed_then_gone=counters["unavailable"],
    )
    return metrics
