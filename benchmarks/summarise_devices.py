"""Print the README's device tables from a run's results (the reference run, say).

    python benchmarks/summarise_devices.py reports/reference/results.json

Two tables: bytes received per IMAP sync session in multi-device-sync, incremental against
full-resync, with the listing overhead; and offline-use (server-down): the share of the
mailbox readable offline per caching policy, and the messages lost with the device. Medians
over the samples, TLS off, lan. Every number comes from the results file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.protocols import CACHE_POLICIES
from bench.results import load


def _median(cell, metric, policy=None):
    """The metric's median in the cell, of the whole sample or of a cache ``policy``."""
    summary = cell.summary(metric, policy) if cell is not None and cell.ok else None
    return None if summary is None else summary["median"]


def _bytes(value) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _share(value) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    results = load(parser.parse_args().results)
    cells = {(c.scenario, c.server, c.mode, c.variant): c for c in results.cells if c.tls == "off" and c.link == "lan"}
    servers = list(dict.fromkeys(c.server for c in results.cells))
    print(f"`{results.command}` (run {results.run_id}, {results.plan.get('messages')} messages, "
          f"{results.samples_per_cell()}, medians)\n")

    print("| server | incremental: bytes down / listing overhead | full resync: bytes down / listing overhead |")
    print("|---|---:|---:|")
    for server in servers:
        figures = []
        for variant in ("incremental", "full-resync"):
            cell = cells.get(("multi-device-sync", server, "imap", variant))
            figures.append(f"{_bytes(_median(cell, 'sync_bytes_down_per_session'))} / "
                           f"{_bytes(_median(cell, 'sync_overhead_bytes_down_per_session'))}")
        print(f"| {server} | {figures[0]} | {figures[1]} |")

    print("\n| server | mode | readable offline: full copy / headers cached / online only | lost with the device |")
    print("|---|---|---|---:|")
    for server in servers:
        for mode in ("imap", "pop3-keep", "pop3-delete"):
            cell = cells.get(("offline-use", server, mode, "server-down"))
            if cell is None:
                continue
            shares = " / ".join(_share(_median(cell, "readable_offline_share", policy))
                                for policy in reversed(CACHE_POLICIES))
            lost = _median(cell, "messages_lost_with_device")
            print(f"| {server} | {mode} | {shares} | {'n/a' if lost is None else f'{lost:.0f}'} |")


if __name__ == "__main__":
    main()
