"""Access to a mailbox through one interface, whatever the protocol."""

from __future__ import annotations

from bench.access.base import AccessOptions, Endpoint, Listing, MailAccess, MessageRef, Part
from bench.access.imap import ImapAccess
from bench.access.jmap import JmapAccess
from bench.access.meter import WireMeter
from bench.access.pop3 import Pop3Access

__all__ = [
    "AccessOptions", "Endpoint", "Listing", "MailAccess", "MessageRef", "Part", "WireMeter", "open_access",
]

IMPLEMENTATIONS: dict[str, type[MailAccess]] = {
    access.protocol.name: access for access in (ImapAccess, Pop3Access, JmapAccess)
}


def open_access(
    protocol: str, endpoint: Endpoint, meter: WireMeter, options: AccessOptions = AccessOptions()
) -> MailAccess:
    """Connect and log in with the implementation of ``protocol`` (``imap``, ``pop3``, ``jmap``)."""
    return IMPLEMENTATIONS[protocol](endpoint, meter, options)
