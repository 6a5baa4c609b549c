"""`mailbench run --mode jmap` as a user runs it: Cyrus's JMAP cells in a container of their
own beside its IMAP cells, Dovecot's recorded as not offered, the report saying both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import results
from bench.servers import get_server
from bench.servers.base import LABEL_RUN

pytestmark = pytest.mark.integration


def mailbench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_a_run_with_jmap_starts_cyrus_twice_and_says_dovecot_does_not_offer_it(docker_client, server_image, tmp_path):
    server_image("cyrus")
    server_image("cyrus", get_server("cyrus").offering("jmap").image_stage)  # built outside the timed run
    server_image("dovecot")
    run = mailbench("run", "--scenario", "bulk-fetch", "--scenario", "multi-device-sync", "--server", "cyrus",
                    "--server", "dovecot", "--mode", "imap", "--mode", "jmap", "--variant", "full",
                    "--variant", "incremental", "--tls", "off", "--messages", "15", "--repeat", "1", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    folder = Path(run.stdout.strip().splitlines()[-1])
    loaded = results.load(folder / "results.json")
    by_id = {cell.id: cell for cell in loaded.cells}
    assert len(by_id) == 2 * 2 * 2  # scenarios x servers x modes
    for scenario, variant in (("bulk-fetch", "full"), ("multi-device-sync", "incremental")):
        jmap = by_id[f"{scenario}/cyrus/jmap/{variant}/tls-off"]
        assert jmap.ok and jmap.integrity["passed"] and jmap.integrity["checked"] > 0, jmap.error
        assert by_id[f"{scenario}/cyrus/imap/{variant}/tls-off"].ok
        lacking = by_id[f"{scenario}/dovecot/jmap/{variant}/tls-off"]
        assert lacking.status == "not offered" and lacking.samples == []
        assert lacking.error == "JMAP is not offered by this server (dovecot)"
    assert loaded.failed_cells == []
    # Cyrus served IMAP with JMAP off, then JMAP (and IMAP, for its first logins) in a second container
    cyrus = loaded.environment["servers"]["cyrus"]
    assert cyrus["containers"] == [["imap", "pop3"], ["imap", "pop3", "jmap"]]
    assert "jmap" in cyrus["protocols"] and cyrus["switched_off"] == []
    assert any(item.startswith("urn:ietf:params:jmap:mail") for item in cyrus["capabilities"]["jmap"])
    assert loaded.environment["servers"]["dovecot"]["containers"] == [["imap", "pop3"]]
    fetched = by_id["bulk-fetch/cyrus/jmap/full/tls-off"]
    assert fetched.samples[0]["messages"] == 15 and fetched.samples[0]["bytes_down"] > 0
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Not offered" in report and "JMAP is not offered by this server (dovecot)" in report
    assert "| JMAP, full copies |" in report and "The JMAP rows are measured on cyrus only" in report
    assert "cells failed" not in report.split("## Not offered", 1)[0].split("## Scenario: bulk-fetch", 1)[1]
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={folder.name}"}) == []
