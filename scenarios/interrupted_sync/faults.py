"""The faults ``interrupted-sync`` injects into a device's download, and how each is undone.

Each fault strikes at a seeded point of the device's session (``FaultPoint``, drawn the same
way for every server and mode, differently for each repetition) and is undone by ``clear()``,
which returns once the server can be reached again; ``release()`` undoes it on any way out,
so a cell never leaves a paused, killed or cut server behind.

Three of them strike in the middle of a message, at an exact point of the byte stream: the
link relay watches for a line from the middle of the chosen message (``cut_pattern``), and
the device receives the bytes up to the end of that line (its CRLF included) and nothing the
server sent after.

- ``cut-mid-message``: there the relay cuts the link (``Relay.cut_when_seen``): the device
  gets a reset. The link is back ``outage_s`` after the device noticed.
- ``server-killed``: there the relay stops forwarding (``Relay.mute_when_seen``) and every
  process of the server is killed (``docker kill``), as if it died after sending that line;
  the container is started again once the device noticed.
- ``server-paused``: there the relay stops forwarding and the container is frozen (``docker
  pause``): a server that stops answering without closing anything. It is thawed once the
  device gave up waiting (its read timeout).

The fourth strikes between two of the device's commands (``Device.sync``'s hook):

- ``cut-between-commands``: the relay cuts after the listing, after the last message
  (before any deletion), or before the session's closing command (QUIT / LOGOUT, where POP3
  applies its deletions): the three points in turn, one per repetition.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from bench.errors import MailbenchError
from bench.sample import SampleContext

FAULTS = ("cut-mid-message", "cut-between-commands", "server-killed", "server-paused")
BETWEEN = ("listed", "fetched", "done")
_BETWEEN_SAID = {
    "listed": "after the listing, before the first message",
    "fetched": "after the last message, before any deletion",
    "done": "before the session's closing command (QUIT / LOGOUT)",
}
PATTERN_MIN_BYTES = 16


@dataclass(frozen=True)
class FaultPoint:
    """Where a fault strikes: after ``whole_before`` messages are whole on the device (the
    next one is the one cut in the middle), or, between commands, at ``between``."""

    whole_before: int
    between: str


def draw_point(seed: int, fault: str, sample: int, messages: int) -> FaultPoint:
    """The seeded point of one repetition: the same for every server and mode."""
    rng = random.Random(f"interrupted-sync:{seed}:{fault}:{sample}")
    low, high = messages // 4, max(messages // 4, (3 * messages) // 4 - 1)
    whole_before = min(rng.randint(low, high), messages - 1)
    return FaultPoint(max(0, whole_before), BETWEEN[sample % len(BETWEEN)])


def cut_pattern(message: bytes, mailbox: Callable[[], Iterable[bytes]]) -> bytes:
    """A whole line from the middle of ``message``, with the CRLF on each side of it, that is
    a line of no other message in the mailbox and occurs once in this one: the relay cuts
    right after it. With its CRLFs the pattern matches nothing but that line, in IMAP's
    literal as in POP3's multi-line answer (both put a CRLF before a message's first line).

    Never chosen: lines shorter than PATTERN_MIN_BYTES, lines that start with a dot (POP3
    stuffs them), the message's first line (a header) and its last (the cut would fall after
    the whole message).
    Replies in a thread repeat lines of the messages they answer, so many lines are shared;
    one pass over ``mailbox()`` (read afresh: a large corpus is never held in memory) counts,
    for every candidate at once, the messages that hold it."""
    lines = message.split(b"\r\n")
    if lines and not lines[-1]:
        lines.pop()  # the empty piece after the final CRLF
    here = Counter(lines)
    middle = len(message) // 2
    offset, candidates = len(lines[0]) + 2 if lines else 0, []
    for line in lines[1:-1]:
        if len(line) >= PATTERN_MIN_BYTES and not line.startswith(b".") and here[line] == 1:
            candidates.append((abs(offset - middle), line))
        offset += len(line) + 2
    wanted = {line for _, line in candidates}
    holders: Counter[bytes] = Counter()
    for other in mailbox():
        holders.update(wanted.intersection(other.replace(b"\r\n", b"\n").split(b"\n")))
    for _, line in sorted(candidates, key=lambda c: c[0]):
        if holders[line] == 1:
            return b"\r\n" + line + b"\r\n"
    raise MailbenchError("no line of the chosen message is unique in the mailbox: cannot cut inside it")


class Fault:
    """One fault of a sample. ``at`` is the device's hook (``Device.sync``)."""

    def __init__(self, ctx: SampleContext, point: FaultPoint, outage_s: float) -> None:
        self.ctx = ctx
        self.point = point
        self.outage_s = outage_s
        self._fired_at: float | None = None
        self.cleared = True
        self.failure: BaseException | None = None  # striking itself failed (a Docker error)

    @property
    def does(self) -> str:
        raise NotImplementedError

    @property
    def fired_at(self) -> float | None:
        """When the fault struck (``time.perf_counter()``), or None while it has not."""
        return self._fired_at

    @property
    def fired(self) -> bool:
        return self.fired_at is not None

    def arm(self, mailbox: Callable[[], Iterable[bytes]]) -> None:
        """Before the session: set up what strikes by itself (``mailbox()``: the delivered
        messages, in order)."""

    def at(self, point: str, stored: int) -> None:
        """The device is between commands (``Device.sync``'s hook)."""

    def strike(self) -> None:
        raise NotImplementedError

    def _strike_now(self) -> None:
        self._fired_at, self.cleared = time.perf_counter(), False
        self.strike()

    def clear(self) -> float:
        """Undo the fault once the device has noticed; returns when the server can be
        reached again (a ``perf_counter`` time)."""
        raise NotImplementedError

    def release(self) -> None:
        """Undo the fault on any way out; never raises."""
        if not self.cleared:
            try:
                self.clear()
            except Exception:  # the cell is failing already; the runner revives the server before the next
                pass


class _MidMessage(Fault):
    """Strikes when a line from the middle of message ``whole_before + 1`` reaches the relay."""

    mutes = True  # the relay lets nothing after the line through; else it cuts the link
    POLL_S = 0.01
    WATCH_LIMIT_S = 3600.0

    def __init__(self, ctx: SampleContext, point: FaultPoint, outage_s: float) -> None:
        super().__init__(ctx, point, outage_s)
        self._events: list[threading.Event] = []
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def fired_at(self) -> float | None:
        """When the relay saw the line: the device receives nothing after it."""
        return self.ctx.link.pattern_seen_at() if self._events else None

    @property
    def message(self) -> int:
        return self.point.whole_before + 1

    def arm(self, mailbox: Callable[[], Iterable[bytes]]) -> None:
        target = next(itertools.islice(mailbox(), self.point.whole_before, None))
        pattern = cut_pattern(target, mailbox)
        self.cleared = False
        link = self.ctx.link
        self._events = link.mute_when_seen(pattern) if self.mutes else link.cut_when_seen(pattern)
        self._watcher = threading.Thread(target=self._watch, name="fault-watcher", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        """Strike as soon as the relay saw the line; bounded, and stopped by ``clear``."""
        deadline = time.monotonic() + self.WATCH_LIMIT_S
        while not self._stop.is_set() and time.monotonic() < deadline:
            if any(event.is_set() for event in self._events):
                try:
                    self.strike()
                except BaseException as exc:  # reported by the scenario through ``failure``
                    self.failure = exc
                return
            self._stop.wait(self.POLL_S)

    def _stop_watching(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10.0)
        self.ctx.link.disarm()

    def strike(self) -> None:
        pass


class CutMidMessage(_MidMessage):
    mutes = False

    @property
    def does(self) -> str:
        return f"link cut in the middle of message {self.message}, back {self.outage_s:g} s after"

    def clear(self) -> float:
        self._stop_watching()
        self.ctx.wait(self.outage_s)
        self.ctx.link.restore()
        self.cleared = True
        return time.perf_counter()


class ServerKilled(_MidMessage):
    restart_s: float | None = None

    @property
    def does(self) -> str:
        return f"server killed (docker kill) in the middle of message {self.message}, then started again"

    def strike(self) -> None:
        self.ctx.direct_server.kill()

    def clear(self) -> float:
        self._stop_watching()
        server = self.ctx.direct_server
        started = time.perf_counter()
        if self.fired:
            with self.ctx.ledger.part("containers"):
                server.restart()
            self.ctx.link.follow(server)
            self.restart_s = time.perf_counter() - started
        self.cleared = True
        return time.perf_counter()


class ServerPaused(_MidMessage):
    @property
    def does(self) -> str:
        return f"server paused (docker pause) in the middle of message {self.message}, past the client's timeout"

    def strike(self) -> None:
        self.ctx.direct_server.container.pause()

    def clear(self) -> float:
        self._stop_watching()
        if self.fired:
            with self.ctx.ledger.part("containers"):
                self.ctx.direct_server.container.unpause()
        self.cleared = True
        return time.perf_counter()


class CutBetweenCommands(Fault):
    @property
    def does(self) -> str:
        return f"link cut between commands, {_BETWEEN_SAID[self.point.between]}, back {self.outage_s:g} s after"

    def at(self, point: str, stored: int) -> None:
        if not self.fired and point == self.point.between:
            self._strike_now()

    def strike(self) -> None:
        self.ctx.link.cut()

    def clear(self) -> float:
        self.ctx.wait(self.outage_s)
        self.ctx.link.restore()
        self.cleared = True
        return time.perf_counter()


_KINDS: dict[str, type[Fault]] = {
    "cut-mid-message": CutMidMessage,
    "cut-between-commands": CutBetweenCommands,
    "server-killed": ServerKilled,
    "server-paused": ServerPaused,
}


def make_fault(name: str, ctx: SampleContext, point: FaultPoint, outage_s: float) -> Fault:
    try:
        kind = _KINDS[name]
    except KeyError:
        raise MailbenchError(f"unknown fault {name!r}; choose from {', '.join(FAULTS)}") from None
    if ctx.link is None:
        raise MailbenchError(f"fault {name!r} needs the cell's link relay, and this cell has none")
    return kind(ctx, point, outage_s)
