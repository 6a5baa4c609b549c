"""The results file: the only code that knows its layout, and every layout it had.

A run writes ``reports/<run-id>/results.json``. It is rewritten atomically (a temporary
file renamed over the old one) after every finished cell, so the file on disk is valid
JSON at every moment and a crash loses at most the cell in flight.

Layout (``schema_version`` 2)::

    {
      "schema_version": 2,
      "run_id": "20261126-143000-1a2b",
      "started_at": "...", "finished_at": "..." | null,
      "command": "mailbench run ...",          # how to reproduce the run
      "environment": {...},                    # machine, Docker, libraries, servers, base image
      "plan": {...},                           # scenarios, servers, modes, variants, tls, links (name → figures),
                                               # cells, messages, repeat (a number, or samples per scenario), seed,
                                               # order_seed (null: not shuffled), excluded, pipelining,
                                               # cell_timeout_s (null: no limit), corpus
      "micro": [...],                          # per-operation micro-benchmarks, [] if not run
      "cells": [
        {
          "id": "bulk-fetch/dovecot/imap/full/tls-on/mobile-4g",
          "scenario": "bulk-fetch", "server": "dovecot", "mode": "imap", "variant": "full",
          "tls": "off" | "on" | "starttls",
          "link": "lan" | "mobile-4g" | ...,        # in the id unless lan; figures in plan["links"]
          "status": "ok" | "failed" | "not offered",
          "error": null | "one line",
          "integrity": {"checked": 500, "passed": true, "missing": [], "changed": [], "unexpected": []},
          "samples": [{"elapsed_s": 0.41, "bytes_down": 123, ...}, ...],   # one dict per sample
          "sample_info": [{...}, ...],                                     # one dict per sample: series, facts
          "metrics": {"elapsed_s": {"median": ..., "min": ..., "max": ..., "n": 3}, ...},
          "by_policy": {                                                   # {} when no figure has a policy
            "poll_1s": {"samples": [{"latency_ms": 420.0, "latency_ms_max": 515.2, "missed": 0}, ...],
                        "metrics": {"latency_ms": {"median": ..., ...}, ...}}
          },
          "commands": {"FETCH": {"count": 10, "latency_ms": [..]}},         # every command's latency
          "info": {...}                                                    # facts, not figures; "refused": messages
                                                                           # the server would not store
        }
      ]
    }

Metric names carry their unit (``_s``, ``_ms``, ``_bytes``, ``_mb``, ``_per_s``) or are
plain counts (``messages``, ``round_trips``). A sample is a flat ``{metric: number}`` of
figures of the whole sample. A figure measured once per client policy (new-mail's watch
policies ``push``, ``poll_1s``, ``poll_5s``; offline-use's cache policies ``full``,
``headers``, ``online``) is kept under the policy's key in ``by_policy``, with the same
metric name for every policy: sample i of a policy is sample i of the cell. Read figures
with ``CellResult.values``, ``summary`` and ``policies``; no code builds or parses a
metric name with a policy in it.

History of the schema (``SCHEMA_HISTORY``; docs/results-schema.md says more): ``load``
reads a file of any version listed there, bringing an older one to the current version
through one upgrade function per step (``UPGRADES``), and refuses a newer one.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import ResultsError

SCHEMA_VERSION = 2
SCHEMA_HISTORY = {
    1: "first version: environment, plan, cells with samples and summaries. It grew without a new "
       "number: cells gained tls, link and sample_info; the plan gained tls, links, order_seed, excluded "
       "and cell_timeout_s, and repeat became a mapping where each scenario took its own count; a figure "
       "of a client policy was a metric with the policy as a suffix of its name (latency_ms_poll_1s)",
    2: "every cell and plan key always present; sample_info one object per sample; a client policy's "
       "figures under the cell's by_policy, keyed by the policy, with the metric's own name",
}

STATUS_OK = "ok"
STATUS_FAILED = "failed"
# A cell whose protocol the server does not have (JMAP on Dovecot): neither a failure nor
# left out; ``error`` says so in one line (``MailServer.not_offered``).
STATUS_NOT_OFFERED = "not offered"

Sample = dict[str, float]


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


def summaries(samples: Sequence[Sample]) -> dict[str, dict[str, float]]:
    """Every metric of ``samples`` summarised over the samples that have it, by name."""
    names = sorted({name for sample in samples for name in sample})
    return {name: summarise([s[name] for s in samples if name in s]) for name in names}


def cell_id(scenario: str, server: str, mode: str, variant: str, tls: str, link: str) -> str:
    """A cell's id, the key that reports and comparisons match cells by."""
    return f"{scenario}/{server}/{mode}/{variant}/tls-{tls}" + ("" if link == "lan" else f"/{link}")


@dataclass
class CellResult:
    """What one cell produced: every sample, its integrity check, or its error.

    ``by_policy`` holds, per client policy, one dict of figures per sample of the cell
    (empty where that sample had none for the policy), so that sample i of a policy is
    sample i of the cell; ``add_sample`` keeps them in step."""

    scenario: str
    server: str
    mode: str
    variant: str
    tls: str = "off"
    link: str = "lan"
    status: str = STATUS_OK
    error: str | None = None
    integrity: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    sample_info: list[dict[str, Any]] = field(default_factory=list)
    by_policy: dict[str, list[Sample]] = field(default_factory=dict)
    commands: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return cell_id(self.scenario, self.server, self.mode, self.variant, self.tls, self.link)

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    @property
    def offered(self) -> bool:
        """False for a cell whose server does not have its protocol."""
        return self.status != STATUS_NOT_OFFERED

    def fail(self, error: str) -> None:
        self.status = STATUS_FAILED
        self.error = error

    def not_offered(self, why: str) -> None:
        self.status = STATUS_NOT_OFFERED
        self.error = why

    def add_sample(self, figures: Sample, by_policy: dict[str, Sample] | None = None) -> None:
        """One more sample: its figures of the whole sample, and each policy's figures."""
        by_policy = by_policy or {}
        for policy in by_policy:
            self.by_policy.setdefault(policy, [{} for _ in self.samples])
        self.samples.append(figures)
        for policy, samples in self.by_policy.items():
            samples.append(dict(by_policy.get(policy, {})))

    def policies(self) -> list[str]:
        """The client policies the cell recorded figures for, in the order first recorded."""
        return list(self.by_policy)

    def _samples_of(self, policy: str | None) -> list[Sample]:
        return self.samples if policy is None else self.by_policy.get(policy, [])

    def values(self, name: str, policy: str | None = None) -> list[float]:
        """Every sample's value of the metric, of the whole sample or of ``policy``."""
        return [sample[name] for sample in self._samples_of(policy) if name in sample]

    def summary(self, name: str, policy: str | None = None) -> dict[str, float] | None:
        """The metric's median and spread over the samples (``summarise``); ``None`` if none has it."""
        values = self.values(name, policy)
        return summarise(values) if values else None

    def metric_names(self, policy: str | None = None) -> set[str]:
        """The metrics recorded for the whole sample, or for ``policy``."""
        return {name for sample in self._samples_of(policy) for name in sample}

    def metrics(self) -> dict[str, dict[str, float]]:
        """Every figure of the whole sample, summarised: the cell's ``metrics`` in the file."""
        return summaries(self.samples)

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
            "by_policy": {policy: {"samples": samples, "metrics": summaries(samples)}
                          for policy, samples in self.by_policy.items()},
            "commands": self.commands,
            "info": self.info,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "CellResult":
        """A cell of the current version: every key is there (``load`` upgrades older files)."""
        return cls(
            scenario=data["scenario"],
            server=data["server"],
            mode=data["mode"],
            variant=data["variant"],
            tls=data["tls"],
            link=data["link"],
            status=data["status"],
            error=data["error"],
            integrity=data["integrity"],
            samples=data["samples"],
            sample_info=data["sample_info"],
            by_policy={policy: entry["samples"] for policy, entry in data["by_policy"].items()},
            commands=data["commands"],
            info=data["info"],
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

    def to_json(self, cell_json: Callable[[CellResult], dict[str, Any]] | None = None) -> dict[str, Any]:
        """The run as JSON data; ``cell_json`` gives each cell's (``CellResult.to_json`` by
        default: a saver may keep those of cells that no longer change)."""
        cell_json = cell_json or CellResult.to_json
        return {
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "command": self.command,
            "environment": self.environment,
            "plan": self.plan,
            "micro": self.micro,
            "cells": [cell_json(cell) for cell in self.cells],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Results":
        """A run of the current version: every key is there (``load`` upgrades older files)."""
        return cls(
            run_id=data["run_id"],
            started_at=data["started_at"],
            finished_at=data["finished_at"],
            command=data["command"],
            environment=data["environment"],
            plan=data["plan"],
            cells=[CellResult.from_json(cell) for cell in data["cells"]],
            micro=data["micro"],
        )

    @property
    def failed_cells(self) -> list[CellResult]:
        return [cell for cell in self.cells if cell.status == STATUS_FAILED]

    @property
    def not_offered_cells(self) -> list[CellResult]:
        return [cell for cell in self.cells if not cell.offered]

    def samples_per_cell(self) -> str:
        """The plan's samples per cell in words: ``3 samples per cell``, or, where each
        scenario took its own default (``plan["repeat"]`` a mapping), ``5 samples per
        bulk-fetch cell, 3 per other cell``."""
        return self._samples_per_cell() + self.samples_on_links()

    def _samples_per_cell(self) -> str:
        repeat = self.plan.get("repeat")
        if not isinstance(repeat, dict):
            return f"{repeat} sample{'' if repeat == 1 else 's'} per cell"
        counts = sorted(set(repeat.values()), key=lambda n: -sum(v == n for v in repeat.values()))
        if len(counts) == 1:
            return f"{counts[0]} samples per cell"
        usual = counts[0]
        special = ", ".join(f"{n} per {name} cell" for name, n in repeat.items() if n != usual)
        return f"{special}, {usual} per other cell"

    def samples_on_links(self) -> str:
        """`` (2 per cell on a relayed link)`` where the plan took fewer samples there
        (``plan["repeat_on_links"]``), else nothing."""
        on_links = self.plan.get("repeat_on_links")
        if not on_links or not any(cell.link != "lan" for cell in self.cells):
            return ""
        return f" ({on_links} per cell on a relayed link)"


# --- Upgrades: one function per step, each taking a file's data of one version to the next --


# Version 1 wrote a figure of a client policy as a metric with the policy appended to its
# name. Per scenario: the figures so written, and the policies a sample could have (as its
# sample_info lists them, else as the scenario named them).
_V1_POLICY_FIGURES = {
    "new-mail": ("latency_ms", "latency_ms_max", "missed", "pushed_share", "connections_opened_per_hour",
                 "bytes_per_hour", "round_trips_per_hour", "server_cpu_s_per_hour"),
    "offline-use": ("readable_offline_share", "listed_offline_share", "ready_s", "ready_bytes_down",
                    "catchup_s", "catchup_bytes_down"),
}


def _v1_policies(scenario: str, sample: Sample, info: dict[str, Any]) -> list[str]:
    if scenario == "offline-use":  # the cache policies of the mode
        return list(info.get("cache_policies", ("full", "headers", "online")))
    # new-mail: push, and poll_<interval> for each interval; every policy counts its missed messages
    return list(info.get("policies", [name[len("missed_"):] for name in sample if name.startswith("missed_")]))


def _v1_split(scenario: str, samples: list[Sample], infos: list[dict[str, Any]]
              ) -> tuple[list[Sample], dict[str, list[Sample]]]:
    """Version-1 samples of ``scenario`` parted into figures of the whole sample and, per
    policy, the figures that had the policy as a suffix of their name."""
    figures = _V1_POLICY_FIGURES.get(scenario, ())
    whole: list[Sample] = []
    keyed: list[dict[str, Sample]] = []
    for sample, info in zip(samples, infos):
        policies = _v1_policies(scenario, sample, info) if figures else []
        own: Sample = {}
        per_policy: dict[str, Sample] = {}
        for name, value in sample.items():
            found = next(((figure, name[len(figure) + 1:]) for figure in figures
                          if name.startswith(figure + "_") and name[len(figure) + 1:] in policies), None)
            if found is None:
                own[name] = value
            else:
                per_policy.setdefault(found[1], {})[found[0]] = value
        whole.append(own)
        keyed.append(per_policy)
    policies = list(dict.fromkeys(policy for per_policy in keyed for policy in per_policy))
    return whole, {policy: [per_policy.get(policy, {}) for per_policy in keyed] for policy in policies}


def _v1_link_figures(name: str) -> dict[str, Any]:
    """A link's figures where a version-1 file recorded none: its profile's, or a custom
    link's read from its name; figures that cannot be read are ``None``."""
    from bench.errors import UsageError
    from bench.links.profiles import parse_link

    spec = name[len("custom("):-1] if name.startswith("custom(") and name.endswith(")") else name
    try:
        figures = parse_link(spec).as_dict()
    except UsageError:
        return {"name": name, "rtt_ms": None, "down_mbit": None, "up_mbit": None, "source": "not recorded"}
    return dict(figures, name=name)


def _cell_1_to_2(cell: dict[str, Any]) -> dict[str, Any]:
    tls, link = cell.get("tls", "off"), cell.get("link", "lan")  # absent: before TLS, links were choices
    samples = cell.get("samples", [])
    infos = list(cell.get("sample_info", []))
    infos += [{} for _ in range(len(samples) - len(infos))]
    whole, by_policy = _v1_split(cell["scenario"], samples, infos)
    return {
        "id": cell_id(cell["scenario"], cell["server"], cell["mode"], cell.get("variant", ""), tls, link),
        "scenario": cell["scenario"],
        "server": cell["server"],
        "mode": cell["mode"],
        "variant": cell.get("variant", ""),
        "tls": tls,
        "link": link,
        "status": cell["status"],
        "error": cell.get("error"),
        "integrity": cell.get("integrity", {}),
        "samples": whole,
        "sample_info": infos,
        "metrics": summaries(whole),
        "by_policy": {policy: {"samples": policy_samples, "metrics": summaries(policy_samples)}
                      for policy, policy_samples in by_policy.items()},
        "commands": cell.get("commands", {}),
        "info": cell.get("info", {}),
    }


def _upgrade_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1, in any of the shapes it had, to version 2: what a shape lacks is filled in
    as it was when the file was written (TLS off, the lan link, no sample_info, no
    exclusions, cells not shuffled, no cell timeout), each link's figures are put in the plan
    (from the plan, else from a cell's info, else from the profile of that name), and the
    figures of a client policy move from suffixed names to the cell's ``by_policy``."""
    cells = [_cell_1_to_2(cell) for cell in data.get("cells", [])]
    plan = dict(data.get("plan", {}))
    plan.setdefault("tls", list(dict.fromkeys(cell["tls"] for cell in cells)))
    links = dict(plan.get("links", {}))
    for old, new in zip(data.get("cells", []), cells):
        if new["link"] not in links and isinstance(old.get("info", {}).get("link"), dict):
            links[new["link"]] = dict(old["info"]["link"])
    for name in dict.fromkeys(cell["link"] for cell in cells):
        links.setdefault(name, _v1_link_figures(name))
    plan["links"] = links
    plan.setdefault("order_seed", None)  # cells ran in the plan's order
    plan.setdefault("excluded", [])  # every pair asked for ran
    plan.setdefault("cell_timeout_s", None)  # a cell had no time limit
    return {
        "schema_version": 2,
        "run_id": data["run_id"],
        "started_at": data["started_at"],
        "finished_at": data.get("finished_at"),
        "command": data.get("command", ""),
        "environment": data.get("environment", {}),
        "plan": plan,
        "micro": data.get("micro", []),
        "cells": cells,
    }


# From each version, the function that takes a file to the next one.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _upgrade_1_to_2}


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A results file's data brought to ``SCHEMA_VERSION``, step by step."""
    while data["schema_version"] != SCHEMA_VERSION:
        data = UPGRADES[data["schema_version"]](data)
    return data


def save(results: Results, path: Path, readable: bool = True,
         finished_cells: dict[int, dict[str, Any]] | None = None) -> None:
    """Write the results atomically: readers never see a half-written file. ``readable``
    indents them (a run's last save); without, the same JSON on one line, which a run
    writes after every cell: json's C encoder takes no indent, and the indenting one took
    0.36 s for the 4.8 MB of a full plan's results here, against 0.08 s, at every save.
    ``finished_cells`` keeps each cell's JSON data, by the cell's ``id()``, from one save
    to the next, for a caller whose cells never change once in the results (a run's
    saves after each cell: turning a full plan's 150 cells into JSON data took 0.16 s)."""
    def kept(cell: CellResult) -> dict[str, Any]:
        if id(cell) not in finished_cells:
            finished_cells[id(cell)] = cell.to_json()
        return finished_cells[id(cell)]

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(results.to_json(None if finished_cells is None else kept),
                                 indent=1 if readable else None))
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path | str) -> Results:
    """Read a results file of any version this mailbench knows, upgraded to the current one;
    refuse anything it cannot interpret, a newer version included."""
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
    if version not in SCHEMA_HISTORY or isinstance(version, bool):
        raise ResultsError(
            f"{path} has results schema version {version!r}; this mailbench reads "
            f"{sorted(SCHEMA_HISTORY)}: upgrade mailbench or re-run the benchmark"
        )
    try:
        return Results.from_json(upgrade(data))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ResultsError(f"{path} is a damaged results file (missing {exc}); re-run the benchmark")
