"""The two truths of a timeline, computed from the timeline alone.

- The **intended** mailbox (``intended_by_round``): every action of every device applied
  in timeline order; what a user wants every device to show. Sync quality is measured
  against it (``agreement``, ``ChangeTracker``).
- The **protocol-expected** view of each device (``ExpectedModel``): what the protocol's
  semantics let that device know, given when it had sessions. The suite checks its own
  devices against it after every round, so a bug in the harness fails the cell instead
  of passing for a property of the protocol.

Neither ever looks at what a driver returned. The model is a second, independent
statement of the rules ``bench.device.SyncDevice`` follows (see its docstring):

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
from bench.timeline import ACTIONS, ARCHIVE, INBOX, MailState, Timeline, apply_action

_FLAG_ACTIONS = ("read", "flag", "unflag")
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
        server_side = {"imap": (True, True, True), "pop3": (False, False, False)}[mode.protocol]
        return cls(*server_side, mode.delete_after_fetch)


@dataclass(frozen=True)
class Shown:
    """A message as a device shows it (the same fields as ``bench.device.LocalMessage``)."""

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


_EFFECT = {"read": ("seen", True), "flag": ("flagged", True), "unflag": ("flagged", False),
           "move": ("folder", ARCHIVE), "delete": ("present", False)}


def _shows(view: Mapping[int, Shown], message: int, attribute: str, value: Any) -> bool:
    if attribute == "present":
        return (message in view) == value
    shown = view.get(message)
    return shown is not None and getattr(shown, attribute) == value


@dataclass
class _Pending:
    message: int
    attribute: str
    value: Any
    observer: str
    round: int
    time_s: float


class ChangeTracker:
    """When each change made on one device shows on each other device.

    A change is tracked on an observer that showed the message, differently, when the
    change was made; it is *seen* at the first session after which the observer shows it.
    A later action on the same message ends the tracking of earlier ones (superseded, not
    counted). What is still pending at the end was never seen.
    """

    def __init__(self) -> None:
        self.pending: list[_Pending] = []
        self.seen_rounds: list[int] = []
        self.seen_s: list[float] = []
        self.superseded = 0

    def acted(self, kind: str, message: int, actor: str, views: Mapping[str, Mapping[int, Shown]],
              round_: int, time_s: float) -> None:
        before = len(self.pending)
        self.pending = [p for p in self.pending if p.message != message]
        self.superseded += before - len(self.pending)
        attribute, value = _EFFECT[kind]
        for observer, view in views.items():
            if observer != actor and message in view and not _shows(view, message, attribute, value):
                self.pending.append(_Pending(message, attribute, value, observer, round_, time_s))

    def observed(self, observer: str, view: Mapping[int, Shown], round_: int, time_s: float) -> None:
        left = []
        for p in self.pending:
            if p.observer == observer and _shows(view, p.message, p.attribute, p.value):
                self.seen_rounds.append(round_ - p.round)
                self.seen_s.append(time_s - p.time_s)
            else:
                left.append(p)
        self.pending = left

    def summary(self) -> dict[str, float]:
        seen, unseen = len(self.seen_s), len(self.pending)
        result: dict[str, float] = {"changes_tracked": seen + unseen, "changes_seen": seen}
        if seen + unseen:
            result["changes_seen_share"] = seen / (seen + unseen)
        if seen:
            result["change_visible_s_median"] = statistics.median(self.seen_s)
            result["change_visible_rounds_median"] = statistics.median(self.seen_rounds)
        return result
