"""new-mail: how soon new mail shows on a device, per watching policy (push, polling).

The policies and their intervals are the scenario's (``scenarios.new_mail``): the text and
the chart's shades are worked out from them, never written here.
"""

from __future__ import annotations

from matplotlib.axes import Axes

from bench.report import units
from bench.report.cells import Grid
from bench.report.charts import ChartSpec, _policy_bars, policies_of
from bench.report.document import Block, Paragraph, Section, Text, text
from bench.report.scenarios.base import ScenarioReport, across, grouped_section
from bench.report.tables import policy_column
from bench.results import Results
from scenarios.new_mail import NewMail

NAME = "new-mail"
SPREAD = "median (min–max) over the samples, or the value every sample had"
DEFAULT_RUN = NewMail()  # the scenario as a run has it unless told otherwise
POLICIES = DEFAULT_RUN.policy_names()  # push, then polling at each interval
# In the chart, the first policy solid, the next ones lighter and hatched, in the scenario's order.
LOOKS = ((0.0, ""), (0.4, "////"), (0.7, "...."))
POLICY_SHADES = {policy: shade for policy, (shade, _) in zip(POLICIES, LOOKS)}
POLICY_HATCHES = {policy: hatch for policy, (_, hatch) in zip(POLICIES, LOOKS)}


def _intervals() -> str:
    """The scenario's polling intervals in words: ``<first> s or <second> s``."""
    return " or ".join(f"{interval:g} s" for interval in DEFAULT_RUN.intervals_s)


def section(results: Results, grid: Grid) -> Section:
    intro: list[Block] = [Paragraph(text(
        f"A device holds the mailbox while {DEFAULT_RUN.arrivals} messages arrive, watching under each policy its mode has "
        f"(push: IMAP IDLE, or JMAP's event stream; polling every {_intervals()}). Latency runs from the "
        "delivering APPEND to the end of the sync that put the message on the device. Cyrus's JMAP push is "
        "its own check of the account every jmap_pushpoll seconds (1 s here), so up to that much of its "
        "latency is there by construction."
    ))]
    policies = grid.policies("latency_ms")
    groups = []
    if policies:
        latency = tuple(policy_column(m, p) for p in policies for m in ("latency_ms", "latency_ms_max", "missed"))
        groups.append((latency, f"Delivery-to-visible latency per policy (median, worst) and messages missed, {SPREAD}"))
    return grouped_section(results, grid, intro, groups, own=CHARTS)


def findings(results: Results, every: Grid) -> list[Text]:
    grid = every.at(every.reference_link)
    variant = grid.variants[0]
    lines = []
    for policy in grid.policies("latency_ms"):
        parts = [f"{mode} {value}" for mode in grid.modes
                 if (value := across(grid, mode, variant, "latency_ms", lambda v: f"{units.number(v)} ms", policy))]
        if parts:
            lines.append(text(f"Delivery to visible, {policy}: ", "; ".join(parts), "."))
    return lines


def plot_new_mail_latency(results: Results, ax: Axes, *, scenario: str | None = None, server: str | None = None,
                          variant: str | None = None, link: str | None = None) -> None:
    """``latency_ms`` per watch policy: delivery to visible, per mode and policy."""
    _policy_bars(results, ax, "latency_ms", scenario=scenario, server=server, variant=variant, link=link,
                 what="new-mail latency per policy", ylabel="delivery to visible (ms)",
                 formatter=units.number, share=False, shades=POLICY_SHADES, hatches=POLICY_HATCHES)


def _has_latency(grid: Grid) -> bool:
    return any(policies_of(grid, "latency_ms"))


CHARTS = (
    ChartSpec("latency", plot_new_mail_latency, (),
              "New-mail latency: median time from delivery to the message showing on the device, per mode "
              "and policy.", wants=_has_latency),
)

REPORT = ScenarioReport(
    NAME, section, findings, headline=("latency",),
    about="A device keeps watch while new mail arrives (push, or polling): how soon each message shows, and "
          "what watching costs.",
    charts=CHARTS,
)
