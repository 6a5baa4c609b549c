"""Where a run's devices keep their copies of the mail: in memory (tmpfs) where they fit.

A device writes one file per message it downloads, inside the measured sync. That file is
the device's cost, not the protocol's, and on a disk it is neither small nor steady: on
this project's machine (ext4 on a virtual disk) creating a file took from 16 µs to 800 µs
by the folder ext4 placed it in, against 6 µs in ``/dev/shm`` (2,000 files of 1 kB in a
new folder under each of ``/tmp``, ``/var/tmp``, ``/root``, ``/work`` and ``/dev/shm``).
In a bulk-fetch of 20,000 messages on lan, opening those files was 79 % of the client's
samples (py-spy), so a download's time moved with where a run's folder landed, not with
the protocol.

The run's working folder (device copies, and the run's TLS certificates) therefore goes
into ``MEMORY_FOLDER`` when it is a tmpfs with room for the device copies a sample keeps
(``bench.disk_space``) and ``KEEP_FREE`` besides, in the tmpfs and in the machine's
available memory (a tmpfs's pages are memory, and its size may exceed what is free:
the servers' containers need theirs); otherwise, or when ``TMPDIR`` names a folder, into
the temporary folder. The results say which (``environment.device_folder``).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

MEMORY_FOLDER = Path("/dev/shm")
# Bytes every place a run writes to keeps free (bench.disk_space uses the same margin).
KEEP_FREE = 1_000_000_000
MOUNTS = Path("/proc/self/mounts")
MEMINFO = Path("/proc/meminfo")


@dataclass(frozen=True)
class DeviceFolder:
    """The folder a run's working folder is made in, what kind of storage it is, and why."""

    path: Path
    memory: bool
    why: str

    def as_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "memory": self.memory, "why": self.why}


def is_tmpfs(folder: Path, mounts: str) -> bool:
    """Whether ``folder`` is the mount point of a tmpfs, from ``/proc/self/mounts``'s text."""
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[1] == str(folder) and fields[2] == "tmpfs":
            return True
    return False


def available_memory(meminfo: str) -> int | None:
    """``MemAvailable`` of ``/proc/meminfo``'s text, in bytes; None when absent."""
    for line in meminfo.splitlines():
        name, _, value = line.partition(":")
        fields = value.split()
        if name == "MemAvailable" and fields and fields[0].isdigit():
            return int(fields[0]) * 1024
    return None


def choose(need_bytes: int, free_bytes: Callable[[Path], int], environ: Mapping[str, str] = os.environ,
           memory: Path = MEMORY_FOLDER, mounts: Callable[[], str] = lambda: MOUNTS.read_text(),
           meminfo: Callable[[], str] = lambda: MEMINFO.read_text()) -> DeviceFolder:
    """The folder for a run whose devices keep at most ``need_bytes`` at once."""
    temporary = Path(tempfile.gettempdir())
    if environ.get("TMPDIR"):
        return DeviceFolder(temporary, False, "TMPDIR is set")
    try:
        in_memory = memory.is_dir() and is_tmpfs(memory, mounts())
    except OSError:
        in_memory = False
    if not in_memory:
        return DeviceFolder(temporary, False, f"{memory} is not a tmpfs here")
    try:
        spare = available_memory(meminfo())
    except OSError:
        spare = None
    room = free_bytes(memory) if spare is None else min(free_bytes(memory), spare)
    if need_bytes + KEEP_FREE > room:
        return DeviceFolder(temporary, False, f"{memory} or the available memory has no room for the devices' "
                                              f"copies ({need_bytes / 1e9:.2f} GB and {KEEP_FREE / 1e9:.0f} GB "
                                              "to spare)")
    return DeviceFolder(memory, True, "in memory: a device's disk is not what is measured, and file creation "
                                      "on disk varies with the folder")
