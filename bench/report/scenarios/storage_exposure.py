"""storage-exposure: what stays readable on the server and on the devices, and for how long."""

from __future__ import annotations

from bench.report import units
from bench.report.cells import Grid
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
    return grouped_section(results, grid, intro, groups, extra=rounds_table)


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


REPORT = ScenarioReport(
    NAME, section, findings, headline=("exposure",),
    about="The timeline of multi-device-sync, each round standing for a day: what someone holding the password "
          "can read on the server over time, beside what a lost device gives away.",
)
