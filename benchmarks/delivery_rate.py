"""Delivery into Dovecot: messages a second and the server's CPU, by login and batch size.

    python benchmarks/delivery_rate.py [--messages N] [--batch N]... [--login setup|user]...
                                       [--generator workers|in-process]... [--repeat N]

Starts a Dovecot container of its own (ports on 127.0.0.1, removed at the end) and, for each
repetition, login and batch size in turn, delivers the generated corpus (seed 1) into a
fresh account as a run does (``bench.delivery.deliver``: generation, the truth's digests,
one MULTIAPPEND on the wire at a time): as the setup login (``userN@setup``: no fsync per
message, the file system flushed at the end, the flush counted in the time) or as the user
(Dovecot's default, an fsync per message); with the corpus made by worker processes while
the client sends (``bench.corpus.workers``, what a run does for 5,000 messages or more) or
in the client's own process (``in-process``). The container's first delivery is slower than
the ones after it, so a warm-up of 2,000 messages into an account of its own goes first.

Prints a Markdown table: per login and batch size, the delivery's messages a second
(median, min–max over the repetitions), and the median server CPU seconds (the container's
cgroup) and client CPU seconds (this process, not its workers). Other work on the machine moves the times;
the load average at the start and the end is printed under the table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import delivery
from bench.corpus import Truth
from bench.corpus.generate import generate_messages
from bench.corpus.source import GeneratedCorpus
from bench.corpus.workers import generate_in_workers
from bench.servers import get_server, run_server
from bench.servers.docker_client import connect
from bench.servers.images import ensure_base_image, ensure_server_image

LOGINS = ("setup", "user")
GENERATORS = {"workers": generate_in_workers, "in-process": generate_messages}
WARM_UP_MESSAGES = 2000


def deliver_once(running, login: str, batch: int, generator: str, messages: int) -> dict[str, float]:
    account = running.fresh_account()
    delivery.BATCH = batch
    if login == "setup":
        endpoint, settle = running.delivery_endpoint(account), (lambda: running.settle_delivery(account))
    else:
        endpoint, settle = running.endpoint("imap", account), None
    before = running.resources()
    cpu = time.process_time()
    report = delivery.deliver(endpoint, GENERATORS[generator](messages, 1), stored=Truth().add,
                              settle=settle)
    after = running.resources()
    if report.messages != messages:
        raise SystemExit(f"{report.messages} of {messages} messages stored ({len(report.refused)} refused)")
    return {"rate": report.messages_per_s, "server_cpu_s": after.cpu_s - before.cpu_s,
            "client_cpu_s": time.process_time() - cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, action="append", help=f"messages per MULTIAPPEND (default {delivery.BATCH})")
    parser.add_argument("--login", action="append", choices=LOGINS, help="default: both")
    parser.add_argument("--generator", action="append", choices=tuple(GENERATORS), help="default: workers")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    batches, logins = args.batch or [delivery.BATCH], args.login or list(LOGINS)
    combos = [(login, batch, generator) for login in logins for batch in batches
              for generator in args.generator or ["workers"]]
    client = connect()

    def say(line: str) -> None:
        print(line, file=sys.stderr)

    image = ensure_server_image(client, "dovecot", ensure_base_image(client, say), say)
    load_start = os.getloadavg()[0]
    figures: dict[tuple[str, int, str], list[dict[str, float]]] = {combo: [] for combo in combos}
    with run_server(client, get_server("dovecot"), image, users=2 + args.repeat * len(combos),
                    run_id=f"delivery-rate-{os.getpid()}") as running:
        running.fresh_account()  # user1: readiness checks
        delivery.deliver(running.delivery_endpoint(running.fresh_account()),
                         GeneratedCorpus(seed=2).messages(0, WARM_UP_MESSAGES))
        for repetition in range(args.repeat):
            for combo in combos:
                figures[combo].append(deliver_once(running, *combo, args.messages))
                print(f"  {repetition + 1}/{args.repeat} {' '.join(map(str, combo))}: "
                      f"{figures[combo][-1]['rate']:,.0f} messages/s", file=sys.stderr)
    print("| login | messages per MULTIAPPEND | corpus made | messages | delivery messages/s | server CPU s | "
          "client CPU s |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for (login, batch, generator), rows in figures.items():
        rates = [row["rate"] for row in rows]
        print(f"| {login} | {batch:,} | {generator} | {args.messages:,} | {statistics.median(rates):,.0f} "
              f"({min(rates):,.0f}–{max(rates):,.0f}) | {statistics.median(r['server_cpu_s'] for r in rows):.1f} | "
              f"{statistics.median(r['client_cpu_s'] for r in rows):.1f} |")
    print(f"\nload average (1 min) at the start {load_start:.1f}, at the end {os.getloadavg()[0]:.1f}; "
          f"{os.cpu_count()} cores")


if __name__ == "__main__":
    main()
