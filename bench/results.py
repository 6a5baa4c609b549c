"""The results file: the only code that knows its layout.

A run writes ``reports/<run-id>/results.json``. It is rewritten atomically (a temporary
file renamed over the old one) after every finished cell, so the file on disk is valid
JSON at every moment and a crash loses at most the cell in flight.

Layout (``schema_version`` 1)::

    {
      "schema_version": 1,
      "run_id": "20261126-143000-1a2b",
      "started_at": "...", "finished_at": "..." | null,
      "command": "mailbench run ...",          # how to reproduce the run
      "environment": {...},                    # machine, Docker, libraries, servers, base image
      "plan": {...},                           # scenarios, servers, modes, messages, repeat (a number, or
                                               # samples per scenario), seed, order_seed, excluded, cell_timeout_s, corpus
      "micro": [...],                          # per-operation micro-benchmarks, if run
      "cells": [
        {
          "id": "bulk-fetch/dovecot/imap/full/tls-on/mobile-4g",
          "scenario": "bulk-fetch", "server": "dovecot", "mode": "imap", "variant": "full",
          "tls": "off" | "on" | "starttls",
          "link": "lan" | "mobile-4g" | ...,        # in the id unless lan; figures in info["link"]
          "status": "ok" | "failed",
          "error": null | "one line",
          "integrity": {"checked": 500, "passed": true, "missing": [], "changed": [], "unexpected": []},
          "samples": [{"elapsed_s": 0.41, "bytes_down": 123, ...}, ...],   # one dict per repeat
          "sample_info": [{...}, ...],                                     # per repeat: series, facts
          "metrics": {"elapsed_s": {"median": ..., "min": ..., "max": ..., "n": 3}, ...},
          "commands": {"FETCH": {"count": 10, "latency_ms": [..]}},         # every command's latency
          "info": {...}                                                    # facts, not figures; "refused": messages
                                                                           # the server would not store
        }
      ]
    }

Metric names carry their unit (``_s``, ``_ms``, ``_bytes``, ``_mb``, ``_per_s``) or are
plain counts (``messages``, ``round_trips``).

History of the schema:

- 1: first version.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import ResultsError

SCHEMA_VERSION = 1
SCHEMA_HISTORY = {1: "first version: environment, plan, cells with samples and summaries"}

STATUS_OK = "ok"
STATUS_FAILED = "failed"


def summarise(values: list[float]) -> dict[str, float]:
    """Median and spread of one metric over the samples of a cell."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
        "stdev": statistics.stdev(values) if len(values) > 1 else 0.0,
        "n": len(values),
    }


def cell_id(scenario: str, server: str, mode: str, variant: str, tls: str, link: str) -> str:
    """A cell's id, the key that reports and comparisons match cells by."""
    return f"{scenario}/{server}/{mode}/{variant}/tls-{tls}" + ("" if link == "lan" else f"/{link}")


@dataclass
class CellResult:
    """What one cell produced: every sample, its integrity check, or its error."""

    scenario: str
    server: str
    mode: str
    variant: str
    tls: str = "off"
    link: str = "lan"
    status: str = STATUS_OK
    error: str | None = None
    integrity: dict[str, Any] = field(default_factory=dict)
    samples: list[dict[str, float]] = field(default_factory=list)
    sample_info: list[dict[str, Any]] = field(default_factory=list)
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return cell_id(self.scenario, self.server, self.mode, self.variant, self.tls, self.link)

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def fail(self, error: str) -> None:
        self.status = STATUS_FAILED
        self.error = error

    def metrics(self) -> dict[str, dict[str, float]]:
        names = sorted({name for sample in self.samples for name in sample})
        return {
            name: summarise([s[name] for s in self.samples if name in s]) for name in names
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scenario": self.scenario,
            "server": self.server,
            "mode": self.mode,
            "variant": self.variant,
            "tls": self.tls,
            "link": self.link,
            "status": self.status,
            "error": self.error,
            "integrity": self.integrity,
            "samples": self.samples,
            "sample_info": self.sample_info,
            "metrics": self.metrics(),
            "commands": self.commands,
            "info": self.info,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CellResult":
        return cls(
            scenario=data["scenario"],
            server=data["server"],
            mode=data["mode"],
            variant=data.get("variant", ""),
            tls=data.get("tls", "off"),
            link=data.get("link", "lan"),
            status=data["status"],
            error=data.get("error"),
            integrity=data.get("integrity", {}),
            samples=data.get("samples", []),
            sample_info=data.get("sample_info", []),
            commands=data.get("commands", {}),
            info=data.get("info", {}),
        )


@dataclass
class Results:
    """A whole run: its environment, its plan and its cells, in the order they ran."""

    run_id: str
    started_at: str
    command: str
    environment: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    cells: list[CellResult] = field(default_factory=list)
    finished_at: str | None = None
    micro: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "command": self.command,
            "environment": self.environment,
            "plan": self.plan,
            "micro": self.micro,
            "cells": [cell.to_json() for cell in self.cells],
        }

    @property
    def failed_cells(self) -> list[CellResult]:
        return [cell for cell in self.cells if not cell.ok]

    def samples_per_cell(self) -> str:
        """The plan's samples per cell in words: ``3 samples per cell``, or, where each
        scenario took its own default (``plan["repeat"]`` a mapping), ``5 samples per
        bulk-fetch cell, 3 per other cell``."""
        repeat = self.plan.get("repeat")
        if not isinstance(repeat, dict):
            return f"{repeat} sample{'' if repeat == 1 else 's'} per cell"
        counts = sorted(set(repeat.values()), key=lambda n: -sum(v == n for v in repeat.values()))
        if len(counts) == 1:
            return f"{counts[0]} samples per cell"
        usual = counts[0]
        special = ", ".join(f"{n} per {name} cell" for name, n in repeat.items() if n != usual)
        return f"{special}, {usual} per other cell"


def save(results: Results, path: Path) -> None:
    """Write the results atomically: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(results.to_json(), out, indent=1, sort_keys=False)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path | str) -> Results:
    """Read a results file, refusing anything this version cannot interpret."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"results file {path} does not exist; pass the results.json of a run")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"cannot read results file {path}: {exc}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{path} is not JSON ({exc.msg} at line {exc.lineno}); pass a results.json written by mailbench"
        )
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultsError(f"{path} is not a mailbench results file (no schema_version)")
    version = data["schema_version"]
    if version not in SCHEMA_HISTORY:
        raise ResultsError(
            f"{path} has results schema version {version!r}; this mailbench reads "
            f"{sorted(SCHEMA_HISTORY)}: upgrade mailbench or re-run the benchmark"
        )
    try:
        return Results(
            run_id=data["run_id"],
            started_at=data["started_at"],
            finished_at=data.get("finished_at"),
            command=data.get("command", ""),
            environment=data.get("environment", {}),
            plan=data.get("plan", {}),
            cells=[CellResult.from_json(cell) for cell in data.get("cells", [])],
            micro=data.get("micro", []),
        )
    except (KeyError, TypeError) as exc:
        raise ResultsError(f"{path} is a damaged results file (missing {exc}); re-run the benchmark")
