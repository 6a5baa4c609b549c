"""Reaching the Docker daemon, with an error that says what to do when it is not there."""

from __future__ import annotations

import docker
from docker.errors import DockerException

from bench.errors import DockerUnavailable

HOW_TO_START = (
    "start the Docker daemon (as root: `dockerd > /var/log/dockerd.log 2>&1 &`, or "
    "`systemctl start docker`), or run ./run-comparison which installs and starts it"
)


def connect() -> docker.DockerClient:
    """A client whose daemon answered a ping."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except DockerException as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DockerUnavailable(f"Docker is not reachable ({reason[:160]}); {HOW_TO_START}") from None
    return client
