"""JMAP against IMAP: on each link, one sentence per workload saying whether JMAP's batching
beat IMAP's pipelining, on the same server.

JMAP's promise is fewer round trips: several method calls in one HTTP request, and changes
since a state string in one. IMAP's answer is pipelining (this suite writes a folder's
FETCH commands together) and QRESYNC. Which wins depends on the workload: a download of
whole messages is one HTTP request per blob in JMAP (it has no download of several blobs at
once), while a sync of flags and new mail is one request. So each workload gets its own
sentence, from the cells' round trips and times (``WORKLOADS``).

A mode beats the other when every one of its samples was faster than every one of the
other's (their ranges do not overlap), with at least ``MIN_SAMPLES`` a side; otherwise
neither is said to beat the other.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.report.cells import link_figures, link_label
from bench.report.document import BulletList, Paragraph, Section, text
from bench.results import CellResult, Results

TITLE = "JMAP against IMAP"
# Samples each side needs before one is said to beat the other: one sample says nothing of
# how much a time varies.
MIN_SAMPLES = 2


@dataclass(frozen=True)
class Workload:
    """A workload and where its figures come from: a scenario's variant, and the metrics of
    its round trips, time and bytes received (per sample, or per sync session)."""

    label: str
    scenario: str
    variant: str
    round_trips: str
    seconds: str
    bytes_down: str


WORKLOADS = (
    Workload("full download", "bulk-fetch", "full", "round_trips", "elapsed_s", "bytes_down"),
    Workload("new-mail sync", "bulk-fetch", "new", "round_trips", "elapsed_s", "bytes_down"),
    Workload("multi-device round", "multi-device-sync", "incremental", "sync_round_trips_per_session",
             "sync_s_per_session", "sync_bytes_down_per_session"),
)


@dataclass(frozen=True)
class Side:
    round_trips: float
    seconds: list[float]

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)


@dataclass(frozen=True)
class Comparison:
    link: str
    workload: Workload
    server: str
    imap: Side
    jmap: Side

    @property
    def winner(self) -> str | None:
        """``jmap`` or ``imap`` where every sample of one was faster than every sample of
        the other; None where their samples overlap or a side has too few."""
        if not self.enough:
            return None
        if max(self.jmap.seconds) < min(self.imap.seconds):
            return "jmap"
        if max(self.imap.seconds) < min(self.jmap.seconds):
            return "imap"
        return None

    @property
    def enough(self) -> bool:
        return min(len(self.jmap.seconds), len(self.imap.seconds)) >= MIN_SAMPLES


def _side(cell: CellResult, workload: Workload) -> Side | None:
    trips, seconds = cell.values(workload.round_trips), cell.values(workload.seconds)
    if not trips or not seconds:
        return None
    return Side(statistics.median(trips), [float(value) for value in seconds])


def comparisons(results: Results) -> list[Comparison]:
    """Every (link, workload, server) where both an IMAP and a JMAP cell succeeded, TLS off."""
    cells = {(c.link, c.scenario, c.variant, c.server, c.mode): c for c in results.cells if c.ok and c.tls == "off"}
    found = []
    for link in link_figures(results) or dict.fromkeys(c.link for c in results.cells):
        for workload in WORKLOADS:
            for server in dict.fromkeys(c.server for c in results.cells):
                imap = cells.get((link, workload.scenario, workload.variant, server, "imap"))
                jmap = cells.get((link, workload.scenario, workload.variant, server, "jmap"))
                sides = (_side(imap, workload), _side(jmap, workload)) if imap and jmap else (None, None)
                if sides[0] is not None and sides[1] is not None:
                    found.append(Comparison(link, workload, server, sides[0], sides[1]))
    return found


def _seconds(value: float) -> str:
    return f"{value:.3g} s"


def sentence(comparison: Comparison, figures: dict | None = None) -> str:
    c = comparison
    where = f"On {link_label(c.link, figures)}, {c.workload.label} on {c.server}"
    said = (f"JMAP {c.jmap.round_trips:,.0f} round trips and {_seconds(c.jmap.median_s)}, IMAP "
            f"{c.imap.round_trips:,.0f} and {_seconds(c.imap.median_s)}")
    verdict = {
        "jmap": "JMAP's batching beats IMAP's pipelining",
        "imap": "IMAP's pipelining beats JMAP's batching",
        None: "neither beats the other: their samples overlap" if c.enough
        else f"too few samples to say which is faster (at least {MIN_SAMPLES} a side)",
    }[c.winner]
    return f"{where}: {verdict} ({said}; medians of {len(c.jmap.seconds)} and {len(c.imap.seconds)} samples)."


def jmap_imap_section(results: Results) -> list[Section]:
    """The section, where the run has IMAP and JMAP cells of one workload on one server."""
    found = comparisons(results)
    if not found:
        return []
    figures = link_figures(results)
    return [Section(TITLE, [
        Paragraph(text(
            "JMAP batches method calls in one HTTP request; IMAP pipelines its commands. Per link and workload, on "
            "the same server, which one's sessions were faster: a mode beats the other only where every one of its "
            "samples was faster than every one of the other's. A download of whole messages takes one HTTP request "
            "per message in JMAP, which has no download of several blobs at once; the requests are pipelined, as "
            "IMAP's FETCH commands are, unless the run says --no-pipelining.")),
        BulletList(tuple(text(sentence(c, figures.get(c.link) if figures else None)) for c in found)),
    ])]
