"""Which CPUs the server gets and which the load generator gets, so neither steals from the
other: the server container is pinned (docker ``cpuset_cpus``) to the first half of the
CPUs this process may use, the Locust processes (``os.sched_setaffinity``) to the rest. On
two cores: one each. With a single CPU nothing is pinned and the results say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class CpuSplit:
    server: tuple[int, ...]
    load: tuple[int, ...]

    @property
    def pinned(self) -> bool:
        return bool(self.server) and bool(self.load) and not set(self.server) & set(self.load)

    @property
    def server_cpuset(self) -> str | None:
        """Docker's ``cpuset_cpus`` value for the server, None when not pinned."""
        return ",".join(map(str, self.server)) if self.pinned else None

    @property
    def server_cores(self) -> int:
        return len(self.server)

    def as_dict(self) -> dict[str, object]:
        return {"server_cpus": list(self.server), "load_cpus": list(self.load), "pinned": self.pinned}


def split_cpus(available: set[int] | None = None) -> CpuSplit:
    """Half the CPUs (rounded down, at least one) for the server, the rest for the load."""
    cpus = sorted(available if available is not None else os.sched_getaffinity(0))
    if len(cpus) < 2:
        return CpuSplit(tuple(cpus), tuple(cpus))
    half = max(1, len(cpus) // 2)
    return CpuSplit(tuple(cpus[:half]), tuple(cpus[half:]))
