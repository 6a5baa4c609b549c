"""One sample's measurement: wall time, both sides' CPU, memory, and the wire meter.

Client CPU (this process) sits beside server CPU (the container's cgroup) so a reader can
tell the protocol's cost on the server from the harness's own work.

Memory is recorded as what the measured block added, never as a level, because a level
carries what earlier cells left behind (a long-lived container's memory only rises in run
order):

- ``server_mem_delta_mb``: the container's memory after the block minus before it, both
  read the same way (``RunningServer.resources``); negative when the server freed memory.
- ``client_rss_growth_mb``: the peak resident set size of this process during the block
  minus its RSS at the block's start, read after the memory earlier work freed was handed
  back to the kernel (``bench.process`` says why a reset peak alone is not enough, and why
  freed memory is handed back).
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
    before = server.resources()
    process.release_free_memory()
    process.reset_peak_rss()
    start_rss = process.rss_bytes()
    cpu_start = time.process_time()
    start = time.perf_counter()
    yield measurement
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - cpu_start
    peak_rss = process.peak_rss_bytes()
    after = server.resources()
    measurement.metrics.update(
        elapsed_s=elapsed,
        client_cpu_s=client_cpu,
        server_cpu_s=max(0.0, after.cpu_s - before.cpu_s),
        server_mem_delta_mb=(after.memory_bytes - before.memory_bytes) / MB,
        client_rss_growth_mb=process.rss_growth_bytes(start_rss, peak_rss) / MB,
        **measurement.meter.totals(),
    )
