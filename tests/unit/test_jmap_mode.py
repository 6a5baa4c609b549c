"""The jmap mode in plans and results: which cells a run holds, which container runs them,
and how a cell of a protocol the server lacks is recorded and reported."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from bench.devices.device import LocalState
from bench.access.base import FolderSnapshot
from bench.modes import DEFAULT_MODES, MODES
from bench.plan import build_plan, by_container, run_order
from bench.report import build_appendix, build_document, markdown
from bench.results import STATUS_NOT_OFFERED, CellResult, Results, load
from bench.environment import merge_probes

DATA = Path(__file__).parent.parent / "data" / "results_real_tls.json"


def test_a_plan_that_names_no_mode_runs_imap_and_pop3_and_jmap_only_where_named():
    assert "jmap" in MODES and "jmap" not in DEFAULT_MODES
    assert {c.mode for c in build_plan([], [], [])} == {"imap", "pop3-keep", "pop3-delete"}
    named = build_plan(["bulk-fetch"], ["cyrus", "dovecot"], ["imap", "jmap"])
    assert {(c.server, c.mode) for c in named} == {("cyrus", "imap"), ("cyrus", "jmap"),
                                                    ("dovecot", "imap"), ("dovecot", "jmap")}


def test_cyrus_runs_its_jmap_cells_in_a_container_of_their_own_after_the_others():
    cells = run_order(build_plan(["bulk-fetch"], ["cyrus"], ["imap", "jmap", "pop3-keep"], ["full"]), 1)["cyrus"]
    groups, lacking = by_container("cyrus", cells)
    assert lacking == []
    assert [group.switched_on for group in groups] == [(), ("jmap",)]
    assert {c.mode for c in groups[0].cells} == {"imap", "pop3-keep"}
    assert {c.mode for c in groups[1].cells} == {"jmap"}
    # each group keeps the run order
    assert groups[0].cells == [c for c in cells if c.mode != "jmap"]


def test_dovecot_s_jmap_cells_start_no_container_and_are_not_offered():
    cells = build_plan(["bulk-fetch"], ["dovecot"], ["imap", "jmap"], ["full"])
    groups, lacking = by_container("dovecot", cells)
    assert [group.switched_on for group in groups] == [()]
    assert {c.mode for c in groups[0].cells} == {"imap"}
    assert {c.mode for c in lacking} == {"jmap"}
    only_jmap = by_container("courier", build_plan(["bulk-fetch"], ["courier"], ["jmap"], ["full"]))
    assert only_jmap[0] == [] and len(only_jmap[1]) > 0


def test_a_not_offered_cell_is_neither_ok_nor_failed_and_survives_a_round_trip():
    cell = CellResult("bulk-fetch", "dovecot", "jmap", "full")
    cell.not_offered("JMAP is not offered by this server (dovecot)")
    results = Results(run_id="r", started_at="now", command="mailbench run", cells=[cell])
    assert not cell.ok and not cell.offered
    assert results.failed_cells == [] and results.not_offered_cells == [cell]
    again = CellResult.from_json(json.loads(json.dumps(cell.to_json())))
    assert again.status == STATUS_NOT_OFFERED and again.error == cell.error


def test_a_second_container_s_probe_adds_its_protocols_and_times_to_the_server_s_entry():
    plain = {"version": "3.6.1", "protocols": ["imap", "pop3"], "switched_off": ["jmap"],
             "capabilities": {"imap": ["IDLE"], "pop3": ["UIDL"]}, "image_s": 1.0, "start_s": 2.0}
    jmap = {"version": "3.6.1", "protocols": ["imap", "pop3", "jmap"], "switched_off": [],
            "capabilities": {"imap": ["IDLE"], "pop3": ["UIDL"], "jmap": ["urn:ietf:params:jmap:core"]},
            "image_s": 0.5, "start_s": 3.0}
    first = merge_probes(None, plain)
    assert first["containers"] == [["imap", "pop3"]] and first["switched_off"] == ["jmap"]
    both = merge_probes(first, jmap)
    assert both["protocols"] == ["imap", "pop3", "jmap"]
    assert both["switched_off"] == []
    assert set(both["capabilities"]) == {"imap", "pop3", "jmap"}
    assert both["image_s"] == 1.5 and both["start_s"] == 5.0
    assert both["containers"] == [["imap", "pop3"], ["imap", "pop3", "jmap"]]
    assert plain["switched_off"] == ["jmap"]  # the first probe is left as it was
    # an entry of a run's process of its own (bench.side_by_side): its containers follow
    later = merge_probes(both, merge_probes(None, plain))
    assert later["containers"] == [["imap", "pop3"], ["imap", "pop3", "jmap"], ["imap", "pop3"]]
    assert later["start_s"] == 7.0 and merge_probes(None, both)["containers"] == both["containers"]


def test_a_device_keeps_jmap_s_state_string_beside_imap_s_tokens(tmp_path):
    state = LocalState(tmp_path / "state.sqlite")
    state.save_tokens("INBOX", None, None, "J42")
    state.save_tokens("Archive", 7, 1234)
    assert state.snapshot("INBOX") == FolderSnapshot(ids=frozenset(), state="J42")
    assert state.snapshot("Archive") == FolderSnapshot(7, 1234, frozenset(), None)
    assert state.snapshot("Other") == FolderSnapshot()


def _with_not_offered(tmp_path: Path) -> Results:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    model = next(c for c in data["cells"] if c["scenario"] == "bulk-fetch" and c["server"] == "dovecot")
    lacking = copy.deepcopy(model)
    lacking.update(mode="jmap", status="not offered", error="JMAP is not offered by this server (dovecot)",
                   samples=[], sample_info=[], by_policy={}, commands={}, integrity={}, metrics={}, info={})
    lacking["id"] = lacking["id"].replace("/imap/", "/jmap/").replace("/pop3-keep/", "/jmap/").replace(
        "/pop3-delete/", "/jmap/")
    data["cells"].append(lacking)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load(path)


def test_the_report_says_not_offered_never_failed(tmp_path):
    results = _with_not_offered(tmp_path)
    failed_before = len(results.failed_cells)
    report = markdown.render(build_document(results), {"appendix.md": build_appendix(results)})
    assert "## Not offered" in report
    section = report.split("## Not offered", 1)[1].split("\n## ", 1)[0]
    assert "JMAP is not offered by this server (dovecot)" in section and "jmap on dovecot" in section
    assert len(results.failed_cells) == failed_before
    scenario = report.split("## Scenario: bulk-fetch", 1)[1].split("\n## ", 1)[0]
    assert "not run because the server does not offer the protocol (jmap on dovecot)" in scenario


def test_the_decision_page_gains_jmap_rows_only_where_jmap_ran_and_says_on_which_server(tmp_path):
    from bench.report.decision import JMAP_ROWS, ROWS, conditions, decision_table

    data = json.loads(DATA.read_text(encoding="utf-8"))
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    plain = load(path)
    assert [row[0] for row in decision_table(plain)[1]] == [r.label for r in ROWS]
    assert "JMAP" not in conditions(plain)
    model = next(c for c in data["cells"] if c["scenario"] == "bulk-fetch" and c["server"] == "cyrus"
                 and c["mode"] == "imap" and c["variant"] == "full" and c["tls"] == "off" and c.get("link", "lan") == "lan")
    jmap = copy.deepcopy(model)
    jmap["mode"], jmap["id"] = "jmap", model["id"].replace("/imap/", "/jmap/")
    for sample in jmap["samples"]:
        sample["elapsed_s"] = 12.5
    data["cells"].append(jmap)
    path = tmp_path / "jmap.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with_jmap = load(path)
    headers, rows = decision_table(with_jmap)
    assert [row[0] for row in rows] == [r.label for r in ROWS + JMAP_ROWS]
    by_label = {row[0]: dict(zip(headers, row)) for row in rows}
    assert by_label["JMAP, full copies"]["full download, lan"].startswith("12.5 s (all ")
    assert "The JMAP rows are measured on cyrus only" in conditions(with_jmap)
    # the second path prints the same JMAP rows
    import subprocess
    import sys

    from bench import results as results_file
    from bench.report.decision import decision_section
    from bench.report.document import Document

    current = tmp_path / "current.json"
    results_file.save(with_jmap, current)
    script = Path(__file__).parents[2] / "benchmarks" / "decision.py"
    printed = subprocess.run([sys.executable, str(script), str(current)], capture_output=True, text=True,
                             check=True).stdout.splitlines()
    page = markdown.render(Document("t", sections=[decision_section(results_file.load(current))]))
    assert len(printed) == 2 + len(ROWS) + len(JMAP_ROWS)
    for row in printed:
        assert row in page
