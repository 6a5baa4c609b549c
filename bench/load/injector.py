"""New mail for the many-devices scenario: one injector, a seeded rate per user, the same
path for every mode.

Each user's new mail is a Poisson process of ``rate_per_user_s``; merged, the injector
delivers one message at a time, at its scheduled moment, into a user drawn from the same
seeded generator, so a level's schedule is the same for every mode and server. A message
goes in over IMAP APPEND as the server's setup login (``bench.delivery.Session``, the
suite's delivery path): a session per message, opened and closed, so the injector holds
no connection of its own between messages. LMTP or SMTP would be the realistic path; the
results and docs/load.md say that this is APPEND.

Every message starts with an ``X-Mailbench-Inject: <id>`` header; the devices record the
id when the message reaches them (``bench.load.client``), and ``sent`` keeps the moment
each APPEND began, so a delay is never shorter than the truth.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from bench.access import Endpoint
from bench.delivery import Session
from bench.load.client import INJECT_HEADER


@dataclass(frozen=True)
class Injection:
    at_s: float  # seconds after the injector's start
    user: int  # index into the injector's users


def schedule(users: int, rate_per_user_s: float, seconds: float, seed: int) -> list[Injection]:
    """The seeded schedule of ``seconds``: exponential gaps of the merged rate, each
    message to a user drawn uniformly (a Poisson process per user)."""
    rng = random.Random(seed)
    total_rate = users * rate_per_user_s
    plan: list[Injection] = []
    if total_rate <= 0 or users <= 0:
        return plan
    at = rng.expovariate(total_rate)
    while at < seconds:
        plan.append(Injection(round(at, 4), rng.randrange(users)))
        at += rng.expovariate(total_rate)
    return plan


def tagged(raw: bytes, message_id: str) -> bytes:
    """``raw`` with the injector's header first, in the message's own line ending."""
    ending = b"\r\n" if b"\r\n" in raw[:2000] else b"\n"
    return INJECT_HEADER + b": " + message_id.encode() + ending + raw


@dataclass
class Injector:
    """Delivers a schedule in a thread of the harness; ``sent`` maps each message id to the
    epoch second its APPEND began, ``errors`` lists the failures (one line each)."""

    endpoints: Sequence[Endpoint]  # one per user: the setup login into that user's mailbox
    messages: Sequence[bytes]  # bodies used in turn
    plan: list[Injection]
    label: str = "m"
    deliver: Callable[[Endpoint, bytes], str | None] | None = None
    sent: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    late_s: list[float] = field(default_factory=list)  # how late each APPEND began against its schedule

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mailbench-injector", daemon=True)

    def start(self) -> None:
        self._started = time.monotonic()
        self._thread.start()

    def join(self, timeout_s: float) -> None:
        """Wait, at most ``timeout_s``, for the whole schedule to be delivered."""
        self._thread.join(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        deliver = self.deliver or append_one
        for number, injection in enumerate(self.plan):
            wait = injection.at_s - (time.monotonic() - self._started)
            if wait > 0 and self._stop.wait(wait):
                return
            if self._stop.is_set():
                return
            self.late_s.append(max(0.0, -wait))
            message_id = f"{self.label}{number}"
            raw = tagged(self.messages[number % len(self.messages)], message_id)
            began = time.time()
            try:
                refused = deliver(self.endpoints[injection.user], raw)
            except Exception as exc:  # the server is the thing under load: record and go on
                self.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            if refused is not None:
                self.errors.append(refused)
                continue
            self.sent[message_id] = began


def append_one(endpoint: Endpoint, raw: bytes) -> str | None:
    """One APPEND in a session of its own; None when stored, else the server's answer."""
    session = Session(endpoint)
    try:
        return session.append_one(raw)
    finally:
        session.close()
