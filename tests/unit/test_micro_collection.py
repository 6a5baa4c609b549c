"""The micro-benchmarks as `mailbench micro` runs them: collected from the package alone, from
any working folder (collection needs no Docker; the benchmarks themselves do)."""

import subprocess
from pathlib import Path

from bench.micro import pytest_command
from bench.servers import SERVERS

OPERATIONS_PER_SERVER = 10  # connect, list, fetch full and headers, delete; each over IMAP and POP3


def _collected(servers: list[str], folder: Path) -> list[str]:
    command = pytest_command(servers, folder / "micro.json") + ["--collect-only"]  # -q: one node id a line
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_every_server_and_operation_is_collected_from_the_package(tmp_path: Path):
    collected = _collected([], tmp_path)
    assert len(collected) == OPERATIONS_PER_SERVER * len(SERVERS)
    assert all(line.split("::")[0].endswith("operations.py") for line in collected)


def test_a_server_filter_keeps_that_servers_benchmarks(tmp_path: Path):
    collected = _collected(["dovecot"], tmp_path)
    assert len(collected) == OPERATIONS_PER_SERVER
    assert all("dovecot" in line for line in collected)
