"""many-devices: N users at once, each an account with its own mailbox and one device,
stepped up through levels of users; load from Locust (``bench.load``).

Each level runs with the mode's device behaviour (IMAP: a connection held open, IDLE or
NOOP polling; JMAP: an HTTP keep-alive connection held open, polling with ``Email/changes``;
pop3-keep and pop3-delete: a session every polling interval), new mail from one
injector at a seeded rate per user, and time compressed by the run's factor. Per level:
command latency from Locust's statistics and the users' own records, new-mail delay,
server CPU per user-hour, memory, connections, bytes and per-user state on disk, and a
QoS verdict; per cell: the capacity, the largest passing level per server core.

The levels are the run's ``--users`` (or ``--find-capacity``); each cell runs them all in
one sample (``by_policy`` holds each level's figures under ``users-<N>``). Not in the
default plans: it runs where named (docs/load.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.load.config import LoadConfig
from bench.load.cpus import split_cpus
from bench.load.levels import Levels
from bench.sample import SampleContext, SampleOutcome
from scenarios.base import Scenario


class ManyDevices(Scenario):
    name = "many-devices"
    description = "many users at once, each with a device, stepped up through levels of users (load from Locust)"
    variants = ("steady",)
    in_default_plan = False
    default_repeat = 1
    pins_cpus = True
    tls_settings = ("off",)
    tls_why = "its Locust users speak plaintext"

    def whole_copies_on_devices(self) -> int:
        return 0  # the devices keep nothing on disk: what they fetch is counted and dropped

    def accounts_per_sample(self, load: LoadConfig) -> int:
        """Accounts one sample uses: the largest level, and a spare per worker."""
        return load.most_users() + load.all_workers

    def run_sample(self, ctx: SampleContext) -> SampleOutcome:
        config = ctx.load or LoadConfig()
        cpus = ctx.cpus or split_cpus()
        folder = Path(tempfile.mkdtemp(prefix="load-", dir=ctx.workdir))
        return Levels(ctx, config, cpus, folder).run()
