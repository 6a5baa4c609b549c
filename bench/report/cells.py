"""The cells of one scenario laid out as a grid: server × mode × variant × TLS.

Reports ask "the pop3-keep cell of the full variant on dovecot, TLS on" far more often
than they walk the list of cells; a ``Grid`` answers that, and gives servers, modes,
variants and TLS settings in a stable order (the plan's order first, then the order the
cells ran in). Two cells that differ only in TLS are two entries, never one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.report.document import slug
from bench.results import CellResult, Results

# Modes and TLS settings always appear in this order, so that colours and columns never
# move between runs.
MODE_ORDER = ("imap", "pop3-keep", "pop3-delete")
TLS_ORDER = ("off", "on", "starttls")
TLS_LABELS = {"off": "TLS off", "on": "TLS on (implicit)", "starttls": "STARTTLS"}


def tls_label(tls: str) -> str:
    return TLS_LABELS.get(tls, f"TLS {tls}")


def protocol_of(mode: str) -> str:
    """``imap`` or ``pop3``: the protocol a mode speaks, read from its name."""
    return mode.split("-", 1)[0]


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


@dataclass(frozen=True)
class Stat:
    """Median and range of one metric over a cell's samples (from ``CellResult.metrics``),
    and the samples themselves."""

    median: float
    min: float
    max: float
    n: int
    values: tuple[float, ...] = ()


def stat_of(cell: CellResult | None, metric: str) -> Stat | None:
    """The metric's summary in a cell; ``None`` if there is no cell, it failed or lacks it."""
    if cell is None or not cell.ok:
        return None
    summary = cell.metrics().get(metric)
    if summary is None:
        return None
    values = tuple(sample[metric] for sample in cell.samples if metric in sample)
    return Stat(summary["median"], summary["min"], summary["max"], int(summary["n"]), values)


Key = tuple[str, str, str, str]  # server, mode, variant, tls


@dataclass
class Grid:
    """Every cell of one scenario, addressable by server, mode, variant and TLS."""

    scenario: str
    servers: list[str]
    modes: list[str]
    variants: list[str]
    tls: list[str]
    cells: dict[Key, CellResult]

    @classmethod
    def of(cls, results: Results, scenario: str) -> Grid:
        chosen = [cell for cell in results.cells if cell.scenario == scenario]
        plan = results.plan
        return cls(
            scenario=scenario,
            servers=ordered((c.server for c in chosen), plan.get("servers", ())),
            modes=ordered((c.mode for c in chosen), [*MODE_ORDER, *plan.get("modes", ())]),
            variants=ordered((c.variant for c in chosen), plan.get("variants", ())),
            tls=ordered((c.tls for c in chosen), [*TLS_ORDER, *plan.get("tls", ())]),
            cells={(c.server, c.mode, c.variant, c.tls): c for c in chosen},
        )

    def cell(self, server: str, mode: str, variant: str, tls: str) -> CellResult | None:
        return self.cells.get((server, mode, variant, tls))

    def stat(self, server: str, mode: str, variant: str, tls: str, metric: str) -> Stat | None:
        """The metric's summary in that cell; ``None`` if the cell failed or lacks it."""
        return stat_of(self.cell(server, mode, variant, tls), metric)

    @property
    def reference_tls(self) -> str:
        """The TLS setting the summary compares modes and servers at: off when it ran."""
        return "off" if "off" in self.tls else self.tls[0]

    def metric_names(self) -> set[str]:
        return {name for cell in self.cells.values() for sample in cell.samples for name in sample}

    def has_metric(self, metric: str) -> bool:
        return metric in self.metric_names()

    def in_order(self, server: str | None = None) -> list[CellResult]:
        """The cells of one server (or all), variant by variant, modes in their fixed order,
        TLS off before on."""
        servers = self.servers if server is None else [server]
        return [
            cell
            for s in servers
            for variant in self.variants
            for mode in self.modes
            for tls in self.tls
            if (cell := self.cell(s, mode, variant, tls)) is not None
        ]
