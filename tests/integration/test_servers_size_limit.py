"""The largest message each server stores, and what it answers to a larger one.

Dovecot and Cyrus are configured with one limit, 25 MiB (docker/<server>/, docs/servers.md);
Courier-IMAP has no such setting and stores the message. Pinned here on real containers: the
answer to a synchronizing APPEND one byte over the limit (given before the message is sent),
APPENDLIMIT as advertised, what a refusal does to a MULTIAPPEND batch (nothing of it is
stored; Cyrus also closes the connection), and that delivery leaves out only the refused
message.
"""

from __future__ import annotations

import socket

import pytest

from bench.access import AccessOptions, WireMeter, open_access
from bench.access.base import LOOPBACK
from bench.delivery import deliver
from bench.servers import RunningServer

pytestmark = pytest.mark.integration

LIMIT = 25 * 1024 * 1024  # 26,214,400 bytes
REFUSAL = {  # the tagged answer to an APPEND of LIMIT + 1 bytes; None: stored
    "dovecot": b"NO [LIMIT] Mail size is larger than the maximum size allowed by server configuration",
    "cyrus": b"NO [TOOBIG] Message size exceeds fixed limit",
    "courier": None,
}
APPENDLIMIT = {"dovecot": None, "cyrus": f"APPENDLIMIT={LIMIT}", "courier": None}


def message(size: int, name: str) -> bytes:
    """A canonical message of exactly ``size`` bytes."""
    head = (f"From: a@example.org\r\nTo: b@example.org\r\nSubject: {name}\r\n"
            f"Message-ID: <{name}@mailbench.test>\r\n\r\n").encode()
    line = b"z" * 78 + b"\r\n"
    body = (line * ((size - len(head)) // len(line) + 1))[: size - len(head) - 2] + b"\r\n"
    raw = head + body
    assert len(raw) == size
    return raw


class Raw:
    """A logged-in IMAP connection, spoken to byte by byte."""

    def __init__(self, server: RunningServer, account) -> None:
        self.sock = socket.create_connection((LOOPBACK, server.host_ports["imap"]), timeout=60)
        self.reader = self.sock.makefile("rb")
        self.reader.readline()  # greeting
        assert self.command(f"a LOGIN {account.username} {server.spec.password}\r\n".encode()).startswith(b"a OK")

    def answer(self, tag: bytes = b"a") -> bytes:
        """The next continuation or tagged line (untagged ones are skipped); b"" at EOF."""
        while (line := self.reader.readline()) and not line.startswith((tag + b" ", b"+")):
            pass
        return line.rstrip(b"\r\n")

    def command(self, data: bytes) -> bytes:
        self.sock.sendall(data)
        return self.answer()

    def count(self) -> int:
        self.sock.sendall(b"s STATUS INBOX (MESSAGES)\r\n")
        found = None
        while not (line := self.reader.readline()).startswith(b"s "):
            if b"MESSAGES" in line:
                found = int(line.split(b"MESSAGES")[1].strip(b" )\r\n"))
        return found

    def close(self) -> None:
        self.sock.close()


def _capabilities(server: RunningServer, account) -> set[str]:
    with open_access("imap", server.endpoint("imap", account), WireMeter(), AccessOptions()) as access:
        return set(access.capabilities)


def test_appendlimit_is_advertised_as_documented(server):
    found = {c for c in _capabilities(server, server.fresh_account()) if c.startswith("APPENDLIMIT")}
    expected = APPENDLIMIT[server.name]
    assert found == ({expected} if expected else set())


def test_the_limit_is_stored_and_one_byte_more_is_refused_before_it_is_sent(server):
    raw = Raw(server, server.fresh_account())
    try:
        assert raw.command(b"a APPEND INBOX {%d}\r\n" % LIMIT).startswith(b"+")
        assert raw.command(message(LIMIT, "at-limit") + b"\r\n").startswith(b"a OK")
        first = raw.command(b"a APPEND INBOX {%d}\r\n" % (LIMIT + 1))
        refusal = REFUSAL[server.name]
        if refusal is None:  # Courier: no limit to apply
            assert first.startswith(b"+")
            assert raw.command(message(LIMIT + 1, "over") + b"\r\n").startswith(b"a OK")
            assert raw.count() == 2
        else:  # the answer comes instead of the continuation: the message is never sent
            assert first.startswith(b"a " + refusal), first
            assert raw.count() == 1
    finally:
        raw.close()


@pytest.mark.parametrize("name", ["dovecot", "cyrus"])
def test_a_refusal_inside_a_multiappend_stores_nothing_of_the_batch(running_servers, name):
    server = running_servers(name)
    account = server.fresh_account()
    raw = Raw(server, account)
    batch = [message(2000, "first"), message(LIMIT + 1, "over"), message(3000, "third")]
    data = b"a APPEND INBOX" + b"".join(b" {%d+}\r\n" % len(m) + m for m in batch) + b"\r\n"
    head = data.index(b"{%d+}" % (LIMIT + 1)) + 100  # up to the oversized literal's size and a little of it
    try:
        raw.sock.sendall(data[:head])
        answer = raw.answer()  # given as soon as the literal's size is read
        assert answer.startswith(b"a " + REFUSAL[name]), answer
        if name == "cyrus":  # a non-synchronizing literal it will not take ends the session
            assert raw.reader.readline().startswith(b"* BYE [TOOBIG]")
            assert raw.reader.readline() == b""
        else:  # Dovecot reads the rest of the batch and goes on
            raw.sock.sendall(data[head:])
            assert raw.count() == 0
    finally:
        raw.close()
    again = Raw(server, account)
    try:
        assert again.count() == 0
    finally:
        again.close()


@pytest.mark.parametrize("login", ["setup", "user"])
def test_delivery_leaves_out_only_the_refused_message(server, login):
    """As the setup login a run delivers with (``RunningServer.delivery_endpoint``), and as
    the user."""
    account = server.fresh_account()
    messages = [message(1500 + i, f"m{i}") for i in range(5)]
    messages.insert(2, message(LIMIT + 1, "over"))
    stored: list[bytes] = []
    endpoint = server.delivery_endpoint(account) if login == "setup" else server.endpoint("imap", account)
    report = deliver(endpoint, messages, stored.append)
    with open_access("imap", server.endpoint("imap", account), WireMeter(), AccessOptions()) as access:
        on_server = sorted(raw for _, raw in access.fetch(access.list_messages().refs))
    if REFUSAL[server.name] is None:
        assert report.refused == [] and stored == messages
    else:
        assert [(r.index, r.size_bytes) for r in report.refused] == [(2, LIMIT + 1)]
        assert report.refused[0].answer.encode().startswith(REFUSAL[server.name])
        assert stored == messages[:2] + messages[3:]
    assert on_server == sorted(stored)
