"""multi-device-sync: three devices on one account, round by round; what reaches each device.

Sync quality is read as two separate things (``bench.report.sync_rounds``): the share of the
changes made on one device that reached the others, and the share of the messages present.
A blended consistency over every (message, state) pair is left to the tables: untouched
messages dominate it, so a mode that passes on none of the other devices' changes still reads
close to 1.

Its headline chart (``plot_sync_kinds``): which kinds of change reached the other devices, a
panel per mode, for the variant the findings show too (``headline_variant``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from bench.report import sync_rounds, units
from bench.report.cells import Grid, tls_label
from bench.report.charts import MUTED, ChartSpec, _one_server, _samples, _share_axis, mode_colour
from bench.report.document import Block, Paragraph, Section, Strong, Table, Text, text
from bench.report.scenarios.base import ScenarioReport, across, grouped_section
from bench.results import Results

NAME = "multi-device-sync"
SPREAD = "median (min–max) over the samples, or the value every sample had"
CHANGES = (*(f"{sync_rounds.SHARE_PREFIX}{kind}" for kind in sync_rounds.KINDS), "changes_seen_share")
FINAL = ("messages_missing", "states_wrong", "other_device_messages_share", "consistency_final_min")
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


def rounds_table(grid: Grid, server: str) -> list[Block]:
    """Round by round, per variant and mode: the share of the changes made so far that reached
    the other devices, and of the intended messages present (medians over the samples);
    nothing for results that do not record the rounds' changes."""
    if not sync_rounds.has_rounds(grid):
        return []
    tls = grid.reference_tls
    series = []
    for variant in grid.variants:
        for mode in grid.modes:
            cell = grid.cell(server, mode, variant, tls)
            for what, points in (("changes reached", sync_rounds.reached(cell)),
                                 ("messages present", sync_rounds.present(cell))):
                if points:
                    series.append((variant, mode, what, {p.round: p for p in points}))
    rounds = sorted({r for *_, points in series for r in points})
    if not series:
        return []
    rows = tuple(
        (text(variant), text(mode), text(what),
         *(text(units.share(points[r].median) if r in points else "—") for r in rounds))
        for variant, mode, what, points in series
    )
    return [Table(("variant", "mode", "share", *(f"round {r}" for r in rounds)), rows,
                  (False, False, False, *([True] * len(rounds))),
                  caption="Sync quality round by round: changes made so far that reached the other devices "
                          "(new mail included), and messages of the intended mailbox the devices show; medians "
                          "over the samples")]


def _extra(grid: Grid, server: str) -> list[Block]:
    return [*_resync_table(grid, server), *rounds_table(grid, server)]


def section(results: Results, grid: Grid) -> Section:
    intro: list[Block] = [Paragraph(text(
        "Three devices (phone, laptop, tablet) share the account over ten rounds of new mail and actions; the "
        "phone is offline in rounds 2 and 3 and the tablet joins in round 4. Variants: incremental (IMAP "
        "with QRESYNC or CONDSTORE where the server offers them) and full-resync (IMAP without them: every "
        "message's flags listed at every sync); POP3 lists the same way in both. Changes reached: of the "
        "changes made on one device (and of the new mail), the share the other devices show; consistency: "
        "the share of every (message, state) pair a device has right, which untouched messages dominate."
    ))]
    groups = [
        (CHANGES, f"Changes made on one device that reached the other devices by the end, per kind, {SPREAD}"),
        (FINAL, f"At the last checkpoint, worst device; shares of the intended mailbox, {SPREAD}"),
        (SYNC, (f"Bytes received per sync session after the first, and the share of it that is not message "
               f"content (overhead), {SPREAD}")),
    ]
    return grouped_section(results, grid, intro, groups, extra=_extra, own=CHARTS)


def changes_line(grid: Grid, variant: str) -> Text | None:
    """Per mode, the share of each kind of change that reached the other devices by the end;
    the single ``changes_seen_share`` for results without the kinds."""
    kinds = [k for k in sync_rounds.KINDS if grid.has_metric(f"{sync_rounds.SHARE_PREFIX}{k}")]
    parts = []
    for mode in grid.modes:
        if kinds:
            shown = {k: across(grid, mode, variant, f"{sync_rounds.SHARE_PREFIX}{k}", units.share) for k in kinds}
            shown = {k: v for k, v in shown.items() if v is not None}
            if not shown:
                continue
            if len(set(shown.values())) == 1 and len(shown) == len(kinds):
                parts.append(f"{mode} {next(iter(shown.values()))} of every kind")
            else:
                parts.append(f"{mode} " + ", ".join(f"{k} {v}" for k, v in shown.items()))
        elif (value := across(grid, mode, variant, "changes_seen_share", units.share)) is not None:
            parts.append(f"{mode} {value}")
    if not parts:
        return None
    what = f"kinds: {', '.join(kinds)}" if kinds else "reads, flags, moves, deletions"
    return text(Strong("Changes made on one device that reached the others"), f" by the end ({what}): ",
                "; ".join(parts), ".")


def _line(grid: Grid, variant: str, metric: str, words: str, fmt: Any = units.number) -> Text | None:
    parts = [f"{mode} {value}" for mode in grid.modes if (value := across(grid, mode, variant, metric, fmt))]
    return text(words, "; ".join(parts), ".") if parts else None


def _overhead_line(grid: Grid) -> Text | None:
    """IMAP's listing overhead per sync session, incremental against full-resync, per server."""
    metric = "sync_overhead_bytes_down_per_session"
    if not {"incremental", "full-resync"} <= set(grid.variants) or "imap" not in grid.modes:
        return None
    parts = []
    for server in grid.servers:
        inc = grid.stat(server, "imap", "incremental", grid.reference_tls, metric)
        full = grid.stat(server, "imap", "full-resync", grid.reference_tls, metric)
        if inc is not None and full is not None:
            parts.append(f"{server} {units.byte_size(inc.median)} against {units.byte_size(full.median)}")
    if not parts:
        return None
    return text("IMAP, bytes per sync session beyond the messages' content, incremental against full-resync: ",
                "; ".join(parts), ".")


def findings(results: Results, every: Grid) -> list[Text]:
    grid = every.at(every.reference_link)
    variant = headline_variant(grid)
    lines = [
        changes_line(grid, variant),
        _line(grid, variant, "other_device_messages_share",
              f"Of the intended mailbox at the end ({variant}), the share shown by devices other than the first to "
              "download each message: ", units.share),
        _line(grid, variant, "messages_missing", "Messages missing on the worst device at the end: "),
        _line(grid, variant, "states_wrong", "Messages in a wrong state (read, flag, folder) on the worst device: "),
        _overhead_line(grid),
    ]
    return [line for line in lines if line is not None]


KIND_STYLES = {  # colour and marker per kind of change, apart from the modes' colours
    "read": ("#56B4E9", "o"), "flag": ("#D55E00", "s"), "move": ("#CC79A7", "^"),
    "delete": ("#000000", "x"), "new": ("#8C8C00", "D"),
}
PRESENCE_STYLE = {"color": "#777777", "linestyle": (0, (4, 2)), "linewidth": 2.2}


def headline_variant(grid: Grid) -> str:
    """The variant a scenario's headline shows: ``incremental`` where it ran, else the first."""
    return "incremental" if "incremental" in grid.variants else grid.variants[0]


def plot_sync_kinds(results: Results, axes: Sequence[Axes], *, scenario: str | None = None,
                    server: str | None = None, variant: str | None = None, link: str | None = None) -> None:
    """The headline of sync quality: a panel per mode, in it a line per kind of change (the
    share made on one device that reached the other devices by each round) and, dashed grey,
    the share of the intended messages the devices show; on one server (the first) and one
    variant (``headline_variant``)."""
    grid, server, named = _one_server(results, scenario, server, link)
    tls = grid.reference_tls
    variant = headline_variant(grid) if variant is None else variant
    cells = [c for m in grid.modes if (c := grid.cell(server, m, variant, tls)) is not None]
    kinds = sync_rounds.kinds_of(cells)
    if not kinds:
        raise ValueError(f"no {grid.scenario} cell on {server} records its changes round by round")
    rounds: set[int] = set()
    for ax, mode in zip(axes, grid.modes):
        cell = grid.cell(server, mode, variant, tls)
        for kind in kinds:
            points = sync_rounds.reached(cell, [kind])
            colour, marker = KIND_STYLES.get(kind, ("#999999", "."))
            if points:
                ax.plot([p.round for p in points], [p.median for p in points], color=colour, marker=marker,
                        markersize=4, linewidth=1.5, zorder=3)
                rounds.update(p.round for p in points)
        shown = sync_rounds.present(cell)
        if shown:
            ax.plot([p.round for p in shown], [p.median for p in shown], zorder=2, **PRESENCE_STYLE)
            rounds.update(p.round for p in shown)
        ax.set_title(mode, loc="left", fontsize=10.5, color=mode_colour(mode, grid.modes))
    for ax in axes:
        _share_axis(ax, sorted(rounds), ax.get_title(loc="left"), 0.0)
    axes[0].set_ylabel("share that reached the other devices")
    note = f"{named}; " if named else ""
    axes[0].figure.suptitle(f"{grid.scenario} on {server}, {variant}: which changes reached the other devices",
                            x=0.01, ha="left", fontsize=12, fontweight="bold")
    axes[0].figure.supxlabel(f"{note}{_samples(results, grid.scenario)}; {tls_label(tls)}; cumulative, by the end of each round",
                             x=0.01, ha="left", fontsize=8.5, color=MUTED)
    handles = [Line2D([], [], color=KIND_STYLES.get(k, ("#999999", "."))[0],
                      marker=KIND_STYLES.get(k, ("#999999", "."))[1], markersize=4, linewidth=1.5, label=k)
               for k in kinds]
    handles.append(Line2D([], [], label="messages present", **PRESENCE_STYLE))
    axes[-1].legend(handles=handles, title="change", loc="upper left", bbox_to_anchor=(1.02, 1.0),
                    alignment="left", handlelength=2.4)


CHARTS = (
    ChartSpec("sync-kinds", plot_sync_kinds, (),
              "Which changes reached the other devices: a panel per mode, a line per kind of change made on "
              "one device (new mail included), the share of those made so far that the other devices show by "
              "the end of each round; dashed grey, the share of the intended messages the devices show.",
              per="scenario", wants=sync_rounds.has_rounds,
              panels=lambda grid: len(grid.modes), figsize=lambda n: (2.9 * n + 1.9, 3.9)),
)

REPORT = ScenarioReport(
    NAME, section, findings, headline=("sync-kinds", "sync"),
    about="Three devices share one account over ten rounds of new mail, reads, flags, moves and deletions, with "
          "an outage and a late joiner; each device is checked against the mailbox the user intended.",
    charts=CHARTS,
)
