"""A user's corpus holding a message larger than a server accepts, run through the CLI.

Each server that refuses the message has it reported as refused (in the cell's results and
in the report), and the cell passes with every other message delivered and checked; Courier,
which has no size limit, stores and checks all of them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import results

pytestmark = pytest.mark.integration

LIMIT = 25 * 1024 * 1024
ANSWER = {
    "dovecot": "NO [LIMIT] Mail size is larger than the maximum size allowed by server configuration",
    "cyrus": "NO [TOOBIG] Message size exceeds fixed limit",
}


def test_a_message_over_the_limit_is_refused_by_each_server_that_has_one_and_the_rest_run(
        server_image, tmp_path, oversized_corpus):
    for name in ("dovecot", "cyrus", "courier"):
        server_image(name)  # build outside the timed CLI call
    corpus, size = oversized_corpus
    assert size > LIMIT
    run = subprocess.run(
        [sys.executable, "-m", "bench.cli", "run", "--scenario", "bulk-fetch", "--variant", "full", "--tls", "off",
         "--server", "dovecot", "--server", "cyrus", "--server", "courier", "--repeat", "1",
         "--corpus", str(corpus), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    folder = Path(run.stdout.strip().splitlines()[-1])
    loaded = results.load(folder / "results.json")
    assert len(loaded.cells) == 9
    for cell in loaded.cells:
        assert cell.ok, cell.error
        assert cell.integrity["passed"]
        refused = cell.info.get("refused")
        if cell.server == "courier":  # no per-message limit: stored, downloaded and checked
            assert refused is None
            assert cell.integrity["checked"] == 6 and cell.samples[0]["messages"] == 6
        else:
            assert refused["count"] == 1 and refused["positions"] == [3] and refused["sizes_bytes"] == [size]
            assert refused["answer"].startswith(ANSWER[cell.server]), refused
            assert cell.sample_info[0]["refused"] == refused
            assert cell.integrity["checked"] == 5 and cell.samples[0]["messages"] == 5
    report = (folder / "report.md").read_text()
    assert "In 6 cells the server refused corpus messages at delivery" in report
    rows = [line for line in report.splitlines() if "refused by the server at delivery" in line]
    assert len(rows) == 6 and all(ANSWER["cyrus"] in row or ANSWER["dovecot"] in row for row in rows)
