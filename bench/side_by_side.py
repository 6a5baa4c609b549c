"""Cells on a relayed link, run for every server at once: one process per server.

A cell on a relayed link (mobile-4g, say) waits on the link's rate and delay, not on the
machine: its full download of 300 messages is about ten seconds at 14.7 Mbit/s, with the
client and the server mostly idle. Run one server after another, those cells were the
largest part of the full plan that no cut could shorten. So, once every cell on ``lan``
has run (one server at a time, as before: those cells are bound by the CPU), the cells on
relayed links of all servers run side by side, each server's in a helper process of its
own (``bench.helpers``: a fresh interpreter running ``bench.server_process``): its own
container, its own relay, and its own client process, so the client's CPU and memory
figures are still one sample's, and each container's counters its own server's. Each helper is a ``Run`` of
its server's cells, with the run's settings and id (its containers carry the run's
labels), writing its results in the run's folder and telling its progress on its output;
this process shows that progress, adds each finished cell to the run's results as it
comes, and removes the helpers' folders at the end.

What else could move a relayed cell's figures: the other servers' processes share the
machine's two cores. Each of them uses a small part of a core at a link's rate, and the
figures of a relayed link are set by its rate and delay. Measured both ways, alternated
(``benchmarks/side_by_side.py``, docs/plans.md): the download's time the same within 1 %
in every cell, the client's CPU within 1 % in the median, the servers' CPU 6 % higher in
the median (the report reads it for relayed cells only in the appendix's tables).
``--one-server-at-a-time`` runs them as before, one server after another.

Not side by side: a run where at most one server has relayed cells (nothing to gain), a
run with ``--port-base`` (its servers would ask for the same ports), and scenarios that
pin the server to CPUs of its own (many-devices' load).
"""

from __future__ import annotations

import json
import pickle
import queue
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from bench import results
from bench.environment import merge_probes
from bench.errors import ResultsError
from bench.helpers import start_helper
from bench.links import LinkProfile
from bench.plan import Cell
from bench.results import CellResult
from scenarios import get_scenario

FOLDER = "side-by-side"  # below the run's folder: each server's process writes its results here
JOB = "job.pickle"  # in a server's folder: what its process is to run
POLL_S = 0.5  # how often this process looks at its helpers when none spoke
STOP_S = 60.0  # how long a helper may take to remove its containers after a Ctrl-C


class Run(Protocol):
    """What this module uses of a run (``bench.runner.Run``, which imports this module)."""

    config: Any
    run_id: str
    folder: Path
    results: results.Results
    observer: Any
    repeats: Any

    def save(self, last: bool = False) -> None: ...

    def fail_remaining(self, cells: Sequence[Cell], error: str) -> None: ...


def apart(order: Mapping[str, Sequence[Cell]], links: Mapping[str, LinkProfile],
          enabled: bool = True) -> dict[str, list[Cell]]:
    """The cells to run side by side, by server, in each server's run order: those on a
    relayed link, of scenarios that do not pin CPUs; none unless two servers or more have
    some (and ``enabled``)."""
    if not enabled:
        return {}
    chosen = {server: [cell for cell in cells
                       if links[cell.link].relayed and not get_scenario(cell.scenario).pins_cpus]
              for server, cells in order.items()}
    chosen = {server: cells for server, cells in chosen.items() if cells}
    return chosen if len(chosen) >= 2 else {}


class LineObserver:
    """A server's process telling the run's process, one JSON line on its output each, what
    it says and each sample it ends."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def _tell(self, kind: str, text: str) -> None:
        self._out.write(json.dumps([kind, text]) + "\n")
        self._out.flush()

    def say(self, line: str) -> None:
        self._tell("say", line)

    def start(self, total_samples: int) -> None:
        pass  # the run's own bar counts these samples already

    def advance(self, label: str) -> None:
        self._tell("advance", label)


def _relay(server: str, stream: IO[str], events: "queue.Queue[tuple[str, str, str]]") -> None:
    """Put each line a helper writes into ``events``, as (kind, server, text)."""
    for line in stream:
        try:
            kind, text = json.loads(line)
        except (ValueError, TypeError):
            kind, text = "say", line.rstrip("\n")
        events.put((kind, server, text))


def run_side_by_side(run: Run, cells: Mapping[str, Sequence[Cell]],
                     clock: Callable[[], float] = time.perf_counter) -> None:
    """Run ``cells`` (by server) side by side, one helper process per server
    (``bench.helpers``), adding each finished cell to ``run.results`` as it comes; a cell a
    helper did not finish is recorded as failed, with why."""
    started = clock()
    folder = run.folder / FOLDER
    events: "queue.Queue[tuple[str, str, str]]" = queue.Queue()
    helpers: dict[str, subprocess.Popen] = {}
    readers = []
    try:
        for server, server_cells in cells.items():
            job = folder / server / JOB
            job.parent.mkdir(parents=True, exist_ok=True)
            job.write_bytes(pickle.dumps((run.config, run.run_id, server, [cell.id for cell in server_cells])))
            helpers[server] = start_helper("bench.server_process", job, stdout=subprocess.PIPE, text=True)
            reader = threading.Thread(target=_relay, args=(server, helpers[server].stdout, events), daemon=True)
            reader.start()
            readers.append(reader)
        run.observer.say(f"cells on relayed links: {', '.join(cells)} side by side, a process each")
        merged: set[str] = set()
        while any(reader.is_alive() for reader in readers) or not events.empty():
            try:
                kind, server, text = events.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if kind == "say":
                run.observer.say(f"{server}: {text}")
            else:
                _merge(run, folder / server, merged)
                run.observer.advance(text)
    except BaseException:
        _stop(helpers.values())  # a Ctrl-C: each helper ends its run, removing its containers
        raise
    for server, helper in helpers.items():
        helper.wait()
        found = _merge(run, folder / server, merged)
        probe = (found.environment.get("servers") or {}).get(server) if found else None
        if probe is not None:  # the server's containers of its process, after those of this one
            servers = run.results.environment.setdefault("servers", {})
            servers[server] = merge_probes(servers.get(server), probe)
        run.fail_remaining(cells[server], f"the process running {server}'s cells on relayed links ended "
                                          f"(exit code {helper.returncode}) before this cell finished")
    run.results.plan["side_by_side"] = {
        "servers": list(cells), "cells": sum(len(c) for c in cells.values()),
        "wall_s": round(clock() - started, 3)}
    run.save()
    shutil.rmtree(folder, ignore_errors=True)


def _stop(helpers) -> None:
    """Ctrl-C each helper still running (each is in a session of its own, so the terminal's
    reached this process alone), and kill one that has not ended within ``STOP_S``."""
    for helper in helpers:
        if helper.poll() is None:
            helper.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_S
    for helper in helpers:
        try:
            helper.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            helper.kill()
            helper.wait()


def _results_of(server_folder: Path) -> results.Results | None:
    """A server process's results so far (None before its first save)."""
    found = sorted(server_folder.glob("*/results.json"))
    if not found:
        return None
    try:
        return results.load(found[0])
    except ResultsError:
        return None


def _merge(run: Run, server_folder: Path, merged: set[str]) -> results.Results | None:
    """Add the cells a server's process has finished since the last look to the run's
    results; returns what the process has written (None: nothing yet)."""
    found = _results_of(server_folder)
    if found is None:
        return None
    added = False
    for cell in found.cells:
        if cell.id not in merged:
            cell.info["side_by_side"] = True
            run.results.cells.append(cell)
            merged.add(cell.id)
            added = True
    if added:
        run.save()
    return found


def summary_line(plan: Mapping[str, Any], cells: Sequence[CellResult]) -> str | None:
    """What running side by side saved, for the end of a run: the wall time those cells
    took, against their cells' times added up (the scenarios' lines count the latter)."""
    side = plan.get("side_by_side")
    if not side:
        return None
    added = sum((cell.info.get("time_split_s") or {}).get("total", 0.0)
                for cell in cells if cell.info.get("side_by_side"))
    return (f"cells on relayed links ({side['cells']}, of {', '.join(side['servers'])}): {side['wall_s']:.0f} s "
            f"of wall time side by side, for {added:.0f} s of their cells' time")

