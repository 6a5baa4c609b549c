"""Network links: profiles (latency, bandwidth, source), a shaping relay on 127.0.0.1 that
imposes them, and the limit a perfect protocol would reach on each."""

from __future__ import annotations

from bench.links.limit import efficiency, limit_seconds
from bench.links.profiles import PROFILES, LinkProfile, parse_link
from bench.links.relay import DirectLink, Link, Relay, RelayStats, open_link

__all__ = [
    "PROFILES", "DirectLink", "Link", "LinkProfile", "Relay", "RelayStats", "efficiency", "limit_seconds",
    "open_link", "parse_link",
]
