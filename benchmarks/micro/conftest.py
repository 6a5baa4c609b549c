"""The integration fixtures (Docker, images, session containers) serve the micro-benchmarks."""

from tests.conftest import (  # noqa: F401  (fixtures are found by name)
    base_image,
    certificates,
    docker_client,
    running_servers,
    server,
    server_image,
)
