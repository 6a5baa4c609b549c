"""storage-exposure: what the server keeps, and what someone holding the password can read.

The devices of multi-device-sync play the same timeline (checked against the
protocol-expected view every round, as there). The scenario follows

- the messages someone holding the account's password can read on the server: every
  message of every folder, seen over IMAP read-only, whatever the mode
  (``bench.devices.playback.server_census``), read after every session that removed mail from
  where it was (deleted, expunged, downloaded and deleted by a POP3 device, or moved: a
  moved message is still readable) and at every round's end;
- the messages a lost or stolen device would give away: those it holds whole, read after
  every session and every action of the device;
- at every round's end, the account's mail store on the server (``du`` of its folder:
  messages, indexes, caches, and whatever deleted mail the server has not purged yet).

**Time.** Each round stands for ``hours_per_round`` hours of use (24): round ``r`` spans
``[r * H, (r + 1) * H)`` hours, and the steps of a round (deliveries, actions, sessions,
checkpoint) are spaced evenly in it (``bench.devices.playback.StepClock``): step ``k`` of ``n`` at
``(r + k / n) * H``. A message is readable on the server from the step that delivered it
to the step after which it was found gone, and whole on a device from the step after which
the device held it to the step after which it no longer did; still readable at the end,
it counts to the end of the timeline (``rounds * H``). Exposure adds up to
message-hours: each message's readable spans, summed (``message_hours``). So mail a POP3
device downloads and deletes counts for the hours it waited on the server for the poll.
"""

from __future__ import annotations

from typing import Any, Collection, Iterable

from bench.devices.device import SyncDevice, SyncPolicy
from bench.devices.playback import DeviceSpec, Playback, corpus_split, fit_timeline, server_census
from bench.devices.timeline import SyncSpec, sync_timeline
from bench.sample import Mailbox, SampleContext, SampleOutcome
from scenarios.base import Scenario
from scenarios.multi_device_sync import sync_metrics

Span = tuple[float, "float | None"]  # (from, to) in hours; to None: still readable at the end


def message_hours(spans: Iterable[Span], end: float) -> float:
    """The spans summed, in message-hours; an open span counts up to ``end``."""
    return sum((end if stop is None else stop) - start for start, stop in spans)


def most_at_once(spans: Iterable[Span]) -> int:
    """The most spans open at one moment (one ending when another starts: not both)."""
    moments = sorted([(start, 1) for start, _ in spans] + [(stop, -1) for _, stop in spans if stop is not None])
    most = now = 0
    for _, change in moments:  # at one moment, ends (-1) sort before starts (+1)
        now += change
        most = max(most, now)
    return most


class Readable:
    """When each message was readable in one place: from the moment it was found there to
    the moment it was found gone (hours)."""

    def __init__(self) -> None:
        self.since: dict[str, float] = {}
        self.closed: list[Span] = []

    def found(self, keys: Iterable[str], now: float) -> None:
        for key in keys:
            self.since.setdefault(key, now)

    def only(self, present: Collection[str], now: float) -> None:
        """Every message not in ``present`` was found gone at ``now``."""
        for key in [k for k in self.since if k not in present]:
            self.closed.append((self.since.pop(key), now))

    def spans(self) -> list[Span]:
        return self.closed + [(start, None) for start in self.since.values()]


def whole_on(device: SyncDevice) -> set[str]:
    """The messages a device holds whole (its store, checked against the truth as they
    arrive and again at the end by the playback)."""
    return {key for key, message in device.view().items() if message.body == "full" and key in device.full}


class Exposure:
    """Hooks of the playback: when each message was readable on the server and whole on
    each device (``Readable``), and a reading of the server and the devices after every
    round."""

    def __init__(self, ctx: SampleContext, mailbox: Mailbox, hours_per_round: float) -> None:
        self.ctx = ctx
        self.mailbox = mailbox
        self.hours_per_round = hours_per_round
        self.server = Readable()
        self.devices: dict[str, Readable] = {}
        self.readings: list[dict[str, object]] = []

    def _now(self, playback: Playback) -> float:
        return playback.clock.hours(self.hours_per_round)

    def _server(self, playback: Playback, census: Collection[str]) -> None:
        self.server.only(census, self._now(playback))

    def _device(self, playback: Playback, name: str) -> None:
        holding, now = whole_on(playback.devices[name]), self._now(playback)
        readable = self.devices.setdefault(name, Readable())
        readable.only(holding, now)
        readable.found(holding, now)

    def delivered(self, playback: Playback, indices: list[int], round_: int) -> None:
        self.server.found((playback.keys[i] for i in indices), self._now(playback))

    def acted(self, playback: Playback, device: str, event: Any) -> None:
        self._device(playback, device)

    def session_ended(self, playback: Playback, record: Any) -> None:
        self._device(playback, record.device)
        if record.removed:
            self._server(playback, server_census(self.ctx, self.mailbox))

    def round_ended(self, playback: Playback, round_: int) -> None:
        if playback.timeline.outage(round_):
            return
        self._server(playback, playback.census)
        on_devices = {name: len(whole_on(device))
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
    decision_variants = ("timeline",)

    def __init__(self, spec: SyncSpec = SyncSpec(), hours_per_round: float = 24.0) -> None:
        self.spec = spec
        self.hours_per_round = hours_per_round

    def whole_copies_on_devices(self) -> int:
        return len(self.spec.devices)

    def run_sample(self, ctx: SampleContext) -> SampleOutcome:
        timeline = fit_timeline(ctx, self.name,
                                lambda initial: sync_timeline(ctx.timeline_seed, initial, self.spec))
        devices = [DeviceSpec(name, SyncPolicy.for_mode(ctx.mode)) for name in self.spec.devices]
        mailbox = ctx.new_mailbox()
        exposure = Exposure(ctx, mailbox, self.hours_per_round)
        playback = Playback(ctx, mailbox, timeline, devices, hooks=exposure)
        try:
            with ctx.measure() as measured:
                playback.run()
            integrity = playback.check_stores()
            base = sync_metrics(playback)
        finally:
            playback.close()
        readings = exposure.readings
        store = [r["server_store_bytes"] for r in readings]
        lost = [max(r["device_messages"].values(), default=0) for r in readings]
        hours = self.hours_per_round
        end = playback.timeline.rounds * hours
        server_spans = exposure.server.spans()
        device_hours = {name: message_hours(readable.spans(), end) for name, readable in exposure.devices.items()}
        metrics = dict(measured.metrics)
        metrics.update({key: base[key] for key in ("bytes_up", "bytes_down", "round_trips", "connections",
                                                   "intended_messages")})
        metrics.update(
            exposed_messages=readings[-1]["server_messages"],
            exposed_messages_max=most_at_once(server_spans),
            exposed_messages_mean=message_hours(server_spans, end) / end,
            exposed_message_hours=message_hours(server_spans, end),
            server_store_bytes=store[-1],
            server_store_bytes_max=max(store),
            device_exposed_messages=lost[-1],
            device_exposed_message_hours=max(device_hours.values(), default=0.0),
            delivered_messages=playback.timeline.messages,
        )
        info = {"readings": readings, "hours_per_round": hours, "timeline_seed": ctx.timeline_seed,
                "timeline_hours": end, "device_message_hours": device_hours,
                "timeline": playback.timeline.summary(),
                "capabilities_used": sorted(playback.capabilities_used)}
        split = corpus_split(ctx, playback.mailbox, playback.timeline.delivered_by(0))
        if split is not None:
            info["corpus_split"] = split
        integrity.update(views_checked=playback.checked_views)
        return SampleOutcome(metrics=metrics, integrity=integrity, commands=playback.commands(), info=info)
