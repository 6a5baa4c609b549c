"""Print Markdown tables of a run's bulk-fetch figures, as the README quotes them.

    python benchmarks/summarise.py reports/<run-id>/results.json [...]
    python benchmarks/summarise.py --pipelining ON/results.json OFF/results.json [--variant V] [--tls T]
    python benchmarks/summarise.py --variants reports/<run-id>/results.json

The second form sets a run made with pipelining (the default) beside the same run made
with ``--no-pipelining``, cell by cell, on the links other than lan: time, round trips and
efficiency each way (variant ``full`` and TLS off unless told).

Every number comes from the results files given; nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.results import load

COLUMNS = (
    ("messages/s", "messages_per_s", "{:,.0f}"),
    ("MB/s", "mb_per_s", "{:.1f}"),
    ("round trips", "round_trips", "{:,.0f}"),
    ("MB down", "bytes_down", "{:.1f}", 1e-6),
    ("kB up", "bytes_up", "{:.1f}", 1e-3),
    ("wire MB down", "wire_bytes_down", "{:.2f}", 1e-6),
    ("client CPU s", "client_cpu_s", "{:.2f}"),
    ("server CPU s", "server_cpu_s", "{:.2f}"),
    ("client RSS growth MB", "client_rss_growth_mb", "{:.1f}"),
    ("delivery msg/s", "delivery_messages_per_s", "{:,.0f}"),
)


def _median(cell, metric):
    summary = cell.metrics().get(metric)
    return None if summary is None else summary["median"]


def _fmt(value, spec, scale=1.0):
    return "n/a" if value is None else spec.format(value * scale)


def _link_figures(cell) -> str:
    time_s, trips, eff = (_median(cell, m) for m in ("elapsed_s", "round_trips", "efficiency"))
    return f"{_fmt(time_s, '{:.1f}')}, {_fmt(trips, '{:,.0f}')}, {_fmt(eff, '{:.2f}')}"


def pipelining(on_path: str, off_path: str, variant: str = "full", tls: str = "off") -> None:
    """One row per server, mode and link: the pipelined run's figures beside the other's."""
    on, off = load(Path(on_path)), load(Path(off_path))
    if on.plan.get("pipelining") is not True or off.plan.get("pipelining") is not False:
        sys.exit(f"summarise: {on_path} must be a run with pipelining and {off_path} one with --no-pipelining")
    for results in (on, off):
        print(f"`{results.command}` (run {results.run_id}, {results.plan.get('messages')} messages, "
              f"{results.samples_per_cell()}, medians)")
    print(f"\nvariant {variant}, TLS {tls}; \"pipelined\" says whether the session had several "
          "commands in flight\n")
    print("| server | mode | link | pipelined: time s, round trips, efficiency | pipelined | "
          "one command at a time: time s, round trips, efficiency |")
    print("|---|---|---|---|---|---|")
    others = {(c.server, c.mode, c.variant, c.tls, c.link): c for c in off.cells}
    failed = []
    for cell in on.cells:
        if cell.variant != variant or cell.tls != tls or cell.link == "lan":
            continue
        other = others.get((cell.server, cell.mode, cell.variant, cell.tls, cell.link))
        if not cell.ok or other is None or not other.ok:
            failed.append(cell.id)
            continue
        if other.info.get("pipelined"):
            sys.exit(f"summarise: {other.id} in {off_path} pipelined commands")
        said = {True: "yes", False: "no"}.get(cell.info.get("pipelined"), "n/a")
        print(f"| {cell.server} | {cell.mode} | {cell.link} | {_link_figures(cell)} | {said} | "
              f"{_link_figures(other)} |")
    print(f"\nfailed or unmatched cells: {', '.join(failed) if failed else 'none'}")


LINK_COLUMNS = (
    ("time s", "elapsed_s", "{:.1f}"),
    ("limit s", "limit_s", "{:.1f}"),
    ("efficiency", "efficiency", "{:.2f}"),
)


MODE_ORDER = ("imap", "pop3-keep", "pop3-delete")


def in_plan_order(results) -> list:
    """The cells by server (as the plan lists them), link, mode and TLS setting: each
    server runs its cells in a shuffled order, which a table should not follow."""
    servers = list(results.plan.get("servers") or dict.fromkeys(c.server for c in results.cells))
    links = list(dict.fromkeys(c.link for c in results.cells))
    return sorted(results.cells, key=lambda c: (servers.index(c.server) if c.server in servers else len(servers),
                                                links.index(c.link), MODE_ORDER.index(c.mode)
                                                if c.mode in MODE_ORDER else len(MODE_ORDER), c.tls))


def main(paths: list[str]) -> None:
    for path in paths:
        results = load(Path(path))
        print(f"\n`{results.command}` (run {results.run_id}, {results.plan.get('messages')} messages, "
              f"{results.samples_per_cell()}, medians)\n")
        # A run over links other than lan gets a link column and the link's figures.
        links = any(cell.link != "lan" for cell in results.cells)
        columns = COLUMNS + LINK_COLUMNS if links else COLUMNS
        print("| server | mode | tls | " + ("link | " if links else "") + " | ".join(c[0] for c in columns) + " |")
        print("|---|---|---|" + ("---|" if links else "") + "---:|" * len(columns))
        for cell in in_plan_order(results):
            if not cell.ok or cell.variant != "full":
                continue
            values = [_fmt(_median(cell, c[1]), c[2], *(c[3:] or (1.0,))) for c in columns]
            print(f"| {cell.server} | {cell.mode} | {cell.tls} | " + (f"{cell.link} | " if links else "")
                  + " | ".join(values) + " |")
        pairs = {}
        for cell in in_plan_order(results):
            if cell.ok and cell.variant == "full":
                pairs.setdefault((cell.server, cell.mode, cell.link), {})[cell.tls] = cell
        rows = [(k, v) for k, v in pairs.items() if {"off", "on"} <= set(v)]
        if rows:
            print("\nTLS overhead (tls on / tls off, same run):\n")
            print("| server | mode | " + ("link | " if links else "") + "time ratio | wire bytes down ratio |")
            print("|---|---|" + ("---|" if links else "") + "---:|---:|")
            for (server, mode, link), by_tls in rows:
                time_ratio = _median(by_tls["on"], "elapsed_s") / _median(by_tls["off"], "elapsed_s")
                on, off = _median(by_tls["on"], "wire_bytes_down"), _median(by_tls["off"], "wire_bytes_down")
                wire = f"{on / off:.3f}" if on and off else "n/a"
                print(f"| {server} | {mode} | " + (f"{link} | " if links else "") + f"{time_ratio:.2f} | {wire} |")
        failed = [cell.id for cell in results.cells if not cell.ok]
        print(f"\nfailed cells: {', '.join(failed) if failed else 'none'}")


def memory(paths: list[str], server: str = "dovecot", tls: str = "off") -> None:
    """The README's memory table: the client's RSS growth in the full download, per mode,
    one column per results file (a mailbox size each), with each run's time beside it."""
    runs = [load(Path(path)) for path in paths]
    print("| mode | " + " | ".join(f"{r.plan.get('messages'):,} messages: growth MB, time s" for r in runs) + " |")
    print("|---|" + "---:|" * len(runs))
    for mode in MODE_ORDER:
        row = []
        for results in runs:
            cell = next((c for c in results.cells if c.ok and c.server == server and c.mode == mode and c.tls == tls
                         and c.variant == "full" and c.link == "lan"), None)
            row.append("n/a" if cell is None else
                       f"{_median(cell, 'client_rss_growth_mb'):.1f}, {_median(cell, 'elapsed_s'):.2f}")
        print(f"| {mode} | " + " | ".join(row) + " |")


VARIANT_COLUMNS = (
    ("messages synced", "messages", "{:,.0f}"),
    ("MB synced", "message_bytes", "{:,.1f}", 1e-6),
    ("time s", "elapsed_s", "{:,.1f}"),
    ("round trips", "round_trips", "{:,.0f}"),
    ("client RSS growth MB", "client_rss_growth_mb", "{:.1f}"),
    ("delivery msg/s", "delivery_messages_per_s", "{:,.0f}"),
)


def by_variant(path: str) -> None:
    """A row per variant and mode of one server's bulk-fetch run, with each cell's place in
    the run's shuffled order: a cell run late in a process may read a low memory growth
    (it reuses what earlier cells freed), and the reader should see which ran when."""
    results = load(Path(path))
    print(f"`{results.command}` (run {results.run_id}, {results.plan.get('messages'):,} messages, "
          f"{results.samples_per_cell()}, medians)\n")
    print("| server | variant | mode | " + " | ".join(c[0] for c in VARIANT_COLUMNS) + " | checked | position |")
    print("|---|---|---|" + "---:|" * (len(VARIANT_COLUMNS) + 2))
    variants = list(dict.fromkeys(results.plan.get("variants") or [c.variant for c in results.cells]))
    cells = sorted(in_plan_order(results), key=lambda c: variants.index(c.variant) if c.variant in variants
                   else len(variants))
    for cell in cells:
        if not cell.ok:
            print(f"| {cell.server} | {cell.variant} | {cell.mode} | failed: {cell.error} |" + " |" * (len(VARIANT_COLUMNS) + 1))
            continue
        values = [_fmt(_median(cell, c[1]), c[2], *(c[3:] or (1.0,))) for c in VARIANT_COLUMNS]
        checked = f"{cell.integrity.get('checked', 0):,}" if cell.integrity.get("passed") else "failed"
        print(f"| {cell.server} | {cell.variant} | {cell.mode} | " + " | ".join(values)
              + f" | {checked} | {cell.info.get('position', 'n/a')} |")
    failed = [cell.id for cell in results.cells if not cell.ok]
    print(f"\nfailed cells: {', '.join(failed) if failed else 'none'}; started {results.started_at}, "
          f"finished {results.finished_at}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--memory"]:
        memory(sys.argv[2:])
    elif sys.argv[1:2] == ["--variants"]:
        for results_path in sys.argv[2:]:
            by_variant(results_path)
    elif sys.argv[1:2] == ["--pipelining"]:
        parser = argparse.ArgumentParser(prog="summarise.py --pipelining")
        parser.add_argument("on")
        parser.add_argument("off")
        parser.add_argument("--variant", default="full")
        parser.add_argument("--tls", default="off")
        args = parser.parse_args(sys.argv[2:])
        pipelining(args.on, args.off, args.variant, args.tls)
    else:
        main(sys.argv[1:])
