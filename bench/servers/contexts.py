"""Where the Docker build contexts of the server images are, in a checkout and installed.

People edit the repository's top-level ``docker/<server>/`` folders. The package reaches them
as ``bench/servers/docker``, read with ``importlib.resources``: in a checkout (and so in an
editable install) that name is a symbolic link to ``../../docker``; a wheel carries a copy of
the folders as package data (``[tool.setuptools.package-data]`` in pyproject.toml), so an
installed ``mailbench run`` builds its images with no checkout at hand.

A server's build context is its own folder plus the start-up code every image shares
(``docker/common/``, under ``common/`` in the context): Docker sees only the context, so the
shared part is copied in, and the image key, a hash of the context, covers both.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from bench.errors import UsageError

DOCKER_FOLDERS: Traversable = files("bench.servers") / "docker"
COMMON = "common"  # the shared folder, and its name inside every context


def docker_dir(server: str, root: Traversable = DOCKER_FOLDERS) -> Traversable:
    """The folder ``docker/<server>/`` (as the package carries it), holding its Dockerfile."""
    folder = root / server
    if not (folder / "Dockerfile").is_file():
        raise UsageError(f"no Dockerfile for server {server!r}: expected {folder / 'Dockerfile'}")
    return folder


def assemble(server: str, into: Path, root: Traversable = DOCKER_FOLDERS) -> Path:
    """Copy the build context of ``server`` (its folder, and ``common/`` beside its files)
    into the empty folder ``into`` and return it: a real folder to hash and send to Docker,
    whatever ``root`` is (a folder, or a wheel's package data read through importlib)."""
    folder = docker_dir(server, root)
    if (folder / COMMON).is_dir() or (folder / COMMON).is_file():
        raise UsageError(f"docker/{server}/{COMMON} clashes with the shared start-up code that every build "
                         f"context holds as {COMMON}/: rename it")
    common = root / COMMON
    if not common.is_dir():
        raise UsageError(f"the start-up code every image shares is missing: expected the folder {common}")
    _copy_tree(folder, into)
    _copy_tree(common, into / COMMON)
    return into


def _copy_tree(source: Traversable, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.is_dir():
            _copy_tree(entry, target / entry.name)
        elif entry.is_file():
            (target / entry.name).write_bytes(entry.read_bytes())
