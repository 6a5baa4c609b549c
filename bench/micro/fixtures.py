"""The servers the micro-benchmarks measure, as pytest fixtures: Docker, the base and server
images, the session's certificates, and each server started at most once per pytest session
(TLS on, 300 accounts) and removed at its end.

``bench/micro/operations.py`` imports them, so ``mailbench micro`` needs nothing outside the
package. The test suite's conftest takes the same fixtures and replaces ``docker_client``
alone: the tests skip without Docker, where a benchmark run fails.
"""

from __future__ import annotations

import os
from contextlib import ExitStack

import pytest

from bench.servers import SERVERS, get_server, run_server
from bench.servers.docker_client import connect
from bench.servers.images import ensure_base_image, ensure_server_image
from bench.tls import make_certificates


@pytest.fixture(scope="session")
def docker_client():
    return connect()


@pytest.fixture(scope="session")
def base_image(docker_client):
    return ensure_base_image(docker_client, say=lambda line: None)


@pytest.fixture(scope="session")
def server_image(docker_client, base_image):
    def build(name: str, stage: str | None = None) -> str:
        return ensure_server_image(docker_client, name, base_image, say=lambda line: None, stage=stage)

    return build


@pytest.fixture(scope="session")
def certificates(tmp_path_factory):
    """The session's own CA and server certificate, as a run makes them."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def running_servers(docker_client, server_image, certificates):
    """Starts each server at most once per session, TLS on, every protocol it can serve
    switched on (Cyrus's JMAP), with plenty of fresh accounts; removes them all at the end."""
    started = {}
    with ExitStack() as stack:

        def get(name: str):
            if name not in started:
                spec = get_server(name).offering(*get_server(name).switchable)
                running = stack.enter_context(
                    run_server(docker_client, spec, server_image(name, spec.image_stage), users=300,
                               run_id=f"pytest-{os.getpid()}", certificates=certificates))
                running.fresh_account()  # user1 belongs to readiness checks and probes
                started[name] = running
            return started[name]

        yield get


@pytest.fixture(scope="session", params=list(SERVERS))
def server(request, running_servers):
    """Each server in turn: tests using it run once per implementation."""
    return running_servers(request.param)
