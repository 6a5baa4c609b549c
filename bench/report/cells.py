"""The cells of one scenario laid out as a grid: server × mode × variant.

Reports ask "the pop3-keep cell of the full variant on dovecot" far more often than they
walk the list of cells; a ``Grid`` answers that, and gives servers, modes and variants
in a stable order (the plan's order first, then the order the cells ran in).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.results import CellResult, Results

# Modes always appear in this order, so that colours and columns never move between runs.
MODE_ORDER = ("imap", "pop3-keep", "pop3-delete")


def ordered(seen: Iterable[str], preferred: Sequence[str] = ()) -> list[str]:
    """The names in ``seen``, those listed in ``preferred`` first and in its order."""
    seen = list(dict.fromkeys(seen))
    first = [name for name in dict.fromkeys(preferred) if name in seen]
    return first + [name for name in seen if name not in first]


def scenarios(results: Results) -> list[str]:
    return ordered((cell.scenario for cell in results.cells), results.plan.get("scenarios", ()))


@dataclass(frozen=True)
class Stat:
    """Median and range of one metric over a cell's samples (from ``CellResult.metrics``)."""

    median: float
    min: float
    max: float
    n: int


@dataclass
class Grid:
    """Every cell of one scenario, addressable by server, mode and variant."""

    scenario: str
    servers: list[str]
    modes: list[str]
    variants: list[str]
    cells: dict[tuple[str, str, str], CellResult]

    @classmethod
    def of(cls, results: Results, scenario: str) -> Grid:
        chosen = [cell for cell in results.cells if cell.scenario == scenario]
        plan = results.plan
        return cls(
            scenario=scenario,
            servers=ordered((c.server for c in chosen), plan.get("servers", ())),
            modes=ordered((c.mode for c in chosen), [*MODE_ORDER, *plan.get("modes", ())]),
            variants=ordered((c.variant for c in chosen), plan.get("variants", ())),
            cells={(c.server, c.mode, c.variant): c for c in chosen},
        )

    def cell(self, server: str, mode: str, variant: str) -> CellResult | None:
        return self.cells.get((server, mode, variant))

    def stat(self, server: str, mode: str, variant: str, metric: str) -> Stat | None:
        """The metric's summary in that cell; ``None`` if the cell failed or lacks it."""
        cell = self.cell(server, mode, variant)
        if cell is None or not cell.ok:
            return None
        summary = cell.metrics().get(metric)
        if summary is None:
            return None
        return Stat(summary["median"], summary["min"], summary["max"], int(summary["n"]))

    def metric_names(self) -> set[str]:
        return {name for cell in self.cells.values() for sample in cell.samples for name in sample}

    def has_metric(self, metric: str) -> bool:
        return metric in self.metric_names()

    def in_order(self, server: str | None = None) -> list[CellResult]:
        """The cells of one server (or all), variant by variant, modes in their fixed order."""
        servers = self.servers if server is None else [server]
        return [
            cell
            for s in servers
            for variant in self.variants
            for mode in self.modes
            if (cell := self.cell(s, mode, variant)) is not None
        ]
