"""A run whose mailboxes would not fit is refused in one line before any container starts.

The free space is faked for the check alone (``MAILBENCH_FREE_BYTES``); Docker is real: the
check reads its data root from the daemon, and no container of the refused run exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bench.servers.base import LABEL_PID

pytestmark = pytest.mark.integration


def test_a_run_that_cannot_fit_is_refused_in_one_line_before_any_container(docker_client, tmp_path):
    out = tmp_path / "out"
    run = subprocess.Popen(
        [sys.executable, "-m", "bench.cli", "run", "--scenario", "bulk-fetch", "--server", "dovecot",
         "--messages", "1000", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "MAILBENCH_FREE_BYTES": "1000000"})
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mailbench: error: not enough disk space for this run: Docker's data root ")
    assert "has 0.00 GB free and the run needs" in lines[0] and "5 mailboxes of 1,000 messages, 0.06 GB each, on dovecot, each sample's freed after it" in lines[0]
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_PID}={run.pid}"}) == []
    assert list(out.iterdir()) == []  # no run folder: nothing was started or written


def test_a_run_that_fits_only_with_each_sample_s_mailbox_freed_frees_them_and_says_so(docker_client, tmp_path):
    """Keeping 5 samples' mailboxes and the template would not fit in the faked free space;
    the template and one sample's would: the run says so in one line, frees each sample's
    mailbox after it, passes, and records it in the plan."""
    from bench.corpus.source import GeneratedCorpus
    from bench.device_folder import KEEP_FREE
    from bench.disk_space import OVERHEAD, REPORT_BYTES, corpus_bytes

    mailbox = corpus_bytes(GeneratedCorpus(seed=1), 200) * OVERHEAD
    freed_need = REPORT_BYTES + KEEP_FREE + 3 * mailbox  # template, one sample's, the device's copy
    kept_need = freed_need + 4 * mailbox  # the four other samples' mailboxes
    free = int((freed_need + kept_need) / 2)
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "bench.cli", "run", "--scenario", "bulk-fetch", "--server", "dovecot", "--mode", "imap",
         "--variant", "full", "--tls", "off", "--messages", "200", "--repeat", "5", "--out", str(out)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "MAILBENCH_FREE_BYTES": str(free)})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "each sample's mailbox is freed after it: keeping them all would need" in run.stdout + run.stderr
    [folder] = list(out.iterdir())
    saved = json.loads((folder / "results.json").read_text())
    assert saved["plan"]["mailboxes_freed"] is True
    [cell] = saved["cells"]
    assert cell["error"] is None and cell["integrity"]["samples"] == 5
    assert cell["integrity"]["checked"] == 5 * 200
    assert cell["info"]["mailboxes_freed"] == 5  # each sample's, after it
