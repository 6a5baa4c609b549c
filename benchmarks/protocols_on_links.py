"""IMAP, JMAP and POP3 beside each other on slow links, from a results file.

    mailbench run --server cyrus --mode imap --mode jmap --mode pop3-keep \\
        --scenario bulk-fetch --scenario multi-device-sync --variant full --variant new \\
        --variant incremental --tls off --link mobile-4g --link satellite --messages 100 --repeat 2
    python benchmarks/protocols_on_links.py RESULTS.json

Prints one Markdown table: for each link and workload, each mode's round trips, time and
kilobytes received, the medians of the cell's samples. The workloads:

- **full download**: bulk-fetch ``full``, a device's first download of the whole mailbox
  (``round_trips``, ``elapsed_s``, ``bytes_down``);
- **new-mail sync**: bulk-fetch ``new``, the session that fetches what arrived since the
  device's last sync (a tenth of the mailbox), same figures;
- **multi-device round**: multi-device-sync ``incremental``, one device's sync session in
  the timeline's steady state, per session (``sync_round_trips_per_session``,
  ``sync_s_per_session``, ``sync_bytes_down_per_session``).

Only cells that succeeded are read; a mode a server does not offer is left out.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report.jmap_imap import WORKLOADS  # noqa: E402  (the report's, so both read the same figures)
from bench.results import CellResult, load  # noqa: E402

MODE_ORDER = ("imap", "jmap", "pop3-keep", "pop3-delete")


def _median(cell: CellResult, metric: str) -> float | None:
    summary = cell.summary(metric)
    return summary["median"] if summary else None


def _figures(cell: CellResult, metrics: tuple[str, str, str]) -> str:
    trips, seconds, down = (_median(cell, metric) for metric in metrics)
    if trips is None or seconds is None or down is None:
        return "n/a"
    return f"{trips:,.0f} / {seconds:.2f} s / {down / 1000:,.0f} kB"


def table(path: Path) -> list[str]:
    results = load(path)
    cells = [c for c in results.cells if c.ok and c.tls == "off"]
    modes = [m for m in MODE_ORDER if any(c.mode == m for c in cells)]
    links = list(dict.fromkeys(c.link for c in cells))
    servers = sorted({c.server for c in cells})
    lines = [f"| link | workload | server | {' | '.join(modes)} |", "|---|---|---|" + "---:|" * len(modes)]
    for link in links:
        for workload in WORKLOADS:
            metrics = (workload.round_trips, workload.seconds, workload.bytes_down)
            for server in servers:
                by_mode = {c.mode: c for c in cells if (c.link, c.scenario, c.variant, c.server)
                           == (link, workload.scenario, workload.variant, server)}
                row = [_figures(by_mode[mode], metrics) if mode in by_mode else "not run" for mode in modes]
                if by_mode:
                    lines.append(f"| {link} | {workload.label} | {server} | {' | '.join(row)} |")
    samples = results.samples_per_cell()
    lines += ["", "round trips / time / kB received, medians; TLS off, "
                  f"{results.plan.get('messages')} messages, {samples}"]
    return lines


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python benchmarks/protocols_on_links.py RESULTS.json")
    print("\n".join(table(Path(sys.argv[1]))))
