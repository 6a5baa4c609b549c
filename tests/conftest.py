"""Shared fixtures. Integration fixtures start real containers once per session.

The server fixtures (images, certificates, one container per server and session) are the
micro-benchmarks' own, from bench/micro/fixtures.py; only ``docker_client`` is the tests':
without Docker the integration tests skip, except under CI (``CI=true``), where a missing
Docker is a failure: the point of CI is to run them.
"""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest

from bench.corpus import generate_messages
from bench.micro.fixtures import (  # noqa: F401  (fixtures are found by name)
    base_image,
    certificates,
    running_servers,
    server,
    server_image,
)

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items):
    """A test run once per server and per mode has no case where the server lacks the mode's
    protocol (JMAP on Dovecot or Courier): such a pair is deselected, not skipped, since
    there is nothing to run; ``tests/integration/test_jmap_run.py`` checks that a run
    records those cells as not offered."""
    from bench.modes import MODES
    from bench.servers import SERVERS

    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        spec, mode = SERVERS.get(str(params.get("server"))), MODES.get(str(params.get("mode")))
        protocol = mode.protocol.name if mode is not None else None
        if spec is not None and protocol is not None and not (spec.offers(protocol) or protocol in spec.switchable):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


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
