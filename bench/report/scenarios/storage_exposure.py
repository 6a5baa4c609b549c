"""storage-exposure: what stays readable on the server and on the devices, and for how long.

Its headline chart (``plot_exposure``): who can read the mail at the end, on the server with
the password and on the fullest device, per mode and server.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bench.report import units
from bench.report.cells import Grid, tls_label
from bench.report.charts import MUTED, ChartSpec, _choose, _not_recorded, _one_link, _samples, mode_colour
from bench.report.document import Block, Paragraph, Section, Text, text
from bench.report.scenarios.base import ScenarioReport, across, grouped_section
from bench.report.scenarios.multi_device_sync import CHANGES, rounds_table
from bench.results import Results

NAME = "storage-exposure"
SPREAD = "median (min–max) over the samples, or the value every sample had"
EXPOSURE = ("exposed_messages", "exposed_message_hours", "device_exposed_messages", "device_exposed_message_hours",
            "server_store_bytes")


def section(results: Results, grid: Grid) -> Section:
    intro: list[Block] = [Paragraph(text(
        "The devices and rounds of multi-device-sync, each round standing for 24 hours. Exposed messages: "
        "readable on the server with the password at the end; message-hours: summed over the time they were "
        "readable; on the device: whole messages on the fullest device, what a lost or stolen device gives "
        "away. Server store: the account's mail store on the server's disk at the end (deleted mail not yet "
        "purged included)."
    ))]
    groups = [(EXPOSURE, f"Exposure, {SPREAD}"),
              (CHANGES, f"Changes made on one device that reached the others by the end, per kind, {SPREAD}")]
    return grouped_section(results, grid, intro, groups, extra=rounds_table, own=CHARTS)


def findings(results: Results, every: Grid) -> list[Text]:
    grid = every.at(every.reference_link)
    variant = grid.variants[0]
    lines = []
    for metric, words, fmt in (
        ("exposed_messages", "Readable on the server with the password at the end: ", units.number),
        ("device_exposed_messages", "Whole on the fullest device at the end (a lost or stolen one gives them "
                                    "away): ", units.number),
        ("exposed_message_hours", "Message-hours readable on the server with the password: ", units.number),
        ("server_store_bytes", "The account's store on the server's disk at the end: ", units.byte_size),
    ):
        parts = [f"{mode} {value}" for mode in grid.modes if (value := across(grid, mode, variant, metric, fmt))]
        if parts:
            lines.append(text(words, "; ".join(parts), "."))
    return lines


EXPOSURE_PANELS = (("exposed_messages", "readable on the server\nwith the password"),
            ("device_exposed_messages", "whole on the fullest device\n(lost or stolen)"))


def plot_exposure(results: Results, axes: Sequence[Axes], *, scenario: str | None = None, server: str | None = None,
                  variant: str | None = None, link: str | None = None) -> None:
    """storage-exposure: messages readable at the end with the account's password, and on the
    fullest device (what a lost one gives away), per mode on each server; two panels."""
    grid, named = _one_link(_choose(results, scenario), link)
    tls = grid.reference_tls
    variant = grid.variants[0] if variant is None else variant
    servers = [s for s in grid.servers if server is None or s == server]
    width = 0.84 / max(1, len(grid.modes))
    top = 0.0
    for ax, (metric, what) in zip(axes, EXPOSURE_PANELS):
        drawn = False
        for m, mode in enumerate(grid.modes):
            xs, ys = [], []
            for i, name in enumerate(servers):
                stat = grid.stat(name, mode, variant, tls, metric)
                if stat is not None:
                    xs.append(i + (m + 0.5 - len(grid.modes) / 2) * width)
                    ys.append(stat.median)
            if xs:
                colour = mode_colour(mode, grid.modes)
                bars = ax.bar(xs, ys, width * 0.92, color=colour, edgecolor=colour)
                ax.bar_label(bars, labels=[units.number(y) for y in ys], padding=2, fontsize=7, color="#222222")
                top = max(top, *ys)
                drawn = True
        if not drawn:
            _not_recorded(ax, what)
            continue
        ax.set_xticks(range(len(servers)), servers)
        ax.tick_params(axis="x", length=0)
        ax.set_title(what, loc="left", fontsize=10.5)
    for ax in axes:
        if ax.patches:
            ax.set_ylim(0, (top or 1.0) * 1.15)
            ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axes[0].set_ylabel("messages at the end")
    axes[0].figure.suptitle(f"{grid.scenario}: who can read the mail at the end", x=0.01, ha="left",
                            fontsize=12, fontweight="bold")
    note = f"{named}; " if named else ""
    axes[0].figure.supxlabel(f"{note}{_samples(results, grid.scenario)}; {tls_label(tls)}", x=0.01, ha="left", fontsize=8.5,
                             color=MUTED)
    handles = [Patch(facecolor=mode_colour(m, grid.modes), label=m) for m in grid.modes]
    axes[-1].legend(handles=handles, title="mode", loc="upper left", bbox_to_anchor=(1.02, 1.0), alignment="left")


CHARTS = (
    ChartSpec("exposure", plot_exposure, ("exposed_messages",),
              "Who can read the mail at the end: messages readable on the server with the account's password, "
              "and whole on the fullest device (what a lost or stolen one gives away), per mode and server.",
              per="scenario", panels=2, figsize=(8.6, 4.0)),
)

REPORT = ScenarioReport(
    NAME, section, findings, headline=("exposure",),
    about="The timeline of multi-device-sync, each round standing for a day: what someone holding the password "
          "can read on the server over time, beside what a lost device gives away.",
    charts=CHARTS,
)
