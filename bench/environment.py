"""What the run ran on: machine, Python, libraries, Docker. Recorded in every results file."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

LIBRARIES = ("mailbench", "imapclient", "docker", "matplotlib", "numpy", "click", "rich", "pytest-benchmark")


def _memory_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


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
        },
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES},
    }
    if docker_client is not None:
        version = docker_client.version()
        env["docker"] = {"server": version.get("Version"), "api": version.get("ApiVersion")}
    return env
