"""One sample's measurement: wall time, both sides' CPU, memory, and the wire meter.

Client CPU (this process) sits beside server CPU (the container's cgroup) so a reader can
tell the protocol's cost on the server from the harness's own work.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from bench import process
from bench.access import WireMeter
from bench.servers import RunningServer

MB = 1_000_000


@dataclass
class Measurement:
    meter: WireMeter = field(default_factory=WireMeter)
    metrics: dict[str, float] = field(default_factory=dict)


@contextmanager
def measure(server: RunningServer) -> Iterator[Measurement]:
    """Measure the block; the container's counters are read outside the timed window."""
    measurement = Measurement()
    process.reset_peak_rss()
    before = server.resources()
    cpu_start = time.process_time()
    start = time.perf_counter()
    yield measurement
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - cpu_start
    after = server.resources()
    measurement.metrics.update(
        elapsed_s=elapsed,
        client_cpu_s=client_cpu,
        server_cpu_s=max(0.0, after.cpu_s - before.cpu_s),
        server_mem_mb=after.memory_bytes / MB,
        client_peak_rss_mb=process.peak_rss_bytes() / MB,
        **measurement.meter.totals(),
    )
