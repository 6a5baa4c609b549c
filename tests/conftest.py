"""Shared fixtures. Integration fixtures start real containers once per session.

Without Docker the integration tests skip, except under CI (``CI=true``), where a missing
Docker is a failure: the point of CI is to run them.
"""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest

from bench.corpus import generate_messages

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def docker_client():
    from bench.errors import DockerUnavailable
    from bench.servers.docker_client import connect

    try:
        return connect()
    except DockerUnavailable as exc:
        if _in_ci():
            pytest.fail(f"CI=true and Docker is unavailable: {exc}")
        pytest.skip(f"Docker unavailable: {exc}")


@pytest.fixture(scope="session")
def base_image(docker_client):
    from bench.servers.images import ensure_base_image

    return ensure_base_image(docker_client, say=lambda line: None)


@pytest.fixture(scope="session")
def server_image(docker_client, base_image):
    from bench.servers.images import ensure_server_image

    def build(name: str) -> str:
        return ensure_server_image(docker_client, name, base_image, say=lambda line: None)

    return build


@pytest.fixture(scope="session")
def certificates(tmp_path_factory):
    """The session's own CA and server certificate, as a run makes them."""
    from bench.tls import make_certificates

    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def running_servers(docker_client, server_image, certificates):
    """Starts each server at most once per session, TLS on, with plenty of fresh accounts;
    removes them all at the end."""
    from contextlib import ExitStack

    from bench.servers import get_server, run_server

    started = {}
    with ExitStack() as stack:

        def get(name: str):
            if name not in started:
                running = stack.enter_context(
                    run_server(docker_client, get_server(name), server_image(name), users=300,
                               run_id=f"pytest-{os.getpid()}", certificates=certificates))
                running.fresh_account()  # user1 belongs to readiness checks and probes
                started[name] = running
            return started[name]

        yield get


def _server_names() -> list[str]:
    from bench.servers import SERVERS

    return list(SERVERS)


@pytest.fixture(scope="session", params=_server_names())
def server(request, running_servers):
    """Each server in turn: tests using it run once per implementation."""
    return running_servers(request.param)


@pytest.fixture(scope="session")
def dovecot(running_servers):
    return running_servers("dovecot")


SIZE_LIMIT_BYTES = 25 * 1024 * 1024  # the per-message limit the Dovecot and Cyrus images set


@pytest.fixture()
def oversized_corpus(tmp_path):
    """An mbox of five generated messages and, third, one above the servers' size limit;
    gives its path and the big message's size as delivered (CRLF line ends)."""
    messages = [raw.replace(b"\r\n", b"\n") for raw in generate_messages(5, seed=7)]
    big = (b"From: big@example.org\nTo: user@example.org\nSubject: too big\nMessage-ID: <too-big@mailbench.test>\n\n"
           + (b"y" * 76 + b"\n") * (SIZE_LIMIT_BYTES // 78 + 1000))
    messages.insert(2, big)
    path = tmp_path / "big.mbox"
    box = mailbox.mbox(str(path))
    for raw in messages:
        box.add(raw)
    box.flush()
    box.close()
    return path, len(big) + big.count(b"\n")
