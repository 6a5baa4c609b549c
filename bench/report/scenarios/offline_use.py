"""offline-use: a device through an outage; what it can read offline, what is lost with it."""

from __future__ import annotations

from bench.report.cells import Grid
from bench.report.document import Block, Paragraph, Section, text
from bench.report.scenarios.base import ScenarioReport, grouped_section
from bench.results import Results

NAME = "offline-use"
SPREAD = "median (min–max) over the samples"
READABLE = ("readable_offline_share", "readable_offline_share_full", "readable_offline_share_headers",
            "readable_offline_share_online")
LOSS = ("messages_lost_with_device", "messages_missing", "consistency_after_catchup", "consistency_final_min")


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
    ]
    return grouped_section(results, grid, intro, groups)


REPORT = ScenarioReport(NAME, section)
