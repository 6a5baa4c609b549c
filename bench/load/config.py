"""What a many-devices run is asked (``LoadConfig``), and what one level's Locust processes
are told (``UserPlan``, a JSON file they read at start).

Time is compressed: one real second stands for ``compression`` seconds of a user's day,
so a polling interval of 5 minutes is 5 real seconds at 60x, and 6 new messages per user
per hour arrive as 6 per user per real minute. Delays, latencies and the QoS limits are
real seconds; "per user-hour" figures are per hour of the users' (compressed) day.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.access.base import LOOPBACK
from bench.errors import UsageError
from bench.load.qos import QosLimits


@dataclass(frozen=True)
class LoadConfig:
    """The options of ``mailbench run`` that shape the many-devices scenario."""

    users: tuple[int, ...] = (10, 30)  # the levels (--users, repeatable)
    find_capacity: bool = False  # step up a 1-2-5 ladder until a level does not pass
    max_users: int = 300  # the top of that ladder, and the accounts a server is started with
    workers: int = 1  # local Locust workers (--load-workers)
    remote_workers: int = 0  # workers started by hand on other machines, which the master waits for too
    publish_address: str = LOOPBACK  # where containers publish and the Locust master listens
    compression: float = 60.0  # user seconds per real second
    poll_interval_user_s: float = 300.0  # POP3, JMAP, and IMAP where there is no IDLE: every 5 user-minutes
    idle_refresh_user_s: float = 1740.0  # IDLE is renewed every 29 user-minutes (RFC 2177)
    mail_per_user_hour: float = 6.0  # new messages per user per user-hour (Poisson, seeded)
    flag_share: float = 0.3  # share of new messages an IMAP or JMAP device marks read (and a tenth flags)
    settle_s: float = 5.0  # real seconds after every user is spawned before the window opens
    window_s: float = 30.0  # real seconds each level is measured for
    spawn_rate: float = 20.0  # users started per real second
    qos: QosLimits = field(default_factory=QosLimits)

    def __post_init__(self) -> None:
        check_load_config(self)

    @property
    def poll_interval_s(self) -> float:
        """The polling interval in real seconds."""
        return self.poll_interval_user_s / self.compression

    @property
    def idle_refresh_s(self) -> float:
        return self.idle_refresh_user_s / self.compression

    @property
    def mail_per_user_s(self) -> float:
        """New messages per user per real second."""
        return self.mail_per_user_hour * self.compression / 3600.0

    def levels(self) -> list[int]:
        from bench.load.qos import levels_to_run

        return levels_to_run(self.users, self.find_capacity, self.max_users)

    @property
    def all_workers(self) -> int:
        """Every worker the master waits for: the local ones, then those on other machines."""
        return self.workers + self.remote_workers

    def most_users(self) -> int:
        """The largest level a run may reach: the accounts each cell needs, less the workers' slack."""
        return max(self.levels())

    def as_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["users"] = list(self.users)
        record["levels"] = self.levels()
        record["poll_interval_s"] = round(self.poll_interval_s, 3)
        record["mail_per_user_s"] = round(self.mail_per_user_s, 5)
        return record


def check_load_config(config: LoadConfig) -> None:
    """One-line ``UsageError`` for a value no run can use."""
    if not config.users and not config.find_capacity:
        raise UsageError("--users needs at least one level, e.g. --users 10")
    for users in config.users:
        if users < 1:
            raise UsageError(f"--users {users}: a level needs at least 1 user")
    if config.users and max(config.users) > config.max_users:
        raise UsageError(f"--users {max(config.users)} is above --max-users {config.max_users}")
    if config.workers < 1:
        raise UsageError(f"--load-workers {config.workers}: at least 1 worker")
    if config.remote_workers < 0:
        raise UsageError(f"--remote-workers {config.remote_workers}: 0 or more")
    if config.remote_workers and config.publish_address == LOOPBACK:
        raise UsageError("--remote-workers needs --publish-address: workers elsewhere cannot reach 127.0.0.1")
    try:
        ipaddress.ip_address(config.publish_address)
    except ValueError:
        raise UsageError(f"--publish-address {config.publish_address!r} is not an IP address") from None
    if config.compression <= 0 or config.window_s <= 0 or config.spawn_rate <= 0:
        raise UsageError("time compression, window and spawn rate must be above 0")
    limits = config.qos
    for name in ("command_share", "delay_share", "client_cpu_share"):
        if not 0 < getattr(limits, name) <= 1:
            raise UsageError(f"QoS {name.replace('_', ' ')} {getattr(limits, name):g} must be above 0 and at most 1")
    if not 0 < limits.error_share <= 1:
        raise UsageError(f"QoS error share {limits.error_share:g} must be above 0 and at most 1")
    for name in ("command_s", "push_delay_s", "poll_slack_s"):
        if getattr(limits, name) <= 0:
            raise UsageError(f"QoS {name.replace('_', ' ')} {getattr(limits, name):g} must be above 0")


@dataclass(frozen=True)
class UserPlan:
    """What the Locust processes of one level read (``MAILBENCH_LOAD_PLAN``): whom to log in
    as, where, how to behave, and where each worker writes its records."""

    mode: str  # imap, pop3-keep, pop3-delete, jmap
    protocol: str
    host: str
    port: int
    usernames: list[str]
    password: str
    users: int  # the level
    workers: int
    run_s: float  # the level's whole run, after which users stop on their own
    ends_at: float  # when (epoch s) every user stops by itself, before Locust's own end
    poll_interval_s: float
    idle_refresh_s: float
    flag_share: float
    seed: int
    records_dir: str
    # Whether devices wait for pushed news (IMAP IDLE, JMAP's event stream: the server was
    # seen to push) or poll; None: push wherever the session offers it. False for a mode
    # whose device has no push (``bench.load.device_models``): POP3.
    push: bool | None = None

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=1))
        return path

    @classmethod
    def read(cls, path: Path | str) -> "UserPlan":
        return cls(**json.loads(Path(path).read_text()))

    def username_of(self, worker: int, started: int) -> str:
        """The account of the ``started``-th user (from 0) a worker starts: worker w takes
        accounts w, w+K, w+2K ... so no two users share one, whichever worker runs them."""
        index = started * self.workers + worker
        if index >= len(self.usernames):
            raise RuntimeError(f"worker {worker} started more users than the plan has accounts ({len(self.usernames)})")
        return self.usernames[index]
