"""offline-use: a device through an outage; what it can read offline, what is lost with it.

The caching policies are the protocols' (``bench.protocols.CACHE_POLICIES``); the chart's shades
follow their order, the most kept solid.
"""

from __future__ import annotations

from matplotlib.axes import Axes

from bench.protocols import CACHE_POLICIES
from bench.report import units
from bench.report.cells import Grid
from bench.report.charts import ChartSpec, _policy_bars
from bench.report.document import Block, Paragraph, Section, Text, text
from bench.report.scenarios.base import ScenarioReport, grouped_section
from bench.report.scenarios.multi_device_sync import CHANGES, changes_line, rounds_table
from bench.report.tables import policy_column
from bench.results import Results

NAME = "offline-use"
SPREAD = "median (min–max) over the samples, or the value every sample had"
KEPT_FIRST = tuple(reversed(CACHE_POLICIES))  # the caching policies, the most kept first
READABLE = ("readable_offline_share", *(policy_column("readable_offline_share", p) for p in KEPT_FIRST))
LOSS = ("messages_lost_with_device", "messages_missing", "consistency_after_catchup", "consistency_final_min")
POLICY_SAID = {"full": "full copy", "headers": "headers cached", "online": "online only"}
# In the chart, the most kept solid (the bare metric too: the most a client of the mode keeps),
# the others lighter and hatched.
LOOKS = ((0.0, ""), (0.45, "////"), (0.7, "...."))
POLICY_SHADES = {"": 0.0, **{policy: shade for policy, (shade, _) in zip(KEPT_FIRST, LOOKS)}}
POLICY_HATCHES = {policy: hatch for policy, (_, hatch) in zip(KEPT_FIRST, LOOKS)}


def section(results: Results, grid: Grid) -> Section:
    intro: list[Block] = [Paragraph(text(
        "Two devices, mobile and desk; in round 2 nobody reaches the server (server-down: the server is "
        "paused; link-cut: the connection is reset) and mobile is used offline. Readable offline is the share "
        "of the mailbox a device can show whole with no connection: unsuffixed for the most a client of the "
        "mode can keep, and per caching policy (full, headers, online) where the mode has several. Lost with "
        "the device: messages that exist nowhere else once mobile is lost."
    ))]
    groups = [
        (READABLE, f"Share of the mailbox readable offline, {SPREAD}"),
        (LOSS, f"Messages lost with the device, and consistency against the intended mailbox, {SPREAD}"),
        (CHANGES, f"Changes made on one device that reached the other by the end, per kind, {SPREAD}"),
    ]
    return grouped_section(results, grid, intro, groups, extra=rounds_table, own=CHARTS)


def _readable_line(grid: Grid) -> Text | None:
    """Per mode, the share readable with no connection, per caching policy where it has several,
    over every variant and server (lowest–highest where they differ)."""
    tls = grid.reference_tls
    policies = grid.policies("readable_offline_share")
    parts = []
    for mode in grid.modes:
        shown = []
        for policy in policies or [None]:
            values = [st.median for s in grid.servers for v in grid.variants
                      if (st := grid.stat(s, mode, v, tls, "readable_offline_share", policy=policy)) is not None]
            if values:
                shown.append((POLICY_SAID.get(policy, policy or ""), units.span(values, units.share)))
        if not shown:
            values = [st.median for s in grid.servers for v in grid.variants
                      if (st := grid.stat(s, mode, v, tls, "readable_offline_share")) is not None]
            shown = [("", units.span(values, units.share))] if values else []
        if len({value for _, value in shown}) == 1 and shown:
            parts.append(f"{mode} {shown[0][1]}")
        elif shown:
            parts.append(f"{mode} " + ", ".join(f"{value} ({said})" for said, value in shown))
    return text("Readable with no connection, the most a client keeps (per caching policy where the mode has "
                "several), every variant and server: ", "; ".join(parts), ".") if parts else None


def _lost_line(grid: Grid) -> Text | None:
    tls = grid.reference_tls
    parts = []
    for mode in grid.modes:
        values = [st.median for s in grid.servers for v in grid.variants
                  if (st := grid.stat(s, mode, v, tls, "messages_lost_with_device")) is not None]
        if values:
            parts.append(f"{mode} {units.span(values)}")
    return text("Messages that exist nowhere once the mobile device is lost: ", "; ".join(parts),
                ".") if parts else None


def findings(results: Results, every: Grid) -> list[Text]:
    grid = every.at(every.reference_link)
    lines = [_readable_line(grid), _lost_line(grid), changes_line(grid, grid.variants[0])]
    return [line for line in lines if line is not None]


def plot_readable_offline(results: Results, ax: Axes, *, scenario: str | None = None, server: str | None = None,
                          variant: str | None = None, link: str | None = None) -> None:
    """``readable_offline_share`` per mode, and per caching policy where recorded."""
    _policy_bars(results, ax, "readable_offline_share", scenario=scenario, server=server, variant=variant,
                 link=link, what="share readable offline", ylabel="share of the mailbox readable offline",
                 formatter=lambda y: f"{y:.2f}", share=True, shades=POLICY_SHADES, hatches=POLICY_HATCHES)


CHARTS = (
    ChartSpec("readable-offline", plot_readable_offline, ("readable_offline_share",),
              "Share of the mailbox each mode (and each caching policy, lighter and hatched) can show whole "
              "with no connection."),
)

REPORT = ScenarioReport(
    NAME, section, findings, headline=("readable-offline",),
    about="A device through an outage (server down, or link cut): what it can read with no connection, how it "
          "catches up, and what is lost with it if the device itself is lost.",
    charts=CHARTS,
)
