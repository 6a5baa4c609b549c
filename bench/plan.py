"""Which cells a run holds: scenario x server x mode x variant, each repeated, and in
which order each server runs its cells.

Names are checked here, before anything starts, so a typo costs one line, not a
container. A scenario may leave (mode, variant) pairs out, with a reason
(``Scenario.excluded``); they are dropped from every plan and listed by ``exclusions``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from bench.errors import UsageError
from bench.modes import MODES, get_mode
from bench.servers import SERVERS, get_server
from bench.results import cell_id
from bench.tls import TLS_MODES


@dataclass(frozen=True)
class Cell:
    scenario: str
    server: str
    mode: str
    variant: str
    tls: str = "off"
    link: str = "lan"

    @property
    def id(self) -> str:
        return cell_id(self.scenario, self.server, self.mode, self.variant, self.tls, self.link)


@dataclass(frozen=True)
class Exclusion:
    """A (mode, variant) pair a scenario leaves out of every plan, and why."""

    scenario: str
    mode: str
    variant: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"scenario": self.scenario, "mode": self.mode, "variant": self.variant, "reason": self.reason}


def _names(scenarios: Sequence[str], modes: Sequence[str]) -> tuple[list[str], list[str]]:
    """The scenarios and modes a plan covers: those named, or the defaults."""
    from scenarios import SCENARIOS

    scenario_names = list(dict.fromkeys(scenarios)) or [n for n, s in SCENARIOS.items() if s.in_default_plan]
    return scenario_names, list(dict.fromkeys(modes)) or list(MODES)


def exclusions(scenarios: Sequence[str], modes: Sequence[str], variants: Sequence[str] = ()) -> list[Exclusion]:
    """The pairs the filters would have given cells but their scenarios leave out."""
    from scenarios import SCENARIOS

    scenario_names, mode_names = _names(scenarios, modes)
    return [
        Exclusion(name, mode, variant, reason)
        for name in scenario_names if name in SCENARIOS
        for (mode, variant), reason in SCENARIOS[name].excluded.items()
        if mode in mode_names and variant in SCENARIOS[name].variants and (not variants or variant in variants)
    ]


def _instead(excluded: Sequence[Exclusion]) -> str:
    """What to run instead of the excluded pairs, for the error that nothing is left."""
    from scenarios import SCENARIOS

    first = excluded[0]
    scenario = SCENARIOS[first.scenario]
    variants = [v for v in scenario.variants if (first.mode, v) not in scenario.excluded]
    modes = [m for m in MODES if (m, first.variant) not in scenario.excluded]
    return (f"run --mode {first.mode} with another --variant ({', '.join(variants)}), "
            f"or --variant {first.variant} with another --mode ({', '.join(modes)})")


def build_plan(
    scenarios: Sequence[str],
    servers: Sequence[str],
    modes: Sequence[str],
    variants: Sequence[str] = (),
    tls: Sequence[str] = (),
    links: Sequence[str] = (),
) -> list[Cell]:
    """Every combination asked for, grouped by server, less the pairs scenarios exclude.

    An empty filter means all, except three defaults that keep the default comparison to
    minutes: without ``scenarios``, those a scenario marks ``in_default_plan`` (new-mail
    watches for mail in real time and runs when named); without ``tls``, each scenario's
    ``default_tls`` (bulk-fetch measures TLS off and on; the device scenarios, off); without
    ``links``, lan, and in the default comparison (no ``scenarios`` named either) each
    scenario's ``default_links`` with the variants it names there, TLS off (bulk-fetch's
    full download on mobile-4g). When the filters leave no cell
    because of an exclusion, the ``UsageError`` says why and what to run instead.
    """
    from scenarios import SCENARIOS, get_scenario

    scenario_names, mode_names = _names(scenarios, modes)
    server_names = list(dict.fromkeys(servers)) or list(SERVERS)
    for name in scenario_names:
        get_scenario(name)
    for name in server_names:
        get_server(name)
    for name in mode_names:
        get_mode(name)
    for value in tls:
        if value not in TLS_MODES:
            raise UsageError(f"unknown --tls {value!r}; choose from {', '.join(TLS_MODES)}")
    known_variants = {v for name in scenario_names for v in SCENARIOS[name].variants}
    for variant in variants:
        if variant not in known_variants:
            raise UsageError(
                f"unknown variant {variant!r} for {', '.join(scenario_names)}; "
                f"choose from {', '.join(sorted(known_variants))}"
            )
    cells = [
        Cell(scenario, server, mode, variant, tls_mode, link)
        for server in server_names
        for scenario in scenario_names
        for variant in SCENARIOS[scenario].variants
        if not variants or variant in variants
        for link in (list(dict.fromkeys(links)) or ["lan"])
        for mode in mode_names
        if (mode, variant) not in SCENARIOS[scenario].excluded
        for tls_mode in (list(dict.fromkeys(tls)) or SCENARIOS[scenario].default_tls)
    ]
    if not links and not scenarios:
        cells += [
            Cell(scenario, server, mode, variant, "off", link)
            for server in server_names
            for scenario in scenario_names
            for link, on_link in SCENARIOS[scenario].default_links.items()
            for variant in on_link
            if not variants or variant in variants
            for mode in mode_names
            if (mode, variant) not in SCENARIOS[scenario].excluded
            if not tls or "off" in tls
        ]
        cells.sort(key=lambda cell: server_names.index(cell.server))  # stable: each server's cells together
    if not cells:
        excluded = exclusions(scenario_names, mode_names, variants)
        if excluded:
            first = excluded[0]
            raise UsageError(
                f"the filters leave no cell to run: {first.scenario} does not run {first.mode} with variant "
                f"{first.variant} ({first.reason}); {_instead(excluded)}")
        raise UsageError("the filters leave no cell to run; see `mailbench list`")
    return cells


def samples_per_cell(cells: Sequence[Cell], repeat: int | None) -> dict[str, int]:
    """How many samples each scenario's cells take: ``repeat`` when the run says, else
    the scenario's ``default_repeat``."""
    from scenarios import SCENARIOS

    return {c.scenario: repeat or SCENARIOS[c.scenario].default_repeat for c in cells}


def run_order(cells: Sequence[Cell], seed: int) -> dict[str, list[Cell]]:
    """Each server's cells in a random order drawn from ``seed`` (servers in plan order).

    Cells of one server share a long-lived container, whose state drifts over a run
    (memory, caches, files left by earlier cells); a shuffled order spreads that drift over
    modes and variants instead of favouring whichever runs first. The order depends only
    on the seed, the server's name and its cells: the same seed gives the same order.
    """
    by_server: dict[str, list[Cell]] = {}
    for cell in cells:
        by_server.setdefault(cell.server, []).append(cell)
    for server, mine in by_server.items():
        random.Random(f"order-{seed}-{server}").shuffle(mine)  # str seeds hash with SHA-512: stable
    return by_server
