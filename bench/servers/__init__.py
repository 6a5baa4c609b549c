"""Mail server implementations mailbench can run, by name.

Adding a server means a folder ``docker/<name>/`` and a small ``MailServer`` subclass here.
"""

from __future__ import annotations

from bench.errors import UsageError
from bench.servers.base import MailServer, RunningServer, clean, run_server
from bench.servers.courier import Courier
from bench.servers.cyrus import Cyrus
from bench.servers.dovecot import Dovecot

SERVERS: dict[str, MailServer] = {server.name: server for server in (Dovecot(), Cyrus(), Courier())}

__all__ = ["SERVERS", "MailServer", "RunningServer", "clean", "get_server", "run_server"]


def get_server(name: str) -> MailServer:
    try:
        return SERVERS[name]
    except KeyError:
        raise UsageError(f"unknown server {name!r}; choose from {', '.join(SERVERS)} (see `mailbench list`)") from None
