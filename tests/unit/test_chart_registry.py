"""Which charts a scenario gets comes from the registry of scenario reports
(``bench.report.scenarios.REPORTS``: each ``ScenarioReport.charts``) beside the charts of every
scenario (``bench.report.charts.CHARTS``); the shared chart module names no scenario, and the
new-mail report takes its policies from the scenario that runs them.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from pathlib import Path

from bench.report import charts, render, write_charts
from bench.report.charts import CHARTS, ChartSpec, planned_charts
from bench.report.scenarios import REPORTS, ScenarioReport, own_charts
from bench.report.scenarios import new_mail as new_mail_report
from bench.report.scenarios.base import generic_section
from bench.results import load
from scenarios import SCENARIOS
from scenarios.new_mail import NewMail

DATA = Path(__file__).parent.parent / "data"
V1 = DATA / "results_v1.json"
DEVICES = DATA / "results_devices.json"
INTERRUPTED = DATA / "results_interrupted.json"
REFERENCE = Path(__file__).parents[2] / "reports" / "reference" / "results.json"
REPORT_PACKAGE = Path(charts.__file__).parent
NEW = "some-new-scenario"


def plot_dots(results, ax, *, scenario=None, server=None, variant=None, link=None) -> None:
    """A chart of a made-up scenario: one line, enough to be written."""
    ax.plot([0, 1], [0, 1])


def _with_new_scenario(tmp_path: Path) -> Path:
    """results_v1.json with its cells again under a scenario name no module knows."""
    data = json.loads(V1.read_text(encoding="utf-8"))
    extra = []
    for cell in data["cells"]:
        copied = copy.deepcopy(cell)
        copied.update(scenario=NEW, id=cell["id"].replace(cell["scenario"], NEW, 1))
        extra.append(copied)
    data["cells"] += extra
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _kinds(results, scenario=None) -> set[tuple[str, str]]:
    return {(chart.scenario, chart.spec.kind) for chart in planned_charts(results, scenario, own=own_charts())}


def test_the_shared_chart_module_names_no_scenario():
    text = Path(charts.__file__).read_text(encoding="utf-8")
    names = {*REPORTS, *SCENARIOS}
    assert names >= {"bulk-fetch", "new-mail", "offline-use", "multi-device-sync"}  # the registries are read
    for name in names:
        for spelling in (name, name.replace("-", "_")):
            assert spelling not in text, f"bench/report/charts.py names the scenario {spelling!r}"


def test_every_planned_chart_is_generic_or_declared_by_its_scenario():
    seen = set()
    for path in (DEVICES, INTERRUPTED, V1):
        for chart in planned_charts(load(path), own=own_charts()):
            assert chart.spec in CHARTS or chart.spec in REPORTS[chart.scenario].charts, chart.stem
            seen.add((chart.scenario, chart.spec.kind))
    declared = {(name, spec.kind) for name, report in REPORTS.items() for spec in report.charts}
    assert {("offline-use", "readable-offline"), ("storage-exposure", "exposure"),
            ("interrupted-sync", "recovery-points")} <= seen & declared


def test_a_chart_a_scenario_report_declares_is_drawn_and_shown(tmp_path, monkeypatch):
    dots = ChartSpec("dots", plot_dots, ("elapsed_s",), "Dots of a made-up scenario.")
    monkeypatch.setitem(REPORTS, NEW, ScenarioReport(NEW, generic_section, headline=("dots",), charts=(dots,)))
    results = load(_with_new_scenario(tmp_path))
    kinds = _kinds(results)
    assert (NEW, "dots") in kinds and ("bulk-fetch", "dots") not in kinds  # its own scenario's only
    written = {path.name for path in write_charts(results, tmp_path / "charts-only")}
    assert {f"{NEW}-dovecot-dots.png", f"{NEW}-dovecot-dots.svg"} <= written
    assert not any(name.startswith("bulk-fetch-") and "-dots." in name for name in written)
    files = render(results, tmp_path / "report")
    assert f"charts/{NEW}-dovecot-dots.png" in files.markdown.read_text(encoding="utf-8")  # its headline


def test_a_chart_taken_out_of_the_registry_is_not_drawn(monkeypatch):
    results = load(INTERRUPTED)
    assert ("interrupted-sync", "recovery-points") in _kinds(results)
    monkeypatch.setitem(REPORTS, "interrupted-sync", replace(REPORTS["interrupted-sync"], charts=()))
    assert ("interrupted-sync", "recovery-points") not in _kinds(results)


def test_every_chart_a_scenario_declares_is_shown_where_it_is_drawn(tmp_path):
    """A scenario's own charts reach its sections: each chart file drawn is linked from the
    report or the appendix."""
    files = render(load(DEVICES), tmp_path)
    linked = set(re.findall(r"\]\((charts/[^)]+\.png)\)", files.markdown.read_text(encoding="utf-8")
                            + files.appendix.read_text(encoding="utf-8")))
    drawn = {f"charts/{path.name}" for path in files.charts if path.suffix == ".png"}
    assert "charts/offline-use-dovecot-readable-offline.png" in drawn
    assert drawn == linked


def test_new_mail_policies_are_declared_by_the_scenario_alone():
    policies = NewMail().policy_names()
    assert policies[0] == "push" and len(policies) == 1 + len(NewMail().intervals_s)
    assert list(new_mail_report.POLICY_SHADES) == policies == list(new_mail_report.POLICY_HATCHES)
    polled = [policy for policy in policies if policy.startswith("poll_")]
    for path in REPORT_PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not any(policy in text for policy in polled), f"{path} names a polling policy"


def test_a_chart_of_a_panel_per_mode_is_drawn_for_a_run_of_one_mode(tmp_path):
    """A run of one mode gives multi-device-sync's chart of a panel per mode one panel; it is
    drawn (on a sequence of one axes), not a crash of the whole report."""
    results = load(REFERENCE)
    results.cells = [cell for cell in results.cells if cell.scenario == "multi-device-sync" and cell.mode == "imap"]
    drawn = write_charts(results, tmp_path, ("png",))
    assert tmp_path / "charts" / "multi-device-sync-sync-kinds.png" in drawn
