"""storage-exposure: what stays readable on the server and on the devices, and for how long."""

from __future__ import annotations

from bench.report.cells import Grid
from bench.report.document import Block, Paragraph, Section, text
from bench.report.scenarios.base import ScenarioReport, grouped_section
from bench.results import Results

NAME = "storage-exposure"
SPREAD = "median (min–max) over the samples"
EXPOSURE = ("exposed_messages", "exposed_message_hours", "device_exposed_message_hours", "server_store_bytes")


def section(results: Results, grid: Grid) -> Section:
    intro: list[Block] = [Paragraph(text(
        "The devices and rounds of multi-device-sync, each round standing for 24 hours. Exposed messages: "
        "readable on the server with the password at the end; message-hours: summed over the time they were "
        "readable; on the device: whole messages on the fullest device, what a lost or stolen device gives "
        "away. Server store: the account's mail store on the server's disk at the end (deleted mail not yet "
        "purged included)."
    ))]
    return grouped_section(results, grid, intro, [(EXPOSURE, f"Exposure, {SPREAD}")])


REPORT = ScenarioReport(NAME, section)
