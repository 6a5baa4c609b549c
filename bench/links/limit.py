"""The limit: how long a perfect protocol would take to move the same bytes over a link.

``limit = max(bytes_down / down rate, bytes_up / up rate) + round_trips * rtt``

- **The larger of the two directions, not their sum.** Every link profile here is full duplex
  (DSL, cable, LTE and satellite carry each direction on its own channel), so a protocol that
  keeps both directions busy at once pays only for the slower one. The sum would be the bound
  for a protocol that never sends while it receives: a real protocol can, so the sum would
  excuse waste that a better protocol avoids.
- **Round trips are added, not overlapped with the transfer.** A round trip is a wait that the
  next bytes depend on (the server cannot answer a command it has not seen), so no bytes that
  depend on it cross during it. This makes the limit a fair floor for request/response
  protocols; it is not a bound on every conceivable protocol.
- An unlimited direction costs no time; ``lan`` (no rtt, unlimited) has a limit of zero.
- ``connections``: opening a TCP connection costs one round trip (SYN, SYN-ACK) before a
  server can speak, on top of the wait for the greeting that the meter counts as one.
"""

from __future__ import annotations

from bench.links.profiles import LinkProfile


def serialisation_seconds(nbytes: int, mbit: float | None) -> float:
    """Time to put ``nbytes`` on a link of ``mbit`` megabits per second (``None``: unlimited)."""
    if nbytes < 0:
        raise ValueError(f"byte count must not be negative, got {nbytes}")
    if mbit is None:
        return 0.0
    return nbytes * 8 / (mbit * 1e6)


def limit_seconds(
    profile: LinkProfile, bytes_down: int, bytes_up: int, round_trips: int, *, connections: int = 0
) -> float:
    """Seconds a perfect protocol needs on ``profile`` for these bytes and round trips."""
    if round_trips < 0 or connections < 0:
        raise ValueError(f"round trips and connections must not be negative, got {round_trips}, {connections}")
    transfer = max(serialisation_seconds(bytes_down, profile.down_mbit),
                   serialisation_seconds(bytes_up, profile.up_mbit))
    return transfer + (round_trips + connections) * profile.rtt_ms / 1000.0


def efficiency(profile: LinkProfile, seconds: float, bytes_down: int, bytes_up: int, round_trips: int,
               *, connections: int = 0) -> float | None:
    """The limit as a share of the time taken (1.0: as fast as a perfect protocol); None when
    nothing was timed."""
    if seconds <= 0:
        return None
    return limit_seconds(profile, bytes_down, bytes_up, round_trips, connections=connections) / seconds
