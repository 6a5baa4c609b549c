"""The decision page: which protocol, for which user, in one table and one chart.

It opens the report. Each row is a mode (``imap`` split by the client's cache policy, then
``pop3-keep`` and ``pop3-delete``); each column a consequence people choose by.
"""

from __future__ import annotations

from bench.report.document import Section
from bench.results import Results

TITLE = "Decision: which protocol, for which user"


def decision_section(results: Results) -> Section:
    """The decision page as a report section (filled in by the decision table)."""
    return Section(TITLE)
