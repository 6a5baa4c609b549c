"""Readings of the client process itself: resident memory, current and peak.

A sample's client memory is its *growth*: the peak resident set size during the sample
minus the resident set size at its start. Linux keeps one peak per process (VmHWM);
writing 5 to /proc/self/clear_refs resets it, but to the current RSS, which holds
everything earlier samples and cells allocated and the interpreter kept. A reset peak alone
would therefore depend on what ran before; the growth above the sample's starting RSS
does not. Where the reset is refused, or /proc is absent, the peak is the process's
lifetime peak (``resource.getrusage``) and the growth an upper bound.
"""

from __future__ import annotations

import resource
from pathlib import Path

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


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
