"""The cells of one scenario laid out as a grid: server × mode × variant × TLS × link.

Reports ask "the pop3-keep cell of the full variant on dovecot, TLS on, over satellite" far
more often than they walk the list of cells; a ``Grid`` answers that, and gives servers,
modes, variants, TLS settings and links in a stable order (the plan's order first, then the
order the cells ran in; links by round-trip time). Two cells that differ only in TLS or only
in link are two entries, never one.

A grid of several links refuses to answer for a cell without being told which link
(``ValueError``): code that compares modes or servers takes one link's grid with
``grid.at(link)``, so that figures of different links are never mixed up.

A figure of a client policy (new-mail's watch policy, offline-use's cache policy) is asked
for by the metric's name and ``policy=`` (``grid.stat(..., "ready_s", policy="headers")``);
``grid.policies(metric)`` says which policies the cells recorded it for. A link's figures
are the plan's (``plan["links"]``, which every file has since ``bench.results`` upgrades
older ones).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.report.document import slug
from bench.results import CellResult, Results

# Modes and TLS settings always appear in this order, so that colours and columns never
# move between runs.
MODE_ORDER = ("imap", "jmap", "pop3-keep", "pop3-delete")
TLS_ORDER = ("off", "on", "starttls")
TLS_LABELS = {"off": "TLS off", "on": "TLS on (implicit)", "starttls": "STARTTLS"}
LAN = "lan"  # the machine's loopback: no relay, no limit


def unrun_word(cell: CellResult) -> str:
    """What a table shows for a cell without figures: ``failed``, or ``not offered`` where
    the server lacks the cell's protocol (JMAP on Dovecot), which is no failure."""
    return "failed" if cell.offered else "not offered"


def tls_label(tls: str) -> str:
    return TLS_LABELS.get(tls, f"TLS {tls}")


def cell_anchor(cell_id: str) -> str:
    """The name of the place in the report where a cell's row stands."""
    return "cell-" + slug(cell_id)


def ordered(seen: Iterable[str], preferred: Sequence[str] = ()) -> list[str]:
    """The names in ``seen``, those listed in ``preferred`` first and in its order."""
    seen = list(dict.fromkeys(seen))
    first = [name for name in dict.fromkeys(preferred) if name in seen]
    return first + [name for name in seen if name not in first]


def scenarios(results: Results) -> list[str]:
    return ordered((cell.scenario for cell in results.cells), results.plan.get("scenarios", ()))


# --- Links -----------------------------------------------------------------------------


def link_figures(results: Results) -> dict[str, dict[str, Any]]:
    """Every link of the run (name → rtt_ms, down_mbit, up_mbit, source) as the plan
    records them, ordered by round-trip time. (Results made in memory may have no plan:
    their links have no figures.)"""
    planned = results.plan.get("links", {})
    return {name: planned[name] for name in by_rtt(planned, planned)}


def rtt_of(figures: dict[str, Any] | None) -> float | None:
    value = (figures or {}).get("rtt_ms")
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def by_rtt(names: Iterable[str], figures: dict[str, dict[str, Any]]) -> list[str]:
    """The links from the shortest round-trip time to the longest; ``lan`` (no relay) first
    among equals, links of unknown rtt last, in the order given."""
    seen = list(dict.fromkeys(names))

    def key(item: tuple[int, str]) -> tuple[bool, float, bool, int]:
        index, name = item
        rtt = rtt_of(figures.get(name))
        return (rtt is None, rtt or 0.0, name != LAN, index)

    return [name for _, name in sorted(enumerate(seen), key=key)]


def link_label(name: str, figures: dict[str, Any] | None = None) -> str:
    """``satellite (630 ms)``; ``lan (loopback)``."""
    if name == LAN:
        return "lan (loopback)"
    rtt = rtt_of(figures)
    if rtt is None or name.startswith("custom("):
        return name
    return f"{name} ({rtt:g} ms)"


def shows_links(links: Sequence[str]) -> bool:
    """Whether the link is a dimension worth showing: several links, or one relayed link."""
    return len(links) > 1 or any(link != LAN for link in links)


@dataclass(frozen=True)
class Stat:
    """Median and range of one metric over a cell's samples (from ``CellResult.metrics``),
    and the samples themselves."""

    median: float
    min: float
    max: float
    n: int
    values: tuple[float, ...] = ()


def stat_of(cell: CellResult | None, metric: str, policy: str | None = None) -> Stat | None:
    """The metric's summary in a cell, of the whole sample or of a client ``policy``;
    ``None`` if there is no cell, it failed or lacks it."""
    if cell is None or not cell.ok:
        return None
    summary = cell.summary(metric, policy)
    if summary is None:
        return None
    values = tuple(cell.values(metric, policy))
    median = summary["median"]
    if float(median).is_integer() and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        median = int(median)  # a count stays a count: the median of 7 and 7 is 7, not 7.00
    return Stat(median, summary["min"], summary["max"], int(summary["n"]), values)


Key = tuple[str, str, str, str, str]  # server, mode, variant, tls, link


@dataclass
class Grid:
    """Every cell of one scenario, addressable by server, mode, variant, TLS and link."""

    scenario: str
    servers: list[str]
    modes: list[str]
    variants: list[str]
    tls: list[str]
    cells: dict[Key, CellResult]
    links: list[str] = field(default_factory=lambda: [LAN])
    link_figures: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, results: Results, scenario: str) -> Grid:
        chosen = [cell for cell in results.cells if cell.scenario == scenario]
        plan = results.plan
        figures = link_figures(results)
        return cls(
            scenario=scenario,
            # A server whose every cell is not offered (Dovecot in a run of JMAP alone) has
            # nothing to show; the report's Not offered section lists its cells.
            servers=ordered((c.server for c in chosen if c.offered), plan.get("servers", ())),
            modes=ordered((c.mode for c in chosen), [*MODE_ORDER, *plan.get("modes", ())]),
            variants=ordered((c.variant for c in chosen), plan.get("variants", ())),
            tls=ordered((c.tls for c in chosen), [*TLS_ORDER, *plan.get("tls", ())]),
            cells={(c.server, c.mode, c.variant, c.tls, c.link): c for c in chosen},
            links=by_rtt((c.link for c in chosen), figures) or [LAN],
            link_figures={name: f for name, f in figures.items() if any(c.link == name for c in chosen)},
        )

    def at(self, link: str) -> Grid:
        """The cells of one link only: a grid in which every question has one answer."""
        cells = {key: cell for key, cell in self.cells.items() if key[4] == link}

        def kept(names: list[str], index: int) -> list[str]:
            return [name for name in names if any(key[index] == name for key in cells)]

        return Grid(self.scenario, kept(self.servers, 0), kept(self.modes, 1), kept(self.variants, 2),
                    kept(self.tls, 3), cells, [link], {link: self.link_figures.get(link, {})})

    def per_link(self) -> list[tuple[str, Grid]]:
        """Each link's grid, from the shortest round-trip time to the longest."""
        return [(link, self.at(link)) for link in self.links]

    def _link(self, link: str | None) -> str:
        if link is not None:
            return link
        if len(self.links) == 1:
            return self.links[0]
        raise ValueError(f"the {self.scenario} grid has several links ({', '.join(self.links)}): name one, "
                         "or take one link's grid with grid.at(link)")

    def cell(self, server: str, mode: str, variant: str, tls: str, link: str | None = None) -> CellResult | None:
        """The cell, of ``link`` or of the grid's only link."""
        return self.cells.get((server, mode, variant, tls, self._link(link)))

    def stat(self, server: str, mode: str, variant: str, tls: str, metric: str,
             link: str | None = None, policy: str | None = None) -> Stat | None:
        """The metric's summary in that cell, of the whole sample or of a client ``policy``;
        ``None`` if the cell failed or lacks it."""
        return stat_of(self.cell(server, mode, variant, tls, link), metric, policy)

    @property
    def shows_links(self) -> bool:
        """Whether tables and titles must name the link: several links, or a relayed one."""
        return shows_links(self.links)

    @property
    def reference_link(self) -> str:
        """The link the report compares modes and servers on: lan when it ran, else the
        one with the shortest round-trip time."""
        return LAN if LAN in self.links else self.links[0]

    def rtt_ms(self, link: str) -> float | None:
        return rtt_of(self.link_figures.get(link))

    def link_label(self, link: str) -> str:
        return link_label(link, self.link_figures.get(link))

    @property
    def reference_tls(self) -> str:
        """The TLS setting the report compares modes and servers at: off when it ran."""
        return "off" if "off" in self.tls else self.tls[0]

    def metric_names(self, policy: str | None = None) -> set[str]:
        """The metrics the cells recorded for the whole sample, or for ``policy``."""
        return {name for cell in self.cells.values() for name in cell.metric_names(policy)}

    def has_metric(self, metric: str, policy: str | None = None) -> bool:
        return metric in self.metric_names(policy)

    def policies(self, metric: str | None = None) -> list[str]:
        """The client policies the cells recorded figures for (of ``metric`` only, if
        given), in the order of their names."""
        return sorted({policy for cell in self.cells.values() for policy in cell.policies()
                       if metric is None or metric in cell.metric_names(policy)})

    def policy_figures(self) -> set[tuple[str, str]]:
        """Every (metric, policy) the cells recorded a figure of."""
        return {(name, policy) for policy in self.policies() for name in self.metric_names(policy)}

    def in_order(self, server: str | None = None) -> list[CellResult]:
        """The cells of one server (or all), variant by variant, links from the shortest
        round-trip time, modes in their fixed order, TLS off before on."""
        servers = self.servers if server is None else [server]
        return [
            cell
            for s in servers
            for variant in self.variants
            for link in self.links
            for mode in self.modes
            for tls in self.tls
            if (cell := self.cell(s, mode, variant, tls, link)) is not None
        ]
