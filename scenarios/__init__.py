"""The workloads mailbench runs, by name: an explicit registry, one module each."""

from __future__ import annotations

from bench.errors import UsageError
from scenarios.base import Scenario
from scenarios.bulk_fetch import BulkFetch

SCENARIOS: dict[str, Scenario] = {scenario.name: scenario for scenario in (BulkFetch(),)}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UsageError(
            f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)} (see `mailbench list`)"
        ) from None
