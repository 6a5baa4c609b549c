"""Readings of the client process itself: resident memory, current and peak.

A sample's client memory is its *growth*: the peak resident set size during the sample
minus the resident set size at its start. Linux keeps one peak per process (VmHWM);
writing 5 to /proc/self/clear_refs resets it, but to the current RSS, which holds
everything earlier samples and cells allocated and the interpreter kept. A reset peak alone
would therefore depend on what ran before; the growth above the sample's starting RSS
does not. Where the reset is refused, or /proc is absent, the peak is the process's
lifetime peak (``resource.getrusage``) and the growth an upper bound.

Memory that earlier work freed can stay resident: the C allocator keeps freed chunks for
reuse, and after a large block is freed glibc raises its mmap threshold, so the next large
buffers come from the heap and stay there. A sample that reuses that memory would read no
growth for what it held (a POP3 download of 100,000 messages right after their delivery,
in the same process, read 0). ``release_free_memory`` runs a garbage collection and hands
the allocator's free memory back to the kernel (glibc's ``malloc_trim``) before the
sample's starting RSS is read, so the growth counts what the sample itself needed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import resource
from functools import cache
from pathlib import Path
from typing import Callable

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None under another C library."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_free_memory() -> bool:
    """Collect garbage and give the C allocator's free memory back to the kernel; whether
    the allocator could be asked (False: the RSS keeps what was freed)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def reset_peak_rss() -> bool:
    """Start a new peak (at the current RSS); False where the platform cannot."""
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def status_bytes(status: str, key: str) -> int | None:
    """A ``kB`` figure of /proc/<pid>/status (``VmRSS``, ``VmHWM``) in bytes; None if absent."""
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == key:
            fields = value.split()
            if fields and fields[0].isdigit():
                return int(fields[0]) * 1024
    return None


def _status(key: str) -> int | None:
    try:
        return status_bytes(_STATUS.read_text(), key)
    except OSError:
        return None


def peak_rss_bytes() -> int:
    """The peak RSS since the last reset (VmHWM), else the process's lifetime peak."""
    peak = _status("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rss_bytes() -> int:
    """The resident set size now (VmRSS); 0 where it cannot be read."""
    return _status("VmRSS") or 0


def rss_growth_bytes(start_rss: int, peak_rss: int) -> int:
    """How far the peak rose above the RSS at the start (never negative: a peak read after a
    reset is at least the RSS the reset started it from)."""
    return max(0, peak_rss - start_rss)
