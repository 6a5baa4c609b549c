"""A cell's link: the relays between its devices and the server, and the server seen
through them.

The corpus is delivered straight to the server (setup is not measured); everything a
device does goes through the link. All devices of a cell share its link, as devices behind
one connection would.
"""

from __future__ import annotations

import dataclasses
import threading
from contextlib import ExitStack, contextmanager
from typing import Any, Iterator

from bench.access.base import Endpoint
from bench.links.profiles import LinkProfile
from bench.links.relay import Link, open_link
from bench.protocols import get_protocol


def service_name(protocol: str, tls: str) -> str:
    """The server's service a session of ``protocol`` (its name) uses with ``tls``."""
    return get_protocol(protocol).service(tls)


class LinkedServer:
    """A running server whose endpoints for the linked services lead to the relays.

    Everything else (resources, disk, logs, accounts) is the server's own.
    """

    def __init__(self, server: Any, links: dict[str, Link]) -> None:
        self._server = server
        self._links = links

    def endpoint(self, protocol: str, account: Any, tls: str = "off", timeout_s: float = 30.0) -> Endpoint:
        endpoint = self._server.endpoint(protocol, account, tls, timeout_s)
        link = self._links.get(service_name(protocol, tls))
        return dataclasses.replace(endpoint, port=link.port) if link is not None else endpoint

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


@dataclasses.dataclass
class CellLink:
    """What a scenario may do with its link: cut it and bring it back."""

    profile: LinkProfile
    links: dict[str, Link]

    def cut(self) -> None:
        for link in self.links.values():
            link.cut()

    def restore(self) -> None:
        for link in self.links.values():
            link.restore()

    def cut_when_seen(self, pattern: bytes) -> list[threading.Event]:
        """Cut the link the moment ``pattern`` comes from the server (see ``Relay``); one
        event per service, set when it fired there."""
        return [link.cut_when_seen(pattern) for link in self.links.values()]

    def mute_when_seen(self, pattern: bytes) -> list[threading.Event]:
        """Let nothing the server sends after ``pattern`` reach the device (see ``Relay``)."""
        return [link.mute_when_seen(pattern) for link in self.links.values()]

    def pattern_seen_at(self) -> float | None:
        """When an armed pattern was first seen on any of the cell's links (perf_counter)."""
        times = [t for t in (link.pattern_seen_at for link in self.links.values()) if t is not None]
        return min(times) if times else None

    def disarm(self) -> None:
        for link in self.links.values():
            link.disarm()

    def follow(self, server: Any) -> None:
        """Lead to the server's ports as they are now (after a restart gave it new ones)."""
        for service, link in self.links.items():
            link.retarget(server.host_ports[service])

    def view(self, server: Any) -> LinkedServer:
        return LinkedServer(server, self.links)


@contextmanager
def open_cell_link(server: Any, services: list[str], profile: LinkProfile, *, cuttable: bool) -> Iterator[CellLink]:
    """Open one link per service for the whole cell; closed (relays stopped) on the way out."""
    with ExitStack() as stack:
        links = {service: stack.enter_context(open_link(server.host_ports[service], profile, cuttable=cuttable))
                 for service in services}
        yield CellLink(profile, links)
