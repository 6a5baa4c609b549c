"""storage-exposure: what the server keeps, and what someone holding the password can read.

The devices of multi-device-sync play the same timeline (checked against the
protocol-expected view every round, as there). At every round's end the scenario reads

- the account's mail store on the server (``du`` of its folder: messages, indexes, caches,
  and whatever deleted mail the server has not purged yet);
- the messages someone holding the account's password can read there: every message of
  every folder, seen over IMAP read-only, whatever the mode (the census of the playback);
- the messages a lost or stolen device would give away: whole messages on each device.

Each round stands for ``hours_per_round`` hours of use, so exposure adds up to
message-hours: the messages readable, summed over the time they were readable.
"""

from __future__ import annotations

import statistics

from bench.device import SyncPolicy
from bench.playback import DeviceSpec, Playback, corpus_split, fit_timeline
from bench.timeline import SyncSpec, sync_timeline
from scenarios.base import SampleContext, SampleOutcome, Scenario
from scenarios.multi_device_sync import sync_metrics


class Exposure:
    """Hooks of the playback: a reading of the server and the devices after every round."""

    def __init__(self, ctx: SampleContext, mailbox: object) -> None:
        self.ctx = ctx
        self.mailbox = mailbox
        self.readings: list[dict[str, object]] = []

    def round_ended(self, playback: Playback, round_: int) -> None:
        if playback.timeline.outage(round_):
            return
        on_devices = {name: sum(device.readable(key) is not None for key in device.view())
                      for name, device in playback.devices.items() if playback.joined(name, round_)}
        self.readings.append({
            "round": round_,
            "server_store_bytes": self.ctx.server.disk_bytes(self.mailbox.account),
            "server_messages": len(playback.census),
            "device_messages": on_devices,
        })


class StorageExposure(Scenario):
    name = "storage-exposure"
    description = "server store and messages readable with the password over a timeline, beside a lost device"
    variants = ("timeline",)

    def __init__(self, spec: SyncSpec = SyncSpec(), hours_per_round: float = 24.0) -> None:
        self.spec = spec
        self.hours_per_round = hours_per_round

    def run_sample(self, ctx: SampleContext) -> SampleOutcome:
        timeline = fit_timeline(ctx, self.name, lambda initial: sync_timeline(ctx.seed, initial, self.spec))
        devices = [DeviceSpec(name, SyncPolicy.for_mode(ctx.mode)) for name in self.spec.devices]
        mailbox = ctx.new_mailbox()
        exposure = Exposure(ctx, mailbox)
        playback = Playback(ctx, mailbox, timeline, devices, hooks=exposure)
        try:
            with ctx.measure() as measured:
                playback.run()
            integrity = playback.check_stores()
            base = sync_metrics(playback)
        finally:
            playback.close()
        readings = exposure.readings
        server = [r["server_messages"] for r in readings]
        store = [r["server_store_bytes"] for r in readings]
        lost = [max(r["device_messages"].values(), default=0) for r in readings]
        hours = self.hours_per_round
        metrics = dict(measured.metrics)
        metrics.update({key: base[key] for key in ("bytes_up", "bytes_down", "round_trips", "connections",
                                                   "intended_messages")})
        metrics.update(
            exposed_messages=server[-1],
            exposed_messages_max=max(server),
            exposed_messages_mean=statistics.mean(server),
            exposed_message_hours=sum(server) * hours,
            server_store_bytes=store[-1],
            server_store_bytes_max=max(store),
            device_exposed_messages=lost[-1],
            device_exposed_message_hours=sum(lost) * hours,
            delivered_messages=playback.timeline.messages,
        )
        info = {"readings": readings, "hours_per_round": hours, "timeline": playback.timeline.summary(),
                "capabilities_used": sorted(playback.capabilities_used)}
        split = corpus_split(ctx, playback.mailbox, playback.timeline.delivered_by(0))
        if split is not None:
            info["corpus_split"] = split
        integrity.update(views_checked=playback.checked_views)
        return SampleOutcome(metrics=metrics, integrity=integrity, commands=playback.commands(), info=info)
