"""The scenarios' parts of the report, registered by name.

To give a new scenario its own section, write a module here with a section function (the
scenario in detail, for the appendix) and, for the report, a findings function, the kinds
of chart its headline is chosen from and the charts of this scenario alone (``ChartSpec``
entries, drawn with the helpers of ``bench.report.charts``, and passed on to the section's
chart references: ``grouped_section(..., own=CHARTS)``); build a ``ScenarioReport`` in it,
and add that to ``REPORTS`` below. The charts are drawn from here (``own_charts``):
``bench.report.charts`` names no scenario. A module grown past a few hundred lines becomes a package,
its charts in ``charts.py`` (``interrupted_sync``). A scenario that is not registered still
gets both: in the report its first chart, in the appendix a table of every metric it
recorded.
"""

from __future__ import annotations

from bench.report.scenarios import (
    bulk_fetch,
    interrupted_sync,
    many_devices,
    multi_device_sync,
    new_mail,
    offline_use,
    storage_exposure,
)
from bench.report.charts import ChartSpec
from bench.report.scenarios.base import GENERIC, ScenarioReport

REPORTS: dict[str, ScenarioReport] = {
    report.name: report
    for report in (bulk_fetch.REPORT, multi_device_sync.REPORT, offline_use.REPORT, new_mail.REPORT,
                   storage_exposure.REPORT, interrupted_sync.REPORT, many_devices.REPORT)
}


def report_for(scenario: str) -> ScenarioReport:
    return REPORTS.get(scenario, GENERIC)


def own_charts() -> dict[str, tuple[ChartSpec, ...]]:
    """Each registered scenario's own kinds of chart, as its report declares them: what
    ``bench.report.charts`` draws beside the charts of every scenario."""
    return {name: report.charts for name, report in REPORTS.items()}


__all__ = ["REPORTS", "ScenarioReport", "own_charts", "report_for"]
