"""The report renders from a stored results file: files, sections, charts, figures.

The report is report.md (the decision, the claims, a short section per scenario, the run in
brief), appendix.md (every figure of every cell) and report.html (both, the appendix folded).
Frozen results files: ``results_real_tls.json`` is a real small run (20 messages,
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
from bench.report import ReportFiles, build_appendix, build_document, html as html_renderer, markdown, render
from bench.report import write_charts
from bench.report.cells import Grid, cell_anchor
from bench.report.charts import (
    MODE_COLOURS,
    plot_bytes_per_mode,
    plot_round_trips_per_mode,
    plot_time_against_rtt,
    plot_time_per_mode,
)
from bench.report.document import Code, Table, plain, text
from bench.report.links import percent
from bench.report.stats import median_interval
from bench.report.tables import column_for, interval_text
from bench.report.units import close_factor, factor, number
from bench.results import load

DATA = Path(__file__).parent.parent / "data"
REAL = DATA / "results_real_tls.json"
V1 = DATA / "results_v1.json"
HEADINGS = [
    "Decision: which protocol, for which user",
    "Claims",
    "Scenario: bulk-fetch",
    "Environment, plan and corpus",
    "Integrity",
    "Reproduce",
]
APPENDIX_HEADINGS = [
    "Evidence for the claims",
    "bulk-fetch in detail",
    "TLS overhead",
    "Capabilities",
    "Per-command latency",
    "Integrity of every cell",
    "Environment",
    "Plan & corpus",
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
    results = load(path)
    return markdown.render(build_document(results), {"appendix.md": build_appendix(results)})


def _appendix_of(tmp_path: Path, data: dict) -> str:
    """The Markdown appendix of changed data, without drawing the charts."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    results = load(path)
    return markdown.render(build_appendix(results), {"report.md": build_document(results)})


def _heading(level: int, heading: str) -> str:
    """A heading line's pattern: a heading that links lead to carries an anchor."""
    return rf"\n{'#' * level} (?:<a id=\"[^\"]*\"></a>)?{re.escape(heading)}\n"


def _section(md: str, heading: str) -> str:
    return re.split(_heading(2, heading), md, maxsplit=1)[1].split("\n## ", 1)[0]


def _position(md: str, heading: str, level: int = 2) -> int:
    return re.search(_heading(level, heading), md).start()


def _md(files: ReportFiles) -> str:
    return files.markdown.read_text(encoding="utf-8")


def _appendix(files: ReportFiles) -> str:
    return files.appendix.read_text(encoding="utf-8")


def _cell(data: dict, cell_id: str) -> dict:
    return next(cell for cell in data["cells"] if cell["id"] == cell_id)


def _row(md: str, *parts: str) -> str:
    """The first line of ``md`` holding every one of ``parts``."""
    return next(line for line in md.splitlines() if all(part in line for part in parts))


def test_report_files_exist(report):
    assert report.markdown.name == "report.md" and report.markdown.stat().st_size > 0
    assert report.appendix.name == "appendix.md" and report.appendix.stat().st_size > 0
    assert report.html.name == "report.html" and report.html.stat().st_size > 0
    assert report.all[:3] == [report.markdown, report.appendix, report.html]


@pytest.mark.parametrize("files", ["report", "v1_report"])
def test_every_section_heading_in_both_formats_in_order(files, request):
    report = request.getfixturevalue(files)
    md, appendix = _md(report), _appendix(report)
    html = report.html.read_text(encoding="utf-8")
    headings = HEADINGS if files == "report" else [*HEADINGS[:-1], "Failed cells", HEADINGS[-1]]
    md_positions = [_position(md, heading) for heading in headings]
    appendix_positions = [_position(appendix, heading) for heading in APPENDIX_HEADINGS]
    html_positions = [html.index(f"<h2>{escape(heading)}</h2>") for heading in [*headings, *APPENDIX_HEADINGS]]
    assert md_positions == sorted(md_positions)
    assert appendix_positions == sorted(appendix_positions)
    assert html_positions == sorted(html_positions)
    # the appendix is folded at the end of the page, after the report's last section
    assert html.index(f"<h2>{headings[-1]}</h2>") < html.index('<details class="appendix" id="appendix">') \
        < html.index(f"<h2>{APPENDIX_HEADINGS[0]}</h2>")
    assert "Failed cells" not in re.findall(r"\n## (.*)\n", md) or files == "v1_report"


def test_every_chart_written_as_png_and_svg(report):
    names = sorted(path.name for path in report.charts)
    per_server = [f"bulk-fetch-{server}-{kind}" for server in SERVERS for kind in KINDS]
    per_variant = [f"bulk-fetch-{variant}-servers-time" for variant in VARIANTS]
    stems = ["decision", *per_server, *per_variant]
    assert names == sorted(f"{stem}.{fmt}" for stem in stems for fmt in ("png", "svg"))
    for path in report.charts:
        assert path.parent == report.markdown.parent / "charts"
        assert path.stat().st_size > 1000
    for png in (p for p in report.charts if p.suffix == ".png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for svg in (p for p in report.charts if p.suffix == ".svg"):
        assert "<svg" in svg.read_text(encoding="utf-8")


def test_markdown_links_every_chart_that_exists(report):
    in_report = re.findall(r"!\[[^\]]*\]\((charts/[^)]+\.png)\)", _md(report))
    in_appendix = re.findall(r"!\[[^\]]*\]\((charts/[^)]+\.png)\)", _appendix(report))
    assert not set(in_report) & set(in_appendix)  # a headline chart is not repeated in the appendix
    linked = in_report + in_appendix
    assert sorted(linked) == sorted(f"charts/{p.name}" for p in report.charts if p.suffix == ".png")
    for relative in linked:
        assert (report.markdown.parent / relative).is_file()
    # the report leads with one chart per scenario (bulk-fetch: the servers compared, full download)
    assert "charts/bulk-fetch-full-servers-time.png" in in_report


def test_every_link_leads_to_one_place(report):
    """Links in report.md lead into it or into appendix.md, and back; every target exists once."""
    md, appendix = _md(report), _appendix(report)
    html = report.html.read_text(encoding="utf-8")

    def ids(words: str) -> list[str]:
        return re.findall(r'<a id="([^"]+)"></a>', words)

    for source, here, there, other in ((md, "", "appendix.md", appendix), (appendix, "", "report.md", md)):
        for file, target in re.findall(r"\]\(((?:report|appendix)\.md)?#([^)]+)\)", source):
            if file:
                assert file == there and ids(other).count(target) == 1, target
            else:
                assert ids(source).count(target) == 1 or f"## {target}" in source.lower(), target
    assert re.search(r"\]\(appendix\.md#evidence-c1\)", md)  # the claims lead to their evidence
    targets = set(re.findall(r'href="#([^"]*)"', html))
    assert targets
    for target in targets:
        assert html.count(f'id="{target}"') == 1, target


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
    md = _section(_appendix(report), "bulk-fetch in detail")
    for tls in ("off", "on"):
        cell = _cell(data, f"bulk-fetch/dovecot/imap/full/tls-{tls}")
        row = _row(md, f'<a id="{cell_anchor(cell["id"])}"></a>full | imap | {tls} |')
        assert f"| {number(cell['metrics']['elapsed_s']['median'])} (" in row
    # and each keeps its own row in the table of the servers compared
    compared = md.split("### bulk-fetch: servers compared", 1)[1].split("\n### ", 1)[0]
    assert _row(compared, "| full | dovecot | off |") != _row(compared, "| full | dovecot | on |")


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
    for integrity in (_section(_md(v1_report), "Integrity"), _section(_appendix(v1_report), "Integrity of every cell")):
        assert f"`{missing}`" in integrity
        assert "FAILED" in integrity
    # the report lists only the cells with a problem; the appendix every cell
    brief = _section(_md(v1_report), "Integrity")
    every = _section(_appendix(v1_report), "Integrity of every cell")
    assert brief.count("| `bulk-fetch/") == 1 < every.count("| `bulk-fetch/") == len(_raw(V1)["cells"])


def test_findings_come_from_the_data(tmp_path):
    data = _raw(V1)
    original = _section(_markdown_of(tmp_path / "a", copy.deepcopy(data)), "Scenario: bulk-fetch")
    assert "**imap** fastest on dovecot" in _row(original, "**Full download**")
    detail = _section(_appendix_of(tmp_path / "a", copy.deepcopy(data)), "bulk-fetch in detail")

    imap_full = _cell(data, "bulk-fetch/dovecot/imap/full")
    for sample, seconds in zip(imap_full["samples"], (7.25, 7.5, 7.75)):
        sample["elapsed_s"] = seconds
    changed = _section(_markdown_of(tmp_path / "b", data), "Scenario: bulk-fetch")
    changed_detail = _section(_appendix_of(tmp_path / "b", data), "bulk-fetch in detail")

    assert changed != original
    assert "**pop3-keep** fastest" in _row(changed, "**Full download**")
    assert "7.50 s" in changed_detail and "7.50 s" not in detail


def test_findings_state_the_measured_factor():
    results = load(V1)
    times = {
        cell.mode: cell.metrics()["elapsed_s"]["median"]
        for cell in results.cells
        if cell.variant == "full" and cell.ok
    }
    expected = factor(times["pop3-delete"] / times["imap"])
    for section in (build_document(results).section("Scenario: bulk-fetch"),
                    build_appendix(results).section("bulk-fetch on dovecot")):
        words = "\n".join(plain(item) for block in section.blocks for item in getattr(block, "items", ()))
        assert expected in words


def test_the_servers_compared(report):
    data = _raw()
    detail = _section(_appendix(report), "bulk-fetch in detail")
    summary = detail.split("### bulk-fetch: servers compared", 1)[1].split("\n### ", 1)[0]
    for server in SERVERS:
        assert f"**bulk-fetch on {server}**" in detail.split(f"### bulk-fetch on {server}", 1)[1]
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
    # the report says the same in a line
    brief = _row(_section(_md(report), "Scenario: bulk-fetch"), "**Full download**")
    assert "**imap** fastest on every server" in brief


def test_latency_percentiles_come_from_numpy(v1_report):
    fetch = _cell(_raw(V1), "bulk-fetch/dovecot/imap/full")["commands"]["FETCH"]
    median, p95 = numpy.percentile(fetch["latency_ms"], [50, 95])
    md = _section(_appendix(v1_report), "Per-command latency")
    assert "`FETCH`" not in _md(v1_report)
    row = _row(md, "| imap | full | off | `FETCH` |")
    assert f"| {number(float(median))} | {number(float(p95))} |" in row


def test_no_failed_cells_says_so(report):
    md = _md(report)
    assert "\n## Failed cells\n" not in md
    assert "No cell failed." in _section(md, "Integrity")


def test_unregistered_scenario_gets_a_generic_section(tmp_path):
    data = _raw()
    for tls in ("off", "on"):
        extra = copy.deepcopy(_cell(data, f"bulk-fetch/dovecot/imap/full/tls-{tls}"))
        extra.update(scenario="some-new-scenario", id=f"some-new-scenario/dovecot/imap/full/tls-{tls}")
        data["cells"].append(extra)
    files = _render_changed(tmp_path, data)
    section = _section(_appendix(files), "some-new-scenario in detail")
    assert "no report layout of its own" in section
    assert "| full | imap | off |" in section and "| full | imap | on |" in section
    assert any(path.name == "some-new-scenario-dovecot-time.png" for path in files.charts)
    # in the report: its first chart, and the way to the rest
    brief = _section(_md(files), "Scenario: some-new-scenario")
    assert "charts/some-new-scenario-dovecot-time.png" in brief
    assert "](appendix.md#some-new-scenario-in-detail)" in brief


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
    section = _section(_appendix(report), "Capabilities")
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


def test_jmap_capabilities_and_the_servers_that_do_not_offer_it(tmp_path):
    data = _raw()
    for name, server in data["environment"]["servers"].items():
        server["protocols"] = ["imap", "pop3", "jmap"] if name == "cyrus" else ["imap", "pop3"]
    data["environment"]["servers"]["cyrus"]["capabilities"]["jmap"] = [
        "urn:ietf:params:jmap:core maxCallsInRequest=50 maxObjectsInGet=4096", "urn:ietf:params:jmap:mail"]
    section = _section(_appendix_of(tmp_path, data), "Capabilities")
    order = [s for s in data["plan"]["servers"] if s in data["environment"]["servers"]]
    row = _row(section, "| `urn:ietf:params:jmap:core` |")
    cells = dict(zip(order, (c.strip() for c in row.strip("| ").split(" | ")[1:])))
    assert cells["cyrus"] == "**yes** (maxCallsInRequest=50 maxObjectsInGet=4096)"
    assert {cells[s] for s in order if s != "cyrus"} == {"not offered"}
    assert "| `urn:ietf:params:jmap:websocket` |" in section
    assert "not offered: the server does not serve JMAP" in section
    # results written before servers named their protocols: no JMAP table at all
    assert "urn:ietf:params:jmap" not in _section(_appendix_of(tmp_path / "raw", _raw()), "Capabilities")


def test_capabilities_the_sessions_used(tmp_path):
    data = _raw()
    for cell in data["cells"]:
        cell["info"]["capabilities_used"] = ["PIPELINING", "UIDL"] if cell["mode"] == "pop3-keep" else []
    section = _section(_appendix_of(tmp_path, data), "Capabilities")
    assert "| courier | pop3-keep | `PIPELINING`, `UIDL` |" in section
    assert "| courier | imap | none |" in section
    assert "capabilities used" not in _section(_appendix_of(tmp_path / "raw", _raw()), "Capabilities")


def test_tls_availability_comes_from_the_server_not_the_list(tmp_path):
    data = _raw()
    data["environment"]["servers"]["cyrus"]["tls"] = False
    section = _section(_appendix_of(tmp_path, data), "Capabilities")
    assert "dovecot yes, cyrus no, courier yes" in _row(section, "**TLS offered**")
    # STLS is announced before login only: a list probed after login cannot say "no"
    stls = _row(section, "| `STLS` |")
    assert "not after login" in stls and " no " not in stls


# --- TLS overhead ------------------------------------------------------------------------


def test_tls_overhead_ratios_come_from_the_same_run(report):
    data = _raw()
    section = _section(_appendix(report), "TLS overhead")
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
    section = _section(_appendix_of(tmp_path, data), "TLS overhead")
    cyrus = section.split("*bulk-fetch on cyrus*", 1)[1].split("*bulk-fetch on", 1)[0]
    missing = _row(cyrus, "| new | imap |")
    assert "→ not run" in missing and missing.count("n/a") == 3
    broken = _row(cyrus, "| new | pop3-delete |")
    assert "failed →" in broken and broken.count("n/a") == 3


def test_no_tls_cells_say_so(v1_report):
    section = _section(_appendix(v1_report), "TLS overhead")
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
    md = _section(_appendix(report), "bulk-fetch in detail")
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
    appendix = _appendix(report)
    html = report.html.read_text(encoding="utf-8")
    evidence = _section(appendix, "Evidence for the claims")
    targets = set(re.findall(r"\]\(#(cell-[^)]+)\)", evidence))
    assert targets  # the claims on this run quote cells
    for target in targets:
        assert appendix.count(f'<a id="{target}"></a>') == 1
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
    md = _appendix(files)
    assert "| connect+login | courier | pop3 | on | 40 | 2.35 | 0.250 | 2.00 | 7.50 |" in _section(md, "Micro-benchmarks")
    assert "<h2>Micro-benchmarks</h2>" in files.html.read_text(encoding="utf-8")
    assert [path.stem for path in files.charts] == ["decision", "decision"]  # no cell: no scenario chart


def test_no_micro_benchmarks_no_section(report):
    assert "## Micro-benchmarks" not in _md(report) + _appendix(report)


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
    assert "\n## Links\n" not in _appendix(report)
    assert "\n## Links\n" not in _appendix(v1_report)
    md = _appendix(links_report)
    html = links_report.html.read_text(encoding="utf-8")
    assert _position(md, "bulk-fetch in detail") < md.index("\n## Links\n") < md.index("\n## TLS overhead\n")
    assert "<h2>Links</h2>" in html
    # a run on lan alone, whose plan names its one link: no Links section, no chart against rtt
    lan_only = _raw(LINKS)
    lan_only["cells"] = [c for c in lan_only["cells"] if c["link"] == "lan"]
    lan_only["plan"]["links"] = {"lan": lan_only["plan"]["links"]["lan"]}
    files = _render_changed(tmp_path / "lan", lan_only)
    assert "\n## Links\n" not in _appendix(files)
    assert not any("rtt" in path.name or "-lan-" in path.name for path in files.charts)
    # one relayed link is enough
    far_only = _raw(LINKS)
    far_only["cells"] = [c for c in far_only["cells"] if c["link"] == "satellite"]
    far_only["plan"]["links"] = {"satellite": far_only["plan"]["links"]["satellite"]}
    files = _render_changed(tmp_path / "far", far_only)
    assert "\n## Links\n" in _appendix(files)
    assert any(path.name == "bulk-fetch-dovecot-full-rtt.png" for path in files.charts)


def test_link_profiles_table_comes_from_the_plan(links_report):
    section = _section(_appendix(links_report), "Links")
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


def test_time_against_rtt_chart_is_written_and_leads_the_scenario(links_report):
    out = links_report.markdown.parent
    for fmt in ("png", "svg"):
        path = out / f"{RTT_STEM}.{fmt}"
        assert path in links_report.charts and path.stat().st_size > 5000
    assert (out / f"{RTT_STEM}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a run over several links leads with it: the report's bulk-fetch headline, not repeated under Links
    assert f"]({RTT_STEM}.png)" in _section(_md(links_report), "Scenario: bulk-fetch")
    assert f"]({RTT_STEM}.png)" not in _appendix(links_report)
    html = _section_html(links_report.html.read_text(encoding="utf-8"), "Scenario: bulk-fetch")
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
    section = _section(_appendix(links_report), "Links")
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
    changed = _section(_appendix_of(tmp_path, data), "Links")
    assert _row(changed, "| full | satellite | pop3-delete | off |").endswith("| 97.0% (all 2 samples) | **yes** |")
    assert "**" not in _row(changed, "| full | satellite | imap | off |")


def test_cells_differing_only_by_link_are_never_merged(links_report):
    data = _raw(LINKS)
    md = _section(_appendix(links_report), "bulk-fetch in detail")
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


def test_links_say_how_time_grows_with_rtt_and_which_mode_is_closest_to_the_limit(links_report):
    data = _raw(LINKS)
    assert "over the links lan (loopback), mobile-4g (53.1 ms), satellite (630 ms)" in _md(links_report)
    summary = _section(_appendix(links_report), "Links")
    line = _row(summary, "- **full**: from lan (loopback) to satellite (630 ms):")
    # the report's bulk-fetch section says the same in one line
    assert line[2:] in _row(_section(_md(links_report), "Scenario: bulk-fetch"), "Over the links, on dovecot")
    for mode in ("imap", "pop3-keep", "pop3-delete"):
        lan = _link_cell(data, mode, "lan")["metrics"]["elapsed_s"]["median"]
        far = _link_cell(data, mode, "satellite")["metrics"]["elapsed_s"]["median"]
        assert f"{mode} {number(lan)} s → {number(far)} s ({factor(far / lan)})" in line
    shares = {mode: _link_cell(data, mode, "satellite")["metrics"]["efficiency"]["median"]
              for mode in ("imap", "pop3-keep", "pop3-delete")}
    closest = max(shares, key=shares.__getitem__)
    assert f"closest to the limit on every relayed link: {closest} (" in line
    assert f"efficiency on satellite: {', '.join(f'{m} {percent(v)}' for m, v in shares.items())}." in line
    # the modes are compared on one link, which the lines say
    detail = _section(_appendix(links_report), "bulk-fetch in detail")
    assert "**bulk-fetch on dovecot** (link lan (loopback); mobile-4g (53.1 ms), satellite (630 ms) under Links" in detail


def test_claims_use_the_links(links_report):
    verdict = next(v for v in claims.judge(load(LINKS)) if v.claim_id == "C3")
    row = _row(_section(_md(links_report), "Claims"), "| **C3** |")
    assert f"| **{verdict.verdict}** |" in row
    assert all(name in row for name in LINK_NAMES)  # the condition names the links


def test_tls_overhead_compares_cells_of_the_same_link(tmp_path):
    section = _section(_appendix_of(tmp_path, _with_tls_on(_raw(LINKS))), "TLS overhead")
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
    section = _section(_appendix(files), "Links")
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
    md = _appendix(files)
    for scenario in ("multi-device-sync", "offline-use", "storage-exposure"):
        section = _section(md, f"{scenario} in detail")
        assert "no report layout of its own" not in section  # each has its own layout
        assert "| variant | link | mode | TLS |" in section
        assert f"\n## Scenario: {scenario}\n" in _md(files)
    sync = _section(md, "multi-device-sync in detail")
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
    offline = _section(md, "offline-use in detail")
    assert "outage | satellite | imap | off | **failed** |" in offline
    assert "offline-use/dovecot/imap/outage/tls-off/satellite" in _section(_md(files), "Failed cells")
    assert "1 of 9 cells failed" in _section(_md(files), "Scenario: offline-use")
    # a time per session is drawn against the round trip, under Links; no time, no such chart
    names = {path.name for path in files.charts}
    assert "multi-device-sync-dovecot-three-devices-rtt.png" in names
    assert not any(name.startswith(("offline-use", "storage-exposure")) and "rtt" in name for name in names)
    links = _section(md, "Links")
    assert "### multi-device-sync over the links" in links
    assert "### offline-use over the links" not in links
    assert "**multi-device-sync over links on dovecot**" in links


# --- Device scenarios (results_devices.json: a real run, dovecot, TLS off, 1 sample per cell) ---

DEVICES = DATA / "results_devices.json"
DEVICE_SCENARIOS = ("multi-device-sync", "offline-use", "storage-exposure")


@pytest.fixture(scope="module")
def devices_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("devices")
    return out, render(load(DEVICES), out)


def test_device_scenarios_have_their_own_sections(devices_report):
    document, appendix = build_document(load(DEVICES)), build_appendix(load(DEVICES))
    assert "no report layout of its own" not in markdown.render(appendix)
    for scenario in DEVICE_SCENARIOS:
        document.section(f"Scenario: {scenario}")
        section = appendix.section(f"{scenario} in detail")
        assert appendix.section(f"{scenario} on dovecot") in section.children
    out, files = devices_report
    svg = (out / "charts" / "offline-use-dovecot-time.svg").read_bytes()
    assert base64.b64encode(svg).decode("ascii") in files.html.read_text(encoding="utf-8")  # embedded
    # the blended consistency chart is gone: untouched messages dominate it
    assert not list((out / "charts").glob("*consistency*"))


@pytest.mark.parametrize("stem", ["offline-use-dovecot-readable-offline", "storage-exposure-exposure"])
def test_device_headline_charts_exist_and_are_linked(devices_report, stem):
    out, files = devices_report
    for fmt in ("png", "svg"):
        assert (out / "charts" / f"{stem}.{fmt}").stat().st_size > 0
    assert f"charts/{stem}.png" in _md(files)
    assert f"charts/{stem}.png" not in _appendix(files)
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
    document = build_appendix(results)

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
    assert not any("consistency" in n or "readable-offline" in n or "-sync." in n or "sync-kinds" in n for n in names)
    assert "## Scenario: offline-use" in _md(files)


# --- interrupted-sync -----------------------------------------------------------------------

INTERRUPTED = DATA / "results_interrupted.json"  # mailbench run --scenario interrupted-sync --messages 100 --repeat 3


def test_interrupted_sync_names_each_fault_and_counts_per_mode_and_server(tmp_path):
    data = _raw(INTERRUPTED)
    lossy = _cell(data, "interrupted-sync/cyrus/pop3-delete/server-killed/tls-off")
    lossy["samples"][0].update(messages_lost=2, messages_partial=1)
    broken = _cell(data, "interrupted-sync/courier/imap/server-paused/tls-off")
    broken.update(status="failed", error="MailbenchError: the device did not recover within 120 s")
    md = _markdown_of(tmp_path, data)
    section = _section(_appendix_of(tmp_path, data), "interrupted-sync in detail")
    assert "| fault | mode | dovecot | cyrus | courier |" in section
    for fault in ("cut-mid-message", "cut-between-commands", "server-killed", "server-paused"):
        for mode in ("imap", "pop3-keep", "pop3-delete"):
            assert _row(section, f"| {fault} | {mode} |")
    assert _row(section, "| server-killed | pop3-delete |") == "| server-killed | pop3-delete | 0 / 0 / 0 | 2 / 0 / 1 | 0 / 0 / 0 |"
    assert "| failed |" in _row(section, "| server-paused | imap |")
    summary = _section(md, "Scenario: interrupted-sync")
    assert "2 messages lost, 0 duplicated and 1 partial, in pop3-delete on cyrus (server-killed)" in summary
    assert "1 cells failed and are not counted" in summary


def test_interrupted_sync_is_reported_point_by_point(tmp_path):
    """Each sample strikes at its own seeded point: one row per point, never a median of them."""
    data = _raw(INTERRUPTED)
    appendix = _section(_appendix_of(tmp_path, data), "interrupted-sync in detail")
    cell = _cell(data, "interrupted-sync/dovecot/pop3-keep/cut-between-commands/tls-off")
    said = {"listed": "after the listing", "fetched": "after the last message", "done": "before QUIT / LOGOUT"}
    dovecot = appendix.split("### interrupted-sync on dovecot", 1)[1].split("\n### ", 1)[0]
    for sample, info in zip(cell["samples"], cell["sample_info"]):
        point = said[info["fault_point"]["between"]]
        row = _row(dovecot, f"cut-between-commands | {point} | pop3-keep |")
        assert f"| {number(sample['kept_through_fault'])} |" in row
    killed = _cell(data, "interrupted-sync/dovecot/imap/server-killed/tls-off")
    for sample, info in zip(killed["samples"], killed["sample_info"]):
        assert _row(dovecot, f"server-killed | message {info['fault_point']['whole_before'] + 1} | imap |")
    assert not re.search(r"\| \d[\d.,]* \([\d.,]+–[\d.,]+\) \|", appendix)  # no median (min–max) anywhere
    # the report: a table of what each mode kept at each point, and the chart of dots
    report = _section(_markdown_of(tmp_path, data), "Scenario: interrupted-sync")
    assert "| fault | point | imap | pop3-keep | pop3-delete |" in report
    assert "charts/interrupted-sync-recovery-points.png" in report


def test_recovery_chart_draws_every_sample_at_its_point():
    results = load(INTERRUPTED)
    figure = Figure(figsize=(9.6, 4.8))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    from bench.report.scenarios.interrupted_sync.charts import plot_recovery_points

    plot_recovery_points(results, ax)
    dots = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    samples = [c for c in _raw(INTERRUPTED)["cells"] if c["status"] == "ok"]
    assert len(dots) == sum(len(c["samples"]) for c in samples)
    values = sorted(float(line.get_ydata()[0]) for line in dots)
    assert values == pytest.approx(sorted(s["recover_bytes_down"] for c in samples for s in c["samples"]))
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "after the listing" in labels and any(label.startswith("message ") for label in labels)


def test_a_figure_every_sample_had_is_marked_not_spread(report):
    data = _raw()
    detail = _section(_appendix(report), "bulk-fetch in detail")
    cell = _cell(data, "bulk-fetch/dovecot/imap/full/tls-off")
    trips = {s["round_trips"] for s in cell["samples"]}
    assert len(trips) == 1  # round trips are the same in every sample by construction
    row = _row(detail, f'<a id="{cell_anchor(cell["id"])}"></a>full | imap | off |')
    assert f"| {trips.pop()} (all {len(cell['samples'])} samples) |" in row
    for words in (_md(report), _appendix(report)):
        assert not re.search(r"(\d[\d.,]*) \(\1–\1\)", words)  # never a range of equal values
    assert "all 3 samples" in report.html.read_text(encoding="utf-8")


def test_reference_report_is_short_and_its_appendix_holds_the_detail():
    """reports/reference/results.json: report.md well under 800 lines, the per-command latency
    (and every other detail) in appendix.md."""
    reference = Path(__file__).parents[2] / "reports" / "reference" / "results.json"
    results = load(reference)
    document, appendix = build_document(results), build_appendix(results)
    md = markdown.render(document, {"appendix.md": appendix})  # what render writes, without the charts
    detail = markdown.render(appendix, {"report.md": document})
    assert len(md.splitlines()) < 800
    assert "Per-command latency" not in md
    latency = _section(detail, "Per-command latency")
    assert latency.count("| `") > 100
    for heading in ("Capabilities", "TLS overhead", "Integrity of every cell"):
        assert _position(detail, heading) > 0
    for scenario in scenarios_of(results):
        assert f"\n## Scenario: {scenario}\n" in md
        assert f"](appendix.md#{scenario}-in-detail)" in md


def scenarios_of(results) -> list[str]:
    return list(dict.fromkeys(cell.scenario for cell in results.cells))


def test_renamed_memory_metrics_are_listed_under_either_name(tmp_path):
    data = _raw()
    for cell in data["cells"]:
        for sample in cell["samples"]:
            if "server_mem_mb" in sample:
                sample["server_mem_delta_mb"] = sample.pop("server_mem_mb") / 10
            if "client_peak_rss_mb" in sample:
                sample["client_rss_growth_mb"] = sample.pop("client_peak_rss_mb") / 10
        cell.pop("metrics", None)
    detail = _section(_appendix_of(tmp_path, data), "bulk-fetch in detail")
    resources = detail.split("*Resources, client and server", 1)[1].split("\n\n", 2)[1]
    header = resources.splitlines()[0]
    assert "client RSS growth (MB)" in header and "server memory change (MB)" in header
    others = detail.split("*Other recorded figures", 1)[1].split("\n\n", 2)[1]
    assert "RSS" not in others and "memory" not in others  # neither falls to the leftovers
    old = _section(_appendix_of(tmp_path / "old", _raw()), "bulk-fetch in detail")
    assert "client peak RSS (MB)" in old and "server memory (MB)" in old


def test_no_space_shows_between_a_code_span_and_its_punctuation():
    words = text("the cell ", Code("bulk-fetch/x"), ", then ", Code("y"), ".")
    html = html_renderer.run(words)
    assert '<code class="tight">bulk-fetch/x</code>, then' in html
    assert '<code class="tight">y</code>.' in html
    assert "code.tight { padding-right: 0" in html_renderer.CSS
    assert markdown.run(words) == "the cell `bulk-fetch/x`, then `y`."


def test_contents_list_is_one_column_on_a_narrow_screen():
    css = html_renderer.CSS
    narrow = css.split("@media (max-width: 40rem)", 1)[1]
    assert "nav ol { columns: 1; }" in narrow
    assert "nav li { break-inside: avoid; overflow-wrap: anywhere; }" in css


# --- Sync quality round by round (a hand-made fixture: the records that newer runs write) ----

CHANGE_KINDS = ("read", "flag", "move", "delete", "new")
REACHED = {"imap": 1.0, "pop3-keep": 0.0, "pop3-delete": 0.0}  # share of state changes that reach others


def _with_change_rounds(data: dict) -> dict:
    """results_devices.json with ``changes_seen_share_<kind>`` and ``change_rounds`` added to the
    multi-device-sync samples: every kind made at a steady rate; imap passes on every change
    but half the reads of rounds 2 and 3 (the phone is offline); POP3 passes on new mail only
    (pop3-delete none)."""
    for cell in data["cells"]:
        if cell["scenario"] != "multi-device-sync":
            continue
        mode = cell["mode"]
        records = []
        for r in range(10):
            by_kind = {}
            for kind, per_round in zip(CHANGE_KINDS, (2, 1, 1, 1, 2)):
                share = REACHED[mode] if kind != "new" else float(mode != "pop3-delete")
                if mode == "imap" and kind == "read" and r in (2, 3):
                    share = 0.5
                by_kind[kind] = {"made": per_round * r, "reached": int(per_round * r * share)}
            records.append({"round": r, "by_kind": by_kind, "misses": 0})
        cell["sample_info"][0]["change_rounds"] = records
        for kind in CHANGE_KINDS:
            cell["samples"][0][f"changes_seen_share_{kind}"] = (
                REACHED[mode] if kind != "new" else float(mode != "pop3-delete"))
        cell.pop("metrics", None)
    return data


@pytest.fixture(scope="module")
def sync_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("sync")
    path = out / "results.json"
    path.write_text(json.dumps(_with_change_rounds(_raw(DEVICES))), encoding="utf-8")
    return path, render(load(path), out / "report")


def test_changes_reached_per_round_come_from_the_records(sync_report):
    from bench.report import sync_rounds

    path, _ = sync_report
    cell = next(c for c in load(path).cells if c.id == "multi-device-sync/dovecot/imap/incremental/tls-off")
    points = {p.round: p.median for p in sync_rounds.reached(cell)}
    assert 0 not in points  # nothing made yet: no share
    made = sum((2, 1, 1, 1, 2)) * 2
    assert points[2] == pytest.approx((made - 2) / made)  # half of round 2's four reads missed
    assert points[5] == 1.0
    reads = {p.round: p.median for p in sync_rounds.reached(cell, ["read"])}
    assert reads[3] == 0.5 and reads[4] == 1.0
    present = sync_rounds.present(cell)
    assert present and all(0.0 <= p.median <= 1.0 for p in present)
    assert sync_rounds.kinds_of([cell]) == list(CHANGE_KINDS)


def test_sync_charts_draw_changes_beside_presence(sync_report):
    from bench.report.charts import plot_sync_rounds
    from bench.report.scenarios.multi_device_sync import plot_sync_kinds

    path, files = sync_report
    names = {p.name for p in files.charts}
    assert {"multi-device-sync-sync-kinds.png", "multi-device-sync-dovecot-sync.png"} <= names
    assert not any("consistency" in name for name in names)
    figure = Figure(figsize=(9.6, 4.0))
    FigureCanvasAgg(figure)
    changes, presence = figure.subplots(1, 2)
    plot_sync_rounds(load(path), [changes, presence])
    solid = [line for line in changes.get_lines() if line.get_linestyle() == "-"]
    assert [line.get_color() for line in solid] == [MODE_COLOURS[m] for m in ("imap", "pop3-keep", "pop3-delete")]
    pop3_keep = list(solid[1].get_ydata())
    assert pop3_keep == pytest.approx([2 / 7] * 9)  # only new mail reaches: 2 of every 7 changes
    assert len(presence.get_lines()) == 6  # a line per mode and variant
    figure = Figure(figsize=(10.6, 3.9))
    FigureCanvasAgg(figure)
    axes = list(figure.subplots(1, 3))
    plot_sync_kinds(load(path), axes)
    assert [ax.get_title(loc="left") for ax in axes] == ["imap", "pop3-keep", "pop3-delete"]
    assert len(axes[0].get_lines()) == len(CHANGE_KINDS) + 1  # a line per kind, and presence


def test_sync_quality_in_the_report_and_the_appendix(sync_report):
    _, files = sync_report
    section = _section(_md(files), "Scenario: multi-device-sync")
    assert "charts/multi-device-sync-sync-kinds.png" in section
    line = _row(section, "**Changes made on one device that reached the others**")
    assert "imap 100% of every kind" in line
    assert "pop3-keep read 0%, flag 0%, move 0%, delete 0%, new 100%" in line
    detail = _section(_appendix(files), "multi-device-sync in detail")
    assert "charts/multi-device-sync-dovecot-sync.png" in detail
    table = detail.split("*Sync quality round by round", 1)[1]
    row = _row(table, "| incremental | pop3-delete | changes reached |")
    assert row.endswith("| 0% |")
    assert "| changes seen share read |" in detail or "changes seen share read" in detail


def test_a_run_on_the_decision_plan_says_so_and_how_to_decide_the_rest(tmp_path):
    data = _raw()
    data["plan"]["name"] = "decision"
    md = _markdown_of(tmp_path, data)
    assert "(decision plan)" in md
    assert "`mailbench run --plan full` runs what every claim needs" in _section(md, "Claims").replace("\\", "")
    data["plan"]["name"] = "full"
    md = _markdown_of(tmp_path / "full", data)
    assert "(full plan)" in md and "--plan full" not in _section(md, "Claims")
