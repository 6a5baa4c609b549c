"""Wait until a file system's disk has gone quiet, so that a timing does not pay for the
work an earlier run left it.

Removing a container of 100,000 messages (5.3 GB in 100,000 files) leaves the disk busy
after ``docker rm`` has returned: the file system frees the blocks, and where it is mounted
with ``discard`` (as this project's machine is) it tells the device about each freed
extent. A delivery started meanwhile shares the disk with that work. The block device's
``io_ticks`` (``/sys/dev/block/MAJ:MIN/stat``, the tenth field: milliseconds in which it
had requests in flight) says how busy it was over a window.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

# The disk counts as quiet when busy for at most this share of a window, QUIET_WINDOWS
# windows of WINDOW_S in a row.
QUIET_SHARE = 0.05
QUIET_WINDOWS = 3
WINDOW_S = 1.0
LIMIT_S = 600.0


def stat_file(path: Path) -> Path | None:
    """The block device statistics of ``path``'s file system, or None where there are none
    (a file system without a block device, such as tmpfs or overlay's upper layer on one)."""
    device = os.stat(path).st_dev
    found = Path(f"/sys/dev/block/{os.major(device)}:{os.minor(device)}/stat")
    return found if found.exists() else None


def io_ticks_ms(stat: Path) -> int:
    return int(stat.read_text().split()[9])


def wait_until_quiet(path: Path, limit_s: float = LIMIT_S) -> float | None:
    """Wait until the disk of ``path`` has been quiet for ``QUIET_WINDOWS`` windows in a row,
    at most ``limit_s``; the seconds waited, or None where the disk cannot be read."""
    stat = stat_file(path)
    if stat is None:
        return None
    started = time.monotonic()
    quiet = 0
    while quiet < QUIET_WINDOWS and time.monotonic() - started < limit_s:
        before = io_ticks_ms(stat)
        time.sleep(WINDOW_S)
        busy = (io_ticks_ms(stat) - before) / (WINDOW_S * 1000)
        quiet = quiet + 1 if busy <= QUIET_SHARE else 0
    return time.monotonic() - started
