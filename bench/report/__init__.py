"""The report of a run: Markdown, self-contained HTML and charts, from one results file.

    from bench.results import load
    from bench.report import render
    files = render(load("reports/<run-id>/results.json"), Path("reports/<run-id>"))

``render`` draws the charts (``charts.write_charts``), builds the document once
(``sections.build_document``) and renders it as ``report.md`` and ``report.html``.
``write_charts(results, out_dir, formats=("png", "svg"))`` also works alone, for a
charts-only command. The claims' verdicts come from ``bench.claims``; comparing two
runs is ``bench.compare``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.report import html, markdown
from bench.report.charts import write_charts
from bench.report.document import Document
from bench.report.sections import build_document
from bench.results import Results


@dataclass(frozen=True)
class ReportFiles:
    """What ``render`` wrote."""

    markdown: Path
    html: Path
    charts: list[Path] = field(default_factory=list)

    @property
    def all(self) -> list[Path]:
        return [self.markdown, self.html, *self.charts]


def render(results: Results, out_dir: Path) -> ReportFiles:
    """Write report.md, report.html and charts/ into ``out_dir``, creating it if need be."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = write_charts(results, out_dir)
    document = build_document(results)
    md_path = out_dir / "report.md"
    html_path = out_dir / "report.html"
    md_path.write_text(markdown.render(document), encoding="utf-8")
    html_path.write_text(html.render(document, out_dir), encoding="utf-8")
    return ReportFiles(markdown=md_path, html=html_path, charts=charts)


__all__ = ["Document", "ReportFiles", "build_document", "render", "write_charts"]
