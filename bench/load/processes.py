"""Starting, watching and ending one level's Locust processes: a master and K workers.

Each runs headless in a subprocess of its own (``python -m locust``), in a session (and so
a process group) of its own, so that gevent never patches the harness and every process
can be ended as a group. The master binds the address given (127.0.0.1 unless the run
names another) on a free port and waits for its workers (``--expect-workers``); the
workers connect to it (``--master-host``) and are pinned to the load CPUs
(``os.sched_setaffinity``), the master with them.

``LocustRun`` is a context manager: on every way out (a normal end, an exception, Ctrl-C
or SIGTERM turned into ``KeyboardInterrupt``, a worker that died) it sends SIGTERM to each
process group, waits a little, and sends SIGKILL to what is left. A worker that ends
before the master is recorded (``events``) and ends the level early: the master is asked
to stop (SIGTERM makes Locust write its statistics), so what was measured is kept.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from bench.errors import MailbenchError

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
STOP_WAIT_S = 10.0  # how long a process group has to end after SIGTERM before SIGKILL
# Locust's run time is the users' run plus this: the users stop by themselves first, and
# their workers' last statistics (sent every 3 s) reach the master before it stops.
REPORT_SLACK_S = 8.0
# Locust's log lines that say its own CPU was the limit (locust/runners.py).
CPU_WARNINGS = ("CPU usage above", "exceeded cpu threshold", "CPU usage was too high")


class LoadError(MailbenchError):
    """The load generator could not run a level."""


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return probe.getsockname()[1]


@dataclass
class LoadProcess:
    role: str  # "master" or "worker-<i>"
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class LocustRun:
    """One level's Locust: ``start()``, ``watch()`` until it ends, always ``stop()``."""

    user_class: str
    users: int
    spawn_rate: float
    run_s: float
    workers: int
    plan_path: Path
    folder: Path
    bind_address: str = "127.0.0.1"
    cpus: Sequence[int] | None = None
    remote_workers: int = 0  # started by hand elsewhere (docs/load.md); the master waits for them too
    processes: list[LoadProcess] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # what ended the level early
    notes: list[str] = field(default_factory=list)  # what else happened (a pinning refused)
    started_at: float = 0.0

    @property
    def csv_prefix(self) -> Path:
        return self.folder / "locust"

    def _spawn(self, role: str, arguments: list[str], environment: dict[str, str]) -> LoadProcess:
        log = self.folder / f"{role}.log"
        command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--loglevel", "INFO",
                   "--logfile", str(log), *arguments, self.user_class]
        with open(self.folder / f"{role}.out", "wb") as out:
            process = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.folder)
        loaded = LoadProcess(role, process, log)
        self.processes.append(loaded)
        if self.cpus:
            try:
                os.sched_setaffinity(process.pid, set(self.cpus))
            except (OSError, AttributeError) as exc:
                self.notes.append(f"could not pin {role} to CPUs {list(self.cpus)}: {exc}")
        return loaded

    def start(self) -> None:
        port = free_port(self.bind_address)
        every = self.workers + self.remote_workers
        base = dict(os.environ, MAILBENCH_LOAD_PLAN=str(self.plan_path), MAILBENCH_LOAD_WORKERS=str(every),
                    PYTHONUNBUFFERED="1")
        self.started_at = time.time()
        self._spawn("master", [
            "--master", "--master-bind-host", self.bind_address, "--master-bind-port", str(port),
            "--expect-workers", str(every), "--expect-workers-max-wait", "60" if not self.remote_workers else "600",
            "-u", str(self.users), "-r", f"{self.spawn_rate:g}", "-t", f"{max(1, round(self.run_s + REPORT_SLACK_S))}s",
            "--stop-timeout", "2", "--csv", str(self.csv_prefix), "--only-summary",
        ], base)
        for index in range(self.workers):
            self._spawn(f"worker-{index}", ["--worker", "--master-host", self.bind_address,
                                            "--master-port", str(port)],
                        dict(base, MAILBENCH_LOAD_WORKER=str(index)))

    @property
    def master(self) -> LoadProcess:
        return self.processes[0]

    def worker_processes(self) -> list[LoadProcess]:
        return self.processes[1:]

    def check(self) -> bool:
        """Whether the level still runs; a worker gone before the master ends it early."""
        if self.master.process.poll() is not None:
            return False
        for worker in self.worker_processes():
            code = worker.process.poll()
            since = time.time() - self.started_at
            if code is not None and (code != 0 or since < self.run_s):  # else it quit at the end, as told
                if any(event.startswith(worker.role + " ") for event in self.events):
                    return False
                self.events.append(f"{worker.role} (pid {worker.pid}) ended with code {code} "
                                   f"{since:.1f} s into the level; the level was stopped there")
                self._terminate(self.master)
                return False
        return True

    def wait_master(self, timeout_s: float) -> int | None:
        try:
            return self.master.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> None:
        """End every process group that is left: SIGTERM, then SIGKILL after ``STOP_WAIT_S``."""
        for loaded in reversed(self.processes):
            if loaded.process.poll() is None:
                self._terminate(loaded)
        deadline = time.monotonic() + STOP_WAIT_S
        for loaded in self.processes:
            try:
                loaded.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for loaded in self.processes:
            _signal_group(loaded.process, signal.SIGKILL)
            try:
                loaded.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.notes.append(f"{loaded.role} (pid {loaded.pid}) did not end after SIGKILL")

    def _terminate(self, loaded: LoadProcess) -> None:
        _signal_group(loaded.process, signal.SIGTERM)

    def __enter__(self) -> "LocustRun":
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each process has used so far (user + system, from /proc)."""
        return {loaded.role: cpu_seconds_of(loaded.pid) for loaded in self.processes}

    def cpu_warnings(self) -> int:
        """Locust's own warnings that its CPU was the limit, in every process's log."""
        count = 0
        for loaded in self.processes:
            for path in (loaded.log, loaded.log.with_suffix(".out")):
                if path.exists():
                    text = path.read_text(errors="replace")
                    count += sum(text.count(warning) for warning in CPU_WARNINGS)
        return count


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)  # the session leader's pid is its group's id
    except (ProcessLookupError, PermissionError):
        pass


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds_of(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


def client_cpu_share(before: dict[str, float], after: dict[str, float], seconds: float, cpus: int) -> dict[str, float]:
    """The load generator's busy share over a window: all its processes over its CPUs'
    capacity (``total``), and its busiest process over one core (``busiest``: a worker is
    one thread, so it saturates at one core whatever the machine has)."""
    if seconds <= 0:
        return {"total": 0.0, "busiest": 0.0}
    used = {role: max(0.0, after.get(role, 0.0) - before.get(role, 0.0)) for role in after}
    return {"total": round(sum(used.values()) / (seconds * max(1, cpus)), 4),
            "busiest": round(max(used.values(), default=0.0) / seconds, 4)}


def locust_processes(marker: str = str(LOCUSTFILE)) -> list[int]:
    """Pids of processes running this locustfile (for tests: none may be left)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in command and "locust" in command:
            found.append(int(entry.name))
    return found
