"""Per-operation latency against the running containers, with pytest-benchmark.

Each benchmark times one client operation through the same access layer the scenarios use
(so the figures include the client library, as a real client's would), against every
server and protocol, on a mailbox of ``MAILBOX`` generated messages. Setup that must not be
timed (connecting, delivering a message to delete) runs in ``pedantic``'s setup. The servers
come from the fixtures of bench/micro/fixtures.py, imported here, so the file stands alone.

    mailbench micro                      # runs these and writes them into a report
    pytest bench/micro/operations.py --benchmark-json=micro.json
"""

from __future__ import annotations

import pytest

from bench.access import AccessOptions, WireMeter, open_access
from bench.corpus import generate_messages
from bench.delivery import deliver
from bench.micro.fixtures import (  # noqa: F401  (fixtures are found by name)
    base_image,
    certificates,
    docker_client,
    running_servers,
    server,
    server_image,
)

MAILBOX = 50
ROUNDS = 30


@pytest.fixture(scope="module")
def account(server):
    account = server.fresh_account()
    deliver(server.endpoint("imap", account), generate_messages(MAILBOX, seed=9))
    return account


def _open(server, account, protocol):
    return open_access(protocol, server.endpoint(protocol, account), WireMeter(), AccessOptions())


def _info(benchmark, server, protocol, operation):
    benchmark.group = f"{operation}"
    benchmark.extra_info.update(server=server.name, protocol=protocol, operation=operation, tls="off")


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_connect_login_logout(benchmark, server, account, protocol):
    _info(benchmark, server, protocol, "connect+login")
    benchmark.pedantic(lambda: _open(server, account, protocol).close(), rounds=ROUNDS, warmup_rounds=2)


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_list_mailbox(benchmark, server, account, protocol):
    """IMAP SELECT + UID FETCH sizes; POP3 UIDL + LIST (what a sync does first)."""
    _info(benchmark, server, protocol, "select/stat")
    with _open(server, account, protocol) as access:
        listing = benchmark.pedantic(access.list_messages, rounds=ROUNDS, warmup_rounds=2)
    assert len(listing.refs) == MAILBOX


@pytest.mark.parametrize("part", ["full", "headers"])
@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_fetch_one_message(benchmark, server, account, protocol, part):
    """IMAP FETCH BODY.PEEK[] / [HEADER] vs POP3 RETR / TOP n 0 of one mid-sized message."""
    _info(benchmark, server, protocol, "fetch one" if part == "full" else "headers only")
    with _open(server, account, protocol) as access:
        refs = access.list_messages().refs
        ref = sorted(refs, key=lambda r: r.size)[len(refs) // 2]
        raw = benchmark.pedantic(lambda: next(iter(access.fetch([ref], part)))[1],
                                 rounds=ROUNDS, warmup_rounds=2)
    assert len(raw) > 0


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_delete_one_and_commit(benchmark, server, protocol):
    """IMAP STORE \\Deleted + EXPUNGE vs POP3 DELE + QUIT, on a fresh one-message mailbox."""
    _info(benchmark, server, protocol, "delete+expunge")

    def setup():
        account = server.fresh_account()
        deliver(server.endpoint("imap", account), generate_messages(1, seed=10))
        access = _open(server, account, protocol)
        return (access, access.list_messages().refs), {}

    def delete_and_commit(access, refs):
        access.delete(refs)
        access.close()

    benchmark.pedantic(delete_and_commit, setup=setup, rounds=10)
