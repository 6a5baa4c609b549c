"""The two truths of a timeline, computed from the timeline alone.

- The **intended** mailbox (``intended_by_round``): every action of every device applied
  in timeline order; what a user wants every device to show. Sync quality is measured
  against it (``agreement``); ``ChangeTracker`` follows each change as the server orders
  them instead.
- The **protocol-expected** view of each device (``ExpectedModel``): what the protocol's
  semantics let that device know, given when it had sessions. The suite checks its own
  devices against it after every round, so a bug in the harness fails the cell instead
  of passing for a property of the protocol.

Neither ever looks at what a driver returned. The model is a second, independent
statement of the rules ``bench.devices.device.SyncDevice`` follows (see its docstring):

- an action is taken on the device if the device shows the message (else it is
  "impossible" there) and queued;
- a session first sends the queue: an action the server can hold (flags if the protocol
  keeps flags, a move if it has folders, a deletion) on a message the device last saw on
  the server is checked against the server now: gone from where the device saw it (moved
  or deleted since) is a conflict, dropped; flags changed since is a conflict, applied;
- then the device catches up: where the protocol mirrors a mailbox (IMAP) it shows what
  the server has; otherwise (POP3) it adds the messages new to it and keeps the rest; in
  a delete mode the server is emptied.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping

from bench.modes import Mode
from bench.devices.timeline import ACTIONS, ARCHIVE, INBOX, MailState, Timeline, apply_action

_FLAG_ACTIONS = ("read", "flag", "unflag")
# What a device holds of a message it lists under each cache policy.
BODY_KINDS = {"full": "full", "headers": "headers", "online": "none"}
COUNTERS = ("actions", "impossible", "replayed", "conflicts_gone", "conflicts_changed")


@dataclass(frozen=True)
class Semantics:
    """What a protocol keeps on the server, and what a mode does after a download."""

    keeps_flags: bool
    has_folders: bool
    mirrors_mailbox: bool
    delete_after_fetch: bool

    @classmethod
    def of(cls, mode: Mode) -> "Semantics":
        protocol = mode.protocol
        return cls(protocol.keeps_flags, protocol.has_folders, protocol.mirrors_mailbox, mode.delete_after_fetch)


@dataclass(frozen=True)
class Shown:
    """A message as a device shows it (the same fields as ``bench.devices.device.LocalMessage``)."""

    folder: str
    seen: bool
    flagged: bool
    body: str


def intended_by_round(timeline: Timeline) -> list[dict[int, MailState]]:
    """The intended mailbox at the end of each round's actions."""
    mailbox: dict[int, MailState] = {}
    states = []
    for round_ in range(timeline.rounds):
        for event in timeline.round_events(round_):
            if event.kind == "deliver":
                for index in range(event.message, event.message + event.count):
                    mailbox[index] = MailState()
            elif event.kind in ACTIONS:
                apply_action(mailbox, event.kind, event.message)
        states.append(dict(mailbox))
    return states


@dataclass
class _ServerMessage:
    folder: str = INBOX
    version: int = 0  # grows with each move: a device that saw it before a move has it wrong
    seen: bool = False
    flagged: bool = False


@dataclass
class _Device:
    body: str
    local: dict[int, Shown] = field(default_factory=dict)
    rows: dict[int, _ServerMessage] = field(default_factory=dict)  # what it knows of the server
    outbox: list[tuple[str, int]] = field(default_factory=list)
    counters: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class Expectation:
    """The expected state at one checkpoint: every joined device's view and counters, and
    the server's messages (folder, read, flagged)."""

    views: dict[str, dict[int, Shown]]
    counters: dict[str, dict[str, int]]
    server: dict[int, MailState]


class ExpectedModel:
    """The protocol-expected views of a set of devices, played along a timeline."""

    def __init__(self, semantics: Semantics, caches: Mapping[str, str]) -> None:
        self.semantics = semantics
        self.devices = {name: _Device(BODY_KINDS[cache]) for name, cache in caches.items()}
        self.server: dict[int, _ServerMessage] = {}

    def deliver(self, first: int, count: int) -> None:
        for index in range(first, first + count):
            self.server[index] = _ServerMessage()

    def act(self, device: str, kind: str, message: int) -> None:
        dev = self.devices[device]
        shown = dev.local.get(message)
        if shown is None:
            dev.counters["impossible"] += 1
            return
        dev.counters["actions"] += 1
        if kind == "delete":
            del dev.local[message]
        elif kind == "move":
            dev.local[message] = replace(shown, folder=ARCHIVE)
        elif kind == "read":
            dev.local[message] = replace(shown, seen=True)
        else:
            dev.local[message] = replace(shown, flagged=kind == "flag")
        dev.outbox.append((kind, message))

    def _server_side(self, kind: str) -> bool:
        if kind in _FLAG_ACTIONS:
            return self.semantics.keeps_flags
        return self.semantics.has_folders if kind == "move" else True

    def session(self, device: str) -> None:
        dev = self.devices[device]
        sem = self.semantics
        for kind, message in dev.outbox:
            row = dev.rows.get(message)
            if not self._server_side(kind) or row is None:
                continue
            now = self.server.get(message)
            if now is None or (now.folder, now.version) != (row.folder, row.version):
                dev.counters["conflicts_gone"] += 1
                del dev.rows[message]
                continue
            if sem.keeps_flags and (now.seen, now.flagged) != (row.seen, row.flagged):
                dev.counters["conflicts_changed"] += 1
            if kind == "delete":
                del self.server[message]
                del dev.rows[message]
                dev.counters["replayed"] += 1
                continue
            if kind == "move":
                if now.folder != ARCHIVE:
                    now.folder, now.version = ARCHIVE, now.version + 1
                    dev.counters["replayed"] += 1
            elif kind == "read":
                now.seen = True
                dev.counters["replayed"] += 1
            else:
                now.flagged = kind == "flag"
                dev.counters["replayed"] += 1
            dev.rows[message] = replace(now)
        dev.outbox.clear()
        if sem.mirrors_mailbox:
            dev.local = {i: Shown(m.folder, m.seen, m.flagged, dev.body) for i, m in self.server.items()}
        else:
            for index in self.server:
                if index not in dev.rows and index not in dev.local:
                    dev.local[index] = Shown(INBOX, False, False, dev.body)
        dev.rows = {i: replace(m) for i, m in self.server.items()}
        if sem.delete_after_fetch:
            self.server.clear()
            dev.rows.clear()

    def expectation(self, devices: list[str]) -> Expectation:
        return Expectation(
            views={name: dict(self.devices[name].local) for name in devices},
            counters={name: {c: self.devices[name].counters[c] for c in COUNTERS} for name in devices},
            server={i: MailState(m.folder, m.seen, m.flagged) for i, m in self.server.items()},
        )

    def play(self, timeline: Timeline, followers: Mapping[str, str] | None = None) -> list[Expectation]:
        """The expectation at every checkpoint of ``timeline``."""
        followers = dict(followers or {})
        expectations = []
        for step in timeline.steps(followers):
            if step.kind == "deliver":
                self.deliver(step.event.message, step.event.count)
            elif step.kind == "act":
                self.act(step.device, step.event.kind, step.event.message)
            elif step.kind == "session":
                self.session(step.device)
            else:
                joined = [d for d in self.devices
                          if timeline.joined(followers.get(d, d), step.round)]
                expectations.append(self.expectation(joined))
        return expectations


def expected_views(timeline: Timeline, mode: Mode, caches: Mapping[str, str],
                   followers: Mapping[str, str] | None = None) -> list[Expectation]:
    """Every checkpoint's expectation for devices with these caching policies in ``mode``."""
    return ExpectedModel(Semantics.of(mode), caches).play(timeline, followers)


# ---------------------------------------------------------------------------------------
# Measuring a device against the intended mailbox


@dataclass(frozen=True)
class Agreement:
    """How far one device's view is from the intended mailbox.

    Pairs: every message delivered so far has a (message, present) pair; every message the
    intended mailbox holds also has (message, read), (message, flagged) and (message,
    folder). ``missing``: intended messages the device does not show; ``extra``: messages
    it shows that the intent removed; ``states_wrong``: wrong pairs among the messages it
    shows (each extra message counts one: its presence).
    """

    pairs: int
    matching: int
    missing: int
    extra: int
    states_wrong: int
    visible: int

    @property
    def consistency(self) -> float:
        return self.matching / self.pairs if self.pairs else 1.0

    def to_json(self) -> dict[str, Any]:
        return {"consistency": round(self.consistency, 6), "pairs": self.pairs, "missing": self.missing,
                "extra": self.extra, "states_wrong": self.states_wrong, "visible": self.visible}


def agreement(view: Mapping[int, Shown], intended: Mapping[int, MailState],
              delivered: int | Iterable[int]) -> Agreement:
    """``view`` against ``intended``, over the messages ``delivered`` so far: their indices,
    or a count ``n`` for messages ``0 .. n - 1``."""
    pairs = matching = missing = extra = wrong = 0
    for index in (range(delivered) if isinstance(delivered, int) else delivered):
        want, shown = intended.get(index), view.get(index)
        pairs += 1
        if (want is None) == (shown is None):
            matching += 1
        elif want is None:
            extra += 1
            wrong += 1
        else:
            missing += 1
        if want is None:
            continue
        pairs += 3
        if shown is None:
            continue
        right = (shown.seen == want.seen, shown.flagged == want.flagged, shown.folder == want.folder)
        matching += sum(right)
        wrong += 3 - sum(right)
    return Agreement(pairs, matching, missing, extra, wrong, len(view))


CHANGE_KINDS = ("read", "flag", "move", "delete", "new")
_KIND = {"read": "read", "flag": "flag", "unflag": "flag", "move": "move", "delete": "delete", "new": "new"}
_EFFECT = {"read": ("seen", True), "flag": ("flagged", True), "unflag": ("flagged", False),
           "move": ("folder", ARCHIVE), "delete": ("present", False), "new": ("present", True)}


def _shows(view: Mapping[int, Shown], message: int, attribute: str, value: Any) -> bool:
    if attribute == "present":
        return (message in view) == value
    shown = view.get(message)
    return shown is not None and getattr(shown, attribute) == value


@dataclass(eq=False)
class _Change:
    kind: str  # one of CHANGE_KINDS
    message: int
    attribute: str
    value: Any
    actor: str | None  # None: new mail
    round: int
    time_s: float
    sent: bool = False


@dataclass(eq=False)
class _Track:
    change: _Change
    observer: str
    reached: bool = False


class ChangeTracker:
    """Which changes reach which devices, and which sessions miss them.

    A **change** is an action of a device (``acted``: read, flag and unflag as ``flag``,
    move, delete), or new mail (``delivered``: a message that arrives after the first
    round, to be shown by every device joined then). An action is tracked on each other
    joined device that showed the message, differently, when it was made; new mail on
    every joined device.

    An action is **sent** at its device's next session, when the device still shows it
    after that session (it left the device; in POP3 it may stay there, which the protocol
    cannot carry); a device that no longer shows its own action after its session had it
    undone by the server's state (a conflict): the change is **dropped** and not counted.
    New mail is sent on delivery. Changes are ordered as they are sent, as a server orders
    them: sending a change ends the tracking of the changes sent before it on the same
    message and state (a delete: on the message), which are **superseded**, not counted.

    A sent change tracked on an observer is **reached** at the first session of the
    observer after which it shows it; every session of the observer that ends without
    showing it is a **miss** (the device had the chance to learn it and did not). What is
    not reached at the end never was. ``round_ended`` keeps, per round, the changes made so
    far (still tracked then) and reached by then, by kind, and the misses of the round's
    sessions (``change_rounds``). Counts are of (change, observer) pairs.
    """

    def __init__(self) -> None:
        self.unsent: list[_Change] = []
        self.tracks: list[_Track] = []  # waiting or reached; superseded and dropped ones leave
        self.superseded = 0
        self.dropped = 0
        self.seen_rounds: list[int] = []  # of actions (new mail apart)
        self.seen_s: list[float] = []
        self.session_misses: list[tuple[int, str, int]] = []  # (round, observer, misses)
        self.change_rounds: list[dict[str, Any]] = []

    def acted(self, kind: str, message: int, actor: str, views: Mapping[str, Mapping[int, Shown]],
              round_: int, time_s: float) -> None:
        attribute, value = _EFFECT[kind]
        change = _Change(_KIND[kind], message, attribute, value, actor, round_, time_s)
        self.unsent.append(change)
        self.tracks += [_Track(change, observer) for observer, view in views.items()
                        if observer != actor and message in view and not _shows(view, message, attribute, value)]

    def delivered(self, messages: Iterable[int], observers: Iterable[str], round_: int, time_s: float) -> None:
        """New mail on the server: each message is to be shown by each of ``observers``."""
        observers = list(observers)
        for message in messages:
            change = _Change("new", message, "present", True, None, round_, time_s, sent=True)
            self.tracks += [_Track(change, observer) for observer in observers]

    def _send(self, change: _Change) -> None:
        def ended(track: _Track) -> bool:
            earlier = track.change
            return (earlier.sent and not track.reached and earlier.message == change.message
                    and (earlier.attribute == change.attribute or change.kind == "delete"))

        kept = [t for t in self.tracks if not ended(t)]
        self.superseded += len(self.tracks) - len(kept)
        self.tracks = kept
        change.sent = True

    def _drop(self, change: _Change) -> None:
        kept = [t for t in self.tracks if t.change is not change]
        self.dropped += len(self.tracks) - len(kept)
        self.tracks = kept

    def observed(self, observer: str, view: Mapping[int, Shown], round_: int, time_s: float) -> int:
        """After a session of ``observer`` (``view``: what it shows then): its own changes
        are sent or dropped, and the changes sent to it are reached or missed. Returns the
        session's misses."""
        own = [c for c in self.unsent if c.actor == observer]
        self.unsent = [c for c in self.unsent if c.actor != observer]
        for change in own:
            if _shows(view, change.message, change.attribute, change.value):
                self._send(change)
            else:
                self._drop(change)
        misses = 0
        for track in self.tracks:
            change = track.change
            if track.observer != observer or track.reached or not change.sent:
                continue
            if _shows(view, change.message, change.attribute, change.value):
                track.reached = True
                if change.kind != "new":
                    self.seen_rounds.append(round_ - change.round)
                    self.seen_s.append(time_s - change.time_s)
            else:
                misses += 1
        self.session_misses.append((round_, observer, misses))
        return misses

    def by_kind(self) -> dict[str, dict[str, int]]:
        """Per kind: the (change, observer) pairs tracked (``made``) and ``reached``."""
        counts = {kind: {"made": 0, "reached": 0} for kind in CHANGE_KINDS}
        for track in self.tracks:
            counts[track.change.kind]["made"] += 1
            counts[track.change.kind]["reached"] += track.reached
        return counts

    def round_ended(self, round_: int) -> None:
        misses = sum(m for r, _, m in self.session_misses if r == round_)
        self.change_rounds.append({"round": round_, "by_kind": self.by_kind(), "misses": misses})

    def summary(self) -> dict[str, float]:
        counts = self.by_kind()
        tracked = sum(c["made"] for c in counts.values())
        seen = sum(c["reached"] for c in counts.values())
        result: dict[str, float] = {"changes_tracked": tracked, "changes_seen": seen}
        if tracked:
            result["changes_seen_share"] = seen / tracked
        for kind, count in counts.items():
            if count["made"]:
                result[f"changes_seen_share_{kind}"] = count["reached"] / count["made"]
        if self.seen_s:
            result["change_visible_s_median"] = statistics.median(self.seen_s)
            result["change_visible_rounds_median"] = statistics.median(self.seen_rounds)
        per_round: dict[int, int] = {}
        for round_, _, misses in self.session_misses:
            per_round[round_] = per_round.get(round_, 0) + misses
        result.update(sync_misses=sum(per_round.values()), sync_rounds=len(per_round),
                      sync_miss_rounds=sum(m > 0 for m in per_round.values()),
                      sync_misses_worst_round=max(per_round.values(), default=0))
        return result
