"""The report renders from a stored results file: files, sections, charts, figures."""

from __future__ import annotations

import copy
import json
import re
from html import escape
from pathlib import Path

import numpy
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bench.report import ReportFiles, build_document, render
from bench.report.charts import plot_bytes_per_mode, plot_round_trips_per_mode, plot_time_per_mode
from bench.report.document import plain
from bench.report.units import number
from bench.results import load

DATA = Path(__file__).parent.parent / "data" / "results_v1.json"
HEADINGS = [
    "Summary",
    "Environment",
    "Plan & corpus",
    "Scenario: bulk-fetch",
    "Per-command latency",
    "Integrity",
    "Failed cells",
    "Reproduce",
]
FAILED_ID = "bulk-fetch/dovecot/pop3-keep/new"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> ReportFiles:
    return render(load(DATA), tmp_path_factory.mktemp("report"))


def _raw() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


def _render_changed(tmp_path: Path, data: dict) -> ReportFiles:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return render(load(path), tmp_path / "out")


def _summary(markdown: str) -> str:
    return markdown.split("## Summary", 1)[1].split("\n## ", 1)[0]


def _cell(data: dict, cell_id: str) -> dict:
    return next(cell for cell in data["cells"] if cell["id"] == cell_id)


def test_report_files_exist(report):
    assert report.markdown.name == "report.md" and report.markdown.stat().st_size > 0
    assert report.html.name == "report.html" and report.html.stat().st_size > 0


def test_every_section_heading_in_both_formats_in_order(report):
    md = report.markdown.read_text(encoding="utf-8")
    html = report.html.read_text(encoding="utf-8")
    md_positions = [md.index(f"\n## {heading}\n") for heading in HEADINGS]
    html_positions = [html.index(f"<h2>{escape(heading)}</h2>") for heading in HEADINGS]
    assert md_positions == sorted(md_positions)
    assert html_positions == sorted(html_positions)


def test_every_chart_written_as_png_and_svg(report):
    names = sorted(path.name for path in report.charts)
    assert names == sorted(
        f"bulk-fetch-dovecot-{kind}.{fmt}" for kind in ("time", "bytes", "round-trips") for fmt in ("png", "svg")
    )
    for path in report.charts:
        assert path.parent == report.markdown.parent / "charts"
        assert path.stat().st_size > 1000
    for png in (p for p in report.charts if p.suffix == ".png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for svg in (p for p in report.charts if p.suffix == ".svg"):
        assert "<svg" in svg.read_text(encoding="utf-8")


def test_markdown_links_every_chart_that_exists(report):
    md = report.markdown.read_text(encoding="utf-8")
    linked = re.findall(r"!\[[^\]]*\]\((charts/[^)]+\.png)\)", md)
    assert len(linked) == 3
    for relative in linked:
        assert (report.markdown.parent / relative).is_file()


def test_html_is_self_contained(report):
    html = report.html.read_text(encoding="utf-8")
    assert 'src="http' not in html
    assert "<link" not in html
    assert "<script" not in html
    assert "url(" not in html
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == 3
    assert all(source.startswith("data:image/svg+xml;base64,") for source in sources)
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', html))


def test_failed_cell_and_its_error_appear_in_both(report):
    error = _cell(_raw(), FAILED_ID)["error"]
    md = report.markdown.read_text(encoding="utf-8")
    html = report.html.read_text(encoding="utf-8")
    failed_md = md.split("## Failed cells", 1)[1]
    assert FAILED_ID in failed_md and error in failed_md
    failed_html = html.split("<h2>Failed cells</h2>", 1)[1]
    assert FAILED_ID in failed_html and escape(error) in failed_html


def test_integrity_names_the_missing_message(report):
    missing = _cell(_raw(), FAILED_ID)["integrity"]["missing"][0]
    md = report.markdown.read_text(encoding="utf-8")
    integrity = md.split("## Integrity", 1)[1].split("\n## ", 1)[0]
    assert f"`{missing}`" in integrity
    assert "FAILED" in integrity


def test_summary_figures_come_from_the_data(report, tmp_path):
    original = _summary(report.markdown.read_text(encoding="utf-8"))
    assert "**imap** fastest at" in original

    data = _raw()
    imap_full = _cell(data, "bulk-fetch/dovecot/imap/full")
    for sample, seconds in zip(imap_full["samples"], (7.25, 7.5, 7.75)):
        sample["elapsed_s"] = seconds
    changed = _summary(_render_changed(tmp_path, data).markdown.read_text(encoding="utf-8"))

    assert changed != original
    assert "7.50 s" in changed and "7.50 s" not in original
    full_line = next(line for line in changed.splitlines() if "Full download" in line)
    assert "**pop3-keep** fastest" in full_line


def test_summary_states_the_measured_factor():
    results = load(DATA)
    doc = build_document(results)
    times = {
        cell.mode: cell.metrics()["elapsed_s"]["median"]
        for cell in results.cells
        if cell.variant == "full" and cell.ok
    }
    expected = f"{times['pop3-delete'] / times['imap']:.2f}×"
    words = "\n".join(plain(item) for block in doc.section("Summary").blocks for item in getattr(block, "items", ()))
    assert expected in words


def test_latency_percentiles_come_from_numpy(report):
    fetch = _cell(_raw(), "bulk-fetch/dovecot/imap/full")["commands"]["FETCH"]
    median, p95 = numpy.percentile(fetch["latency_ms"], [50, 95])
    md = report.markdown.read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if line.startswith("| imap | full | `FETCH` |"))
    assert f"| {number(float(median))} | {number(float(p95))} |" in row


def test_no_failed_cells_says_none(tmp_path):
    data = _raw()
    data["cells"] = [cell for cell in data["cells"] if cell["status"] == "ok"]
    md = _render_changed(tmp_path, data).markdown.read_text(encoding="utf-8")
    assert md.split("## Failed cells", 1)[1].split("\n## ", 1)[0].strip().startswith("None")


def test_unregistered_scenario_gets_a_generic_section(tmp_path):
    data = _raw()
    extra = copy.deepcopy(_cell(data, "bulk-fetch/dovecot/imap/full"))
    extra.update(scenario="offline-use", id="offline-use/dovecot/imap/full")
    data["cells"].append(extra)
    files = _render_changed(tmp_path, data)
    md = files.markdown.read_text(encoding="utf-8")
    assert "\n## Scenario: offline-use\n" in md
    assert any(path.name == "offline-use-dovecot-time.png" for path in files.charts)


def test_several_servers_get_charts_and_summary_each(tmp_path):
    data = _raw()
    for cell in list(data["cells"]):
        twin = copy.deepcopy(cell)
        twin.update(server="cyrus", id=cell["id"].replace("/dovecot/", "/cyrus/"))
        data["cells"].append(twin)
    data["plan"]["servers"] = ["dovecot", "cyrus"]
    files = _render_changed(tmp_path, data)
    names = {path.name for path in files.charts}
    assert {"bulk-fetch-dovecot-time.svg", "bulk-fetch-cyrus-time.svg"} <= names
    summary = _summary(files.markdown.read_text(encoding="utf-8"))
    assert "bulk-fetch on dovecot" in summary and "bulk-fetch on cyrus" in summary


@pytest.mark.parametrize("plot", [plot_time_per_mode, plot_bytes_per_mode, plot_round_trips_per_mode])
def test_plot_functions_draw_on_a_given_axes(plot):
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot(load(DATA), ax)
    assert ax.patches and ax.get_title(loc="left") and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["full", "headers", "new"]
    assert ax.get_legend().get_title().get_text() == "server: dovecot"


def test_markdown_table_survives_a_pipe_in_an_error(tmp_path):
    data = _raw()
    _cell(data, FAILED_ID)["error"] = "ServerStartError: greeting was 'a | b'"
    md = _render_changed(tmp_path, data).markdown.read_text(encoding="utf-8")
    row = next(line for line in md.split("## Failed cells", 1)[1].splitlines() if FAILED_ID in line)
    assert row.count(" | ") == 1  # one separator between the two columns; the error's pipe is escaped


def test_bytes_axis_is_labelled_in_byte_units():
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_bytes_per_mode(load(DATA), ax)
    figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert any(label.endswith("MB") for label in labels)


def test_one_axes_can_compare_several_servers(tmp_path):
    data = _raw()
    for cell in list(data["cells"]):
        twin = copy.deepcopy(cell)
        twin.update(server="cyrus", id=cell["id"].replace("/dovecot/", "/cyrus/"))
        data["cells"].append(twin)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_time_per_mode(load(path), ax)
    assert len(ax.get_xticks()) == 6
    assert {"dovecot", "cyrus"} <= {text.get_text() for text in ax.texts}
    assert ax.get_legend().get_title().get_text() == "mode"
