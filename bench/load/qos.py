"""Quality of service of one level of users, and a server's capacity, SPECmail-style.

A level passes when enough commands finish in time, enough new mail reaches a device in
time, and errors stay rare (``QosLimits``; every limit is an option and the results record
them). A level where the load generator, not the server, was the bottleneck is
``client-bound``: its figures say nothing about the server, so it never counts as capacity.
A capacity search steps up through levels and stops at the first that does not pass;
the capacity is the largest passing level before it, per server CPU core.

Pure: no Docker, no Locust; ``bench.load.levels`` feeds it figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence

PASS = "pass"
FAIL = "fail"
CLIENT_BOUND = "client-bound"
INCOMPLETE = "incomplete"  # the level ended early (a load worker died): judged on nothing


def incomplete(why: str) -> "Verdict":
    """The verdict of a level cut short: neither the server's pass nor its failure."""
    return Verdict(INCOMPLETE, (why,))


@dataclass(frozen=True)
class QosLimits:
    """What a level must meet. Delays are real (compressed) seconds."""

    command_s: float = 1.0  # a command within this many seconds counts as on time ...
    command_share: float = 0.95  # ... and at least this share of commands must be
    push_delay_s: float = 2.0  # new mail expected on a device this soon where the server pushes
    poll_slack_s: float = 2.0  # where the device polls: its polling interval plus this
    delay_share: float = 0.95  # share of new mail that must arrive within the expected delay
    error_share: float = 0.001  # errors must stay below this share of commands
    client_cpu_share: float = 0.85  # a load generator busier than this share of its CPUs is saturated

    def expected_delay_s(self, pushed: bool, poll_interval_s: float) -> float:
        """How soon new mail must be on the device: the push limit, or, for a device that
        polls (POP3, JMAP's ``Email/changes``, IMAP's NOOP where the server does not push),
        the polling interval plus the slack."""
        return self.push_delay_s if pushed else poll_interval_s + self.poll_slack_s

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class LevelFigures:
    """What the verdict of one level reads."""

    users: int
    commands: int  # every command the users reported, those that failed included
    commands_on_time: int  # finished, without error, within ``QosLimits.command_s``
    errors: int  # commands that failed
    mail_due: int  # injected messages a device should have received by the end
    mail_on_time: int  # of those, received within the expected delay
    client_cpu_share: float  # the load generator's CPU use over its CPUs' capacity (0..1+)
    client_warnings: int = 0  # Locust's own CPU warnings in its logs


@dataclass(frozen=True)
class Verdict:
    """A level's status (``pass``, ``fail``, ``client-bound`` or ``incomplete``) and why, one
    reason per limit missed."""

    status: str
    reasons: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": list(self.reasons)}


def judge(level: LevelFigures, limits: QosLimits) -> Verdict:
    """The level's verdict. Client-bound wins over pass and fail: a saturated generator
    makes every other figure suspect, on either side."""
    if level.client_cpu_share > limits.client_cpu_share or level.client_warnings:
        why = f"load generator at {level.client_cpu_share:.0%} of its CPUs"
        if level.client_warnings:
            why += f", {level.client_warnings} Locust CPU warning(s)"
        return Verdict(CLIENT_BOUND, (why,))
    reasons = []
    if level.commands == 0:
        reasons.append("no command finished")
    else:
        on_time = level.commands_on_time / level.commands
        if on_time < limits.command_share:
            reasons.append(f"{on_time:.1%} of commands within {limits.command_s:g} s (limit {limits.command_share:.0%})")
        errors = level.errors / level.commands
        if errors >= limits.error_share:
            reasons.append(f"{errors:.2%} errors (limit below {limits.error_share:.2%})")
    if level.mail_due:
        arrived = level.mail_on_time / level.mail_due
        if arrived < limits.delay_share:
            reasons.append(f"{arrived:.1%} of new mail within the expected delay (limit {limits.delay_share:.0%})")
    return Verdict(FAIL if reasons else PASS, tuple(reasons))


def keeps_stepping(verdict: Verdict) -> bool:
    """Whether a capacity search goes on to the next level: only after a pass. A
    client-bound level stops it too: a larger one would be client-bound as well."""
    return verdict.passed


@dataclass(frozen=True)
class Capacity:
    """The largest passing level before the first that did not pass, and per server core.
    ``users`` is None when no level passed; ``stopped_at`` the level that ended the search."""

    users: int | None
    per_core: float | None
    stopped_at: int | None = None
    stopped_because: str | None = None
    levels: tuple[int, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def capacity(verdicts: Iterable[tuple[int, Verdict]], server_cores: float) -> Capacity:
    """Walk the levels in the order they ran; the capacity is the last passing level before
    the first one that did not pass (failed or client-bound), divided by the server's cores."""
    best = None
    ran: list[int] = []
    for users, verdict in verdicts:
        ran.append(users)
        if not keeps_stepping(verdict):
            return Capacity(best, _per_core(best, server_cores), users, verdict.status, tuple(ran))
        best = users
    return Capacity(best, _per_core(best, server_cores), None, None, tuple(ran))


def _per_core(users: int | None, cores: float) -> float | None:
    return None if users is None or cores <= 0 else users / cores


# The ladder a capacity search climbs from its first level: 1-2-5 steps, as a meter's ranges.
LADDER_STEPS = (1, 2, 5)


def ladder(start: int, most: int) -> list[int]:
    """The levels of a capacity search: ``start``, then the 1-2-5 steps above it, up to
    ``most`` (which ends the ladder when it is not a step itself)."""
    if start < 1 or most < start:
        raise ValueError(f"a ladder needs 1 <= start <= most, got {start} and {most}")
    levels = [start]
    decade = 1
    while levels[-1] < most:
        above = [step * decade for step in LADDER_STEPS if step * decade > levels[-1]]
        if not above:
            decade *= 10
            continue
        levels.append(min(above[0], most))
    return levels


def levels_to_run(users: Sequence[int], find_capacity: bool, most: int) -> list[int]:
    """The levels a run steps through: the ``--users`` given (sorted, once each), or with
    ``find_capacity`` the ladder from the smallest of them (10 without one) up to ``most``."""
    given = sorted(set(users))
    if find_capacity:
        return ladder(given[0] if given else 10, max(most, given[-1] if given else most))
    return given
