"""How long a sample's initial mailbox takes: APPEND delivery, the copy a run makes, and
(for a folder copy) one with ``docker exec cp -a`` in the container.

    python benchmarks/store_copy_speed.py [--messages N] [--repeat N] [--server NAME]...

For each server named (all three by default), one container is started; a template account
gets the corpus's first N messages over IMAP APPEND; then, ``--repeat`` times each, a fresh
account gets them over APPEND and as the copy a run makes (``RunningServer.copy_account``:
a copy of the folder made from the host through /proc/<pid>/root on Dovecot and Courier,
an IMAP COPY by the admin on Cyrus), and on Dovecot and Courier as a copy made by one
``docker exec`` of ``cp -a`` in the container. Prints the median seconds of each way.
Bounded: N messages a delivery, ``--repeat`` of each, on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.corpus import generate_messages
from bench.delivery import deliver
from bench.servers import get_server, run_server
from bench.servers.base import MailServer
from bench.servers.docker_client import connect
from bench.servers.images import ensure_base_image, ensure_server_image


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def copies_folders(server_name: str) -> bool:
    """Whether the server's copy is one of the user's folder (not Cyrus's IMAP COPY)."""
    return type(get_server(server_name)).copy_store is MailServer.copy_store


def measure(server_name: str, messages: int, repeat: int) -> dict[str, float]:
    client = connect()
    image = ensure_server_image(client, server_name, ensure_base_image(client, say=print), say=print)
    corpus = list(generate_messages(messages, seed=1))
    spec = get_server(server_name)
    with run_server(client, spec, image, users=3 * repeat + 2, run_id=f"copy-speed-{os.getpid()}") as running:
        running.fresh_account()  # user1: readiness checks
        template = running.spare_account()
        deliver(running.endpoint("imap", template), corpus)
        folder_copy = copies_folders(server_name)
        seconds: dict[str, list[float]] = {"append": [], "the run's copy": [],
                                           **({"docker exec cp -a": []} if folder_copy else {})}
        source = spec.user_store(template.username)

        def exec_copy(target: str) -> None:
            code, output = running.container.exec_run(["sh", "-c", f"rm -rf {target} && cp -a {source} {target}"])
            if code != 0:
                raise RuntimeError(output.decode(errors="replace"))

        for _ in range(repeat):
            account = running.fresh_account()
            seconds["append"].append(_timed(lambda: deliver(running.endpoint("imap", account), corpus)))
            account = running.fresh_account()
            seconds["the run's copy"].append(_timed(lambda: running.copy_account(template, account)))
            if folder_copy:
                account = running.fresh_account()
                seconds["docker exec cp -a"].append(_timed(lambda: exec_copy(spec.user_store(account.username))))
        store_bytes = running.disk_bytes(template)
    print(f"{server_name}: {messages} messages, {store_bytes:,} bytes in the store; median of {repeat}:")
    for way, values in seconds.items():
        print(f"  {way:<20} {statistics.median(values):.3f} s")
    return {way: statistics.median(values) for way, values in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--server", action="append", choices=["dovecot", "courier", "cyrus"])
    args = parser.parse_args()
    for name in args.server or ["dovecot", "courier", "cyrus"]:
        measure(name, args.messages, args.repeat)


if __name__ == "__main__":
    main()
