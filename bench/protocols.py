"""What each protocol is, declared once: the facts every other part reads.

A protocol's record says what it keeps on the server and what a client of it can keep,
so that a device, the sync oracle, the servers' ports, the report and the claims never
ask which protocol they deal with and never restate a fact of their own:

- ``keeps_flags``: read and flagged states live on the server, so every device sees them;
- ``has_folders``: messages can be filed into folders on the server;
- ``mirrors_mailbox``: the server's mailbox is the mail, and a message gone from its
  listing was removed by a user, so every device drops it (in POP3 a maildrop is a
  delivery queue: gone means downloaded elsewhere, and clients keep their copy);
- ``cache_policies``: what a device can keep of each message, least kept first (a POP3
  client downloads whole messages: there is no mailbox on the server to read from later);
- ``port`` and ``tls_port``: the plaintext port (also STARTTLS, where the protocol has it)
  and the implicit-TLS one, inside the server's container;
- ``starttls``: a session can upgrade the plaintext port to TLS (IMAP STARTTLS, POP3 STLS;
  HTTP, which JMAP runs on, has no such upgrade).

A server need not offer every protocol: ``MailServer.protocols`` names those it does.
Adding a protocol means one record here and one access module in ``bench/access/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from bench.errors import UsageError

# What a device keeps of each message it lists: nothing (it reads online only), the
# header block (a list it can show offline), or the whole message (a full offline copy).
CACHE_POLICIES = ("online", "headers", "full")


@dataclass(frozen=True)
class Protocol:
    """One protocol's facts; see the module's docstring for what each means."""

    name: str
    label: str
    keeps_flags: bool
    has_folders: bool
    mirrors_mailbox: bool
    cache_policies: tuple[str, ...]
    port: int
    tls_port: int
    starttls: bool = True

    @property
    def tls_service(self) -> str:
        """The name of its implicit-TLS service (``imaps``, ``pop3s``, ``jmaps``)."""
        return self.name + "s"

    @property
    def tls_ways(self) -> tuple[str, ...]:
        """The ``tls`` settings a session of this protocol can use besides ``off``."""
        return ("on", "starttls") if self.starttls else ("on",)

    def service(self, tls: str) -> str:
        """The service a client of this protocol connects to with ``tls`` (``off``, ``on``,
        ``starttls``): STARTTLS upgrades the plaintext port."""
        if tls == "starttls" and not self.starttls:
            raise UsageError(f"{self.label} has no STARTTLS: use --tls on (its own port) or off")
        return self.tls_service if tls == "on" else self.name


IMAP = Protocol("imap", "IMAP", keeps_flags=True, has_folders=True, mirrors_mailbox=True,
                cache_policies=CACHE_POLICIES, port=143, tls_port=993)
POP3 = Protocol("pop3", "POP3", keeps_flags=False, has_folders=False, mirrors_mailbox=False,
                cache_policies=("full",), port=110, tls_port=995)
# JMAP (RFC 8620, RFC 8621) over HTTP/1.1: mail state on the server, as IMAP's. The ports are
# Cyrus httpd's services in this suite's image (docker/cyrus/cyrus.conf).
JMAP = Protocol("jmap", "JMAP", keeps_flags=True, has_folders=True, mirrors_mailbox=True,
                cache_policies=CACHE_POLICIES, port=8008, tls_port=8443, starttls=False)

PROTOCOLS: dict[str, Protocol] = {protocol.name: protocol for protocol in (IMAP, POP3, JMAP)}


def get_protocol(name: str) -> Protocol:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise UsageError(f"unknown protocol {name!r}; choose from {', '.join(PROTOCOLS)}") from None


def service_ports(names: Iterable[str] | None = None) -> dict[str, int]:
    """The services of the protocols ``names`` (every protocol's when None) by name, with
    their ports in a server's container: the plaintext ones first."""
    chosen = [get_protocol(name) for name in names] if names is not None else list(PROTOCOLS.values())
    ports: dict[str, int] = {}
    for protocol in chosen:
        ports[protocol.name] = protocol.port
    for protocol in chosen:
        ports[protocol.tls_service] = protocol.tls_port
    return ports
