"""A seeded timeline of what happens to one mailbox and the devices that read it.

The same timeline drives every server, protocol and mode, so their results compare like
with like. It says, round by round, what a user did and when, never what a protocol
made of it:

- ``deliver``: ``count`` new messages arrive on the server (corpus messages
  ``message`` .. ``message + count - 1``, in order; a message the server refused is left
  out of the timeline as played, ``Timeline.without``);
- ``join``: a device is set up (it has nothing until its first session);
- ``offline`` / ``online``: a device loses / regains its connection;
- ``outage``: nobody reaches the server this round (link cut or server down);
- an action (``read``, ``flag``, ``unflag``, ``move`` to ``Archive``, ``delete``) by a
  device on one message.

One round runs in this order (``steps``): deliveries; joins and connectivity; the
actions, in timeline order, each taken on the device that did it; a session of every
device that is joined and online, in the timeline's device order (unless there is an
outage); a checkpoint, where states are compared.

Actions are chosen as a user would: from what the acting device showed at its last
session, as the *intent* says it was (the intended mailbox then, plus the device's own
actions since), so a device that was offline may act on a message that another device
has since moved or deleted: a conflict the protocols must then resolve. No message is
acted on twice in one round.

A corpus read from disk ends: ``fit_initial`` gives the initial mailbox that leaves enough
of it for the new mail a timeline delivers later (the generated corpus has no end).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Any, Callable, Collection, Iterator, Mapping

from bench.access.base import INBOX

# The actions a user takes on a message, and the folder a move files it into: the
# vocabulary devices carry out and the oracle replays.
ARCHIVE = "Archive"
ACTIONS = ("read", "flag", "unflag", "move", "delete")


@dataclass(frozen=True)
class Event:
    round: int
    kind: str
    device: str | None = None
    message: int | None = None
    count: int = 0


@dataclass(frozen=True)
class MailState:
    """The state of one message as the user means it to be."""

    folder: str = INBOX
    seen: bool = False
    flagged: bool = False


def apply_action(mailbox: dict[int, MailState], kind: str, message: int) -> None:
    """The user's intent of one action; an action on a message that is gone does nothing."""
    state = mailbox.get(message)
    if state is None:
        return
    if kind == "delete":
        del mailbox[message]
    elif kind == "move":
        mailbox[message] = replace(state, folder=ARCHIVE)
    elif kind == "read":
        mailbox[message] = replace(state, seen=True)
    elif kind in ("flag", "unflag"):
        mailbox[message] = replace(state, flagged=kind == "flag")
    else:
        raise ValueError(f"unknown action {kind!r}")


@dataclass(frozen=True)
class Step:
    """One thing to do when playing a timeline (see ``Timeline.steps``)."""

    kind: str  # "deliver" | "act" | "session" | "checkpoint"
    round: int
    device: str | None = None
    event: Event | None = None


@dataclass(frozen=True)
class Timeline:
    seed: int
    devices: tuple[str, ...]
    rounds: int
    events: tuple[Event, ...]

    def round_events(self, round_: int) -> list[Event]:
        return [event for event in self.events if event.round == round_]

    @property
    def messages(self) -> int:
        """How many messages the timeline delivers in all."""
        return sum(event.count for event in self.events if event.kind == "deliver")

    def delivered_by(self, round_: int) -> int:
        """How many messages have arrived by the end of ``round_``."""
        return sum(e.count for e in self.events if e.kind == "deliver" and e.round <= round_)

    def arrived(self, round_: int) -> list[int]:
        """The messages that have arrived by the end of ``round_`` (``0 .. delivered_by - 1``
        unless messages were left out: ``without``)."""
        return [i for e in self.events if e.kind == "deliver" and e.round <= round_
                for i in range(e.message, e.message + e.count)]

    def without(self, messages: Collection[int]) -> "Timeline":
        """The timeline as played when ``messages`` never reached the server (it refused
        them): their deliveries and every action on them gone, every other event as drawn.
        Only what involves those messages changes; no draw is made again."""
        if not messages:
            return self
        events: list[Event] = []
        for event in self.events:
            if event.kind == "deliver":
                kept = [i for i in range(event.message, event.message + event.count) if i not in messages]
                while kept:  # one delivery per run of consecutive messages
                    run = 1
                    while run < len(kept) and kept[run] == kept[0] + run:
                        run += 1
                    events.append(replace(event, message=kept[0], count=run))
                    kept = kept[run:]
            elif not (event.kind in ACTIONS and event.message in messages):
                events.append(event)
        return replace(self, events=tuple(events))

    def joined(self, device: str, round_: int) -> bool:
        joins = [e.round for e in self.events if e.kind == "join" and e.device == device]
        return round_ >= (joins[0] if joins else 0)

    def online(self, device: str, round_: int) -> bool:
        state = True
        for event in self.events:
            if event.round > round_:
                break
            if event.device == device and event.kind in ("offline", "online"):
                state = event.kind == "online"
        return state and self.joined(device, round_)

    def outage(self, round_: int) -> bool:
        return any(e.kind == "outage" and e.round == round_ for e in self.events)

    def sessions(self, round_: int, followers: Mapping[str, str] | None = None) -> list[str]:
        """Who has a session in ``round_``, in order; a follower (a passive device that
        copies a timeline device's connectivity) right after the device it follows."""
        if self.outage(round_):
            return []
        order = []
        for device in self.devices:
            if self.online(device, round_):
                order.append(device)
                order.extend(f for f, leader in (followers or {}).items() if leader == device)
        return order

    def actions(self) -> list[Event]:
        return [event for event in self.events if event.kind in ACTIONS]

    def steps(self, followers: Mapping[str, str] | None = None) -> Iterator[Step]:
        """The timeline as the playback and the expected model both carry it out."""
        for round_ in range(self.rounds):
            events = self.round_events(round_)
            for event in events:
                if event.kind == "deliver":
                    yield Step("deliver", round_, event=event)
            for event in events:
                if event.kind in ACTIONS:
                    yield Step("act", round_, event.device, event)
            for device in self.sessions(round_, followers):
                yield Step("session", round_, device)
            yield Step("checkpoint", round_)

    def summary(self) -> dict[str, Any]:
        kinds = Counter(event.kind for event in self.events)
        return {
            "seed": self.seed, "devices": list(self.devices), "rounds": self.rounds,
            "messages": self.messages, "events": dict(sorted(kinds.items())),
        }

    def to_json(self) -> dict[str, Any]:
        return dict(self.summary(), timeline=[
            {k: v for k, v in asdict(e).items() if v is not None and not (k == "count" and v == 0)}
            for e in self.events
        ])


# ---------------------------------------------------------------------------------------
# Generating timelines


DEFAULT_WEIGHTS = (("read", 4.0), ("flag", 1.5), ("unflag", 1.0), ("move", 1.5), ("delete", 1.5))


def _valid(kind: str, state: MailState) -> bool:
    return {
        "read": not state.seen, "flag": not state.flagged, "unflag": state.flagged,
        "move": state.folder == INBOX, "delete": True,
    }[kind]


class _Planner:
    """Keeps the intended mailbox and what each device believes while events are drawn."""

    def __init__(self, seed: int, devices: tuple[str, ...], weights: tuple[tuple[str, float], ...]) -> None:
        self.rng = random.Random(seed)
        self.devices = devices
        self.weights = dict(weights)
        self.intended: dict[int, MailState] = {}
        self.beliefs: dict[str, dict[int, MailState]] = {device: {} for device in devices}
        self.events: list[Event] = []
        self.delivered = 0

    def add(self, event: Event) -> None:
        self.events.append(event)

    def deliver(self, round_: int, count: int) -> None:
        if count <= 0:
            return
        self.events.append(Event(round_, "deliver", message=self.delivered, count=count))
        for index in range(self.delivered, self.delivered + count):
            self.intended[index] = MailState()
        self.delivered += count

    def act(self, round_: int, device: str, touched: set[int], hot: set[int] = frozenset(),
            bias: float = 0.0) -> int | None:
        belief = self.beliefs[device]
        candidates = sorted(i for i in belief if i not in touched)
        if not candidates:
            return None
        pool = candidates
        if hot and bias and self.rng.random() < bias:
            pool = [i for i in candidates if i in hot] or candidates
        message = self.rng.choice(pool)
        kinds = [kind for kind in ACTIONS if _valid(kind, belief[message]) and self.weights.get(kind, 0) > 0]
        kind = self.rng.choices(kinds, weights=[self.weights[k] for k in kinds])[0]
        apply_action(self.intended, kind, message)
        apply_action(belief, kind, message)
        self.events.append(Event(round_, kind, device, message))
        touched.add(message)
        return message

    def synced(self, device: str) -> None:
        self.beliefs[device] = dict(self.intended)

    def timeline(self, seed: int, rounds: int) -> Timeline:
        return Timeline(seed, self.devices, rounds, tuple(self.events))


@dataclass(frozen=True)
class SyncSpec:
    """The shape of a multi-device timeline.

    Round 0 delivers the initial mailbox; rounds 1..``rounds`` bring new mail and actions;
    then ``settle_rounds`` rounds with nothing new, every device online, so the last
    checkpoint shows where the devices end up. ``joins``: (device, round) for devices set
    up late; ``offline``: (device, first round offline, round back online).
    ``conflict_bias``: the chance that an online device acts on a message a device now
    offline has acted on while offline (so conflicts happen at all in small mailboxes).
    """

    devices: tuple[str, ...] = ("phone", "laptop", "tablet")
    rounds: int = 8
    settle_rounds: int = 1
    new_mail: tuple[int, int] = (1, 3)
    actions: tuple[int, int] = (3, 6)
    joins: tuple[tuple[str, int], ...] = (("tablet", 4),)
    offline: tuple[tuple[str, int, int], ...] = (("phone", 2, 4),)
    weights: tuple[tuple[str, float], ...] = DEFAULT_WEIGHTS
    conflict_bias: float = 0.3

    def __post_init__(self) -> None:
        known = set(self.devices)
        for device, round_ in self.joins:
            if device not in known or not 0 <= round_ <= self.rounds:
                raise ValueError(f"join of {device!r} at round {round_} is outside the timeline")
        for device, start, back in self.offline:
            if device not in known or not 1 <= start < back <= self.rounds:
                raise ValueError(f"offline window of {device!r} must lie within rounds 1..{self.rounds}")
        if self.settle_rounds < 1:
            raise ValueError("at least one settle round, so that the last checkpoint is after every session")


def sync_timeline(seed: int, initial: int, spec: SyncSpec = SyncSpec()) -> Timeline:
    """A multi-device timeline (see ``SyncSpec``), the same for every protocol and mode."""
    planner = _Planner(seed, spec.devices, spec.weights)
    joins = dict(spec.joins)
    total = 1 + spec.rounds + spec.settle_rounds
    for round_ in range(total):
        planner.deliver(round_, initial if round_ == 0 else
                        planner.rng.randint(*spec.new_mail) if round_ <= spec.rounds else 0)
        for device, at in spec.joins:
            if at == round_ and at > 0:
                planner.add(Event(round_, "join", device))
        for device, start, back in spec.offline:
            if round_ == start:
                planner.add(Event(round_, "offline", device))
            elif round_ == back:
                planner.add(Event(round_, "online", device))
        offline_now = {d for d, start, back in spec.offline if start <= round_ < back}
        if 1 <= round_ <= spec.rounds:
            actors = [d for d in spec.devices if joins.get(d, 0) < round_]
            hot: set[int] = set()
            touched: set[int] = set()
            for _ in range(planner.rng.randint(*spec.actions)):
                device = planner.rng.choice(actors)
                message = planner.act(round_, device, touched, hot if device not in offline_now else frozenset(),
                                      spec.conflict_bias)
                if message is not None and device in offline_now:
                    hot.add(message)
        for device in spec.devices:
            if joins.get(device, 0) <= round_ and device not in offline_now:
                planner.synced(device)
    return planner.timeline(seed, total)


OFFLINE_DEVICES = ("mobile", "desk")


def offline_timeline(seed: int, initial: int, new_mail: int = 3, desk_actions: int = 4,
                     offline_actions: int = 6, conflict_bias: float = 0.6,
                     weights: tuple[tuple[str, float], ...] = DEFAULT_WEIGHTS) -> Timeline:
    """The offline-use timeline, two devices, five rounds:

    0. the mailbox arrives; mobile and desk sync;
    1. new mail arrives; mobile is offline; desk acts and syncs;
    2. outage: nobody reaches the server; mobile acts offline (often on messages desk
       changed in round 1: conflicts);
    3. mobile is back: it sends its queue and catches up; desk syncs;
    4. both sync again (settle).
    """
    devices = OFFLINE_DEVICES
    planner = _Planner(seed, devices, weights)
    planner.deliver(0, initial)
    planner.synced("mobile")
    planner.synced("desk")
    planner.deliver(1, new_mail)
    planner.add(Event(1, "offline", "mobile"))
    touched: set[int] = set()
    desk_touched: set[int] = set()
    for _ in range(desk_actions):
        message = planner.act(1, "desk", touched)
        if message is not None:
            desk_touched.add(message)
    planner.synced("desk")
    planner.add(Event(2, "outage"))
    touched = set()
    for _ in range(offline_actions):
        planner.act(2, "mobile", touched, desk_touched, conflict_bias)
    planner.add(Event(3, "online", "mobile"))
    planner.synced("mobile")
    planner.synced("desk")
    return planner.timeline(seed, 5)


# ---------------------------------------------------------------------------------------
# Fitting a timeline to a corpus that ends


class TooFewMessages(ValueError):
    """No initial mailbox fits the corpus: ``needed`` is the fewest corpus messages that
    would do, with an initial mailbox of ``initial``; the corpus has ``available``."""

    def __init__(self, needed: int, initial: int, available: int) -> None:
        super().__init__(f"{needed} messages needed ({initial} initial), {available} available")
        self.needed = needed
        self.initial = initial
        self.available = available


def fit_initial(wanted: int, available: int | None, needs: Callable[[int], int], least: int = 1) -> int:
    """The initial mailbox a scenario can deliver from a corpus of ``available`` messages.

    ``needs(initial)`` is how many corpus messages the scenario delivers in all with that
    initial mailbox (the mailbox, then the new mail; a timeline's new mail may depend on
    the initial mailbox, since its draws do). With no end to the corpus (``available``
    None: the generated one) the answer is ``wanted``, untouched. Otherwise it is
    ``wanted`` if everything fits, else the largest smaller mailbox, down to ``least``,
    whose deliveries fit: the new mail is held back from the corpus's end. When none
    fits, ``TooFewMessages`` says the fewest messages that would do.
    """
    if available is None:
        return wanted
    least = max(0, min(least, wanted))
    for initial in range(min(wanted, available), least - 1, -1):
        if needs(initial) <= available:
            return initial
    # The fewest messages any initial mailbox needs: needs(k) >= k, so the scan can stop
    # at the first k that is already no smaller than the best found.
    best, best_initial, initial = needs(least), least, least + 1
    while initial < best:
        if (n := needs(initial)) < best:
            best, best_initial = n, initial
        initial += 1
    raise TooFewMessages(best, best_initial, available)
