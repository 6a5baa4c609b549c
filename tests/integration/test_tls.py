"""TLS against a real server: implicit and STARTTLS, verified against the run's own CA."""

from __future__ import annotations

import ssl

import pytest

from bench.access import AccessOptions, Endpoint, WireMeter, open_access
from bench.delivery import deliver
from bench.corpus import generate_messages
from bench.tls import make_certificates

pytestmark = pytest.mark.integration

COUNT = 10


@pytest.fixture()
def account(server):
    account = server.fresh_account()
    deliver(server.endpoint("imap", account), generate_messages(COUNT, seed=5))
    return account


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("tls", ["on", "starttls"])
def test_tls_sessions_fetch_the_same_messages_and_cost_more_on_the_wire(server, account, protocol, tls):
    plain_meter, tls_meter = WireMeter(), WireMeter()
    fetched = {}
    for mode, meter in (("off", plain_meter), (tls, tls_meter)):
        endpoint = server.endpoint(protocol, account, mode)
        with open_access(protocol, endpoint, meter, AccessOptions()) as access:
            fetched[mode] = [raw for _, raw in access.fetch(access.list_messages().refs)]
    assert fetched[tls] == fetched["off"] and len(fetched["off"]) == COUNT
    assert tls_meter.round_trips > plain_meter.round_trips  # the handshake waits too
    # Both measured on the wire by the kernel; TLS adds certificates and record framing.
    assert plain_meter.wire_bytes_up == plain_meter.bytes_up
    # On the wire, a plaintext session carries what the client read plus what it never
    # read: the server's FIN, and imaplib stops reading at LOGOUT's BYE, before the tagged OK.
    assert 0 <= plain_meter.wire_bytes_down - plain_meter.bytes_down < 100
    assert tls_meter.wire_bytes_down > plain_meter.wire_bytes_down + 500


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
@pytest.mark.parametrize("tls", ["on", "starttls"])
def test_a_server_the_client_does_not_trust_is_refused(server, account, protocol, tls, tmp_path):
    stranger = make_certificates(tmp_path).client_context()  # another CA than the server's
    good = server.endpoint(protocol, account, tls)
    endpoint = Endpoint(good.port, good.username, good.password, tls=tls, ssl_context=stranger)
    with pytest.raises(ssl.SSLCertVerificationError):
        open_access(protocol, endpoint, WireMeter(), AccessOptions())


