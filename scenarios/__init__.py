"""The workloads mailbench runs, by name: an explicit registry, one module each."""

from __future__ import annotations

from bench.errors import UsageError
from scenarios.base import Scenario
from scenarios.bulk_fetch import BulkFetch
from scenarios.interrupted_sync import InterruptedSync
from scenarios.many_devices import ManyDevices
from scenarios.multi_device_sync import MultiDeviceSync
from scenarios.new_mail import NewMail
from scenarios.offline_use import OfflineUse
from scenarios.storage_exposure import StorageExposure

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario for scenario in (BulkFetch(), MultiDeviceSync(), OfflineUse(), NewMail(), StorageExposure(),
                                         InterruptedSync(), ManyDevices())
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UsageError(
            f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)} (see `mailbench list`)"
        ) from None
