"""The decision page: which protocol, for which user, in one table and one chart.

It opens the report. Each row is a way of using mail: ``imap`` split by the client's cache
policy (full copies, headers only, online only), then ``pop3-keep`` and ``pop3-delete``;
where the run has JMAP cells, ``jmap`` split the same way follows (``JMAP_ROWS``), its
figures from the servers that offer it (Cyrus), as the conditions under the table say.
Each column is a consequence people choose by, read from the scenario that measures it:

- multi-device-sync: mail on a second device (``other_device_messages_share``) and the
  changes of state (read, flag, move, delete) that reached the other devices;
- offline-use: the share readable with no connection (per cache policy), the messages
  lost with the device, and a new device's first sync (time and bytes, per cache policy);
- storage-exposure: message-hours readable by someone holding the password;
- bulk-fetch (full download, TLS off): what the account keeps on the server after a sync
  and how much of it is state (indexes, UID lists, flags), the download time on loopback
  and on the first relayed link of the run, and its round trips;
- new-mail, where the run has it (it runs by name): how soon new mail shows on a device
  waiting for the server's push (IMAP IDLE, JMAP's event stream), a column of its own only
  then (``Column.optional``).

Every figure is the median of the samples of every server's cell, with their range, or
"(all n)" where every sample gave the same value, or "not measured" where no cell of the
run recorded it; the conditions (servers, mailbox size,
TLS, links) are stated under the table. A figure that does not depend on the cache policy
is the same in the three IMAP rows. ``benchmarks/decision.py`` computes the same table
from ``results.json`` by another path, and a test holds the two together.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.claims import changes_reached_samples
from bench.report.document import Chart, Paragraph, Section, Table, text
from bench.results import CellResult, Results
from scenarios.new_mail import NewMail
from scenarios.new_mail.notify import PUSH

TITLE = "Decision: which protocol, for which user"
_PUSH_CONDITIONS = (" New mail waiting for push: new-mail's push policy (IMAP IDLE, JMAP's event stream), from the "
                    "delivering APPEND to the end of the sync that showed the message; a server that advertises IDLE "
                    f"and does not push shows the device's own sync every {NewMail().push_timeout_s:g} s, and Cyrus's "
                    "JMAP push comes from its own check of the account every second.")
CHART_STEM = "charts/decision"
LAN = "lan"
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Row:
    mode: str
    policy: str  # the client's cache policy: full, headers or online
    label: str


ROWS = (
    Row("imap", "full", "IMAP, full copies"),
    Row("imap", "headers", "IMAP, headers only"),
    Row("imap", "online", "IMAP, online only"),
    Row("pop3-keep", "full", "POP3, leave on server"),
    Row("pop3-delete", "full", "POP3, delete after download"),
)
# Shown where the run has a JMAP cell that succeeded: JMAP runs where a run names it.
JMAP_ROWS = (
    Row("jmap", "full", "JMAP, full copies"),
    Row("jmap", "headers", "JMAP, headers only"),
    Row("jmap", "online", "JMAP, online only"),
)


def rows_of(results: Results) -> tuple[Row, ...]:
    """The page's rows for this run: IMAP's and POP3's always, JMAP's where it ran."""
    return ROWS + (JMAP_ROWS if _jmap_servers(results) else ())


def _jmap_servers(results: Results) -> list[str]:
    return list(dict.fromkeys(c.server for c in results.cells if c.ok and c.mode == "jmap"))


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str  # share, count, seconds or bytes: how a value is written
    better: str  # "higher" or "lower": which way the chart colours a value as good
    values: Callable[[Results, Row], list[float]]
    # What a row shows when its cells of ``scenario`` ran and gave no value (else "not measured").
    none: str = ""
    scenario: str = "multi-device-sync"
    # Shown only where the run has a cell of ``scenario`` that succeeded (new-mail runs by name).
    optional: bool = False


def _cells(results: Results, scenario: str, mode: str, *, variant: str | None = None, link: str = LAN,
           tls: str = "off") -> list[CellResult]:
    return [c for c in results.cells if c.ok and c.scenario == scenario and c.mode == mode and c.tls == tls
            and c.link == link and (variant is None or c.variant == variant)]


def _metric(scenario: str, metric: str, *, variant: str | None = None, per_policy: bool = False,
            link: Callable[[Results], str | None] = lambda results: LAN) -> Callable[[Results, Row], list[float]]:
    """Every sample's value of ``metric`` in the row's cells: of the whole sample, or with
    ``per_policy`` of the row's cache policy."""
    def values(results: Results, row: Row) -> list[float]:
        where = link(results)
        if where is None:
            return []
        policy = row.policy if per_policy else None
        return [float(value) for c in _cells(results, scenario, row.mode, variant=variant, link=where)
                for value in c.values(metric, policy)]
    return values


def _changes(results: Results, row: Row) -> list[float]:
    return [share for c in _cells(results, "multi-device-sync", row.mode) for share in changes_reached_samples(c)]


def _pushed_latency(results: Results, row: Row) -> list[float]:
    """new-mail's delivery-to-visible latency under the push policy, in seconds."""
    return [float(value) / 1000 for c in _cells(results, "new-mail", row.mode)
            for value in c.values("latency_ms", PUSH)]


def mobile_link(results: Results) -> str | None:
    """The first relayed link bulk-fetch ran on (the plan's order), if any."""
    links = [c.link for c in results.cells if c.scenario == "bulk-fetch" and c.link != LAN]
    return links[0] if links else None


COLUMNS = (
    Column("second_device", "mail on a 2nd device", "share", "higher",
           _metric("multi-device-sync", "other_device_messages_share")),
    Column("changes", "changes seen on other devices", "share", "higher", _changes,
           none="none to see: mail on one device"),
    Column("offline", "readable offline", "share", "higher",
           _metric("offline-use", "readable_offline_share", per_policy=True)),
    Column("lost", "messages lost with the device", "count", "lower",
           _metric("offline-use", "messages_lost_with_device")),
    Column("exposure", "message-hours readable with the password", "count", "lower",
           _metric("storage-exposure", "exposed_message_hours")),
    Column("storage", "server storage per user", "bytes", "lower",
           _metric("bulk-fetch", "server_disk_after_bytes", variant="full")),
    Column("state", "server state per user", "bytes", "lower",
           _metric("bulk-fetch", "server_state_bytes", variant="full")),
    Column("new_device_s", "new device: time to a usable mailbox", "seconds", "lower",
           _metric("offline-use", "ready_s", per_policy=True)),
    Column("new_device_bytes", "new device: bytes to a usable mailbox", "bytes", "lower",
           _metric("offline-use", "ready_bytes_down", per_policy=True)),
    Column("download_lan", "full download, lan", "seconds", "lower",
           _metric("bulk-fetch", "elapsed_s", variant="full")),
    Column("download_mobile", "full download, mobile link", "seconds", "lower",
           _metric("bulk-fetch", "elapsed_s", variant="full", link=mobile_link)),
    Column("round_trips", "round trips (full download)", "count", "lower",
           _metric("bulk-fetch", "round_trips", variant="full")),
    Column("new_mail", "new mail shown, waiting for push", "seconds", "lower", _pushed_latency,
           none="no push: the device polls", scenario="new-mail", optional=True),
)


def columns_of(results: Results) -> tuple[Column, ...]:
    """The page's columns for this run: every column, but an optional one only where its
    scenario ran."""
    ran = {c.scenario for c in results.cells if c.ok}
    return tuple(column for column in COLUMNS if not column.optional or column.scenario in ran)


def write(kind: str, value: float) -> str:
    """One value as the page writes it."""
    if kind == "share":
        return f"{value:.0%}"
    if kind == "seconds":
        return f"{value:.3g} s"
    if kind == "bytes":
        for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
            if abs(value) >= size:
                return f"{value / size:.3g} {unit}"
        return f"{value:.0f} B"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.3g}"


def figure(kind: str, values: Sequence[float]) -> str:
    """``median (min–max)``; ``value (all n)`` where every sample gave the same value, and
    ``value (all n round to it)`` where they differ below the precision written."""
    if not values:
        return NOT_MEASURED
    median, low, high = statistics.median(values), min(values), max(values)
    if low == high:
        return f"{write(kind, median)} (all {len(values)})"
    if write(kind, low) == write(kind, high):
        return f"{write(kind, median)} (all {len(values)} round to it)"
    return f"{write(kind, median)} ({write(kind, low)}–{write(kind, high)})"


def _written(results: Results, row: Row, column: Column) -> str:
    """A box of the table: the figure, or, where the row's cells ran and no change was there
    to see (pop3-delete keeps each message on one device), the column's word for it."""
    values = column.values(results, row)
    if not values and column.none and any(c.ok and c.mode == row.mode and c.scenario == column.scenario
                                          for c in results.cells):
        return column.none
    return figure(column.kind, values)


def decision_table(results: Results) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The page's table: its headers and one row of written figures per way of using mail."""
    columns = columns_of(results)
    headers = ("mode", *(column.title for column in columns))
    rows = [(row.label, *(_written(results, row, column) for column in columns)) for row in rows_of(results)]
    return headers, rows


def medians(results: Results) -> dict[tuple[str, str], float | None]:
    """(row label, column key) → the median the table shows (None where not run)."""
    found = {}
    for row in rows_of(results):
        for column in columns_of(results):
            values = column.values(results, row)
            found[(row.label, column.key)] = statistics.median(values) if values else None
    return found


def conditions(results: Results) -> str:
    """What the page's figures were measured under."""
    servers = list(dict.fromkeys(c.server for c in results.cells if c.offered))
    messages = results.plan.get("messages")
    mobile = mobile_link(results)
    jmap = _jmap_servers(results)
    only = (f" The JMAP rows are measured on {', '.join(jmap)} only, the server{'s' if len(jmap) > 1 else ''} of "
            "the run that offer JMAP, while the other rows take every server's samples: set them beside the same "
            "server's IMAP cells in the scenario sections." if jmap else "")
    return (f"Measured on {', '.join(servers) or 'no server'}; a mailbox of {messages or 'the run’s'} messages; "
            f"TLS off; on loopback (lan){f', the download also on {mobile}' if mobile else ''}. Each figure is the "
            "median of every server's samples with their range (min–max), or “(all n)” where all n samples gave "
            "the same value. Figures that do not depend on the client's cache policy are the same in the three "
            "IMAP rows." + only + (_PUSH_CONDITIONS if any(c.key == "new_mail" for c in columns_of(results)) else ""))


def decision_section(results: Results) -> Section:
    """The decision page as the report's first section: the table, its conditions, the chart."""
    headers, rows = decision_table(results)
    table = Table(headers, tuple(tuple(text(cell) for cell in row) for row in rows),
                  numeric=(False, *([True] * (len(headers) - 1))),
                  caption="each row a way of using mail; each column a consequence")
    return Section(TITLE, [
        Paragraph(text("What each way of using mail gives and costs, measured in this run. Read a row as a user "
                       "who chose that protocol and client; the claims below say which of the article's "
                       "statements these figures support.")),
        table,
        Paragraph(text(conditions(results))),
        Chart(CHART_STEM, "The decision table as a chart: each mode's figures, green where it does best",
              "Decision: each mode's consequences, coloured from best (green) to worst (orange) per column"),
    ])


def write_decision_chart(results: Results, out_dir: Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """``charts/decision.{png,svg}``: the table as a grid, each column coloured from the best
    value (green) to the worst (orange), the written figure in each box; made for
    documentation, so it reads without the report around it."""
    import matplotlib
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.figure import Figure

    found = medians(results)
    rows = rows_of(results)
    columns = columns_of(results)
    colours = LinearSegmentedColormap.from_list("decision", ["#E69F00", "#F0F0F0", "#009E73"])
    figure_ = Figure(figsize=(15, 4.2 + 0.5 * (len(rows) - len(ROWS))), layout="constrained")
    ax = figure_.add_subplot()
    for x, column in enumerate(columns):
        values = [found[(row.label, column.key)] for row in rows]
        known = [v for v in values if v is not None]
        low, high = (min(known), max(known)) if known else (0.0, 0.0)
        for y, (row, value) in enumerate(zip(rows, values)):
            if value is None:
                shade, label = "#FFFFFF", _wrapped(_written(results, row, column), 16)
            else:
                score = 0.5 if high == low else (value - low) / (high - low)
                shade = colours(score if column.better == "higher" else 1 - score)
                label = write(column.kind, value)
            ax.add_patch(_box(x, y, shade))
            ax.text(x + 0.5, y + 0.5, label, ha="center", va="center", fontsize=8)
    ax.set_xlim(0, len(columns))
    ax.set_ylim(len(rows), 0)
    ax.set_xticks([i + 0.5 for i in range(len(columns))],
                  [_wrapped(c.title) for c in columns], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([i + 0.5 for i in range(len(rows))], [r.label for r in rows], fontsize=9)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xlabel(_wrapped(conditions(results), 190), fontsize=7)
    paths = [Path(out_dir) / f"{CHART_STEM}.{fmt}" for fmt in formats]
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    # A fixed salt for the SVG's element ids, as the other charts have: the same results
    # give the same file, so a re-rendered report shows no change where there is none.
    with matplotlib.rc_context({"svg.hashsalt": "mailbench"}):
        for path in paths:
            metadata = {"Date": None} if path.suffix == ".svg" else {"Software": None}
            figure_.savefig(path, format=path.suffix[1:], metadata=metadata)
    return paths


def _box(x: int, y: int, colour: object):
    from matplotlib.patches import Rectangle

    return Rectangle((x + 0.03, y + 0.05), 0.94, 0.9, facecolor=colour, edgecolor="#BBBBBB", linewidth=0.5)


def _wrapped(words: str, width: int = 14) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(words, width))
