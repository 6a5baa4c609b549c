"""`mailbench run` as a user runs it: report folder, results file, nothing left running."""

from __future__ import annotations

import json
import mailbox
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bench import results
from bench.corpus import generate_messages
from bench.device_folder import MEMORY_FOLDER, MOUNTS, is_tmpfs
from bench.servers.base import LABEL_RUN
from scenarios import get_scenario

pytestmark = pytest.mark.integration


def mailbench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def _labelled(docker_client, run_id: str) -> list:
    """Containers of one run, running or not."""
    return docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_id}"})


def test_run_writes_results_report_and_charts_and_leaves_no_container(docker_client, server_image, tmp_path):
    server_image("dovecot")  # build outside the timed CLI call
    run = mailbench("run", "--scenario", "bulk-fetch", "--server", "dovecot", "--messages", "12", "--repeat", "2", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    folder = Path(run.stdout.strip().splitlines()[-1])
    assert folder.parent == tmp_path
    loaded = results.load(folder / "results.json")
    scenario = get_scenario("bulk-fetch")
    # modes x variants x tls, less the pairs left out of every plan (pop3-delete with headers and search)
    assert len(loaded.cells) == (3 * len(scenario.variants) - len(scenario.excluded)) * 2 and not loaded.failed_cells
    assert {cell.tls for cell in loaded.cells} == {"off", "on"}
    assert all(cell.integrity["passed"] for cell in loaded.cells)
    assert all(len(cell.samples) == 2 for cell in loaded.cells)
    full = [cell for cell in loaded.cells if cell.variant == "full"]
    assert all(cell.integrity["checked"] == 12 * 2 for cell in full)  # every message, every sample
    assert all(cell.commands["CONNECT"]["count"] == 2 for cell in full)  # one session a sample
    assert loaded.environment["servers"]["dovecot"]["version"] != "unknown"
    assert "PIPELINING" in loaded.environment["servers"]["dovecot"]["capabilities"]["pop3"]
    devices = loaded.environment["device_folder"]  # in memory where /dev/shm is a tmpfs and TMPDIR unset
    in_memory = not os.environ.get("TMPDIR") and is_tmpfs(MEMORY_FOLDER, MOUNTS.read_text())
    assert devices["memory"] == in_memory and (devices["path"] == str(MEMORY_FOLDER)) == in_memory
    for name in ("report.md", "appendix.md", "report.html"):
        assert (folder / name).stat().st_size > 0
    charts = list((folder / "charts").iterdir())
    assert {p.suffix for p in charts} == {".png", ".svg"}
    assert _labelled(docker_client, folder.name) == []


def _write_mbox(path: Path, count: int) -> list[bytes]:
    box = mailbox.mbox(str(path))
    originals = []
    for raw in generate_messages(count, seed=11):
        lf = raw.replace(b"\r\n", b"\n")  # mbox files on disk use bare LF
        originals.append(lf)
        box.add(lf)
    box.flush()
    box.close()
    return originals


def test_a_users_mbox_is_reproduced_byte_for_byte_in_every_mode(server_image, tmp_path):
    server_image("dovecot")
    corpus = tmp_path / "mine.mbox"
    _write_mbox(corpus, 15)
    run = mailbench("run", "--scenario", "bulk-fetch", "--server", "dovecot", "--corpus", str(corpus), "--variant", "full", "--repeat", "1",
                    "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    loaded = results.load(Path(run.stdout.strip().splitlines()[-1]) / "results.json")
    assert {c.mode for c in loaded.cells} == {"imap", "pop3-keep", "pop3-delete"}
    for cell in loaded.cells:
        assert cell.ok, cell.error
        assert cell.integrity["passed"] and cell.integrity["checked"] == 15
    assert loaded.plan["corpus"]["source"] == str(corpus)
    assert "CRLF" in loaded.plan["corpus"]["canonicalisation"]


def test_a_port_in_use_is_one_line(server_image, tmp_path):
    server_image("dovecot")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = mailbench("run", "--scenario", "bulk-fetch", "--server", "dovecot", "--messages", "5", "--repeat", "1", "--port-base", str(port),
                        "--out", str(tmp_path))
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.startswith("mailbench: error")]
    assert len(lines) == 1 and f"127.0.0.1:{port} is already in use" in lines[0]


def test_report_re_renders_from_the_results_file_alone(tmp_path):
    data = Path(__file__).resolve().parents[1] / "data" / "results_v1.json"
    copy = tmp_path / "results.json"
    copy.write_text(data.read_text())
    run = mailbench("report", str(copy))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "report.html").exists() and (tmp_path / "report.md").exists()
    json.loads(copy.read_text())


def test_doctor_reports_docker_the_base_image_path_and_images(server_image):
    server_image("dovecot")
    run = mailbench("doctor", timeout=120)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("docker: reachable, server ")
    assert any(line.startswith("base image: mailbench/base:bookworm present locally") for line in lines)
    assert any(line.startswith("images: ") and "mailbench/dovecot:" in line for line in lines)
