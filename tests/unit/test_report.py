"""The report renders from a stored results file: files, sections, charts, figures.

Two frozen results files: ``results_real_tls.json`` is a real small run (20 messages,
3 samples, dovecot, cyrus and courier, TLS off and on), kept as it was written;
``results_v1.json`` is made-up data of one server without TLS, with one failed cell.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from html import escape
from pathlib import Path

import numpy
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from bench import claims
from bench.report import ReportFiles, build_document, markdown, render
from bench.report.cells import Grid, cell_anchor
from bench.report.charts import (
    MODE_COLOURS,
    plot_bytes_per_mode,
    plot_round_trips_per_mode,
    plot_time_against_rtt,
    plot_time_per_mode,
    write_charts,
)
from bench.report.document import Table, plain
from bench.report.links import percent
from bench.report.stats import median_interval
from bench.report.tables import column_for, interval_text
from bench.report.units import close_factor, factor, number
from bench.results import load

DATA = Path(__file__).parent.parent / "data"
REAL = DATA / "results_real_tls.json"
V1 = DATA / "results_v1.json"
HEADINGS = [
    "Summary",
    "Claims",
    "Environment",
    "Capabilities",
    "Plan & corpus",
    "Scenario: bulk-fetch",
    "TLS overhead",
    "Per-command latency",
    "Integrity",
    "Failed cells",
    "Reproduce",
]
SERVERS = ("dovecot", "cyrus", "courier")
KINDS = ("time", "bytes", "round-trips")
VARIANTS = ("full", "headers", "new")
FAILED_ID = "bulk-fetch/dovecot/pop3-keep/new/tls-off"  # in results_v1.json


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> ReportFiles:
    return render(load(REAL), tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def v1_report(tmp_path_factory) -> ReportFiles:
    return render(load(V1), tmp_path_factory.mktemp("v1"))


def _raw(path: Path = REAL) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _render_changed(tmp_path: Path, data: dict) -> ReportFiles:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return render(load(path), tmp_path / "out")


def _markdown_of(tmp_path: Path, data: dict) -> str:
    """The Markdown report of changed data, without drawing the charts (for text-only tests)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return markdown.render(build_document(load(path)))


def _section(md: str, heading: str) -> str:
    return md.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _cell(data: dict, cell_id: str) -> dict:
    return next(cell for cell in data["cells"] if cell["id"] == cell_id)


def _row(md: str, *parts: str) -> str:
    """The first line of ``md`` holding every one of ``parts``."""
    return next(line for line in md.splitlines() if all(part in line for part in parts))


def test_report_files_exist(report):
    assert report.markdown.name == "report.md" and report.markdown.stat().st_size > 0
    assert report.html.name == "report.html" and report.html.stat().st_size > 0


@pytest.mark.parametrize("files", ["report", "v1_report"])
def test_every_section_heading_in_both_formats_in_order(files, request):
    report = request.getfixturevalue(files)
    md = report.markdown.read_text(encoding="utf-8")
    html = report.html.read_text(encoding="utf-8")
    md_positions = [md.index(f"\n## {heading}\n") for heading in HEADINGS]
    html_positions = [html.index(f"<h2>{escape(heading)}</h2>") for heading in HEADINGS]
    assert md_positions == sorted(md_positions)
    assert html_positions == sorted(html_positions)


def test_every_chart_written_as_png_and_svg(report):
    names = sorted(path.name for path in report.charts)
    per_server = [f"bulk-fetch-{server}-{kind}" for server in SERVERS for kind in KINDS]
    per_variant = [f"bulk-fetch-{variant}-servers-time" for variant in VARIANTS]
    assert names == sorted(f"{stem}.{fmt}" for stem in per_server + per_variant for fmt in ("png", "svg"))
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
    assert sorted(linked) == sorted(f"charts/{p.name}" for p in report.charts if p.suffix == ".png")
    for relative in linked:
        assert (report.markdown.parent / relative).is_file()


def test_html_is_self_contained(report):
    html = report.html.read_text(encoding="utf-8")
    assert 'src="http' not in html
    assert "<link" not in html
    assert "<script" not in html
    assert "url(" not in html
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == len([p for p in report.charts if p.suffix == ".svg"])
    assert all(source.startswith("data:image/svg+xml;base64,") for source in sources)
    assert all(href.startswith("#") for href in re.findall(r'href="([^"]*)"', html))


def test_two_cells_differing_only_in_tls_both_appear(report):
    data = _raw()
    md = _section(report.markdown.read_text(encoding="utf-8"), "Scenario: bulk-fetch")
    for tls in ("off", "on"):
        cell = _cell(data, f"bulk-fetch/dovecot/imap/full/tls-{tls}")
        row = _row(md, f'<a id="{cell_anchor(cell["id"])}"></a>full | imap | {tls} |')
        assert f"| {number(cell['metrics']['elapsed_s']['median'])} (" in row
    # and each keeps its own column in the servers-compared table of the summary
    summary = _section(report.markdown.read_text(encoding="utf-8"), "Summary")
    assert _row(summary, "| full | dovecot | off |") != _row(summary, "| full | dovecot | on |")


def test_failed_cell_and_its_error_appear_in_both(v1_report):
    error = _cell(_raw(V1), "bulk-fetch/dovecot/pop3-keep/new")["error"]
    md = v1_report.markdown.read_text(encoding="utf-8")
    html = v1_report.html.read_text(encoding="utf-8")
    failed_md = md.split("## Failed cells", 1)[1]
    assert FAILED_ID in failed_md and error in failed_md
    failed_html = html.split("<h2>Failed cells</h2>", 1)[1]
    assert FAILED_ID in failed_html and escape(error) in failed_html


def test_integrity_names_the_missing_message(v1_report):
    missing = _cell(_raw(V1), "bulk-fetch/dovecot/pop3-keep/new")["integrity"]["missing"][0]
    integrity = _section(v1_report.markdown.read_text(encoding="utf-8"), "Integrity")
    assert f"`{missing}`" in integrity
    assert "FAILED" in integrity


def test_summary_figures_come_from_the_data(tmp_path):
    data = _raw(V1)
    original = _section(_markdown_of(tmp_path / "a", copy.deepcopy(data)), "Summary")
    assert "**imap** fastest at" in original

    imap_full = _cell(data, "bulk-fetch/dovecot/imap/full")
    for sample, seconds in zip(imap_full["samples"], (7.25, 7.5, 7.75)):
        sample["elapsed_s"] = seconds
    changed = _section(_markdown_of(tmp_path / "b", data), "Summary")

    assert changed != original
    assert "7.50 s" in changed and "7.50 s" not in original
    full_line = next(line for line in changed.splitlines() if "Full download" in line)
    assert "**pop3-keep** fastest" in full_line


def test_summary_states_the_measured_factor():
    results = load(V1)
    doc = build_document(results)
    times = {
        cell.mode: cell.metrics()["elapsed_s"]["median"]
        for cell in results.cells
        if cell.variant == "full" and cell.ok
    }
    expected = factor(times["pop3-delete"] / times["imap"])
    words = "\n".join(plain(item) for block in doc.section("Summary").blocks for item in getattr(block, "items", ()))
    assert expected in words


def test_summary_compares_the_servers(report):
    data = _raw()
    summary = _section(report.markdown.read_text(encoding="utf-8"), "Summary")
    assert "**bulk-fetch, servers compared**" in summary
    for server in SERVERS:
        assert f"**bulk-fetch on {server}**" in summary
    # the fastest mode of each row is the one with the smallest median, and it is bold
    for server in SERVERS:
        for tls in ("off", "on"):
            times = {
                mode: _cell(data, f"bulk-fetch/{server}/{mode}/full/tls-{tls}")["metrics"]["elapsed_s"]["median"]
                for mode in ("imap", "pop3-keep", "pop3-delete")
            }
            fastest = min(times, key=times.__getitem__)
            row = _row(summary, f"| full | {server} | {tls} |")
            assert f"**{number(times[fastest])}**" in row
            assert row.rstrip(" |").split("| ")[-1].startswith(fastest)
    # the same mode across servers: the fastest server of imap for a full download, from the data
    imap = {s: _cell(data, f"bulk-fetch/{s}/imap/full/tls-off")["metrics"]["elapsed_s"]["median"] for s in SERVERS}
    best = min(imap, key=imap.__getitem__)
    line = _row(summary, "**Full download**: imap fastest on")
    assert line.startswith(f"- **Full download**: imap fastest on {best} ({number(imap[best])} s")


def test_latency_percentiles_come_from_numpy(v1_report):
    fetch = _cell(_raw(V1), "bulk-fetch/dovecot/imap/full")["commands"]["FETCH"]
    median, p95 = numpy.percentile(fetch["latency_ms"], [50, 95])
    md = v1_report.markdown.read_text(encoding="utf-8")
    row = _row(md, "| imap | full | off | `FETCH` |")
    assert f"| {number(float(median))} | {number(float(p95))} |" in row


def test_no_failed_cells_says_none(report):
    md = report.markdown.read_text(encoding="utf-8")
    assert _section(md, "Failed cells").strip().startswith("None")


def test_unregistered_scenario_gets_a_generic_section(tmp_path):
    data = _raw()
    for tls in ("off", "on"):
        extra = copy.deepcopy(_cell(data, f"bulk-fetch/dovecot/imap/full/tls-{tls}"))
        extra.update(scenario="offline-use", id=f"offline-use/dovecot/imap/full/tls-{tls}")
        data["cells"].append(extra)
    files = _render_changed(tmp_path, data)
    md = files.markdown.read_text(encoding="utf-8")
    section = _section(md, "Scenario: offline-use")
    assert "| full | imap | off |" in section and "| full | imap | on |" in section
    assert any(path.name == "offline-use-dovecot-time.png" for path in files.charts)


@pytest.mark.parametrize("plot", [plot_time_per_mode, plot_bytes_per_mode, plot_round_trips_per_mode])
def test_plot_functions_draw_on_a_given_axes(plot):
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot(load(V1), ax)
    assert ax.patches and ax.get_title(loc="left") and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["full", "headers", "new"]
    assert ax.get_legend().get_title().get_text() == "server: dovecot"


def test_tls_bars_keep_the_mode_colour_and_say_so_in_the_legend():
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_time_per_mode(load(REAL), ax, server="cyrus")
    bars = [patch for patch in ax.patches if patch.get_height() > 0]
    assert len(bars) == 3 * 3 * 2  # variants × modes × TLS
    hatched = [bar for bar in bars if bar.get_hatch()]
    assert len(hatched) == 9  # every TLS-on bar, none of the others
    edges = {tuple(numpy.round(bar.get_edgecolor(), 3)) for bar in bars}
    assert len(edges) == 3  # one colour per mode, TLS or not
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["imap", "pop3-keep", "pop3-delete", "TLS off", "TLS on (implicit)"]


def test_one_variant_compares_the_servers():
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_time_per_mode(load(REAL), ax, variant="headers")
    assert [t.get_text() for t in ax.get_xticklabels()] == list(SERVERS)
    assert ax.get_xlabel() == "server"
    assert "headers" in ax.get_title(loc="left")


def test_write_charts_in_the_formats_asked(tmp_path):
    written = write_charts(load(V1), tmp_path, formats=("png",))
    assert written and all(path.suffix == ".png" and path.is_file() for path in written)
    assert not list(tmp_path.rglob("*.svg"))
    with pytest.raises(ValueError, match="jpeg"):
        write_charts(load(V1), tmp_path, formats=("jpeg",))


def test_markdown_table_survives_a_pipe_in_an_error(tmp_path):
    data = _raw(V1)
    _cell(data, "bulk-fetch/dovecot/pop3-keep/new")["error"] = "ServerStartError: greeting was 'a | b'"
    md = _markdown_of(tmp_path, data)
    row = next(line for line in md.split("## Failed cells", 1)[1].splitlines() if FAILED_ID in line)
    assert row.count(" | ") == 1  # one separator between the two columns; the error's pipe is escaped


def test_bytes_axis_is_labelled_in_byte_units():
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_bytes_per_mode(load(V1), ax)
    figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert any(label.endswith("MB") for label in labels)


def test_bytes_chart_counts_the_wire_when_the_run_did():
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_bytes_per_mode(load(REAL), ax, server="dovecot")
    assert "on the wire" in ax.get_ylabel()
    on = _cell(_raw(), "bulk-fetch/dovecot/imap/full/tls-on")["metrics"]["wire_bytes_down"]["median"]
    assert any(abs(bar.get_height() - on) < 0.5 for bar in ax.patches)


def test_one_axes_can_compare_several_servers():
    figure = Figure()
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_time_per_mode(load(REAL), ax)
    assert len(ax.get_xticks()) == 9
    assert set(SERVERS) <= {text.get_text() for text in ax.texts}
    assert ax.get_legend().get_title().get_text() == "mode"


# --- Capabilities ------------------------------------------------------------------------


def test_capability_matrix_from_the_servers_probe(report):
    env = _raw()["environment"]["servers"]
    section = _section(report.markdown.read_text(encoding="utf-8"), "Capabilities")
    imap_header = _row(section, "| capability | dovecot")
    for server in SERVERS:
        assert f"{server} {env[server]['version']}" in imap_header.replace("\\", "")
    for capability in ("IDLE", "CONDSTORE", "QRESYNC", "LITERAL+", "COMPRESS=DEFLATE", "MOVE", "UIDPLUS",
                       "MULTIAPPEND", "BINARY", "SPECIAL-USE", "NOTIFY"):
        row = _row(section, f"| `{capability}` |")
        cells = [c.strip() for c in row.strip("| ").split(" | ")[1:]]
        assert cells == ["**yes**" if capability in env[s]["capabilities"]["imap"] else "no" for s in SERVERS]
    # every capability any server advertised has a row, in both protocols
    for protocol in ("imap", "pop3"):
        for capability in {c for s in SERVERS for c in env[s]["capabilities"][protocol]}:
            assert f"| `{capability}` |" in section
    for capability in ("PIPELINING", "UIDL", "TOP", "USER", "SASL", "RESP-CODES", "EXPIRE", "LOGIN-DELAY", "STLS"):
        assert f"| `{capability}` |" in section


def test_capabilities_the_sessions_used(tmp_path):
    data = _raw()
    for cell in data["cells"]:
        cell["info"]["capabilities_used"] = ["PIPELINING", "UIDL"] if cell["mode"] == "pop3-keep" else []
    section = _section(_markdown_of(tmp_path, data), "Capabilities")
    assert "| courier | pop3-keep | `PIPELINING`, `UIDL` |" in section
    assert "| courier | imap | none |" in section
    assert "capabilities used" not in _section(_markdown_of(tmp_path / "raw", _raw()), "Capabilities")


def test_tls_availability_comes_from_the_server_not_the_list(tmp_path):
    data = _raw()
    data["environment"]["servers"]["cyrus"]["tls"] = False
    section = _section(_markdown_of(tmp_path, data), "Capabilities")
    assert "dovecot yes, cyrus no, courier yes" in _row(section, "**TLS offered**")
    # STLS is announced before login only: a list probed after login cannot say "no"
    stls = _row(section, "| `STLS` |")
    assert "not after login" in stls and " no " not in stls


# --- TLS overhead ------------------------------------------------------------------------


def test_tls_overhead_ratios_come_from_the_same_run(report):
    data = _raw()
    section = _section(report.markdown.read_text(encoding="utf-8"), "TLS overhead")
    for server in SERVERS:
        assert f"*bulk-fetch on {server}*" in section
    off = _cell(data, "bulk-fetch/courier/pop3-keep/headers/tls-off")["metrics"]
    on = _cell(data, "bulk-fetch/courier/pop3-keep/headers/tls-on")["metrics"]
    courier = section.split("*bulk-fetch on courier*", 1)[1]
    row = _row(courier, "| headers | pop3-keep |")
    assert f"| {factor(on['elapsed_s']['median'] / off['elapsed_s']['median'])} |" in row
    assert f"| {close_factor(on['wire_bytes_down']['median'] / off['wire_bytes_down']['median'])} |" in row


def test_tls_overhead_says_na_when_a_side_is_missing_or_failed(tmp_path):
    data = _raw()
    data["cells"] = [c for c in data["cells"] if c["id"] != "bulk-fetch/cyrus/imap/new/tls-on"]
    failed = _cell(data, "bulk-fetch/cyrus/pop3-delete/new/tls-off")
    failed.update(status="failed", error="IntegrityError: 1 missing")
    section = _section(_markdown_of(tmp_path, data), "TLS overhead")
    cyrus = section.split("*bulk-fetch on cyrus*", 1)[1].split("*bulk-fetch on", 1)[0]
    missing = _row(cyrus, "| new | imap |")
    assert "→ not run" in missing and missing.count("n/a") == 3
    broken = _row(cyrus, "| new | pop3-delete |")
    assert "failed →" in broken and broken.count("n/a") == 3


def test_no_tls_cells_say_so(v1_report):
    section = _section(v1_report.markdown.read_text(encoding="utf-8"), "TLS overhead")
    assert "no cell with TLS on" in section


# --- Statistics --------------------------------------------------------------------------


def test_median_interval_comes_from_order_statistics():
    values = [0.31, 0.29, 0.35, 0.30, 0.33, 0.32, 0.40, 0.28]
    interval = median_interval(values)
    expected = stats.quantile_test(values, q=numpy.median(values)).confidence_interval(0.95)
    assert (interval.low, interval.high) == (expected.low, expected.high)
    assert interval.reaches and interval.n == 8


def test_too_few_samples_give_min_max_at_the_confidence_it_has():
    interval = median_interval([3.0, 1.0, 2.0])
    assert (interval.low, interval.high) == (1.0, 3.0)
    assert interval.confidence == pytest.approx(0.75) and not interval.reaches
    assert interval_text([3.0, 1.0, 2.0]) == "1.00–3.00 (75% only)"
    assert interval_text([1.0, 2.0]) == "n<3"
    assert median_interval([1.0, 2.0]) is None


def test_time_table_shows_each_medians_interval(report):
    data = _raw()
    md = _section(report.markdown.read_text(encoding="utf-8"), "Scenario: bulk-fetch")
    cell = _cell(data, "bulk-fetch/courier/imap/new/tls-on")
    values = [s["elapsed_s"] for s in cell["samples"]]
    courier = md.split("### bulk-fetch on courier", 1)[1]
    interval_rows = courier.split("*Time, with the median's interval*", 1)[1]
    row = _row(interval_rows, "| new | imap | on |")
    assert f"| {interval_text(values)} |" in row and "(75% only)" in row


# --- Claims ------------------------------------------------------------------------------


def test_claims_section_has_one_row_per_claim_with_the_rules_verdict(report):
    verdicts = claims.judge(load(REAL))
    section = _section(report.markdown.read_text(encoding="utf-8"), "Claims")
    rows = [line for line in section.splitlines() if line.startswith("| **C")]
    assert [row.split("**")[1] for row in rows] == [f"C{i}" for i in range(1, 12)]
    for row, verdict in zip(rows, verdicts):
        assert f"| **{verdict.verdict}** |" in row


def test_claims_figures_link_to_their_cells_rows(report):
    md = report.markdown.read_text(encoding="utf-8")
    html = report.html.read_text(encoding="utf-8")
    claims_md = _section(md, "Claims")
    targets = set(re.findall(r"\]\(#(cell-[^)]+)\)", claims_md))
    assert targets  # C3 on this run quotes cells
    for target in targets:
        assert md.count(f'<a id="{target}"></a>') == 1
        assert html.count(f'id="{target}"') == 1
        assert f'href="#{target}"' in html


def test_document_model_keeps_the_claims_table():
    doc = build_document(load(REAL))
    table = next(block for block in doc.section("Claims").blocks if isinstance(block, Table))
    assert len(table.rows) == 11


# --- Micro-benchmarks --------------------------------------------------------------------


def test_micro_benchmarks_get_their_section_even_without_cells(tmp_path):
    data = _raw(V1)
    data["cells"] = []
    data["micro"] = [{"server": "courier", "protocol": "pop3", "operation": "connect+login", "tls": "on",
                      "rounds": 40, "median_ms": 2.345, "iqr_ms": 0.25, "min_ms": 2.0, "max_ms": 7.5}]
    files = _render_changed(tmp_path, data)
    md = files.markdown.read_text(encoding="utf-8")
    assert "| connect+login | courier | pop3 | on | 40 | 2.35 | 0.250 | 2.00 | 7.50 |" in _section(md, "Micro-benchmarks")
    assert "1 micro-benchmark (see Micro-benchmarks)" in _section(md, "Summary")
    assert "<h2>Micro-benchmarks</h2>" in files.html.read_text(encoding="utf-8")
    assert files.charts == []


def test_no_micro_benchmarks_no_section(report):
    assert "## Micro-benchmarks" not in report.markdown.read_text(encoding="utf-8")


# --- Links -------------------------------------------------------------------------------
#
# results_links.json is a real run: dovecot, full download, TLS off, 30 messages, 2 samples,
# over lan, mobile-4g and satellite (see the brief of the Links section in bench/report/links.py).

LINKS = DATA / "results_links.json"
LINK_NAMES = ("lan", "mobile-4g", "satellite")
RTT_STEM = "charts/bulk-fetch-dovecot-full-rtt"


@pytest.fixture(scope="module")
def links_report(tmp_path_factory) -> ReportFiles:
    return render(load(LINKS), tmp_path_factory.mktemp("links"))


def _median(values: list[float]) -> float:
    return float(numpy.median(values))


def _link_cell(data: dict, mode: str, link: str) -> dict:
    return _cell(data, f"bulk-fetch/dovecot/{mode}/full/tls-off" + ("" if link == "lan" else f"/{link}"))


def _with_tls_on(data: dict) -> dict:
    """The run with each cell repeated with TLS on, 10 % slower."""
    for original in list(data["cells"]):
        twin = copy.deepcopy(original)
        twin["tls"] = "on"
        twin["id"] = twin["id"].replace("/tls-off", "/tls-on")
        for sample in twin["samples"]:
            sample["elapsed_s"] *= 1.1
            if "efficiency" in sample:
                sample["efficiency"] /= 1.1
        data["cells"].append(twin)
    data["plan"]["tls"] = ["off", "on"]
    return data


def test_links_section_only_when_links_were_run(tmp_path, links_report, report, v1_report):
    assert "\n## Links\n" not in report.markdown.read_text(encoding="utf-8")
    assert "\n## Links\n" not in v1_report.markdown.read_text(encoding="utf-8")
    md = links_report.markdown.read_text(encoding="utf-8")
    html = links_report.html.read_text(encoding="utf-8")
    assert md.index("\n## Scenario: bulk-fetch\n") < md.index("\n## Links\n") < md.index("\n## TLS overhead\n")
    assert "<h2>Links</h2>" in html
    # a run on lan alone, whose plan names its one link: no Links section, no chart against rtt
    lan_only = _raw(LINKS)
    lan_only["cells"] = [c for c in lan_only["cells"] if c["link"] == "lan"]
    lan_only["plan"]["links"] = {"lan": lan_only["plan"]["links"]["lan"]}
    files = _render_changed(tmp_path / "lan", lan_only)
    assert "\n## Links\n" not in files.markdown.read_text(encoding="utf-8")
    assert not any("rtt" in path.name or "-lan-" in path.name for path in files.charts)
    # one relayed link is enough
    far_only = _raw(LINKS)
    far_only["cells"] = [c for c in far_only["cells"] if c["link"] == "satellite"]
    far_only["plan"]["links"] = {"satellite": far_only["plan"]["links"]["satellite"]}
    files = _render_changed(tmp_path / "far", far_only)
    assert "\n## Links\n" in files.markdown.read_text(encoding="utf-8")
    assert any(path.name == "bulk-fetch-dovecot-full-rtt.png" for path in files.charts)


def test_link_profiles_table_comes_from_the_plan(links_report):
    section = _section(links_report.markdown.read_text(encoding="utf-8"), "Links")
    profiles = _raw(LINKS)["plan"]["links"]
    lan = _row(section, "| **lan** |")
    assert "| 0 (no relay) | unlimited | unlimited |" in lan
    for name in ("mobile-4g", "satellite"):
        figures = profiles[name]
        row = _row(section, f"| **{name}** |")
        assert f"| {number(figures['rtt_ms'])} | {number(figures['down_mbit'])} | {number(figures['up_mbit'])} |" in row
        assert figures["source"][:60] in row
    rows = [line for line in section.splitlines() if line.startswith("| **")]
    assert [row.split("**")[1] for row in rows] == list(LINK_NAMES)  # shortest round trip first


def test_time_against_rtt_chart_is_written_and_shown_under_links(links_report):
    out = links_report.markdown.parent
    for fmt in ("png", "svg"):
        path = out / f"{RTT_STEM}.{fmt}"
        assert path in links_report.charts and path.stat().st_size > 5000
    assert (out / f"{RTT_STEM}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = links_report.markdown.read_text(encoding="utf-8")
    assert f"]({RTT_STEM}.png)" in _section(md, "Links")
    assert f"]({RTT_STEM}.png)" not in _section(md, "Scenario: bulk-fetch")
    html = _section_html(links_report.html.read_text(encoding="utf-8"), "Links")
    assert html.count('<img src="data:image/svg+xml;base64,') == 1


def _section_html(html: str, heading: str) -> str:
    return html.split(f"<h2>{escape(heading)}</h2>", 1)[1].split("<h2>", 1)[0]


def test_time_against_rtt_plot_draws_the_medians_and_the_limit():
    data = _raw(LINKS)
    rtts = {name: data["plan"]["links"][name]["rtt_ms"] for name in LINK_NAMES}
    figure = Figure(figsize=(7.2, 4.0))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_time_against_rtt(load(LINKS), ax, scenario="bulk-fetch", server="dovecot", variant="full")
    solid = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(solid) == 3 and len(dashed) == 1  # one line per mode; the modes' limits are the same: one line
    for line, mode in zip(solid, ("imap", "pop3-keep", "pop3-delete")):
        assert list(line.get_xdata()) == [rtts[name] for name in LINK_NAMES]
        medians = [_median([s["elapsed_s"] for s in _link_cell(data, mode, name)["samples"]]) for name in LINK_NAMES]
        assert list(line.get_ydata()) == pytest.approx(medians)
        assert line.get_color() == MODE_COLOURS[mode]
    (limit,) = dashed
    assert list(limit.get_xdata()) == [rtts["mobile-4g"], rtts["satellite"]]  # lan has no limit
    assert list(limit.get_ydata()) == pytest.approx(
        [_median([s["limit_s"] for s in _link_cell(data, "imap", name)["samples"]]) for name in ("mobile-4g", "satellite")])
    assert ax.get_xscale() == "symlog" and ax.get_yscale() == "log"
    assert "round-trip time" in ax.get_xlabel() and "(ms)" in ax.get_xlabel() and "time (s)" in ax.get_ylabel()
    figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == ["lan\n0 ms", "mobile-4g\n53.1 ms", "satellite\n630 ms"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["imap", "pop3-keep", "pop3-delete", "limit"]
    ends = {t.get_text() for t in ax.texts}  # each line's value at the longest round trip
    satellite = _median([s["elapsed_s"] for s in _link_cell(data, "imap", "satellite")["samples"]])
    assert f"{number(satellite)} s" in ends


def test_time_against_rtt_plot_marks_tls_and_staggers_close_ticks(tmp_path):
    data = _with_tls_on(_raw(LINKS))
    near = [copy.deepcopy(c) for c in data["cells"] if c["link"] == "mobile-4g"]
    for cell in near:  # mobile-3g's 63.5 ms stands close to mobile-4g's 53.1 ms on the axis
        cell["link"] = "mobile-3g"
        cell["id"] = cell["id"].replace("/mobile-4g", "/mobile-3g")
        cell["info"]["link"] = dict(cell["info"]["link"], name="mobile-3g", rtt_ms=63.5)
    data["cells"] += near
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    figure = Figure(figsize=(7.2, 4.0))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_time_against_rtt(load(path), ax)
    solid = [line for line in ax.get_lines() if line.get_linestyle() == "-"]
    assert len(solid) == 6  # mode × TLS
    assert {line.get_markerfacecolor() for line in solid if line.get_marker() == "s"} == {"white"}  # TLS on: open
    assert [t.get_text() for t in ax.get_legend().get_texts()][3:] == ["TLS off", "TLS on (implicit)", "limit"]
    figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[1] == "mobile-4g\n53.1 ms" and ticks[2] == "\n\nmobile-3g\n63.5 ms"  # a row lower


def test_efficiency_table_values_come_from_the_data(tmp_path, links_report):
    data = _raw(LINKS)
    section = _section(links_report.markdown.read_text(encoding="utf-8"), "Links")
    table = section.split("efficiency against the limit", 1)[1]
    for name in ("mobile-4g", "satellite"):
        shares = {mode: [s["efficiency"] for s in _link_cell(data, mode, name)["samples"]]
                  for mode in ("imap", "pop3-keep", "pop3-delete")}
        best = max(shares, key=lambda mode: _median(shares[mode]))
        for mode, values in shares.items():
            row = _row(table, f"| full | {name} | {mode} | off |")
            cell = _link_cell(data, mode, name)["metrics"]
            shown = f"{percent(_median(values))} ({percent(min(values))}–{percent(max(values))})"
            assert row.endswith(f"| {number(cell['elapsed_s']['median'])} | {number(cell['limit_s']['median'])} | "
                                f"{shown} | " + ("**yes** |" if mode == best else " |"))
    assert "| full | lan |" not in table  # lan has no limit
    # change the data: pop3-delete over satellite as fast as the link allows
    for sample in _link_cell(data, "pop3-delete", "satellite")["samples"]:
        sample["efficiency"] = 0.97
    changed = _section(_markdown_of(tmp_path, data), "Links")
    assert _row(changed, "| full | satellite | pop3-delete | off |").endswith("| 97.0% | **yes** |")
    assert "**" not in _row(changed, "| full | satellite | imap | off |")


def test_cells_differing_only_by_link_are_never_merged(links_report):
    data = _raw(LINKS)
    md = _section(links_report.markdown.read_text(encoding="utf-8"), "Scenario: bulk-fetch")
    for name in LINK_NAMES:
        cell = _link_cell(data, "imap", name)
        row = _row(md, f'<a id="{cell_anchor(cell["id"])}"></a>full | {name} | imap | off |')
        assert f"| {number(cell['metrics']['elapsed_s']['median'])} (" in row
    names = {path.name for path in links_report.charts}
    for name in LINK_NAMES:
        for kind in KINDS:
            assert f"bulk-fetch-dovecot-{name}-{kind}.png" in names
    # each link's bar chart holds that link's medians
    for name in LINK_NAMES:
        figure = Figure()
        FigureCanvasAgg(figure)
        ax = figure.add_subplot()
        plot_time_per_mode(load(LINKS), ax, link=name)
        heights = sorted(bar.get_height() for bar in ax.patches)
        expected = sorted(_link_cell(data, m, name)["metrics"]["elapsed_s"]["median"]
                          for m in ("imap", "pop3-keep", "pop3-delete"))
        assert heights == pytest.approx(expected)
        assert any(f"link {name}" in text.get_text() for text in ax.texts)  # named under the title


def test_a_grid_of_several_links_wants_to_be_told_which():
    grid = Grid.of(load(LINKS), "bulk-fetch")
    assert grid.links == list(LINK_NAMES) and grid.shows_links and grid.reference_link == "lan"
    with pytest.raises(ValueError, match="several links"):
        grid.cell("dovecot", "imap", "full", "off")
    assert grid.cell("dovecot", "imap", "full", "off", "satellite").id.endswith("/satellite")
    assert grid.at("satellite").cell("dovecot", "imap", "full", "off").link == "satellite"


def test_summary_says_how_time_grows_with_rtt_and_which_mode_is_closest_to_the_limit(links_report):
    data = _raw(LINKS)
    summary = _section(links_report.markdown.read_text(encoding="utf-8"), "Summary")
    assert "over the links lan (loopback), mobile-4g (53.1 ms), satellite (630 ms)" in summary
    line = _row(summary, "- **full**: from lan (loopback) to satellite (630 ms):")
    for mode in ("imap", "pop3-keep", "pop3-delete"):
        lan = _link_cell(data, mode, "lan")["metrics"]["elapsed_s"]["median"]
        far = _link_cell(data, mode, "satellite")["metrics"]["elapsed_s"]["median"]
        assert f"{mode} {number(lan)} s → {number(far)} s ({factor(far / lan)})" in line
    shares = {mode: _link_cell(data, mode, "satellite")["metrics"]["efficiency"]["median"]
              for mode in ("imap", "pop3-keep", "pop3-delete")}
    closest = max(shares, key=shares.__getitem__)
    assert f"closest to the limit on every relayed link: {closest} (" in line
    assert f"efficiency on satellite: {', '.join(f'{m} {percent(v)}' for m, v in shares.items())}." in line
    # the summary's comparison of modes is made on one link, and says which
    assert "**bulk-fetch on dovecot** (link lan (loopback); mobile-4g (53.1 ms), satellite (630 ms) under Links" in summary


def test_claims_use_the_links(links_report):
    verdict = next(v for v in claims.judge(load(LINKS)) if v.claim_id == "C3")
    assert "links: lan (loopback), mobile-4g (53.1 ms), satellite (630 ms)" in verdict.condition
    labels = [figure.label for figure in verdict.figures]
    assert labels == ["dovecot, full, TLS off", "dovecot, full, TLS off, mobile-4g (53.1 ms)",
                      "dovecot, full, TLS off, satellite (630 ms)"]
    row = _row(_section(links_report.markdown.read_text(encoding="utf-8"), "Claims"), "| **C3** |")
    assert f"| **{verdict.verdict}** |" in row and "efficiency against the limit" in row


def test_tls_overhead_compares_cells_of_the_same_link(tmp_path):
    section = _section(_markdown_of(tmp_path, _with_tls_on(_raw(LINKS))), "TLS overhead")
    for name, label in (("lan", "lan (loopback)"), ("mobile-4g", "mobile-4g (53.1 ms)"), ("satellite", "satellite (630 ms)")):
        table = section.split(f"*bulk-fetch on dovecot, link {label}*", 1)[1].split("\n*", 1)[0]
        assert "| 1.10× |" in _row(table, "| full | imap |")


def test_custom_link_names_files_and_ticks(tmp_path):
    data = _raw(LINKS)
    custom = "custom(rtt=80ms,down=20mbit,up=5mbit)"
    for cell in data["cells"]:
        if cell["link"] == "mobile-4g":
            cell["link"] = custom
            cell["id"] = cell["id"].replace("/mobile-4g", f"/{custom}")
            cell["info"]["link"] = {"name": custom, "rtt_ms": 80.0, "down_mbit": 20.0, "up_mbit": 5.0,
                                    "source": "given on the command line"}
    data["plan"]["links"] = {name: figures for name, figures in data["plan"]["links"].items() if name != "mobile-4g"}
    files = _render_changed(tmp_path, data)  # the plan lacks the custom link: its figures come from the cells
    names = {path.name for path in files.charts}
    assert "bulk-fetch-dovecot-custom-rtt-80ms-down-20mbit-up-5mbit-time.png" in names
    section = _section(files.markdown.read_text(encoding="utf-8"), "Links")
    assert f"| **{custom}** | 80.0 | 20.0 | 5.00 | given on the command line |".replace("(", "(") in section.replace("\\", "")
    figure = Figure(figsize=(7.2, 4.0))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    plot_time_against_rtt(load(tmp_path / "results.json"), ax)
    figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()][1] == "custom\n80 ms"


def test_links_report_html_is_self_contained(links_report):
    html = links_report.html.read_text(encoding="utf-8")
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == len([p for p in links_report.charts if p.suffix == ".svg"])
    assert all(source.startswith("data:image/svg+xml;base64,") for source in sources)
    targets = re.findall(r'href="#([^"]*)"', html)
    assert targets and all(f'id="{target}"' in html for target in targets)


# --- Scenarios without a layout of their own, over links -------------------------------


def _sync_like(data: dict) -> dict:
    """The links run with cells of scenarios the report has no layout for: a multi-device
    sync with many figures and a time per session, an offline use with no time at all and
    a failed cell, and a storage exposure with one figure."""
    for link in LINK_NAMES:
        figures = data["plan"]["links"][link]
        rtt = figures["rtt_ms"] / 1000
        for mode in ("imap", "pop3-keep", "pop3-delete"):
            suffix = "" if link == "lan" else f"/{link}"
            sync = copy.deepcopy(_link_cell(data, mode, link))
            samples = []
            for i in range(2):
                sample = {"messages_missing": 0, "states_wrong": i, "consistency_final_min": 0.9 + i / 100,
                          "sync_s_per_session": 0.01 + 6 * rtt + i / 1000, "bytes_down": 1000 + i,
                          "round_trips": 6, "connections": 1, "actions": 40, "conflicts": 0}
                sample.update({f"consistency_round_{r}": 0.5 + r / 20 for r in range(1, 9)})
                sample.update({f"visible_messages_{d}": 30 for d in ("phone", "laptop", "tablet")})
                samples.append(sample)
            sync.update(scenario="multi-device-sync", variant="three-devices", samples=samples,
                        id=f"multi-device-sync/dovecot/{mode}/three-devices/tls-off{suffix}")
            sync.pop("metrics", None)
            offline = copy.deepcopy(sync)
            offline.update(scenario="offline-use", variant="outage",
                           id=f"offline-use/dovecot/{mode}/outage/tls-off{suffix}",
                           samples=[{"readable_offline_share": 1.0 if mode != "imap" else 0.25,
                                     "messages_lost_with_device": 3}] * 2)
            exposure = copy.deepcopy(sync)
            exposure.update(scenario="storage-exposure", variant="default",
                            id=f"storage-exposure/dovecot/{mode}/default/tls-off{suffix}",
                            samples=[{"exposed_messages": 30 if mode != "pop3-delete" else 0}] * 2)
            data["cells"] += [sync, offline, exposure]
    broken = _cell(data, "offline-use/dovecot/imap/outage/tls-off/satellite")
    broken.update(status="failed", error="ConnectionResetError: link cut", samples=[])
    return data


def test_device_scenarios_render_over_links(tmp_path):
    data = _sync_like(_raw(LINKS))
    files = _render_changed(tmp_path, data)
    md = files.markdown.read_text(encoding="utf-8")
    for scenario in ("multi-device-sync", "offline-use", "storage-exposure"):
        section = _section(md, f"Scenario: {scenario}")
        assert "no report layout of its own" not in section  # each has its own layout
        assert "| variant | link | mode | TLS |" in section
    sync = _section(md, "Scenario: multi-device-sync")
    # every metric once: its own tables, then the others, a few per table (none too wide to read)
    cell = _cell(data, "multi-device-sync/dovecot/pop3-keep/three-devices/tls-off/satellite")
    metrics = sorted({name for sample in cell["samples"] for name in sample})
    tables = [part for part in sync.split("\n\n") if part.startswith("| variant | link | mode | TLS |")]
    shown = []
    for table in tables:
        header, _, *rows = table.splitlines()
        columns = [c.strip() for c in header.strip("| ").split(" | ")][4:]
        assert 0 < len(columns) <= 6
        row = next(r for r in rows if "three-devices | satellite | pop3-keep | off |" in r)
        values = [c.strip() for c in row.strip("| ").split(" | ")][4:]
        shown += list(zip(columns, values))
    assert len(shown) == len(metrics)  # every metric once
    by_header = {header.replace("\\", ""): value for header, value in shown}
    for metric in metrics:
        header, value = next((h, v) for h, v in by_header.items()
                             if h.split(" (")[0] == column_for(metric).header.split(" (")[0])
        if not column_for(metric).is_bytes:
            values = [s[metric] for s in cell["samples"]]
            counts = all(isinstance(v, int) for v in values)  # a median of counts is shown as a count
            median = int(_median(values)) if counts and _median(values).is_integer() else _median(values)
            assert value.startswith(number(median)), metric
    offline = _section(md, "Scenario: offline-use")
    assert "outage | satellite | imap | off | **failed** |" in offline
    assert "offline-use/dovecot/imap/outage/tls-off/satellite" in _section(md, "Failed cells")
    # a time per session is drawn against the round trip, under Links; no time, no such chart
    names = {path.name for path in files.charts}
    assert "multi-device-sync-dovecot-three-devices-rtt.png" in names
    assert not any(name.startswith(("offline-use", "storage-exposure")) and "rtt" in name for name in names)
    links = _section(md, "Links")
    assert "### multi-device-sync over the links" in links
    assert "### offline-use over the links" not in links
    summary = _section(md, "Summary")
    assert "**multi-device-sync over links on dovecot**" in summary


# --- Device scenarios (results_devices.json: a real run, dovecot, TLS off, 1 sample per cell) ---

DEVICES = DATA / "results_devices.json"
DEVICE_SCENARIOS = ("multi-device-sync", "offline-use", "storage-exposure")


@pytest.fixture(scope="module")
def devices_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("devices")
    return out, render(load(DEVICES), out)


def test_device_scenarios_have_their_own_sections(devices_report):
    document = build_document(load(DEVICES))
    assert "no report layout of its own" not in markdown.render(document)
    for scenario in DEVICE_SCENARIOS:
        section = document.section(f"Scenario: {scenario}")
        assert document.section(f"{scenario} on dovecot") in section.children
    out, files = devices_report
    svg = (out / "charts" / "multi-device-sync-dovecot-consistency.svg").read_bytes()
    assert base64.b64encode(svg).decode("ascii") in files.html.read_text(encoding="utf-8")  # embedded


@pytest.mark.parametrize("stem", ["multi-device-sync-dovecot-consistency", "offline-use-dovecot-readable-offline"])
def test_device_headline_charts_exist_and_are_linked(devices_report, stem):
    out, files = devices_report
    for fmt in ("png", "svg"):
        assert (out / "charts" / f"{stem}.{fmt}").stat().st_size > 0
    assert f"charts/{stem}.png" in files.markdown.read_text(encoding="utf-8")
    assert f"charts/{stem}.svg" in {block.stem + ".svg" for block in build_document(load(DEVICES)).charts()}


def test_no_new_mail_chart_when_the_scenario_did_not_run(devices_report):
    out, _ = devices_report
    assert not list((out / "charts").glob("new-mail-*"))


def _table_with(section, header: str) -> Table:
    return next(b for b in section.blocks if isinstance(b, Table) and header in b.headers)


def _value(table: Table, mode: str, variant: str, header: str) -> str:
    column = table.headers.index(header)
    for row in table.rows:
        if plain(row[0]) == variant and plain(row[1]) == mode:
            return plain(row[column])
    raise KeyError((mode, variant))


def test_device_tables_take_their_figures_from_the_data():
    results = load(DEVICES)
    raw = json.loads(DEVICES.read_text(encoding="utf-8"))
    sample = {c["id"]: c["samples"][0] for c in raw["cells"]}
    document = build_document(results)

    lost = _table_with(document.section("offline-use on dovecot"), "messages lost with device")
    expected = sample["offline-use/dovecot/pop3-delete/link-cut/tls-off"]["messages_lost_with_device"]
    assert _value(lost, "pop3-delete", "link-cut", "messages lost with device") == number(expected)

    exposure = _table_with(document.section("storage-exposure on dovecot"), "exposed message hours")
    expected = sample["storage-exposure/dovecot/imap/timeline/tls-off"]["exposed_message_hours"]
    assert _value(exposure, "imap", "timeline", "exposed message hours") == number(expected)

    sync = document.section("multi-device-sync on dovecot")
    final = _table_with(sync, "messages missing")
    expected = sample["multi-device-sync/dovecot/pop3-delete/incremental/tls-off"]["messages_missing"]
    assert _value(final, "pop3-delete", "incremental", "messages missing") == number(expected)
    resync = _table_with(sync, "full-resync ÷ incremental")
    imap = next(row for row in resync.rows if plain(row[0]) == "imap" and plain(row[1]) == "overhead only")
    inc = sample["multi-device-sync/dovecot/imap/incremental/tls-off"]["sync_overhead_bytes_down_per_session"]
    full = sample["multi-device-sync/dovecot/imap/full-resync/tls-off"]["sync_overhead_bytes_down_per_session"]
    assert plain(imap[4]) == factor(full / inc)


def test_device_sections_skip_missing_metrics(tmp_path):
    """Without the consistency and offline metrics the sections still render, without those charts."""
    raw = json.loads(DEVICES.read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        for sample in cell["samples"]:
            for name in [n for n in sample if n.startswith(("consistency_round_", "readable_offline"))]:
                del sample[name]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    files = render(load(path), tmp_path / "out")
    names = {p.name for p in files.charts}
    assert not any("consistency" in n or "readable-offline" in n for n in names)
    assert "## Scenario: offline-use" in files.markdown.read_text(encoding="utf-8")


# --- interrupted-sync -----------------------------------------------------------------------

INTERRUPTED = DATA / "results_interrupted.json"  # mailbench run --scenario interrupted-sync --messages 100 --repeat 3


def test_interrupted_sync_names_each_fault_and_counts_per_mode_and_server(tmp_path):
    data = _raw(INTERRUPTED)
    lossy = _cell(data, "interrupted-sync/cyrus/pop3-delete/server-killed/tls-off")
    lossy["samples"][0].update(messages_lost=2, messages_partial=1)
    broken = _cell(data, "interrupted-sync/courier/imap/server-paused/tls-off")
    broken.update(status="failed", error="MailbenchError: the device did not recover within 120 s")
    md = _markdown_of(tmp_path, data)
    section = _section(md, "Scenario: interrupted-sync")
    assert "| fault | mode | dovecot | cyrus | courier |" in section
    for fault in ("cut-mid-message", "cut-between-commands", "server-killed", "server-paused"):
        for mode in ("imap", "pop3-keep", "pop3-delete"):
            assert _row(section, f"| {fault} | {mode} |")
    assert _row(section, "| server-killed | pop3-delete |") == "| server-killed | pop3-delete | 0 / 0 / 0 | 2 / 0 / 1 | 0 / 0 / 0 |"
    assert "| failed |" in _row(section, "| server-paused | imap |")
    summary = _section(md, "Summary")
    assert "2 messages lost, 0 duplicated and 1 partial, in pop3-delete on cyrus (server-killed)" in summary
    assert "1 cells failed and are not counted" in summary
