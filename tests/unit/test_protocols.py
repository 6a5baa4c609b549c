"""Each protocol's facts are declared once, in ``bench.protocols``, and everything else reads them."""

import re
from pathlib import Path

from bench.access import IMPLEMENTATIONS
from bench.modes import MODES
from bench.protocols import IMAP, JMAP, POP3, PROTOCOLS
from bench.servers import SERVERS
from bench.servers.base import MailServer
from bench.devices.sync_truth import Semantics

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_every_mode_speaks_a_declared_protocol_and_every_protocol_has_one_access():
    assert {mode.protocol for mode in MODES.values()} == set(PROTOCOLS.values())
    assert [name for name, mode in MODES.items() if mode.protocol is JMAP] == ["jmap"]
    assert {access.protocol for access in IMPLEMENTATIONS.values()} == set(PROTOCOLS.values())
    assert all(IMPLEMENTATIONS[name].protocol is protocol for name, protocol in PROTOCOLS.items())


def test_the_servers_publish_each_offered_protocols_ports():
    assert MailServer().ports == {"imap": 143, "pop3": 110, "imaps": 993, "pop3s": 995}
    assert {name: server.protocols for name, server in SERVERS.items()} == {
        "dovecot": ("imap", "pop3"), "cyrus": ("imap", "pop3"), "courier": ("imap", "pop3")}
    with_jmap = SERVERS["cyrus"].offering("jmap")
    assert with_jmap.protocols == ("imap", "pop3", "jmap") and SERVERS["cyrus"].protocols == ("imap", "pop3")
    assert with_jmap.ports == {"imap": 143, "pop3": 110, "jmap": 8008, "imaps": 993, "pop3s": 995, "jmaps": 8443}
    assert with_jmap.environment(3)["MAILBENCH_PROTOCOLS"] == "imap pop3 jmap"
    assert SERVERS["cyrus"].environment(3)["MAILBENCH_PROTOCOLS"] == "imap pop3"
    assert [IMAP.service(tls) for tls in ("off", "on", "starttls")] == ["imap", "imaps", "imap"]
    assert [JMAP.service(tls) for tls in ("off", "on")] == ["jmap", "jmaps"]
    assert JMAP.tls_ways == ("on",) and IMAP.tls_ways == ("on", "starttls")


def test_jmap_keeps_what_imap_keeps():
    assert (JMAP.keeps_flags, JMAP.has_folders, JMAP.mirrors_mailbox, JMAP.cache_policies) == (
        IMAP.keeps_flags, IMAP.has_folders, IMAP.mirrors_mailbox, IMAP.cache_policies)


def test_the_oracle_reads_the_declared_facts():
    for mode in MODES.values():
        semantics = Semantics.of(mode)
        assert (semantics.keeps_flags, semantics.has_folders, semantics.mirrors_mailbox) == (
            mode.protocol.keeps_flags, mode.protocol.has_folders, mode.protocol.mirrors_mailbox)


def test_a_pop3_device_caches_whole_messages_only():
    assert POP3.cache_policies == ("full",)
    assert IMAP.cache_policies == ("online", "headers", "full")


def test_no_other_module_restates_a_protocol_fact():
    """Ports, the implicit-TLS service names and mode-name parsing live in bench/protocols.py only."""
    restated = re.compile(r'\b(143|993|110|995|8008|8443)\b|"(imaps|pop3s|jmaps)"|startswith\("pop3|split\("-", 1\)\[0\]')
    found = [f"{path.relative_to(BENCH)}:{number}: {line.strip()}"
             for path in sorted(BENCH.rglob("*.py")) if path.name != "protocols.py"
             for number, line in enumerate(path.read_text().splitlines(), 1) if restated.search(line)]
    assert found == []


def test_jmap_is_switched_on_only_where_a_server_can_serve_it_and_says_why_not():
    import pytest

    from bench.errors import NotOffered

    with pytest.raises(NotOffered, match=r"^JMAP is not offered by this server \(dovecot\)$"):
        SERVERS["dovecot"].offering("jmap")
    assert SERVERS["dovecot"].not_offered("jmap") == "JMAP is not offered by this server (dovecot)"
    assert SERVERS["cyrus"].not_offered("jmap") == "JMAP is off in this cyrus container: the run did not ask for it"
