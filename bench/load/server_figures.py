"""What a level costs the server: readings of its container while the users run.

CPU seconds and memory come from the container's cgroup counters
(``RunningServer.resources``); connections held open from the container's own TCP table
(``/proc/<pid>/net/tcp`` of its main process, seen from the host, or read inside it where
the host cannot see it), on the port the mode's devices use (``bench.protocols``: for
JMAP its HTTP port, Cyrus's httpd, one process per connection), never the injector's
IMAP sessions, which go to IMAP's port in a JMAP run; per-user state on disk from a few of the
level's accounts (``RunningServer.store_usage``: the account's folder in the mail store,
which leaves out what a server keeps per user elsewhere, such as Cyrus's files in
/var/lib/cyrus, JMAP's conversations database among them). Memory per connected user is a difference between two
levels (``memory_per_connection``), never one level's total divided by its users: the
server's own baseline is not the users' cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from bench.servers import RunningServer

ESTABLISHED = "01"  # the state column of /proc/net/tcp


def established(table: str, ports: Iterable[int]) -> int:
    """Connections ESTABLISHED to one of ``ports`` (local side) in a /proc/net/tcp{,6} text."""
    wanted = set(ports)
    count = 0
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4 or fields[3] != ESTABLISHED:
            continue
        try:
            port = int(fields[1].rsplit(":", 1)[1], 16)
        except (IndexError, ValueError):
            continue
        if port in wanted:
            count += 1
    return count


def tcp_tables(running: RunningServer) -> str:
    """The container's TCP tables (IPv4 and IPv6), from the host where it can see them."""
    running.container.reload()
    pid = int(running.container.attrs.get("State", {}).get("Pid") or 0)
    texts = []
    for name in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{name}")
        try:
            texts.append(path.read_text())
        except OSError:
            texts = []
            break
    if texts:
        return "\n".join(texts)
    code, output = running.container.exec_run(["cat", "/proc/net/tcp", "/proc/net/tcp6"])
    return output.decode(errors="replace")


def connections_open(running: RunningServer, service: str) -> int:
    """Client connections held open to the server's port of ``service`` now (``imap``,
    ``pop3``, ``jmap``, or a TLS service such as ``imaps``), inside its container."""
    port = running.spec.ports[service]
    return established(tcp_tables(running), [port])


@dataclass(frozen=True)
class WindowReading:
    """The server over one level's measured window."""

    cpu_s: float  # CPU seconds the container used in the window
    memory_bytes: float  # median of the memory readings in the window
    connections: float  # median of the connection counts in the window
    readings: int


def summarise_window(cpu_before: float, cpu_after: float, memory: Sequence[int], connections: Sequence[int]) -> WindowReading:
    return WindowReading(
        cpu_s=round(max(0.0, cpu_after - cpu_before), 4),
        memory_bytes=float(np.median(memory)) if memory else 0.0,
        connections=float(np.median(connections)) if connections else 0.0,
        readings=len(memory),
    )


# A step between levels adds at least this many connections (or users) before the memory it
# added is divided by them: polling devices hold a connection only now and then, and a
# difference of one or two would turn noise into megabytes per connection.
MIN_ADDED = 10


def memory_per_connection(levels: Sequence[tuple[float, float]]) -> list[float | None]:
    """For each level after the first, (memory, connections) against the level before it:
    the memory it added per connection it added; None where connections grew by fewer than
    ``MIN_ADDED``, or where the server's memory fell while they grew (then what moved it was
    something else, caches freed, and no cost per connection can be read from it). The same
    arithmetic serves per user, with users for connections."""
    steps: list[float | None] = []
    for (memory_a, conns_a), (memory_b, conns_b) in zip(levels, levels[1:]):
        added = conns_b - conns_a
        steps.append(round((memory_b - memory_a) / added, 1) if added >= MIN_ADDED and memory_b >= memory_a else None)
    return steps


def state_on_disk(running: RunningServer, accounts: Sequence, most: int = 5) -> dict[str, float]:
    """Mean bytes per account of message files and of the rest (indexes, caches, UID lists:
    the server's per-user state), over up to ``most`` of ``accounts``."""
    sample = list(accounts)[:most]
    if not sample:
        return {}
    usages = [running.store_usage(account) for account in sample]
    return {
        "state_bytes_per_user": round(float(np.mean([u.state_bytes for u in usages])), 1),
        "message_bytes_per_user": round(float(np.mean([u.message_bytes for u in usages])), 1),
        "accounts_read": len(sample),
    }
