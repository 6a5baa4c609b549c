"""Playing a timeline with real devices against a real server, checked every round.

``Playback`` carries out ``Timeline.steps``: it delivers mail, has each device act, and
opens one metered session per device and round. At every checkpoint it checks

- every joined device's view and counters against the protocol-expected view
  (``bench.devices.sync_truth.ExpectedModel``): a difference is a harness bug and fails the cell
  (``IntegrityError``, naming the device, the round and the messages);
- the server's mailbox, as an observer holding the password sees it over IMAP (read-only),
  against the model's server (flags and folders only where the protocol keeps them);
- every message a device downloads against the corpus truth, as it arrives, and every
  message a device holds against it once more at the end;

and measures each device against the intended mailbox (``agreement``), and which changes
(actions, and new mail after the first round) reach the other devices and which sessions
miss them (``ChangeTracker``; ``change_rounds`` per round).

**A clock** for scenarios that measure over time: round ``r`` spans ``[r, r + 1)`` in
rounds, and the steps of a round (its deliveries, actions, sessions and checkpoint, as
``Timeline.steps`` gives them for the timeline as drawn) are spaced evenly in it: step
``k`` of ``n`` happens at ``r + k / n`` (``StepClock``; ``playback.clock`` is the current
step's). A scenario scales it to hours (storage-exposure: 24 hours a round). The clock
depends on the timeline alone, so it is the same on every server and mode.

Scenarios hook in at fixed points (``Hooks``): rounds starting and ending, deliveries,
actions and sessions.

Message ``i`` of the timeline is the ``i``-th corpus message delivered to the mailbox
(corpus message ``i``, the mailbox being fresh). A message the server refuses (larger than
it accepts, say) is recorded by the context (``ctx.refused``, which the cell's results
list) and left out of the timeline as played (``Timeline.without``): its delivery and
every action on it are dropped, and the expected views and the intended mailbox are those
of that timeline. Every other message keeps its index and no draw is made again, so the
cell differs from one on a server that stored the message by that message only.

With a corpus read from disk, ``fit_timeline`` draws the timeline whose deliveries fit in
it, and a corpus that cannot hold the timeline fails the cell with ``CorpusTooSmall``.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from bench.access import WireMeter, open_access
from bench.access.base import INBOX, SEEN, FLAGGED, FolderSnapshot
from bench.corpus.truth import part_digest
from bench.devices.device import SyncDevice, SyncPolicy
from bench.errors import IntegrityError, MailbenchError
from bench.devices.sync_truth import (
    COUNTERS, Agreement, ChangeTracker, Expectation, ExpectedModel, Semantics, Shown, agreement,
    intended_by_round,
)
from bench.devices.timeline import MailState, Timeline, TooFewMessages, fit_initial
from bench.sample import Mailbox, SampleContext

MAX_LISTED = 20  # differences named in an error
SETTLE_TIMEOUT_S = 5.0
SETTLE_POLL_S = 0.005


class CorpusTooSmall(MailbenchError):
    """The corpus has fewer messages than a device scenario delivers (one line: how many
    it needs, and what to do)."""


def corpus_size(corpus: Any) -> int | None:
    """How many messages ``corpus`` has, as its description in the results says
    (``available``); None for a corpus with no end (the generated one)."""
    return corpus.describe(0).get("available")


def corpus_split(ctx: SampleContext, mailbox: Mailbox, initial: int) -> dict[str, int] | None:
    """For ``info``: how a scenario used a corpus that ends (None for the generated one):
    the messages it has and the ``--messages`` asked for, the mailbox at the start
    (``initial`` messages stored), the new mail stored after it, the messages the server
    refused, and those never delivered."""
    available = corpus_size(ctx.corpus)
    if available is None:
        return None
    return {"corpus_messages": available, "requested": ctx.messages, "initial_mailbox": initial,
            "new_mail": len(mailbox.truth.entries) - initial, "refused": len(mailbox.refused),
            "unused": available - mailbox.delivered}


def fit_to_corpus(ctx: SampleContext, scenario: str, needs: Callable[[int], int], later: str) -> int:
    """The initial mailbox of ``scenario`` for the context's corpus (``fit_initial``):
    ``ctx.messages`` where the corpus has no end or room for everything, else fewer, so
    that the new mail (``needs(initial) - initial`` messages, ``later``) comes from the
    corpus's last messages. A corpus too small even so raises ``CorpusTooSmall``."""
    available = corpus_size(ctx.corpus)
    try:
        return fit_initial(ctx.messages, available, needs)
    except TooFewMessages as short:
        raise CorpusTooSmall(
            f"{scenario} needs a corpus of at least {short.needed} messages ({short.initial} in the mailbox "
            f"at the start, {short.needed - short.initial} {later}) and this one has {short.available}: "
            f"give a corpus of {short.needed} or more messages, or leave out --corpus to use the generated one"
        ) from None


def fit_timeline(ctx: SampleContext, scenario: str, make: Callable[[int], Timeline]) -> Timeline:
    """``make(initial)`` with the initial mailbox ``fit_to_corpus`` gives: with the
    generated corpus, ``make(ctx.messages)`` exactly as drawn before corpora could end."""
    made: dict[int, Timeline] = {}

    def timeline(initial: int) -> Timeline:
        if initial not in made:
            made[initial] = make(initial)
        return made[initial]

    return timeline(fit_to_corpus(ctx, scenario, lambda initial: timeline(initial).messages,
                                  "arriving as new mail over its rounds"))


@dataclass(frozen=True)
class DeviceSpec:
    """A device of the playback: a timeline device, or a passive one (``follows``) that
    copies a timeline device's connectivity, never acts, and syncs right after it."""

    name: str
    policy: SyncPolicy
    follows: str | None = None


@dataclass(frozen=True)
class StepClock:
    """Where a playback is in its timeline: step ``index`` of the ``count`` steps of round
    ``round`` (see the module docstring)."""

    round: int
    index: int
    count: int

    @property
    def rounds(self) -> float:
        """The moment of this step, in rounds since the timeline began."""
        return self.round + self.index / self.count

    def hours(self, hours_per_round: float) -> float:
        return self.rounds * hours_per_round


@dataclass
class SessionRecord:
    device: str
    round: int
    seconds: float
    bytes_up: int
    bytes_down: int
    round_trips: int
    connections: int
    downloaded: int
    downloaded_bytes: int
    replayed: int
    conflicts: int
    methods: dict[str, str]
    removed: set[str] = field(default_factory=set)
    settle_checks: int = 0  # sessions opened after this one until it no longer listed what it removed
    settle_ms: float = 0.0  # how long that took, when more than one check was needed
    misses: int = 0  # changes sent before the session that the device did not show after it (ChangeTracker)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "removed"}
        return dict(data, seconds=round(self.seconds, 6), removed=len(self.removed), settle_ms=round(self.settle_ms, 3))


class Hooks(Protocol):
    """What a scenario may do at fixed points (each method optional): when a round starts
    (before its deliveries), when messages were delivered (``indices``: the timeline's
    messages the server stored), when a device took an action (it showed the message),
    when a device's session ended (after the playback waited for what it removed to be
    gone, and took its view), when a round ended (after its checkpoint), and on the way
    out, whatever happened (``finish``: undo what the hooks did, such as an outage).
    ``playback.clock`` is the step's time."""

    def round_started(self, playback: "Playback", round_: int) -> None: ...
    def delivered(self, playback: "Playback", indices: list[int], round_: int) -> None: ...
    def acted(self, playback: "Playback", device: str, event: Any) -> None: ...
    def session_ended(self, playback: "Playback", record: SessionRecord) -> None: ...
    def round_ended(self, playback: "Playback", round_: int) -> None: ...
    def finish(self, playback: "Playback") -> None: ...


def _hook(hooks: object, name: str, *args: Any) -> None:
    method = getattr(hooks, name, None)
    if method is not None:
        method(*args)


class Playback:
    """One timeline, played by real devices on one mailbox (see the module docstring).

    ``ctx`` is the sample's ``SampleContext``; ``mailbox`` a fresh, empty one.
    ``drawn`` is the timeline as given; ``timeline`` the one played, without the messages
    the server refused (``refused_messages``).
    """

    def __init__(self, ctx: SampleContext, mailbox: Mailbox, timeline: Timeline, devices: list[DeviceSpec],
                 hooks: object | None = None) -> None:
        self.ctx = ctx
        self.mailbox = mailbox
        self.drawn = timeline
        self.timeline = timeline
        self.refused_messages: set[int] = set()
        self.specs = {spec.name: spec for spec in devices}
        self.followers = {spec.name: spec.follows for spec in devices if spec.follows}
        self.hooks = hooks
        available = corpus_size(ctx.corpus)
        if available is not None and timeline.messages > available:
            raise CorpusTooSmall(f"the timeline delivers {timeline.messages} messages and the corpus has "
                                 f"{available}: draw it with fit_timeline, or give a larger corpus")
        self.semantics = Semantics.of(ctx.mode)
        self.caches = {spec.name: spec.policy.cache for spec in devices}
        self.expected: list[Expectation] = ExpectedModel(self.semantics, self.caches).play(timeline, self.followers)
        self.intended = intended_by_round(timeline)
        self.first_position = mailbox.delivered  # the corpus position of the timeline's message 0
        self.keys: dict[int, str] = {}
        self.index: dict[str, int] = {}
        self._entries: dict[str, Any] = {}
        self.devices: dict[str, SyncDevice] = {
            spec.name: SyncDevice(spec.name, spec.policy, Path(ctx.workdir) / f"device-{spec.name}", self.check_download)
            for spec in devices
        }
        self.sessions: list[SessionRecord] = []
        self.rounds: list[dict[str, Any]] = []
        self.tracker = ChangeTracker()
        self.clock = StepClock(0, 0, 1)
        # A device's first session after round 0 (a device joining late): (round, and what
        # it showed of the intended mailbox then: ``offline_reading``).
        self.join_readings: dict[str, tuple[int, tuple[int, int, int]]] = {}
        self.first_holder: dict[int, str] = {}
        self.census: dict[str, MailState] = {}
        self.checked_views = 0
        self.capabilities_used: set[str] = set()
        self.meters: list[WireMeter] = []  # one per device session, for per-command latencies

    # -- the truth of downloads --------------------------------------------------------

    def _learn_keys(self, stored: list[int]) -> None:
        """The keys of the messages just stored (timeline indices ``stored``, in order)."""
        entries = self.mailbox.truth.entries
        new = entries[len(entries) - len(stored):] if stored else []
        for index, entry in zip(stored, new):
            if entry.key in self._entries or entry.key.startswith("#"):
                raise MailbenchError(
                    f"message {self.first_position + index + 1} of the corpus has no Message-ID or repeats one "
                    f"({entry.key}); device scenarios tell messages apart by Message-ID (the generated corpus "
                    "has unique ones)"
                )
            self.index[entry.key] = index
            self.keys[index] = entry.key
            self._entries[entry.key] = entry

    def check_download(self, key: str, part: str, raw: bytes) -> None:
        """A downloaded message must be one delivered, byte for byte (after canonical form)."""
        entry = self._entries.get(key)
        if entry is None:
            raise IntegrityError(f"a device downloaded a message that was never delivered: {key}",
                                 {"checked": 1, "passed": False, "unexpected": [key]})
        if part_digest(raw, part) != entry.digest(part):
            raise IntegrityError(f"a device downloaded {key} changed ({part})",
                                 {"checked": 1, "passed": False, "changed": [key]})

    def check_stores(self) -> dict[str, Any]:
        """Every message every device holds, read back from its store, against the truth."""
        checked = 0
        changed, missing, unexpected = [], [], []
        for name, device in self.devices.items():
            view = device.view()
            for store, kind in ((device.full, "full"), (device.headers, "headers")):
                holding = {key for key, m in view.items() if m.body == kind}
                if len(store) != len(holding):
                    unexpected.append(f"{name}: {len(store)} {kind} files for {len(holding)} messages")
                for key in sorted(holding):
                    raw = store.get(key)
                    checked += 1
                    if raw is None:
                        missing.append(f"{name}: {key}")
                    elif part_digest(raw, kind) != self._entries[key].digest(kind):
                        changed.append(f"{name}: {key}")
        report = {"checked": checked, "passed": not (changed or missing or unexpected),
                  "missing": missing, "changed": changed, "unexpected": unexpected}
        if not report["passed"]:
            raise IntegrityError(
                f"device stores differ from the truth: {len(missing)} missing, {len(changed)} changed, "
                f"{len(unexpected)} unexpected", report)
        return report

    # -- views in timeline terms ---------------------------------------------------------

    def view(self, name: str) -> dict[int, Shown]:
        """A device's view by message index (a key not delivered is a harness error)."""
        shown = {}
        for key, message in self.devices[name].view().items():
            if key not in self.index:
                raise IntegrityError(f"{name} shows a message that was never delivered: {key}",
                                     {"passed": False, "unexpected": [key]})
            shown[self.index[key]] = Shown(message.folder, message.seen, message.flagged, message.body)
        return shown

    def joined(self, name: str, round_: int) -> bool:
        return self.timeline.joined(self.followers.get(name, name), round_)

    # -- playing -------------------------------------------------------------------------

    def run(self) -> "Playback":
        steps = list(self.drawn.steps(self.followers))
        per_round = Counter(step.round for step in steps)
        try:
            current = -1
            index = 0
            for step in steps:
                index = index + 1 if step.round == current else 0
                self.clock = StepClock(step.round, index, per_round[step.round])
                if step.round != current:
                    current = step.round
                    _hook(self.hooks, "round_started", self, current)
                if step.kind == "deliver":
                    self._deliver(step.event, current)
                elif step.kind == "act":
                    if step.event.message not in self.refused_messages:
                        self._act(step.device, step.event, current)
                elif step.kind == "session":
                    self._session(step.device, current)
                else:
                    self._checkpoint(current)
                    _hook(self.hooks, "round_ended", self, current)
        finally:
            _hook(self.hooks, "finish", self)
        return self

    def _deliver(self, event: Any, round_: int) -> None:
        """Deliver the timeline's messages ``event.message`` .. ``+ count - 1`` (the corpus's
        next ones). Those the server refused (``ctx.deliver`` records them) are left out of
        the timeline as played, and the model and the intent are worked out again for it:
        the rounds before are unchanged, since the messages were not there yet."""
        first = self.mailbox.delivered - self.first_position
        if first != event.message:
            raise MailbenchError(f"the mailbox had {first} messages delivered where the timeline had "
                                 f"{event.message}: a playback needs a mailbox of its own")
        report = self.ctx.deliver(self.mailbox, event.count)
        if report.offered < event.count:
            raise CorpusTooSmall(f"the corpus ran out in round {round_}: the timeline delivers "
                                 f"{self.drawn.messages} messages and the corpus had {self.mailbox.delivered}")
        refused = {r.index - self.first_position for r in report.refused}
        stored = [i for i in range(first, first + event.count) if i not in refused]
        self._learn_keys(stored)
        if refused:
            self.refused_messages |= refused
            self.timeline = self.drawn.without(self.refused_messages)
            self.expected = ExpectedModel(self.semantics, self.caches).play(self.timeline, self.followers)
            self.intended = intended_by_round(self.timeline)
        if round_ > 0:  # new mail; the mailbox at the start is each device's first sync
            self.tracker.delivered(stored, [d for d in self.devices if self.joined(d, round_)], round_,
                                   time.perf_counter())
        _hook(self.hooks, "delivered", self, stored, round_)

    def _act(self, name: str, event: Any, round_: int) -> None:
        views = {d: self.view(d) for d in self.devices if self.joined(d, round_)}
        key = self.keys[event.message]
        if self.devices[name].act(event.kind, key):
            self.tracker.acted(event.kind, event.message, name, views, round_, time.perf_counter())
            _hook(self.hooks, "acted", self, name, event)

    def session(self, name: str, round_: int) -> SessionRecord:
        """One metered session of a device (also for scenarios, outside the timeline)."""
        device = self.devices[name]
        meter = WireMeter()
        start = time.perf_counter()
        with self.ctx.connect(self.mailbox, meter) as access:
            report = device.session(access)
        seconds = time.perf_counter() - start
        record = SessionRecord(name, round_, seconds, meter.bytes_up, meter.bytes_down, meter.round_trips,
                               meter.connections, report.downloaded, report.downloaded_bytes, report.replayed,
                               report.conflicts_gone + report.conflicts_changed, report.methods)
        record.removed = report.removed
        self.sessions.append(record)
        self.meters.append(meter)
        self.capabilities_used.update(access.capabilities_used)
        return record

    def _settle(self, record: SessionRecord) -> None:
        """Wait until a new session of the cell's protocol no longer lists what ``record``'s
        session deleted or moved away (bounded), so the next device meets what the session
        asked for. Devices sync minutes apart, the timeline's sessions milliseconds apart:
        Courier answers POP3 QUIT before it has deleted the messages, and a session opened
        within ~10 ms lists them still (and may even RETR some: two devices with the same
        message in a delete mode). How long each wait was is kept (``settle_ms``)."""
        server = self.ctx.direct_server
        protocol = self.ctx.mode.protocol.name
        endpoint = server.endpoint(protocol, self.mailbox.account, self.ctx.tls)
        start = time.perf_counter()
        checks = 0
        while True:
            checks += 1
            with open_access(protocol, endpoint, WireMeter(), self.ctx.options) as access:
                left = record.removed & {ref.id for ref in access.list_messages().refs}
            waited = time.perf_counter() - start
            if not left:
                break
            if waited > SETTLE_TIMEOUT_S:
                raise MailbenchError(
                    f"{len(left)} messages {record.device} deleted in round {record.round} were still listed "
                    f"{SETTLE_TIMEOUT_S:.0f} s after its session ended")
            self.ctx.wait(SETTLE_POLL_S)
        record.settle_checks = checks
        record.settle_ms = waited * 1000 if checks > 1 else 0.0

    def _session(self, name: str, round_: int) -> None:
        record = self.session(name, round_)
        if record.removed:
            self._settle(record)
        view = self.view(name)
        now = time.perf_counter()
        record.misses = self.tracker.observed(name, view, round_, now)
        for index in view:
            self.first_holder.setdefault(index, name)
        if round_ > 0 and all(s.device != name for s in self.sessions[:-1]):
            self.join_readings[name] = (round_, self.offline_reading(name, round_))
        _hook(self.hooks, "session_ended", self, record)

    def _checkpoint(self, round_: int) -> None:
        expected = self.expected[round_]
        problems: list[str] = []
        record: dict[str, Any] = {"round": round_, "delivered": self.timeline.delivered_by(round_),
                                  "outage": self.timeline.outage(round_), "devices": {}}
        for name in expected.views:
            view = self.view(name)
            problems += _differences(name, view, expected.views[name], self.keys)
            counters = {c: self.devices[name].counters[c] for c in COUNTERS}
            if counters != expected.counters[name]:
                problems.append(f"{name}: counters {counters} != expected {expected.counters[name]}")
            self.checked_views += 1
            measured = agreement(view, self.intended[round_], self.timeline.arrived(round_))
            record["devices"][name] = dict(measured.to_json(), online=self._online(name, round_))
        if not self.timeline.outage(round_):
            self.census = server_census(self.ctx, self.mailbox)
            problems += self._server_differences(expected)
            record["server_messages"] = len(self.census)
        if problems:
            raise IntegrityError(
                f"round {round_}: the devices or the server differ from the protocol-expected state "
                f"({len(problems)} differences; first: {problems[0]})",
                {"passed": False, "round": round_, "differences": problems[:MAX_LISTED]},
            )
        for session in (s for s in self.sessions if s.round == round_):
            record.setdefault("sessions", {})[session.device] = session.to_json()
        self.rounds.append(record)
        self.tracker.round_ended(round_)

    def _online(self, name: str, round_: int) -> bool:
        return self.timeline.online(self.followers.get(name, name), round_) and not self.timeline.outage(round_)

    def _server_differences(self, expected: Expectation) -> list[str]:
        problems = []
        want = {self.keys[i]: state for i, state in expected.server.items()}
        for key in sorted(set(want) | set(self.census)):
            have, should = self.census.get(key), want.get(key)
            if have is None or should is None:
                problems.append(f"server: {key} {'missing' if have is None else 'unexpected'}")
                continue
            if self.semantics.has_folders and have.folder != should.folder:
                problems.append(f"server: {key} in {have.folder}, expected {should.folder}")
            if not self.semantics.has_folders and have.folder != INBOX:
                problems.append(f"server: {key} in {have.folder}")
            if self.semantics.keeps_flags and (have.seen, have.flagged) != (should.seen, should.flagged):
                problems.append(f"server: {key} seen/flagged {have.seen}/{have.flagged}, "
                                f"expected {should.seen}/{should.flagged}")
        return problems

    # -- results ---------------------------------------------------------------------------

    def final(self) -> dict[str, Agreement]:
        """Each device against the intended mailbox at the last checkpoint."""
        last = self.timeline.rounds - 1
        return {name: agreement(self.view(name), self.intended[last], self.timeline.arrived(last))
                for name in self.devices if self.joined(name, last)}

    def other_device_share(self) -> float | None:
        """Of the intended mailbox at the end, the share that devices other than the first
        to get each message show (every joined device but that one counts)."""
        last = self.timeline.rounds - 1
        views = {name: self.view(name) for name in self.devices if self.joined(name, last)}
        hits = total = 0
        for index in self.intended[last]:
            first = self.first_holder.get(index)
            if first is None:
                continue
            for name, view in views.items():
                if name != first:
                    total += 1
                    hits += index in view
        return hits / total if total else None

    def last_session_round(self, name: str, before: int) -> int | None:
        """The last round before ``before`` in which device ``name`` had a session."""
        rounds = [s.round for s in self.sessions if s.device == name and s.round < before]
        return max(rounds) if rounds else None

    def offline_reading(self, name: str, since_round: int) -> tuple[int, int, int]:
        """What device ``name`` can show with no connection, of the intended mailbox as it
        was at ``since_round`` (its last session): (messages, listed, readable). Readable is
        the whole message, attachments included, intact against the truth; listed is at
        least its entry (headers or more)."""
        device = self.devices[name]
        view = device.view()
        wanted = self.intended[since_round]
        listed = readable = 0
        for index in wanted:
            key = self.keys[index]
            listed += key in view
            raw = device.readable(key)
            if raw is not None and part_digest(raw, "full") == self._entries[key].full_digest:
                readable += 1
        return len(wanted), listed, readable

    def lost_with(self, name: str) -> int:
        """Messages of the intended mailbox that exist nowhere once device ``name`` is gone:
        whole on that device only (not on the server, no whole copy on another device)."""
        last = self.timeline.rounds - 1
        others = [d for n, d in self.devices.items() if n != name]
        lost = 0
        for index in self.intended[last]:
            key = self.keys[index]
            if self.devices[name].readable(key) is None or key in self.census:
                continue
            if not any(other.readable(key) is not None for other in others):
                lost += 1
        return lost

    def commands(self) -> dict[str, dict[str, object]]:
        """Every device session's commands: count and latency of each, as a meter gives them."""
        return merged_commands(self.meters)

    def close(self) -> None:
        for device in self.devices.values():
            device.close()


def _differences(name: str, view: Mapping[int, Shown], expected: Mapping[int, Shown],
                 keys: Mapping[int, str]) -> list[str]:
    problems = []
    for index in sorted(set(view) | set(expected)):
        have, want = view.get(index), expected.get(index)
        if have != want:
            what = "missing" if have is None else "unexpected" if want is None else f"{have} != expected {want}"
            problems.append(f"{name}: {keys[index]} {what}")
    return problems


def server_census(ctx: SampleContext, mailbox: Mailbox) -> dict[str, MailState]:
    """What someone holding the account's password reads on the server: every message of
    every folder, by Message-ID, with its folder and flags. Over IMAP, read-only (EXAMINE),
    whatever the cell's protocol, unmetered, straight to the server (not through the cell's
    link): an observer, not a device."""
    server = ctx.direct_server
    endpoint = server.endpoint("imap", mailbox.account)
    found: dict[str, MailState] = {}
    with open_access("imap", endpoint, WireMeter()) as access:
        access.read_only = True
        for folder in access.folders():
            for state in access.changes(folder, FolderSnapshot()).new:
                key = state.message_id or f"#{folder}/{state.ref.id}"
                found[key] = MailState(folder, SEEN in state.flags, FLAGGED in state.flags)
    return found


def merged_commands(meters: list[WireMeter]) -> dict[str, dict[str, object]]:
    """The per-command figures of several meters as one (``WireMeter.commands`` shape)."""
    merged = WireMeter()
    for meter in meters:
        for command, latencies in meter.latencies_ms.items():
            merged.latencies_ms[command].extend(latencies)
    return merged.commands()
