"""How exactly the shaping relay imposes a link, and what Docker's userland proxy adds.

    python benchmarks/relay_accuracy.py [--json PATH] [--quick] [--no-docker]

1. Round-trip time through the relay against the set rtt (10 to 600 ms), echoing 32 bytes on
   one connection; target: the median within 5 % or 1 ms of the setting.
2. Throughput against the limit (1, 10, 50 Mbit/s, each way); target: within 5 %.
3. The relay's own cost at lan-like settings (rtt 0, unlimited): per-request latency and bulk
   throughput, as ratios against a direct connection.
4. Docker's userland proxy: a tiny echo server (perl, in the suite's base image) in a
   container, reached through its port published on 127.0.0.1, against the same echo server
   run on the host. The difference is what the proxy and the bridge add to every round trip.

Everything runs on 127.0.0.1 with a TCP echo/bulk server started here; each step is bounded
in count and time. Statistics are the standard library's (median, quantiles).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.access.base import LOOPBACK
from bench.links import Relay, parse_link
from benchmarks.link_probe import (
    ProbeServer,
    download_mbit,
    echo_round_trips_ms,
    upload_mbit,
)

SCHEMA_VERSION = 1
RTTS_MS = (10, 50, 100, 300, 600)
RATES_MBIT = (1, 10, 50)
RTT_BUDGET_S = 8.0  # time spent sampling each rtt setting
TRANSFER_S = 3.0  # each throughput transfer lasts about this long
REPEATS = 3
LAN_SAMPLES = 2000
LAN_BULK_BYTES = 200_000_000
READY_TIMEOUT_S = 30.0
READY_POLL_S = 0.1

# A plain echo server; ADDR and PORT come from the environment, the port is printed at start.
PERL_ECHO = r"""
use IO::Socket::INET; use Socket qw(IPPROTO_TCP TCP_NODELAY);
my $s = IO::Socket::INET->new(LocalAddr => $ENV{ADDR}, LocalPort => $ENV{PORT}, Listen => 16,
                              ReuseAddr => 1) or die "listen: $!";
$| = 1; print $s->sockport, "\n";
while (my $c = $s->accept) {
    setsockopt($c, IPPROTO_TCP, TCP_NODELAY, 1);
    my $b; while (sysread($c, $b, 65536)) { syswrite($c, $b) } close $c;
}
"""
CONTAINER_PORT = 7777


def summary(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=20) if len(values) >= 2 else [values[0]] * 19
    return {"median": statistics.median(values), "p05": cuts[0], "p95": cuts[-1], "n": len(values)}


def rtt_accuracy(probe: ProbeServer, quick: bool) -> list[dict]:
    rows = []
    settings = [(f"rtt={rtt}ms", rtt) for rtt in RTTS_MS]
    settings.append(("rtt=100ms,down=1mbit,up=1mbit", 100))  # small packets on a slow link
    for spec, rtt in settings:
        samples = max(8, min(100, int(RTT_BUDGET_S * (0.3 if quick else 1) * 1000 / rtt)))
        with Relay(probe.port, parse_link(spec)) as relay:
            times = echo_round_trips_ms(relay.port, samples)
        stats = summary(times)
        error = stats["median"] - rtt
        rows.append({"link": spec, "set_ms": rtt, **stats, "error_ms": error, "error_pct": 100 * error / rtt,
                     "within_target": abs(error) <= max(0.05 * rtt, 1.0), "samples_ms": times})
    return rows


def throughput_accuracy(probe: ProbeServer, quick: bool) -> list[dict]:
    rows = []
    settings = [(rate, 0) for rate in RATES_MBIT] + [(10, 300)]
    for rate, rtt in settings:
        spec = f"rtt={rtt}ms,down={rate}mbit,up={rate}mbit"
        nbytes = int(rate * 1e6 / 8 * TRANSFER_S * (0.4 if quick else 1))
        for direction, measure in (("down", download_mbit), ("up", upload_mbit)):
            with Relay(probe.port, parse_link(spec)) as relay:
                values = [measure(relay.port, nbytes) for _ in range(REPEATS)]
            median = statistics.median(values)
            error = 100 * (median - rate) / rate
            rows.append({"link": spec, "direction": direction, "set_mbit": rate, "bytes": nbytes,
                         "median_mbit": median, "error_pct": error, "within_target": abs(error) <= 5.0,
                         "samples_mbit": values})
    return rows


def lan_overhead(probe: ProbeServer, quick: bool) -> dict:
    samples = LAN_SAMPLES // (5 if quick else 1)
    bulk = LAN_BULK_BYTES // (5 if quick else 1)
    direct_rtt = echo_round_trips_ms(probe.port, samples, warmup=50)
    direct_bulk = [download_mbit(probe.port, bulk) for _ in range(REPEATS)]
    with Relay(probe.port, parse_link("rtt=0ms")) as relay:
        relay_rtt = echo_round_trips_ms(relay.port, samples, warmup=50)
        relay_bulk = [download_mbit(relay.port, bulk) for _ in range(REPEATS)]
    d_rtt, r_rtt = statistics.median(direct_rtt), statistics.median(relay_rtt)
    d_bulk, r_bulk = statistics.median(direct_bulk), statistics.median(relay_bulk)
    return {
        "request_ms": {"direct": summary(direct_rtt), "relay": summary(relay_rtt)},
        "request_latency_ratio": r_rtt / d_rtt,
        "request_added_ms": r_rtt - d_rtt,
        "bulk_mbit": {"direct": d_bulk, "relay": r_bulk, "bytes": bulk,
                      "samples_direct": direct_bulk, "samples_relay": relay_bulk},
        "bulk_throughput_ratio": r_bulk / d_bulk,
    }


def _wait_for_echo(port: int) -> None:
    """Readiness: a real echo round trip (docker-proxy accepts before the container listens)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            echo_round_trips_ms(port, 1, warmup=0, command=None, timeout_s=2.0)
            return
        except OSError as exc:
            last = exc
            time.sleep(READY_POLL_S)
    raise RuntimeError(f"echo on 127.0.0.1:{port} not answering after {READY_TIMEOUT_S:.0f} s: {last!r}")


@contextmanager
def host_echo() -> Iterator[int]:
    process = subprocess.Popen(["perl", "-e", PERL_ECHO], env={**os.environ, "ADDR": LOOPBACK, "PORT": "0"},
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.strip().isdigit():
            raise RuntimeError(f"host echo did not start (printed {line!r})")
        port = int(line)
        _wait_for_echo(port)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def container_echo() -> Iterator[tuple[int, str]]:
    from bench.servers.base import LABEL, LABEL_PID, LABEL_RUN, remove_container
    from bench.servers.docker_client import connect
    from bench.servers.images import ensure_base_image

    client = connect()
    image = ensure_base_image(client, say=lambda line: None)
    container = client.containers.run(
        image.ref, ["perl", "-e", PERL_ECHO], detach=True,
        environment={"ADDR": "0.0.0.0", "PORT": str(CONTAINER_PORT)},
        ports={f"{CONTAINER_PORT}/tcp": (LOOPBACK, None)},
        labels={LABEL: "1", LABEL_RUN: f"relay-accuracy-{os.getpid()}", LABEL_PID: str(os.getpid())},
        name=f"mailbench-relay-accuracy-{os.getpid()}",
    )
    try:
        container.reload()
        binding = container.attrs["NetworkSettings"]["Ports"][f"{CONTAINER_PORT}/tcp"]
        port = int(next(b["HostPort"] for b in binding if b.get("HostIp") == LOOPBACK))
        _wait_for_echo(port)
        yield port, client.version().get("Version", "unknown")
    finally:
        remove_container(container)


def connect_ms(port: int, samples: int) -> list[float]:
    """Connect, echo once, close: what a new connection costs before its first answer."""
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(b"x")
            if sock.recv(1) != b"x":
                raise ConnectionError("echo answered wrongly")
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def docker_proxy(quick: bool) -> dict:
    samples = 500 if quick else 2000
    try:
        with host_echo() as host_port, container_echo() as (container_port, docker_version):
            results = {}
            for name, port in (("host", host_port), ("published_port", container_port)):
                results[name] = {
                    "request_ms": summary(echo_round_trips_ms(port, samples, warmup=50, command=None)),
                    "connect_ms": summary(connect_ms(port, samples // 10)),
                }
    except Exception as exc:  # no Docker, no perl, no image: reported, not fatal
        return {"skipped": f"{type(exc).__name__}: {exc}"}
    host, proxied = results["host"], results["published_port"]
    return {
        "docker_version": docker_version,
        **results,
        "request_added_ms": proxied["request_ms"]["median"] - host["request_ms"]["median"],
        "connect_added_ms": proxied["connect_ms"]["median"] - host["connect_ms"]["median"],
    }


def print_report(results: dict) -> None:
    print("Round-trip time through the relay (32-byte echo, one connection)")
    print(f"  {'link':32} {'set ms':>7} {'median':>9} {'p05':>9} {'p95':>9} {'error':>9} {'n':>4}  target")
    for row in results["rtt"]:
        print(f"  {row['link']:32} {row['set_ms']:7.0f} {row['median']:9.3f} {row['p05']:9.3f} {row['p95']:9.3f} "
              f"{row['error_ms']:+8.3f}ms {row['n']:4d}  {'ok' if row['within_target'] else 'MISSED'}")
    print(f"\nThroughput through the relay (median of {REPEATS} transfers)")
    print(f"  {'link':32} {'dir':>4} {'set':>6} {'median':>9} {'error':>8}  target")
    for row in results["throughput"]:
        print(f"  {row['link']:32} {row['direction']:>4} {row['set_mbit']:6g} {row['median_mbit']:9.3f} "
              f"{row['error_pct']:+7.2f}%  {'ok' if row['within_target'] else 'MISSED'}")
    lan = results["lan_overhead"]
    print("\nThe relay's own cost at rtt 0, unlimited (lan-like)")
    print(f"  request latency: direct {lan['request_ms']['direct']['median']:.4f} ms, relay "
          f"{lan['request_ms']['relay']['median']:.4f} ms: ratio {lan['request_latency_ratio']:.2f} "
          f"(+{lan['request_added_ms']:.4f} ms)")
    print(f"  bulk throughput: direct {lan['bulk_mbit']['direct']:.0f} Mbit/s, relay {lan['bulk_mbit']['relay']:.0f} "
          f"Mbit/s: ratio {lan['bulk_throughput_ratio']:.3f}")
    proxy = results["docker_proxy"]
    print("\nDocker's userland proxy (perl echo: host loopback against a container's published port)")
    if "skipped" in proxy:
        print(f"  skipped: {proxy['skipped']}")
        return
    for name in ("host", "published_port"):
        print(f"  {name:15} request {proxy[name]['request_ms']['median']:.4f} ms (p95 "
              f"{proxy[name]['request_ms']['p95']:.4f}), connect+first echo {proxy[name]['connect_ms']['median']:.4f} ms")
    print(f"  added per round trip: {proxy['request_added_ms']:.4f} ms; per new connection: "
          f"{proxy['connect_added_ms']:.4f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every figure and raw sample to this file")
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run, not the figures)")
    parser.add_argument("--no-docker", action="store_true", help="leave out the docker-proxy measurement")
    args = parser.parse_args(argv)
    started = time.time()
    with ProbeServer() as probe:
        results = {
            "schema_version": SCHEMA_VERSION,
            "kind": "mailbench relay accuracy",
            "command": "python benchmarks/relay_accuracy.py" + (" --quick" if args.quick else ""),
            "machine": {"python": platform.python_version(), "platform": platform.platform(),
                        "cpus": os.cpu_count(), "load_avg": os.getloadavg()},
            "rtt": rtt_accuracy(probe, args.quick),
            "throughput": throughput_accuracy(probe, args.quick),
            "lan_overhead": lan_overhead(probe, args.quick),
        }
    results["docker_proxy"] = {"skipped": "--no-docker"} if args.no_docker else docker_proxy(args.quick)
    results["seconds"] = time.time() - started
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nwrote {args.json}")
    missed = [row for row in results["rtt"] + results["throughput"] if not row["within_target"]]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
