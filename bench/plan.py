"""Which cells a run holds: scenario x server x mode x variant, each repeated, and in
which order each server runs its cells.

Two named plans set the defaults (``PLANS``). ``decision``, the default comparison, holds
the cells the report's decision page reads and nothing more: each scenario's
``decision_variants``, TLS off, on lan and on the scenario's default links, three samples
each (two on a relayed link, ``DECISION_LINK_REPEAT``), on a mailbox of 100 generated
messages; it answers in minutes. ``full`` holds every
variant, TLS setting and default link of every scenario in the default comparison, each
scenario's own samples (at most two on a relayed link, ``FULL_LINK_REPEAT``), on 300
messages: every claim's evidence. A run that names a
``--scenario`` and no ``--plan`` runs that scenario in full.

Names are checked here, before anything starts, so a typo costs one line, not a
container. A scenario may leave (mode, variant) pairs out, with a reason
(``Scenario.excluded``); they are dropped from every plan and listed by ``exclusions``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from bench.errors import UsageError
from bench.modes import DEFAULT_MODES, MODES, get_mode
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


DECISION = "decision"
FULL = "full"
PLANS = {
    DECISION: "the cells the decision page reads: each scenario's main variant, TLS off, on lan and "
              "bulk-fetch's full download on mobile-4g; 3 samples (2 on mobile-4g); 100 messages",
    FULL: "every variant, TLS setting and default link of every scenario but new-mail; each scenario's own "
          "samples (at most 2 on mobile-4g); 300 messages",
}
DECISION_REPEAT = 3
# Samples of a decision-plan cell on a relayed link: its time is the link's (bytes over its
# rate, round trips times its delay) and varies little between samples, while each takes
# seconds; the page's figure is the median of every server's samples all the same.
DECISION_LINK_REPEAT = 2
# The same in the full plan, where bulk-fetch takes 5 samples on lan: its full download on
# mobile-4g takes about 10 s a sample and its time varied by at most 1.1 % (coefficient of
# variation) over 5 samples in each of the reference report's nine mobile-4g cells (three
# servers, three modes; reports/reference), where the modes differ by about 10 %; the
# decision plan's two samples a cell tell them apart, and each further one would cost a
# minute and a half of a run.
FULL_LINK_REPEAT = 2
# Messages per mailbox of the generated corpus when the run does not say (``--messages``).
PLAN_MESSAGES = {DECISION: 100, FULL: 300}


def resolve_plan(plan: str | None, scenarios: Sequence[str]) -> str:
    """The plan a run follows: the one named, else ``full`` for named scenarios and
    ``decision`` for the default comparison."""
    if plan is None:
        return FULL if scenarios else DECISION
    if plan not in PLANS:
        raise UsageError(f"unknown --plan {plan!r}; choose from {', '.join(PLANS)}")
    return plan


@dataclass(frozen=True)
class Exclusion:
    """A (mode, variant) pair a scenario leaves out of every plan, and why."""

    scenario: str
    mode: str
    variant: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"scenario": self.scenario, "mode": self.mode, "variant": self.variant, "reason": self.reason}


def _names(scenarios: Sequence[str], modes: Sequence[str], plan: str = FULL) -> tuple[list[str], list[str]]:
    """The scenarios and modes a plan covers: those named, or the plan's."""
    from scenarios import SCENARIOS

    default = [n for n, s in SCENARIOS.items()
               if (s.decision_variants if plan == DECISION else s.in_default_plan)]
    return list(dict.fromkeys(scenarios)) or default, list(dict.fromkeys(modes)) or list(DEFAULT_MODES)


def _plan_variants(scenario, plan: str) -> tuple[str, ...]:
    """The variants a plan runs of ``scenario`` when the run names none."""
    return (scenario.decision_variants or scenario.variants) if plan == DECISION else scenario.variants


def exclusions(scenarios: Sequence[str], modes: Sequence[str], variants: Sequence[str] = (),
               plan: str | None = None) -> list[Exclusion]:
    """The pairs the filters would have given cells but their scenarios leave out."""
    from scenarios import SCENARIOS

    plan = resolve_plan(plan, scenarios)
    scenario_names, mode_names = _names(scenarios, modes, plan)
    return [
        Exclusion(name, mode, variant, reason)
        for name in scenario_names if name in SCENARIOS
        for (mode, variant), reason in SCENARIOS[name].excluded.items()
        if mode in mode_names and (variant in variants if variants else variant in _plan_variants(SCENARIOS[name], plan))
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
    plan: str | None = None,
) -> list[Cell]:
    """Every combination asked for, grouped by server, less the pairs scenarios exclude.

    An empty filter means what the plan holds (``resolve_plan``): without ``scenarios``,
    the plan's (``decision``: those with ``decision_variants``; ``full``: those marked
    ``in_default_plan``: new-mail watches for mail in real time and runs when named);
    without ``variants``, the plan's variants of each; without ``tls``, off in the decision
    plan and each scenario's ``default_tls`` in the full one (bulk-fetch measures TLS off and
    on); without ``links``, lan, and, unless a scenario is named with no plan, each
    scenario's ``default_links`` with the variants it names there (of the plan's), TLS off
    (bulk-fetch's full download on mobile-4g). When the filters leave no cell because of an
    exclusion, the ``UsageError`` says why and what to run instead.
    """
    from scenarios import SCENARIOS, get_scenario

    with_default_links = not links and (plan is not None or not scenarios)
    plan = resolve_plan(plan, scenarios)
    scenario_names, mode_names = _names(scenarios, modes, plan)
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
        for name in scenario_names:
            allowed = SCENARIOS[name].tls_settings
            if allowed is not None and value not in allowed:
                raise UsageError(f"{name} runs with --tls {' or '.join(allowed)} only, not {value} "
                                 f"({SCENARIOS[name].tls_why}); run it without --tls {value}")
    known_variants = {v for name in scenario_names for v in SCENARIOS[name].variants}
    for variant in variants:
        if variant not in known_variants:
            raise UsageError(
                f"unknown variant {variant!r} for {', '.join(scenario_names)}; "
                f"choose from {', '.join(sorted(known_variants))}"
            )

    def variants_of(scenario: str) -> list[str]:
        mine = SCENARIOS[scenario].variants
        return [v for v in mine if v in variants] if variants else list(_plan_variants(SCENARIOS[scenario], plan))

    def tls_of(scenario: str) -> list[str]:
        return list(dict.fromkeys(tls)) or (["off"] if plan == DECISION else list(SCENARIOS[scenario].default_tls))

    cells = [
        Cell(scenario, server, mode, variant, tls_mode, link)
        for server in server_names
        for scenario in scenario_names
        for variant in variants_of(scenario)
        for link in (list(dict.fromkeys(links)) or ["lan"])
        for mode in mode_names
        if (mode, variant) not in SCENARIOS[scenario].excluded
        for tls_mode in tls_of(scenario)
    ]
    if with_default_links:
        cells += [
            Cell(scenario, server, mode, variant, "off", link)
            for server in server_names
            for scenario in scenario_names
            for link, on_link in SCENARIOS[scenario].default_links.items()
            for variant in on_link
            if variant in variants_of(scenario)
            for mode in mode_names
            if (mode, variant) not in SCENARIOS[scenario].excluded
            if not tls or "off" in tls
        ]
        cells.sort(key=lambda cell: server_names.index(cell.server))  # stable: each server's cells together
    if not cells:
        excluded = exclusions(scenario_names, mode_names, variants, plan)
        if excluded:
            first = excluded[0]
            raise UsageError(
                f"the filters leave no cell to run: {first.scenario} does not run {first.mode} with variant "
                f"{first.variant} ({first.reason}); {_instead(excluded)}")
        raise UsageError("the filters leave no cell to run; see `mailbench list`")
    return cells


@dataclass(frozen=True)
class Samples:
    """How many samples each cell of a plan takes: its scenario's count, or ``on_links``
    for a cell on a relayed link where the plan takes fewer there (None: the same)."""

    by_scenario: dict[str, int]
    on_links: int | None = None

    def of(self, cell: Cell) -> int:
        if self.on_links is not None and cell.link != "lan":
            return min(self.on_links, self.by_scenario[cell.scenario])
        return self.by_scenario[cell.scenario]


def samples_per_cell(cells: Sequence[Cell], repeat: int | None, plan: str = FULL) -> Samples:
    """How many samples each cell takes: ``repeat`` when the run says, else in the decision
    plan ``DECISION_REPEAT`` (``DECISION_LINK_REPEAT`` on a relayed link), and in the full
    one the scenario's ``default_repeat`` (at most ``FULL_LINK_REPEAT`` on a relayed link)."""
    from scenarios import SCENARIOS

    def default(scenario: str) -> int:
        return DECISION_REPEAT if plan == DECISION else SCENARIOS[scenario].default_repeat

    on_links = None if repeat else (DECISION_LINK_REPEAT if plan == DECISION else FULL_LINK_REPEAT)
    return Samples({c.scenario: repeat or default(c.scenario) for c in cells}, on_links)


@dataclass(frozen=True)
class ContainerCells:
    """The cells one container of a server runs, and the protocols it switches on."""

    switched_on: tuple[str, ...]
    cells: list[Cell]


def can_serve(cell: Cell) -> bool:
    """Whether the cell's server has its protocol, always or where a run asks for it."""
    spec, protocol = get_server(cell.server), get_mode(cell.mode).protocol.name
    return spec.offers(protocol) or protocol in spec.switchable


def by_container(server: str, cells: Sequence[Cell]) -> tuple[list[ContainerCells], list[Cell]]:
    """How a server's ``cells`` (in run order) split between its containers, and the cells
    whose protocol it does not have at all (JMAP on Dovecot: recorded as not offered).

    A protocol the server serves only when asked (``MailServer.switchable``: Cyrus's JMAP,
    which needs the conversations database every IMAP and POP3 change would then update)
    gets a container of its own, so that the other cells measure the server as it is
    without it. The plain container's cells come first; each group keeps the run order."""
    spec = get_server(server)
    plain: list[Cell] = []
    switched: dict[str, list[Cell]] = {}
    lacking: list[Cell] = []
    for cell in cells:
        protocol = get_mode(cell.mode).protocol.name
        if not can_serve(cell):
            lacking.append(cell)
        elif spec.offers(protocol):
            plain.append(cell)
        else:
            switched.setdefault(protocol, []).append(cell)
    groups = [ContainerCells((), plain)] if plain else []
    groups += [ContainerCells((protocol,), mine) for protocol, mine in switched.items()]
    return groups, lacking


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
