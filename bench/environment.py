"""What the run ran on: machine, Python, libraries, Docker, the code. Recorded in every results file.

``machine`` holds what tells machines apart, as pyperf records it: the platform and kernel,
the CPU model (``/proc/cpuinfo``), the CPU count and memory, and the boot id
(``/proc/sys/kernel/random/boot_id``, new at every boot: two runs with the same boot id ran on
the same machine without a reboot between them). The host name is not recorded. ``checkout``
is the git commit of the mailbench checkout the code ran from, and whether its files differed
from that commit; ``None`` outside a checkout (an installed package).
"""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("mailbench", "imapclient", "docker", "matplotlib", "numpy", "click", "rich", "pytest-benchmark")
PACKAGE_DIR = Path(__file__).resolve().parent
GIT_TIMEOUT_S = 10.0


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cpu_model() -> str | None:
    """The first ``model name`` of ``/proc/cpuinfo`` (x86), else its ``Hardware`` or ``cpu`` line."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            fields = dict(
                (key.strip(), value.strip()) for key, _, value in (line.partition(":") for line in cpuinfo) if value
            )
    except OSError:
        return None
    for key in ("model name", "Hardware", "cpu"):
        if fields.get(key):
            return fields[key]
    return None


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip() or None
    except OSError:
        return None


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(PACKAGE_DIR), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def checkout() -> dict[str, Any] | None:
    """``{"commit": sha, "modified": bool}`` of the git checkout holding this package; ``None``
    when there is none (or git is missing), or the repository found is not this package's."""
    top = _git("rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != PACKAGE_DIR.parent:
        return None
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "modified": None if status is None else bool(status)}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe(docker_client: Any | None = None) -> dict[str, Any]:
    env: dict[str, Any] = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "memory_bytes": _memory_bytes(),
            "cpu_model": _cpu_model(),
            "kernel": platform.release(),
            "boot_id": _boot_id(),
        },
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "checkout": checkout(),
    }
    if docker_client is not None:
        version = docker_client.version()
        env["docker"] = {"server": version.get("Version"), "api": version.get("ApiVersion")}
    return env


def merge_probes(first: dict[str, object] | None, probe: dict[str, object]) -> dict[str, object]:
    """One server's entry in ``environment["servers"]`` after another of its containers
    started (``probe``): the protocols any of them served, those every one left off, each
    protocol's capabilities, image and start time added up, and each container's protocols
    in ``containers``, in the order they ran. ``probe`` may be an entry already (a run's
    process of its own, ``bench.side_by_side``): its ``containers`` then follow."""
    containers = probe.get("containers") or [list(probe["protocols"])]
    if first is None:
        return dict(probe, containers=containers)
    merged = dict(first)
    merged["protocols"] = list(dict.fromkeys([*first["protocols"], *probe["protocols"]]))
    merged["switched_off"] = [name for name in first["switched_off"] if name in probe["switched_off"]]
    merged["capabilities"] = {**first["capabilities"], **probe["capabilities"]}
    for name in ("image_s", "start_s"):
        merged[name] = round(first[name] + probe[name], 3)
    merged["containers"] = [*first["containers"], *containers]
    return merged
