"""Network links by name: round-trip time and bandwidth each way, with the public source of each.

A profile holds typical figures (medians where the source gives medians), not best cases: the
point is to see what a protocol costs where people actually are. ``lan`` is the machine's own
loopback: no relay at all, the client talks straight to the container's published port.

A custom link is written ``rtt=80ms,down=20mbit,up=5mbit`` (any subset): rtt in ``ms`` or
``s``; bandwidth in ``kbit``, ``mbit`` or ``gbit`` (powers of ten: 1 mbit = 1,000,000 bits
per second). A bandwidth left out is unlimited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.errors import UsageError

_OOKLA_2021 = "https://www.ookla.com/articles/starlink-hughesnet-viasat-performance-q2-2021"
_OFCOM_2015 = ("Ofcom, Measuring mobile broadband performance in the UK: 4G and 3G network performance "
               "(tests Oct-Dec 2014, published April 2015)")


@dataclass(frozen=True)
class LinkProfile:
    """One link: ``rtt_ms`` is the round trip the relay adds; a bandwidth of ``None`` is unlimited."""

    name: str
    rtt_ms: float
    down_mbit: float | None
    up_mbit: float | None
    source: str

    @property
    def relayed(self) -> bool:
        """False for ``lan``: the client connects straight to the server."""
        return self.name != "lan"

    @property
    def one_way_delay_s(self) -> float:
        return self.rtt_ms / 2000.0

    def as_dict(self) -> dict[str, object]:
        """The link's figures as results files record them."""
        return {"name": self.name, "rtt_ms": self.rtt_ms, "down_mbit": self.down_mbit,
                "up_mbit": self.up_mbit, "source": self.source}


PROFILES: dict[str, LinkProfile] = {
    profile.name: profile
    for profile in (
        LinkProfile(
            "lan", 0.0, None, None,
            "loopback on this machine: no relay, the client connects to the container's published port",
        ),
        LinkProfile(
            "broadband", 14.0, 115.22, 17.18,
            "Ookla Speedtest Intelligence, Q2 2021, all fixed broadband in the U.S.: median download "
            f"115.22 Mbit/s, upload 17.18 Mbit/s, latency 14 ms ({_OOKLA_2021})",
        ),
        LinkProfile(
            "mobile-4g", 53.1, 14.7, 13.6,
            f"{_OFCOM_2015}: 4G average download 14.7 Mbit/s, upload 13.6 Mbit/s, latency 53.1 ms "
            "(Ofcom publishes averages, not medians)",
        ),
        LinkProfile(
            "mobile-3g", 63.5, 5.9, 1.6,
            f"{_OFCOM_2015}: 3G average download 5.9 Mbit/s, upload 1.6 Mbit/s, latency 63.5 ms, "
            "measured in the same places as mobile-4g (Ofcom publishes averages, not medians)",
        ),
        LinkProfile(
            "satellite", 630.0, 18.13, 3.38,
            "Ookla Speedtest Intelligence, Q2 2021, Viasat (geostationary) in the U.S.: median download "
            f"18.13 Mbit/s, upload 3.38 Mbit/s, latency 630 ms ({_OOKLA_2021})",
        ),
    )
}

_FORMS = (
    "use a profile name ({names}) or rtt=<n>ms|s,down=<n>kbit|mbit|gbit,up=<n>kbit|mbit|gbit "
    "(any subset, e.g. rtt=80ms,down=20mbit,up=5mbit)"
)
_PART = re.compile(r"^(rtt|down|up)=([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(ms|s|kbit|mbit|gbit)$")
_RTT_UNITS = {"ms": 1.0, "s": 1000.0}
_RATE_UNITS = {"kbit": 1e-3, "mbit": 1.0, "gbit": 1e3}


def _bad(spec: str, why: str) -> UsageError:
    return UsageError(f"bad --link {spec!r} ({why}); " + _FORMS.format(names=", ".join(PROFILES)))


def parse_link(spec: str) -> LinkProfile:
    """A profile by name, or a custom link such as ``rtt=80ms,down=20mbit,up=5mbit``."""
    text = spec.strip().lower().replace(" ", "")
    if text in PROFILES:
        return PROFILES[text]
    if "=" not in text:
        raise _bad(spec, "no such profile")
    values: dict[str, float] = {}
    for part in text.split(","):
        match = _PART.match(part)
        if match is None:
            raise _bad(spec, f"cannot read {part!r}")
        key, number, unit = match.groups()
        if key in values:
            raise _bad(spec, f"{key} given twice")
        if key == "rtt":
            if unit not in _RTT_UNITS:
                raise _bad(spec, f"rtt takes ms or s, not {unit}")
            values[key] = float(number) * _RTT_UNITS[unit]
        else:
            if unit not in _RATE_UNITS:
                raise _bad(spec, f"{key} takes kbit, mbit or gbit, not {unit}")
            rate = float(number) * _RATE_UNITS[unit]
            if rate <= 0:
                raise _bad(spec, f"{key} must be more than zero")
            values[key] = rate
    rtt_ms = values.get("rtt", 0.0)
    down, up = values.get("down"), values.get("up")
    shown = [f"rtt={rtt_ms:g}ms"] if "rtt" in values else []
    shown += [f"{key}={values[key]:g}mbit" for key in ("down", "up") if key in values]
    return LinkProfile(f"custom({','.join(shown)})", rtt_ms, down, up, "given on the command line")
