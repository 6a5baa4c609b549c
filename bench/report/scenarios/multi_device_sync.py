"""multi-device-sync: three devices on one account, round by round; how consistent they stay."""

from __future__ import annotations

from bench.report import units
from bench.report.cells import Grid
from bench.report.document import Block, Paragraph, Section, Table, Text, text
from bench.report.scenarios.base import ScenarioReport, grouped_section
from bench.results import Results

NAME = "multi-device-sync"
SPREAD = "median (min–max) over the samples"
FINAL = ("consistency_final_min", "messages_missing", "states_wrong", "other_device_messages_share",
         "changes_seen_share")
SYNC = ("sync_bytes_down_per_session", "sync_overhead_bytes_down_per_session")


def _resync_table(grid: Grid, server: str) -> list[Block]:
    """Per mode, a sync session's bytes received (and its overhead) incremental against
    full-resync: what CONDSTORE/QRESYNC save IMAP (POP3 lists the same way in both)."""
    if not {"incremental", "full-resync"} <= set(grid.variants):
        return []
    metrics = [m for m in SYNC if grid.has_metric(m)]
    tls = grid.reference_tls
    rows: list[tuple[Text, ...]] = []
    for mode in grid.modes:
        for metric in metrics:
            inc = grid.stat(server, mode, "incremental", tls, metric)
            full = grid.stat(server, mode, "full-resync", tls, metric)
            if inc is None and full is None:
                continue
            ratio = units.factor(full.median / inc.median) if inc and full and inc.median > 0 else "—"
            rows.append((text(mode), text("overhead only" if "overhead" in metric else "all received"),
                         text(units.byte_size(inc.median) if inc else "n/a"),
                         text(units.byte_size(full.median) if full else "n/a"), text(ratio)))
    if not rows:
        return []
    return [Table(
        headers=("mode", "bytes", "incremental", "full-resync", "full-resync ÷ incremental"),
        rows=tuple(rows), numeric=(False, False, True, True, True),
        caption="Bytes received per sync session after the first (medians): incremental against full-resync; "
                "for IMAP, with CONDSTORE/QRESYNC against without",
    )]


def section(results: Results, grid: Grid) -> Section:
    intro: list[Block] = [Paragraph(text(
        "Three devices (phone, laptop, tablet) share the account over ten rounds of new mail and actions; the "
        "phone is offline in rounds 2 and 3 and the tablet joins in round 4. Consistency is the share of the "
        "intended mailbox (each message and its state) a device has right. Variants: incremental (IMAP "
        "with QRESYNC or CONDSTORE where the server offers them) and full-resync (IMAP without them: every "
        "message's flags listed at every sync); POP3 lists the same way in both."
    ))]
    groups = [
        (FINAL, f"At the last checkpoint, worst device; shares of the intended mailbox, {SPREAD}"),
        (SYNC, (f"Bytes received per sync session after the first, and the share of it that is not message "
               f"content (overhead), {SPREAD}")),
    ]
    return grouped_section(results, grid, intro, groups, extra=_resync_table)


REPORT = ScenarioReport(NAME, section)
