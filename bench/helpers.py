"""Helper processes: one of this package's modules run by a fresh interpreter.

Work that would hold the harness's interpreter lock for long (making a large corpus,
drawing many charts) can go to other cores. The helpers are plain subprocesses running a
module of this package (``python -m``), not a multiprocessing pool: a pool's ``spawn``
start re-runs the parent's main script (a benchmark script, say), and ``fork`` would copy
the harness's threads in an unknown state. Each runs in a session of its own, so a Ctrl-C
reaches the harness alone, which ends its helpers on its way out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def start_helper(module: str, *args: object, **popen: Any) -> subprocess.Popen:
    """``python -m module args...`` with this interpreter, this package first on its import
    path (a script may have put it on ``sys.path`` without installing it), no stdin, and a
    session of its own."""
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": f"{PACKAGE_ROOT}{os.pathsep}{path}" if path else str(PACKAGE_ROOT)}
    return subprocess.Popen([sys.executable, "-m", module, *map(str, args)], stdin=subprocess.DEVNULL,
                            start_new_session=True, env=env, **popen)
