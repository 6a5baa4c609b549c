"""The decision page: its figures, and the same figures computed by a second path.

``benchmarks/decision.py`` reads results.json with the standard library alone; every row
it prints must stand in the page that ``bench.report.decision`` renders from the same file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import results as results_file
from bench.report import markdown
from bench.report.decision import COLUMNS, ROWS, decision_section, decision_table, figure
from bench.report.document import Document
from bench.results import CellResult, Results

ROOT = Path(__file__).parent.parent.parent
SCRIPT = ROOT / "benchmarks" / "decision.py"
REFERENCE = ROOT / "reports" / "reference" / "results.json"


def _cell(scenario: str, mode: str, variant: str, link: str = "lan", info: list | None = None,
          by_policy: dict[str, dict[str, list[float]]] | None = None, **metrics: list[float]) -> CellResult:
    cell = CellResult(scenario, "dovecot", mode, variant, "off", link, sample_info=info or [])
    for i in range(3):
        cell.add_sample({name: values[i] for name, values in metrics.items()},
                        {policy: {name: values[i] for name, values in figures.items()}
                         for policy, figures in (by_policy or {}).items()})
    return cell


def crafted() -> Results:
    """A run with every metric the page reads, in every mode, with spread and without."""
    cells = []
    for mode, lost, exposure, share in (("imap", 0, 9000, 1.0), ("pop3-keep", 0, 9000, 1.0),
                                        ("pop3-delete", 299, 120, 0.0)):
        reached = 10 if mode == "imap" else 0
        rounds = [{"change_rounds": [{"round": 9, "misses": 0,
                                      "by_kind": {"read": {"made": 10, "reached": reached}}}]}] * 3
        cells += [
            _cell("multi-device-sync", mode, "incremental", info=rounds, other_device_messages_share=[share] * 3),
            _cell("offline-use", mode, "server-down", messages_lost_with_device=[lost] * 3,
                  by_policy={p: {"ready_s": [0.5, 0.6, 0.7], "ready_bytes_down": [17.3e6, 17.3e6, 17.31e6],
                                 **({"readable_offline_share": [1.0 if p == "full" else 0.0] * 3}
                                    if mode == "imap" or p == "full" else {})}
                             for p in ("full", "headers", "online")}),
            _cell("storage-exposure", mode, "timeline", exposed_message_hours=[exposure, exposure * 1.1, exposure]),
            _cell("bulk-fetch", mode, "full", server_disk_after_bytes=[17.2e6 if mode != "pop3-delete" else 4e4] * 3,
                  server_state_bytes=[4e4] * 3, elapsed_s=[0.3, 0.35, 0.4], round_trips=[7, 7, 8]),
            _cell("bulk-fetch", mode, "full", "mobile-4g", elapsed_s=[9.0, 9.1, 9.3], round_trips=[7] * 3),
        ]
    return Results("crafted", "2026-01-01T00:00:00+00:00", "mailbench run", plan={"messages": 300}, cells=cells)


def page(run: Results) -> str:
    return markdown.render(Document("t", sections=[decision_section(run)]))


def script_rows(path: Path) -> list[str]:
    printed = subprocess.run([sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=True)
    return printed.stdout.splitlines()


def test_every_row_of_the_second_path_stands_in_the_page(tmp_path):
    run = crafted()
    path = tmp_path / "results.json"
    results_file.save(run, path)
    rows = script_rows(path)
    rendered = page(results_file.load(path))
    assert len(rows) == 2 + len(ROWS)  # the header, its rule, a row per way of using mail
    for row in rows:
        assert row in rendered


@pytest.mark.skipif(not REFERENCE.exists(), reason="no reference run in this checkout")
def test_the_reference_page_is_recomputed_by_the_second_path():
    rendered = page(results_file.load(REFERENCE))
    for row in script_rows(REFERENCE):
        assert row in rendered


def test_a_figure_the_same_in_every_sample_says_so_instead_of_a_range():
    assert figure("count", [7, 7, 7]) == "7 (all 3)"
    assert figure("count", [7, 7, 8]) == "7 (7–8)"
    assert figure("bytes", [17.3e6, 17.31e6]) == "17.3 MB (all 2 round to it)"
    assert figure("share", []) == "not measured"


def test_the_page_has_a_row_per_way_of_using_mail_and_reads_each_mode_s_own_figures():
    headers, rows = decision_table(crafted())
    assert len(headers) == 1 + len([c for c in COLUMNS if not c.optional])
    by_label = {row[0]: dict(zip(headers, row)) for row in rows}
    assert [row[0] for row in rows] == [r.label for r in ROWS]
    assert by_label["POP3, delete after download"]["messages lost with the device"] == "299 (all 3)"
    assert by_label["IMAP, online only"]["readable offline"] == "0% (all 3)"
    assert by_label["IMAP, full copies"]["readable offline"] == "100% (all 3)"
    assert by_label["IMAP, full copies"]["changes seen on other devices"] == "100% (all 3)"
    assert by_label["POP3, leave on server"]["changes seen on other devices"] == "0% (all 3)"
    assert by_label["IMAP, full copies"]["full download, mobile link"] == "9.1 s (9 s–9.3 s)"


def with_new_mail() -> Results:
    """``crafted`` and new-mail cells: IMAP pushed (two servers' worth of spread), POP3 polled."""
    run = crafted()
    run.cells += [
        _cell("new-mail", "imap", "trickle", by_policy={"push": {"latency_ms": [480.0, 520.0, 5100.0]},
                                                         "poll_1s": {"latency_ms": [700.0] * 3}}),
        _cell("new-mail", "pop3-keep", "trickle", by_policy={"poll_1s": {"latency_ms": [900.0] * 3}}),
    ]
    return run


def test_new_mail_waiting_for_push_is_a_column_only_where_new_mail_ran(tmp_path):
    title = "new mail shown, waiting for push"
    assert title not in decision_table(crafted())[0]
    headers, rows = decision_table(with_new_mail())
    assert headers[-1] == title
    by_label = {row[0]: dict(zip(headers, row)) for row in rows}
    assert by_label["IMAP, full copies"][title] == "0.52 s (0.48 s–5.1 s)"
    assert by_label["POP3, leave on server"][title] == "no push: the device polls"
    assert by_label["POP3, delete after download"][title] == "not measured"  # its new-mail cell did not run
    path = tmp_path / "results.json"
    results_file.save(with_new_mail(), path)
    rendered = page(results_file.load(path))
    rows = script_rows(path)
    assert rows[0].endswith(f"| {title} |") and len(rows) == 2 + len(ROWS)
    for row in rows:
        assert row in rendered
    assert "does not push shows the device's own sync every 5 s" in rendered
