"""bulk-fetch against the mailbox's size: time, bytes, round trips and client memory, per mode.

    python benchmarks/large_amounts.py [--sizes 1000,10000,100000] [--link lan]... [--mode M]...
                                       [--server dovecot] [--repeat 1] [--out DIR]
    python benchmarks/large_amounts.py --from RESULTS.json [RESULTS.json ...]

The first form runs, for each size, link and mode, one ``mailbench run --scenario
bulk-fetch --variant full --tls off --deliver-each-sample`` (a process of its own per mode,
so that each client memory growth starts from a fresh process: within one process a later
sample reuses what an earlier one freed, and its growth reads low; every mailbox delivered
over APPEND, since with one sample a run a template and its copy would write the mailbox
twice), then prints the table from the results files it made. The second prints the table from results files already made, by any
``mailbench run`` of bulk-fetch's full download.

The table has a row per link, mode and mailbox size: the medians of the download's time,
the megabytes received, the round trips and the client's RSS growth
(``client_rss_growth_mb``), with the delivery's messages a second (setup) beside them, and
the peak resident memory of the whole ``mailbench run`` process (imports, delivery,
download, integrity check and report; the kernel's ``ru_maxrss`` of the child, read with
``os.wait4`` and kept beside the results file in ``PEAK_FILE``; "n/a" for a results file
made otherwise, or where it was no higher than this script's own, ``run_measured``). The growth is what the sample added, a lower bound where the delivery
before it, in the same process, left memory the sample reused (a POP3 download of
100,000 messages reads 0); the process's peak bounds everything the client held, at
any time.

How long it takes (measured on this project's machine, two cores; the ``large_amounts``
section of docs/scenarios.md has the runs): a run's time is mostly delivery (over 2,000
messages a second into Dovecot), the download, and the check that reads the device's copy
back. On lan, 1,000 messages take seconds a mode, 10,000 under a minute, 100,000 a few
minutes (5.3 GB). On mobile-4g (about 14.7 Mbit/s down, ``bench/links/profiles.py``) the
download takes the mailbox's bytes at the link's rate: 1,000 messages (50 MB) about half a
minute a mode, 10,000 (500 MB) about five minutes, 100,000 (5.3 GB) most of an hour a mode,
three hours for the three: choose the sizes a link runs with ``--sizes`` (one call per
link, then ``--from`` with every results file for one table). Each sample's mailbox stays
in the server's container until the run ends, so a run needs its mailboxes' size on
Docker's disk (``mailbench run`` frees each sample's after it where only that fits, and
refuses a run that does not fit even so).

Each run starts once Docker's disk has been quiet for a few seconds
(``benchmarks/disk_idle.py``): the container of the run before, removed when it ended,
leaves the disk freeing its files for a while after, and a delivery meanwhile shares the
disk with that. The wait is kept beside the results, in ``PEAK_FILE``
(``disk_quiet_wait_s``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench.results import load  # noqa: E402
from disk_idle import wait_until_quiet  # noqa: E402

MODES = ("imap", "pop3-keep", "pop3-delete")
DEFAULT_SIZES = (1_000, 10_000, 100_000)
# A cell's wall-clock limit: the download of 100,000 messages on mobile-4g alone is most of an hour.
CELL_TIMEOUT_S = 4 * 3600.0
# Written beside a run's results.json: the run process's peak resident memory.
PEAK_FILE = "process_peak.json"


def run_one(size: int, link: str, mode: str, server: str, repeat: int, out: Path) -> Path:
    """One ``mailbench run`` of the full download; returns its results file."""
    command = [sys.executable, "-m", "bench.cli", "run", "--scenario", "bulk-fetch", "--variant", "full",
               "--tls", "off", "--deliver-each-sample", "--server", server, "--mode", mode, "--link", link,
               "--messages", str(size),
               "--repeat", str(repeat), "--cell-timeout", str(CELL_TIMEOUT_S), "--out", str(out)]
    waited = wait_until_quiet(docker_disk())
    if waited is not None:
        print(f"large_amounts: Docker's disk quiet after {waited:.0f} s", file=sys.stderr)
    print("$ mailbench " + " ".join(command[3:]), file=sys.stderr, flush=True)
    code, output, peak_mb = run_measured(command)
    if code != 0:
        raise SystemExit(f"large_amounts: mailbench run ended with {code}; see its message above")
    folder = Path(output.strip().splitlines()[-1])
    (folder / PEAK_FILE).write_text(json.dumps({"process_peak_rss_mb": peak_mb, "disk_quiet_wait_s": waited,
                                                "command": "mailbench " + " ".join(command[3:])}) + "\n")
    return folder / "results.json"


def docker_disk() -> Path:
    """Docker's data root, where the server's container keeps the mailbox."""
    from bench.disk_space import docker_data_root
    from bench.servers.docker_client import connect

    return docker_data_root(connect()) or Path("/var/lib/docker")


def run_measured(command: list[str]) -> tuple[int, str, float | None]:
    """Run ``command``; its exit code, its standard output and its peak resident memory in
    MB: the kernel's ``ru_maxrss`` of that child, from ``os.wait4``. Linux starts a child's
    figure from its parent's resident memory at the fork and keeps it across ``exec``, so a
    peak no higher than this process's own is not the child's: None then. This process's
    peak is read after the child ended: it may have grown between a reading before and the
    fork, and the child would have started from it."""
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = usage.ru_maxrss * 1024 / 1e6 if usage.ru_maxrss > own_peak else None
    return child.returncode, output, peak


def process_peak_mb(results_path: Path) -> float | None:
    """The peak RSS of the process that made ``results_path``, where this script ran it."""
    try:
        return json.loads((results_path.parent / PEAK_FILE).read_text())["process_peak_rss_mb"]
    except (OSError, ValueError, KeyError):
        return None


def rows(paths: list[Path]) -> list[dict]:
    """A row per successful full-download cell of the files: link, mode, size and medians."""
    found = []
    for path in paths:
        results = load(path)
        for cell in results.cells:
            if cell.scenario != "bulk-fetch" or cell.variant != "full":
                continue
            row = {"link": cell.link, "mode": cell.mode, "server": cell.server, "tls": cell.tls,
                   "messages": results.plan.get("messages"), "error": cell.error, "samples": len(cell.samples),
                   "process_peak_rss_mb": process_peak_mb(path)}
            for metric in ("elapsed_s", "bytes_down", "round_trips", "client_rss_growth_mb",
                           "delivery_messages_per_s"):
                values = [sample[metric] for sample in cell.samples if sample.get(metric) is not None]
                row[metric] = statistics.median(values) if values else None
            found.append(row)
    return found


def _link_order(link: str) -> tuple[int, str]:
    return (0 if link == "lan" else 1, link)


def table(found: list[dict]) -> str:
    lines = ["| link | mode | messages | time s | MB down | round trips | client RSS growth MB | "
             "process peak RSS MB | delivery msg/s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    order = sorted(found, key=lambda r: (_link_order(r["link"]), MODES.index(r["mode"]) if r["mode"] in MODES
                                         else len(MODES), r["messages"] or 0))
    for row in order:
        if row["error"]:
            lines.append(f"| {row['link']} | {row['mode']} | {row['messages']:,} | failed: {row['error']} ||||||")
            continue
        lines.append(
            f"| {row['link']} | {row['mode']} | {row['messages']:,} | {_fmt(row['elapsed_s'], '{:,.1f}')} | "
            f"{_fmt(row['bytes_down'], '{:,.1f}', 1e-6)} | {_fmt(row['round_trips'], '{:,.0f}')} | "
            f"{_fmt(row['client_rss_growth_mb'], '{:.1f}')} | {_fmt(row['process_peak_rss_mb'], '{:,.0f}')} | "
            f"{_fmt(row['delivery_messages_per_s'], '{:,.0f}')} |")
    servers = sorted({r["server"] for r in found})
    samples = sorted({r["samples"] for r in found})
    lines.append(f"\nbulk-fetch, variant full, TLS {', '.join(sorted({r['tls'] for r in found}))}, "
                 f"{', '.join(servers)}; medians of {' or '.join(map(str, samples))} sample(s) a cell")
    return "\n".join(lines)


def _fmt(value: float | None, spec: str, scale: float = 1.0) -> str:
    return "n/a" if value is None else spec.format(value * scale)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="sources", nargs="+", type=Path, metavar="RESULTS",
                        help="print the table from these results files; run nothing")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="messages per mailbox, comma-separated (default %(default)s)")
    parser.add_argument("--link", dest="links", action="append", help="lan, mobile-4g, ... (repeatable; default lan)")
    parser.add_argument("--mode", dest="modes", action="append", choices=MODES, help="repeatable; default all three")
    parser.add_argument("--server", default="dovecot")
    parser.add_argument("--repeat", type=int, default=1, help="samples per cell (default %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="where the run folders go")
    args = parser.parse_args()
    if args.sources:
        paths = list(args.sources)
    else:
        sizes = [int(size.replace("_", "")) for size in args.sizes.split(",") if size]
        paths = [run_one(size, link, mode, args.server, args.repeat, args.out)
                 for link in (args.links or ["lan"]) for size in sizes for mode in (args.modes or MODES)]
        print("results: " + " ".join(str(path) for path in paths), file=sys.stderr)
    print(table(rows(paths)))


if __name__ == "__main__":
    main()
