"""The scenarios' parts of the report, registered by name.

To give a new scenario its own section, write a module here with a section function (the
scenario in detail, for the appendix) and, for the report, a findings function, the kinds
of chart its headline is chosen from and the charts of this scenario alone (``ChartSpec``
entries, drawn with the helpers of ``bench.report.charts``); build a ``ScenarioReport`` in
it, and add that to ``REPORTS`` below. ``bench.report.charts`` draws a scenario's charts
from here: it names no scenario. A module grown past a few hundred lines becomes a package,
its charts in ``charts.py`` (``interrupted_sync``). A scenario that is not registered still
gets both: in the report its first chart, in the appendix a table of every metric it
recorded.
"""

from __future__ import annotations

from bench.report.scenarios import (
    bulk_fetch,
    interrupted_sync,
    multi_device_sync,
    new_mail,
    offline_use,
    storage_exposure,
)
from bench.report.scenarios.base import GENERIC, ScenarioReport

REPORTS: dict[str, ScenarioReport] = {
    report.name: report
    for report in (bulk_fetch.REPORT, multi_device_sync.REPORT, offline_use.REPORT, new_mail.REPORT,
                   storage_exposure.REPORT, interrupted_sync.REPORT)
}


def report_for(scenario: str) -> ScenarioReport:
    return REPORTS.get(scenario, GENERIC)


__all__ = ["REPORTS", "ScenarioReport", "report_for"]
