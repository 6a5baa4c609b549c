"""Every server image against the image contract, on real containers.

For each of Dovecot, Cyrus and Courier: the image builds, starts and answers a real LOGIN on
IMAP and POP3; a message APPENDed over IMAP comes back byte for byte over IMAP and POP3; the
mail store and the version can be read; without a certificate there is no TLS; the container
is gone afterwards. With the suite's certificate, every TLS way in serves exactly that
certificate. A few behaviours that differ between servers, and so affect a comparison, are
pinned here too; the server modules' docstrings describe them.
"""

from __future__ import annotations

import imaplib
import os
import poplib
import socket
import ssl

import pytest
from docker.errors import NotFound

from bench.access import AccessOptions, WireMeter, open_access
from bench.access.base import LOOPBACK
from bench.access.imap import INBOX
from bench.servers import SERVERS, RunningServer, get_server, run_server

pytestmark = pytest.mark.integration


def _message(subject: str, body: bytes) -> bytes:
    return (
        b"From: Alice <alice@example.com>\r\n"
        b"To: Bob <bob@example.com>\r\n"
        b"Subject: " + subject.encode() + b"\r\n"
        b"Message-ID: <" + subject.encode() + b"@mailbench.test>\r\n"
        b"Date: Mon, 02 Jan 2023 10:00:00 +0000\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n" + body
    )


# Canonical messages (CRLF, no NUL) that every server must keep byte for byte: 8-bit text,
# lines of dots (POP3 byte-stuffs them), a 998-octet line, and one of about 300 kB.
MESSAGES = [
    _message("plain", b"Hello Bob.\r\n"),
    _message("eight-bit", "Grüße, ça va ? 日本語\r\n".encode()),
    _message("dots", b".\r\n..\r\n.leading dot\r\nend\r\n"),
    _message("long-line", b"x" * 998 + b"\r\n"),
    _message("large", b"".join(b"line %06d of a large message, padded to some length\r\n" % i for i in range(6000))),
]


def _session(running: RunningServer, protocol: str, account):
    return open_access(protocol, running.endpoint(protocol, account), WireMeter(), AccessOptions())


def _append(running: RunningServer, account, messages: list[bytes]) -> None:
    """One plain APPEND per message (delivery's batches are tested with the access layer)."""
    with _session(running, "imap", account) as access:
        for raw in messages:
            access.client.append(INBOX, raw)


def _read_all(running: RunningServer, protocol: str, account) -> list[bytes]:
    with _session(running, protocol, account) as access:
        return [raw for _, raw in access.fetch(access.list_messages().refs)]


def _offers_tls(running: RunningServer) -> bool:
    imap = imaplib.IMAP4(LOOPBACK, running.host_ports["imap"], timeout=10)
    try:
        imap_tls = "STARTTLS" in imap.capabilities
    finally:
        imap.shutdown()
    pop = poplib.POP3(LOOPBACK, running.host_ports["pop3"], timeout=10)
    try:
        pop3_tls = "STLS" in pop.capa()
    finally:
        pop.quit()
    return imap_tls or pop3_tls


# --- lifecycle and the round trip --------------------------------------------------


@pytest.mark.parametrize("name", list(SERVERS))
def test_a_message_appended_over_imap_comes_back_byte_for_byte(docker_client, server_image, name):
    with run_server(docker_client, get_server(name), server_image(name), users=3,
                    run_id=f"pytest-{os.getpid()}-{name}-plain") as running:
        container_id = running.container.id
        account = running.account(2)  # user1 belongs to readiness checks
        disk_before = running.disk_bytes()
        _append(running, account, MESSAGES)
        assert _read_all(running, "imap", account) == MESSAGES
        assert _read_all(running, "pop3", account) == MESSAGES
        assert running.disk_bytes() > max(disk_before, 0)
        assert running.disk_bytes(account) > 0
        assert running.version() not in ("", "unknown")
        assert not _offers_tls(running)  # started without a certificate
    with pytest.raises(NotFound):
        docker_client.containers.get(container_id)


# --- TLS with the suite's certificate ------------------------------------------------


def _imaps(port: int, context: ssl.SSLContext) -> bytes:
    imap = imaplib.IMAP4_SSL(LOOPBACK, port, ssl_context=context, timeout=10)
    served = imap.sock.getpeercert(binary_form=True)
    imap.logout()
    return served


def _imap_starttls(port: int, context: ssl.SSLContext) -> bytes:
    imap = imaplib.IMAP4(LOOPBACK, port, timeout=10)
    imap.starttls(context)
    served = imap.sock.getpeercert(binary_form=True)
    imap.logout()
    return served


def _pop3s(port: int, context: ssl.SSLContext) -> bytes:
    pop = poplib.POP3_SSL(LOOPBACK, port, context=context, timeout=10)
    served = pop.sock.getpeercert(binary_form=True)
    pop.quit()
    return served


def _pop3_stls(port: int, context: ssl.SSLContext) -> bytes:
    pop = poplib.POP3(LOOPBACK, port, timeout=10)
    pop.stls(context)
    served = pop.sock.getpeercert(binary_form=True)
    pop.quit()
    return served


TLS_WAYS = {"imaps": ("imaps", _imaps), "imap-starttls": ("imap", _imap_starttls),
            "pop3s": ("pop3s", _pop3s), "pop3-stls": ("pop3", _pop3_stls)}


@pytest.mark.parametrize("way", list(TLS_WAYS))
def test_every_tls_way_serves_the_suites_certificate(server, certificates, way):
    service, handshake = TLS_WAYS[way]
    served = handshake(server.host_ports[service], certificates.client_context())
    assert served == ssl.PEM_cert_to_DER_cert(certificates.server_cert_pem.decode())


# --- behaviour that differs between servers ------------------------------------------


def _uidls(server: RunningServer, account) -> list[str]:
    with _session(server, "pop3", account) as access:
        return [ref.id for ref in access.list_messages().refs]


def test_pop3_uidls_are_stable_across_sessions(server):
    # Stable as a set: Courier numbers a Maildir's messages in directory order, not by
    # arrival, so a new message may take any message number.
    account = server.fresh_account()
    _append(server, account, MESSAGES[:3])
    first = _uidls(server, account)
    assert len(set(first)) == 3
    assert _uidls(server, account) == first
    _append(server, account, MESSAGES[3:4])
    after = _uidls(server, account)
    assert len(after) == 4 and set(first) < set(after)


def _raw_append(server: RunningServer, account, raw: bytes) -> bytes:
    """APPEND ``raw`` exactly as given (imaplib's append turns bare LF into CRLF itself);
    return the tagged answer."""
    with socket.create_connection((LOOPBACK, server.host_ports["imap"]), timeout=10) as sock:
        reader = sock.makefile("rb")

        def command(data: bytes) -> bytes:
            sock.sendall(data)
            while not (answer := reader.readline()).startswith((b"a ", b"+")):
                assert answer, "connection closed"
            return answer

        reader.readline()  # greeting
        assert command(f"a LOGIN {account.username} {server.spec.password}\r\n".encode()).startswith(b"a OK")
        answer = command(b"a APPEND INBOX {%d}\r\n" % len(raw))
        if answer.startswith(b"+"):
            answer = command(raw + b"\r\n")
        command(b"a LOGOUT\r\n")
        return answer


# What an APPEND of a non-canonical message gives back, as (IMAP FETCH, POP3 RETR); None
# where the server refuses the APPEND.
BARE_LF = _message("bare-lf", b"line one\r\nline two\r\n").replace(b"\r\n", b"\n")
WITH_NUL = _message("nul", b"before\x00after\r\n")
NON_CANONICAL = {"bare-lf": BARE_LF, "nul": WITH_NUL}
STORED_AS = {
    "dovecot": {
        "bare-lf": (BARE_LF.replace(b"\n", b"\r\n"),) * 2,
        "nul": (WITH_NUL.replace(b"\x00", b"\x80"), WITH_NUL),  # IMAP shows NUL as 0x80
    },
    "cyrus": {"bare-lf": None, "nul": None},
    "courier": {
        "bare-lf": (BARE_LF.replace(b"\n", b"\r\n"),) * 2,
        "nul": (WITH_NUL,) * 2,
    },
}


@pytest.mark.parametrize("case", list(NON_CANONICAL))
def test_non_canonical_messages_are_stored_as_documented(server, case):
    expected = STORED_AS[server.name][case]
    account = server.fresh_account()
    answer = _raw_append(server, account, NON_CANONICAL[case])
    if expected is None:
        assert answer.startswith(b"a NO"), answer
        return
    assert answer.startswith(b"a OK"), answer
    via_imap, via_pop3 = expected
    assert _read_all(server, "imap", account) == [via_imap]
    assert _read_all(server, "pop3", account) == [via_pop3]


# --- the container's counters -------------------------------------------------------


def test_counters_read_from_cgroup_files_agree_with_docker_stats(server):
    """The readings a measurement takes come from the cgroup files on this host, and give
    what ``docker stats`` gives: the CPU counter the daemon read lies between two file
    readings taken around it, and memory less inactive cache matches within 1 MB on an idle
    server."""
    before = server.resources()
    assert server.counters_source == "cgroup files"
    stats = server.container.stats(stream=False, one_shot=True)
    after = server.resources()
    daemon_cpu_s = stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9
    assert before.cpu_s <= daemon_cpu_s <= after.cpu_s
    memory = stats["memory_stats"]
    detail = memory.get("stats", {})
    daemon_memory = memory["usage"] - detail.get("total_inactive_file", detail.get("inactive_file", 0))
    assert abs(daemon_memory - after.memory_bytes) < 1_000_000


def _in_container(server: RunningServer, command: str) -> str:
    code, output = server.container.exec_run(["sh", "-c", command])
    assert code == 0, output
    return output.decode(errors="surrogateescape")


def test_the_store_read_from_the_host_is_what_du_and_find_in_the_container_give(server):
    """``disk_bytes`` and ``store_usage`` read the container's files from this host
    (``bench.servers.store_files``): for an account with mail, and for the whole store, they
    give what ``du`` and ``find`` print inside the container."""
    from bench.servers.base import store_usage_of

    account = server.fresh_account()
    _append(server, account, MESSAGES)
    _read_all(server, "imap", account)  # the server writes its indexes and caches
    assert server._host_root() is not None
    for path in (server.spec.user_store(account.username), server.spec.mail_store):
        in_container = int(_in_container(server, f"du -sbc {path} 2>/dev/null | tail -n 1").split()[0])
        assert server.disk_bytes(account if path != server.spec.mail_store else None) == in_container
    listing = _in_container(server, f"find {server.spec.user_store(account.username)} -type f -printf '%i %s %P\\n'")
    assert server.store_usage(account) == store_usage_of(listing, server.spec.message_file)
    assert server.store_usage(account).message_bytes >= sum(len(m) for m in MESSAGES) * 0.9


def test_a_discarded_store_is_gone_and_the_other_accounts_keep_theirs(server):
    """``discard_store`` frees one account's folder (a run short of disk frees each sample's
    mailbox after it) and leaves every other account's mail as it was."""
    freed, kept = server.fresh_account(), server.fresh_account()
    for account in (freed, kept):
        _append(server, account, MESSAGES)
    _read_all(server, "imap", freed)  # its indexes and caches written too
    assert server.disk_bytes(freed) > 0
    server.discard_store(freed)
    assert server.disk_bytes(freed) == 0
    assert _read_all(server, "imap", kept) == MESSAGES
