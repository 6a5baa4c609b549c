"""Which cells a run holds: scenario x server x mode x variant, each repeated.

Names are checked here, before anything starts, so a typo costs one line, not a
container.
"""

from __future__ import annotations

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


def build_plan(
    scenarios: Sequence[str],
    servers: Sequence[str],
    modes: Sequence[str],
    variants: Sequence[str] = (),
    tls: Sequence[str] = (),
    links: Sequence[str] = (),
) -> list[Cell]:
    """Every combination asked for, grouped by server.

    An empty filter means all, except two defaults that keep the default comparison to
    minutes: without ``scenarios``, those a scenario marks ``in_default_plan`` (new-mail
    watches for mail in real time and runs when named); without ``tls``, each scenario's
    ``default_tls`` (bulk-fetch measures TLS off and on; the device scenarios, off).
    """
    from scenarios import SCENARIOS, get_scenario

    scenario_names = list(dict.fromkeys(scenarios)) or [n for n, s in SCENARIOS.items() if s.in_default_plan]
    server_names = list(dict.fromkeys(servers)) or list(SERVERS)
    mode_names = list(dict.fromkeys(modes)) or list(MODES)
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
        for tls_mode in (list(dict.fromkeys(tls)) or SCENARIOS[scenario].default_tls)
    ]
    if not cells:
        raise UsageError("the filters leave no cell to run; see `mailbench list`")
    return cells
