"""A container's CPU and memory counters, read from its cgroup files on this host.

``docker stats`` reports the same counters, but one reading through the daemon took about
a second here during a run (Docker 20.10, cgroup v1, ``one-shot`` included), and every
measured block takes two: on a run of a few hundred samples that is minutes of waiting for
figures the kernel keeps in files. So the files are read directly, the same ones the
daemon reads:

- cgroup v1: ``cpuacct.usage`` (nanoseconds), ``memory.usage_in_bytes`` and
  ``total_inactive_file`` in ``memory.stat``;
- cgroup v2: ``usage_usec`` in ``cpu.stat``, ``memory.current`` and ``inactive_file`` in
  ``memory.stat``.

The container's cgroup is found from its main process (``/proc/<pid>/cgroup``), whatever
the daemon's cgroup driver. Where the files cannot be read (a daemon on another machine,
a layout not recognised), ``find`` returns None and the caller asks the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Counters:
    """One reading: CPU used since the start, memory in use, and the part of it that is
    inactive page cache (which ``docker stats`` leaves out of a container's memory)."""

    cpu_ns: int
    memory_bytes: int
    inactive_file_bytes: int


@dataclass(frozen=True)
class CgroupFiles:
    """Where one cgroup's counters lie: ``cpu`` and ``memory`` are its folders (the same
    folder on cgroup v2)."""

    cpu: Path
    memory: Path
    v2: bool

    def read(self) -> Counters:
        """The counters now; ``OSError`` when the cgroup is gone (its container stopped)."""
        memory_stat = _keyed(self.memory / "memory.stat")
        if self.v2:
            return Counters(_keyed(self.cpu / "cpu.stat")["usage_usec"] * 1000,
                            int((self.memory / "memory.current").read_text()),
                            memory_stat.get("inactive_file", 0))
        return Counters(int((self.cpu / "cpuacct.usage").read_text()),
                        int((self.memory / "memory.usage_in_bytes").read_text()),
                        memory_stat.get("total_inactive_file", memory_stat.get("inactive_file", 0)))


def _keyed(path: Path) -> dict[str, int]:
    """A flat-keyed cgroup file (``memory.stat``, ``cpu.stat``): ``name value`` per line."""
    found = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition(" ")
        if value.strip().isdigit():
            found[name] = int(value)
    return found


def parse_membership(text: str) -> dict[str, str]:
    """``/proc/<pid>/cgroup`` as controller → path: ``"4:memory:/docker/ab"`` gives
    ``{"memory": "/docker/ab"}``; a v1 line naming several controllers gives each of them;
    the v2 line (``"0::/system.slice/docker-ab.scope"``) is under ``""``."""
    paths = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def locate(membership: dict[str, str], root: Path = ROOT) -> CgroupFiles | None:
    """The folders holding a process's counters, given its cgroup membership; None when
    they are not under ``root``."""
    if "cpuacct" in membership and "memory" in membership:  # v1: one hierarchy per controller
        cpu = _first_dir(root, ("cpuacct", "cpu,cpuacct", "cpuacct,cpu"), membership["cpuacct"])
        memory = _first_dir(root, ("memory",), membership["memory"])
        if cpu is not None and memory is not None and (cpu / "cpuacct.usage").is_file():
            return CgroupFiles(cpu, memory, v2=False)
        return None
    if "" in membership:  # v2: one unified hierarchy
        folder = root / membership[""].lstrip("/")
        if (folder / "cpu.stat").is_file() and (folder / "memory.current").is_file():
            return CgroupFiles(folder, folder, v2=True)
    return None


def _first_dir(root: Path, mounts: tuple[str, ...], path: str) -> Path | None:
    for mount in mounts:
        folder = root / mount / path.lstrip("/")
        if folder.is_dir():
            return folder
    return None


def find(pid: int, root: Path = ROOT, proc: Path = Path("/proc")) -> CgroupFiles | None:
    """The cgroup files of process ``pid`` as this host sees them, or None."""
    if pid <= 0:
        return None
    try:
        text = (proc / str(pid) / "cgroup").read_text()
    except OSError:
        return None
    return locate(parse_membership(text), root)
