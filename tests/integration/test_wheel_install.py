"""mailbench installed from its wheel, as someone without a checkout has it.

The wheel is built from a copy of the working tree (a stale build/ folder in the checkout
could otherwise slip files into it), then installed with its dependencies into a fresh
virtual environment (no system site packages; pip's cache spares the downloads), and run
from a folder outside the checkout: `mailbench list`, one real cell on Dovecot, and the
micro-benchmarks on Dovecot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bench.servers import SERVERS

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "reports", "__pycache__",
                                    ".pytest_cache", ".benchmarks")
CONTEXTS_IN_WHEEL = "bench/servers/docker/"
INSTALL_TIMEOUT_S = 900


def _run(command: list, **kwargs) -> subprocess.CompletedProcess:
    """A command with the environment a user has: no PYTHONPATH pointing into the checkout."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, env=env, **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=NOT_SOURCE)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", folder / "dist", source],
                 timeout=INSTALL_TIMEOUT_S)
    assert built.returncode == 0, built.stderr
    (path,) = (folder / "dist").glob("mailbench-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The bin/ folder of a fresh virtual environment holding the wheel and its dependencies."""
    env = tmp_path_factory.mktemp("venv") / "venv"
    created = _run([sys.executable, "-m", "venv", env], timeout=120)
    assert created.returncode == 0, created.stderr
    done = _run([env / "bin" / "python", "-m", "pip", "install", "-q", "--no-compile", wheel], timeout=INSTALL_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return env / "bin"


def test_the_wheel_carries_the_build_contexts_and_no_test_code(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        contexts = {name[len(CONTEXTS_IN_WHEEL):]: archive.read(name)
                    for name in names if name.startswith(CONTEXTS_IN_WHEEL)}
    docker = REPO / "docker"
    assert contexts == {path.relative_to(docker).as_posix(): path.read_bytes()
                        for path in docker.rglob("*") if path.is_file()}
    assert {f"{server}/Dockerfile" for server in SERVERS} | {"common/mailbench-common.sh"} <= contexts.keys()
    assert {"bench/py.typed", "bench/micro/operations.py", "bench/micro/fixtures.py"} <= names
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/"))]
    assert "bench/links/probe.py" not in names


def test_the_installed_command_lists_and_runs_a_cell_outside_the_checkout(installed, server_image, tmp_path):
    server_image("dovecot")  # the checkout's image: the installed package must find it by the same key
    listing = _run([installed / "mailbench", "list"], cwd=tmp_path, timeout=120)
    assert listing.returncode == 0, listing.stderr
    assert "bulk-fetch" in listing.stdout and all(name in listing.stdout for name in SERVERS)

    run = _run([installed / "mailbench", "run", "--scenario", "bulk-fetch", "--server", "dovecot", "--mode", "imap",
                "--variant", "full", "--tls", "off", "--messages", "20", "--repeat", "1", "--out", tmp_path / "out"],
               cwd=tmp_path, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "building image" not in run.stderr
    folder = Path(run.stdout.strip().splitlines()[-1])
    data = json.loads((folder / "results.json").read_text())
    assert data["environment"]["checkout"] is None  # the installed package ran, not the checkout
    (cell,) = data["cells"]
    assert cell["id"] == "bulk-fetch/dovecot/imap/full/tls-off"
    assert cell["status"] == "ok", cell.get("error")
    assert cell["integrity"]["passed"] and cell["integrity"]["checked"] == 20


def test_the_installed_micro_benchmarks_run_outside_the_checkout(installed, server_image, tmp_path):
    server_image("dovecot")
    micro = _run([installed / "mailbench", "micro", "--server", "dovecot", "--out", tmp_path / "out"],
                 cwd=tmp_path, timeout=600)
    assert micro.returncode == 0, micro.stdout[-2000:] + micro.stderr
    data = json.loads((Path(micro.stdout.strip().splitlines()[-1]) / "results.json").read_text())
    assert data["micro"] and {row["server"] for row in data["micro"]} == {"dovecot"}
