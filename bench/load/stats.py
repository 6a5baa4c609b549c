"""Reading back what a level measured: Locust's statistics and the users' own records.

Two paths record every command. Locust's master aggregates the ``request`` events the
users fire and writes them as CSV (``--csv``: ``<prefix>_stats.csv``, ``_failures.csv``);
each user also writes one JSON line per command, and one per new message it received,
into its worker's own file (``bench.load.client``). Both are kept in the cell, and
``agreement`` says whether they tell the same story: the same count of each command, and
percentiles within Locust's rounding (it keeps response times to two significant digits
above 100 ms, whole milliseconds below).

Pure: parsing and arithmetic only (percentiles by numpy).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np

PERCENTILES = (50, 95, 99)
AGGREGATED = "Aggregated"
# How far a percentile of the users' records may lie from Locust's: its rounding, plus a
# millisecond (Locust keeps whole ms) and a tenth for the percentile of a rounded histogram.
AGREE_MS = 1.5
AGREE_SHARE = 0.10


def parse_stats_csv(text: str) -> dict[str, dict[str, float]]:
    """``<prefix>_stats.csv`` by ``"<type> <name>"`` (``"imap FETCH"``; the total as
    ``"Aggregated"``): count, failures, p50/p95/p99 and mean in ms, mean bytes."""
    table = {}
    for row in csv.DictReader(io.StringIO(text)):
        key = AGGREGATED if row.get("Name") == AGGREGATED else f"{row['Type']} {row['Name']}"
        table[key] = {
            "count": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "p50_ms": _number(row.get("50%")),
            "p95_ms": _number(row.get("95%")),
            "p99_ms": _number(row.get("99%")),
            "mean_ms": _number(row.get("Average Response Time")),
            "max_ms": _number(row.get("Max Response Time")),
            "mean_bytes": _number(row.get("Average Content Size")),
        }
    return table


def parse_failures_csv(text: str) -> list[dict[str, Any]]:
    """``<prefix>_failures.csv``: one entry per (command, error) with its occurrences."""
    return [
        {"command": f"{row['Method']} {row['Name']}", "error": row["Error"], "count": int(row["Occurrences"])}
        for row in csv.DictReader(io.StringIO(text))
    ]


def _number(value: str | None) -> float | None:
    if value in (None, "", "N/A"):
        return None
    return float(value)


def read_records(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """Every JSON line of the workers' record files; a last line cut short (a worker killed
    while writing) is left out."""
    records = []
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


@dataclass(frozen=True)
class OwnFigures:
    """What the users' own records say about a level."""

    commands: dict[str, dict[str, float]]  # by "<protocol> <command>", as parse_stats_csv
    errors_by_kind: dict[str, int]  # "<protocol> <command>: <exception type>" -> count
    latencies_ms: list[float]  # every command that finished, errors included
    received: dict[str, float]  # injected message id -> first time (epoch s) a device had it
    bytes_up: int
    bytes_down: int
    users_seen: int


def own_figures(records: Iterable[dict[str, Any]], since: float | None = None) -> OwnFigures:
    """Summarise the records (``kind`` "cmd" or "mail"); with ``since``, only commands that
    ended at or after that time (epoch s)."""
    latencies: dict[str, list[float]] = defaultdict(list)
    failures: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    received: dict[str, float] = {}
    users = set()
    up = down = 0
    for record in records:
        if record.get("kind") == "mail":
            seen = received.get(record["id"])
            if seen is None or record["at"] < seen:
                received[record["id"]] = record["at"]
            continue
        if since is not None and record["at"] < since:
            continue
        key = f"{record['protocol']} {record['command']}"
        latencies[key].append(record["ms"])
        users.add(record.get("user"))
        up += record.get("up", 0)
        down += record.get("down", 0)
        if record.get("error"):
            failures[key] += 1
            errors[f"{key}: {record['error'].split(':')[0]}"] += 1
    commands = {key: _summary(values, failures[key]) for key, values in sorted(latencies.items())}
    every = [value for values in latencies.values() for value in values]
    if every:
        commands[AGGREGATED] = _summary(every, sum(failures.values()))
    return OwnFigures(commands, dict(errors), every, received, up, down, len(users))


def locust_rounded(ms: float) -> float:
    """A response time as Locust keeps it in its histogram (locust/stats.py,
    ``_log_response_time``): whole ms below 100, tens below 1,000, hundreds below 10,000."""
    if ms < 100:
        return float(round(ms))
    if ms < 1000:
        return float(round(ms, -1))
    if ms < 10000:
        return float(round(ms, -2))
    return float(round(ms, -3))


def locust_percentile(values: list[float], percent: float) -> float:
    """The percentile as Locust computes it from its histogram of rounded times
    (``calculate_response_time_percentile``): from the slowest down, the first time at which
    no more than ``percent`` of the requests are left. It differs from an interpolated
    percentile where few requests lie far apart; the agreement check compares like with like."""
    histogram = Counter(locust_rounded(value) for value in values)
    wanted = int(len(values) * percent)
    processed = 0
    for time_ms in sorted(histogram, reverse=True):
        processed += histogram[time_ms]
        if len(values) - processed <= wanted:
            return time_ms
    return 0.0


def _summary(values: list[float], failures: int) -> dict[str, float]:
    p50, p95, p99 = (float(v) for v in np.percentile(values, PERCENTILES))
    return {"count": len(values), "failures": failures, "p50_ms": round(p50, 3), "p95_ms": round(p95, 3),
            "p99_ms": round(p99, 3), "mean_ms": round(float(np.mean(values)), 3), "max_ms": round(max(values), 3),
            "p50_ms_as_locust": locust_percentile(values, 0.50), "p95_ms_as_locust": locust_percentile(values, 0.95)}


def agreement(locust: dict[str, dict[str, float]], own: dict[str, dict[str, float]]) -> dict[str, Any]:
    """Whether the two paths agree: each command's count equal, and its p50 and p95 within
    Locust's rounding (``AGREE_MS`` plus ``AGREE_SHARE``). ``differences`` lists each
    disagreement in words; ``agree`` is True when there is none."""
    differences = []
    for key in sorted(set(locust) | set(own)):
        theirs, ours = locust.get(key), own.get(key)
        if theirs is None or ours is None:
            differences.append(f"{key}: only in {'Locust' if ours is None else 'the users records'}")
            continue
        if theirs["count"] != ours["count"]:
            differences.append(f"{key}: {theirs['count']} commands in Locust, {ours['count']} in the records")
        for name in ("p50_ms", "p95_ms"):
            # the records' percentile computed Locust's way where it was (files of earlier runs: not)
            a, b = theirs.get(name), ours.get(f"{name}_as_locust", ours.get(name))
            if a is not None and b is not None and abs(a - b) > AGREE_MS + AGREE_SHARE * max(a, b):
                differences.append(f"{key}: {name} {a:g} in Locust, {b:g} in the records")
    return {"agree": not differences, "differences": differences}


def delays(sent: dict[str, float], received: dict[str, float]) -> tuple[list[float], list[str]]:
    """Each injected message's delay to its first device (s), and the ids no device received."""
    arrived, missing = [], []
    for message_id, at in sent.items():
        if message_id in received:
            arrived.append(max(0.0, received[message_id] - at))
        else:
            missing.append(message_id)
    return arrived, missing


def delay_summary(values: list[float]) -> dict[str, float]:
    """Percentiles of new-mail delays, in seconds."""
    if not values:
        return {}
    p50, p95, p99 = (float(v) for v in np.percentile(values, PERCENTILES))
    return {"p50_s": round(p50, 3), "p95_s": round(p95, 3), "p99_s": round(p99, 3), "max_s": round(max(values), 3)}
