"""How much disk an account's store takes on each server, against the message bytes in it.

    python benchmarks/store_overhead.py [--messages N] [--server NAME]...

For each server, a container of its own (ports on 127.0.0.1, removed at the end) gets the
generated corpus (seed 1) delivered into one account as a run delivers it; then ``du``
reads the account's store in the container: the file-system blocks it takes and its
apparent bytes (what ``server_disk_bytes`` counts), each against the bytes delivered. The
ratio of blocks is what ``bench/disk_space.py``'s ``OVERHEAD`` must cover: a server's own
files beside the messages (index, cache, UID lists) and each file's last, partly used block.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.corpus.source import GeneratedCorpus  # noqa: E402
from bench.delivery import deliver  # noqa: E402
from bench.servers import SERVERS, get_server, run_server  # noqa: E402
from bench.servers.docker_client import connect  # noqa: E402
from bench.servers.images import ensure_base_image, ensure_server_image  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--server", dest="servers", action="append", choices=list(SERVERS))
    args = parser.parse_args()
    client = connect()

    def say(line: str) -> None:
        print(line, file=sys.stderr)

    base = ensure_base_image(client, say)
    print("| server | messages | bytes delivered | store, blocks | ratio | store, apparent bytes | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in args.servers or list(SERVERS):
        image = ensure_server_image(client, name, base, say)
        with run_server(client, get_server(name), image, users=2, run_id=f"store-overhead-{os.getpid()}") as running:
            running.fresh_account()  # user1: readiness checks
            account = running.fresh_account()
            report = deliver(running.delivery_endpoint(account), GeneratedCorpus(seed=1).messages(0, args.messages),
                             settle=lambda: running.settle_delivery(account))
            store = running.spec.user_store(account.username)
            code, output = running.container.exec_run(["sh", "-c", f"du -s --block-size=1 {store}; du -sb {store}"])
            if code != 0:
                raise SystemExit(f"du in {name} failed: {output.decode(errors='replace').strip()}")
            blocks, apparent = (int(line.split()[0]) for line in output.decode().splitlines() if line.strip())
            print(f"| {name} | {report.messages:,} | {report.bytes:,} | {blocks:,} | {blocks / report.bytes:.3f} | "
                  f"{apparent:,} | {apparent / report.bytes:.3f} |")


if __name__ == "__main__":
    main()
