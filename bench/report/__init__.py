"""The report of a run: Markdown, self-contained HTML and charts, from one results file.

    from bench.results import load
    from bench.report import render
    files = render(load("reports/<run-id>/results.json"), Path("reports/<run-id>"))

``render`` draws the charts (``write_charts``, the decision chart among them), builds the report and its appendix
once (``sections.build_document``, ``sections.build_appendix``) and renders them as
``report.md``, ``appendix.md`` and ``report.html`` (one self-contained page: the report, then
the appendix folded in a ``<details>``).
``write_charts(results, out_dir, formats=("png", "svg"))`` also works alone, for a
charts-only command: ``charts.write_charts`` given each scenario's own charts from the
registry of scenario reports (``scenarios.own_charts``), with helper processes drawing a
share of many charts when the results' file is given (``chart_workers``). The claims' verdicts come from
``bench.claims``; comparing two runs is ``bench.compare``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.report import chart_workers, charts, html, markdown
from bench.report.document import Document
from bench.report.scenarios import own_charts
from bench.report.sections import build_appendix, build_document
from bench.results import Results


@dataclass(frozen=True)
class ReportFiles:
    """What ``render`` wrote."""

    markdown: Path
    html: Path
    appendix: Path
    charts: list[Path] = field(default_factory=list)

    @property
    def all(self) -> list[Path]:
        return [self.markdown, self.appendix, self.html, *self.charts]


def write_charts(results: Results, out_dir: Path, formats: Sequence[str] = charts.FORMATS,
                 results_file: Path | None = None) -> list[Path]:
    """Every chart of the results, each scenario's own among them, in ``formats`` under
    ``out_dir/charts/``; returns the files written. Given the file the results were saved
    in, helper processes draw shares of many charts on the other cores
    (``chart_workers``)."""
    return chart_workers.write_charts(results, results_file, out_dir, formats, own=own_charts())


REPORT_MD = "report.md"
APPENDIX_MD = "appendix.md"
REPORT_HTML = "report.html"


def render(results: Results, out_dir: Path, results_file: Path | None = None) -> ReportFiles:
    """Write report.md, appendix.md, report.html and charts/ into ``out_dir``, creating it
    if need be. ``results_file``, the file ``results`` were saved in as they are, lets
    helper processes draw charts (``write_charts``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = write_charts(results, out_dir, results_file=results_file)
    document, appendix = build_document(results), build_appendix(results)
    md_path, appendix_path, html_path = out_dir / REPORT_MD, out_dir / APPENDIX_MD, out_dir / REPORT_HTML
    md_path.write_text(markdown.render(document, {APPENDIX_MD: appendix}), encoding="utf-8")
    appendix_path.write_text(markdown.render(appendix, {REPORT_MD: document}), encoding="utf-8")
    html_path.write_text(html.render(document, out_dir, appendix), encoding="utf-8")
    return ReportFiles(markdown=md_path, html=html_path, appendix=appendix_path, charts=drawn)


__all__ = ["Document", "ReportFiles", "build_appendix", "build_document", "render", "write_charts"]
