"""Where the Docker build contexts of the server images are, in a checkout and installed.

People edit the repository's top-level ``docker/<server>/`` folders. The package reaches them
as ``bench/servers/docker``, read with ``importlib.resources``: in a checkout (and so in an
editable install) that name is a symbolic link to ``../../docker``; a wheel carries a copy of
the folders as package data (``[tool.setuptools.package-data]`` in pyproject.toml), so an
installed ``mailbench run`` builds its images with no checkout at hand.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from bench.errors import UsageError

DOCKER_FOLDERS: Traversable = files("bench.servers") / "docker"


def docker_dir(server: str, root: Traversable = DOCKER_FOLDERS) -> Traversable:
    """The folder ``docker/<server>/`` (as the package carries it), holding its Dockerfile."""
    folder = root / server
    if not (folder / "Dockerfile").is_file():
        raise UsageError(f"no Dockerfile for server {server!r}: expected {folder / 'Dockerfile'}")
    return folder


def assemble(server: str, into: Path, root: Traversable = DOCKER_FOLDERS) -> Path:
    """Copy the build context of ``server`` into the empty folder ``into`` and return it: a
    real folder to hash and send to Docker, whatever ``root`` is (a folder, or a wheel's
    package data read through ``importlib.resources``)."""
    _copy_tree(docker_dir(server, root), into)
    return into


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _copy_tree(entry, target / entry.name)
        elif entry.is_file():
            (target / entry.name).write_bytes(entry.read_bytes())
