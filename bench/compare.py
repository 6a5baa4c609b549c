"""Two runs compared: which figures changed beyond the noise of their repeats.

    from bench.results import load
    from bench.compare import compare_runs
    comparison = compare_runs(load(old_path), load(new_path), threshold_pct=10.0)
    print("\\n".join(comparison.lines()))
    comparison.write(out_dir)                     # comparison.md

Cells are matched by id (``scenario/server/mode/variant/tls-…[/link]``): a cell over
satellite is compared only with the same cell over satellite. Every metric with a direction
is compared: lower is better for times, bytes, round trips, CPU and memory; higher for
rates and for ``efficiency`` (the limit over the time taken). ``limit_s`` is not compared:
it is what a perfect protocol would need, computed from the link and the bytes, not a
figure the protocol achieved (a change in it shows in the bytes). A change counts when it is beyond the noise of both runs' samples
(``bench.report.stats.differs``: Mann–Whitney U where the sample counts let it reach
α = 0.05, else the min–max ranges must not overlap) *and* at least ``threshold_pct``.
A cell that succeeded in the old run and failed in the new one is a regression too;
cells found in one run only are listed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.report import markdown, units
from bench.report.cells import stat_of
from bench.report.document import Code, Document, Paragraph, Section, Strong, Table, Text, text
from bench.report.stats import ALPHA, differs
from bench.results import CellResult, Results

LOWER_IS_BETTER = frozenset({
    "elapsed_s", "round_trips", "client_cpu_s", "server_cpu_s", "client_peak_rss_mb", "server_mem_mb",
})
LOWER_IS_BETTER_PREFIXES = ("bytes_", "wire_bytes_")
HIGHER_IS_BETTER = frozenset({"messages_per_s", "mb_per_s", "efficiency"})
# Metrics that look like times or bytes but are not results of the protocol: never compared.
NOT_COMPARED = frozenset({
    "limit_s",  # a perfect protocol's time on the link, derived from the bytes: not a measurement
})
# Plan entries that say what ran; a difference in them is worth a line above the changes.
PLAN_KEYS_SKIPPED = frozenset({"cells"})


def direction(metric: str) -> int | None:
    """-1 when lower is better, +1 when higher is better, ``None`` when neither (not compared)."""
    if metric in NOT_COMPARED:
        return None
    if metric in LOWER_IS_BETTER or metric.startswith(LOWER_IS_BETTER_PREFIXES):
        return -1
    if metric in HIGHER_IS_BETTER:
        return 1
    return None


@dataclass(frozen=True)
class Change:
    """One metric of one cell, old run against new."""

    cell_id: str
    metric: str
    old_median: float
    new_median: float
    change_pct: float  # (new - old) / old × 100; infinite when old is 0 and new is not
    significant: bool  # beyond the noise of the samples and at least the threshold
    regression: bool  # significant, and worse in the metric's direction
    test: str = ""  # how the noise was judged

    @property
    def improvement(self) -> bool:
        return self.significant and not self.regression


@dataclass(frozen=True)
class StatusChange:
    """A cell that succeeded in one run and failed in the other."""

    cell_id: str
    old_status: str
    new_status: str
    error: str | None = None

    @property
    def regression(self) -> bool:
        return self.old_status == "ok" and self.new_status != "ok"


@dataclass
class Comparison:
    old_run_id: str
    new_run_id: str
    threshold_pct: float
    changes: list[Change] = field(default_factory=list)
    status_changes: list[StatusChange] = field(default_factory=list)
    only_old: list[str] = field(default_factory=list)
    only_new: list[str] = field(default_factory=list)
    plan_differences: list[str] = field(default_factory=list)

    @property
    def significant(self) -> list[Change]:
        return [change for change in self.changes if change.significant]

    @property
    def regressions(self) -> list[Change | StatusChange]:
        return [c for c in self.status_changes if c.regression] + [c for c in self.changes if c.regression]

    @property
    def improvements(self) -> list[Change | StatusChange]:
        return [c for c in self.status_changes if not c.regression] + [c for c in self.changes if c.improvement]

    def _method(self) -> str:
        return (f"threshold {units.number(self.threshold_pct)}%; noise: Mann–Whitney U at α = {ALPHA} where the "
                "sample counts allow it, else min–max ranges apart")

    def lines(self) -> list[str]:
        """What a terminal shows: only the changes beyond the noise, regressions first."""
        out = [f"run {self.old_run_id} → run {self.new_run_id} ({self._method()})"]
        out += [f"the runs differ in {difference}" for difference in self.plan_differences]
        for label, found in (("REGRESSION", self.regressions), ("improvement", self.improvements)):
            for change in found:
                if isinstance(change, StatusChange):
                    error = f": {change.error}" if change.error else ""
                    out.append(f"{label}  {change.cell_id}  {change.old_status} → {change.new_status}{error}")
                else:
                    out.append(f"{label}  {change.cell_id}  {change.metric}  {units.number(change.old_median)} → "
                               f"{units.number(change.new_median)}  {_percent(change.change_pct)}  ({change.test})")
        out += [f"only in run {self.old_run_id}: {cell_id}" for cell_id in self.only_old]
        out += [f"only in run {self.new_run_id}: {cell_id}" for cell_id in self.only_new]
        if not self.regressions and not self.improvements:
            out.append(f"no change beyond the noise ({len(self.changes)} figures compared)")
        return out

    def document(self) -> Document:
        document = Document(
            title=f"mailbench comparison: run {self.old_run_id} → run {self.new_run_id}",
            intro=[Paragraph(text(
                f"Every cell the two runs share, compared figure by figure: {len(self.changes)} figures with a "
                f"direction (lower or higher is better). A change is listed when it is beyond the noise of both "
                f"runs' samples and at least the threshold ({self._method()})."
            ))],
        )
        if self.plan_differences:
            document.sections.append(Section("The runs differ", [Paragraph(text(
                "The two runs were not made alike, so a change below may come from that: ",
                "; ".join(self.plan_differences), ".",
            ))]))
        for title, found in (("Regressions", self.regressions), ("Improvements", self.improvements)):
            blocks = [_changes_table(found)] if found else [Paragraph(text("None beyond the noise."))]
            document.sections.append(Section(title, blocks))
        if self.only_old or self.only_new:
            rows = [(text(Code(c)), text(f"run {self.old_run_id} only")) for c in self.only_old]
            rows += [(text(Code(c)), text(f"run {self.new_run_id} only")) for c in self.only_new]
            document.sections.append(Section("Cells in one run only", [Table(("cell", "found in"), tuple(rows))]))
        return document

    def render_markdown(self) -> str:
        return markdown.render(self.document())

    def write(self, out_dir: Path) -> Path:
        """Write ``comparison.md`` into ``out_dir`` (made if need be); returns its path."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / "comparison.md"
        path.write_text(self.render_markdown(), encoding="utf-8")
        return path


def _percent(change_pct: float) -> str:
    if math.isinf(change_pct):
        return "new (was 0)"
    return f"{change_pct:+.1f}%"


def _changes_table(found: list[Change | StatusChange]) -> Table:
    rows: list[tuple[Text, ...]] = []
    for change in found:
        if isinstance(change, StatusChange):
            rows.append((text(Code(change.cell_id)), text("status"), text(change.old_status),
                         text(Strong(change.new_status)), text("—"), text(change.error or "—")))
        else:
            rows.append((text(Code(change.cell_id)), text(change.metric), text(units.number(change.old_median)),
                         text(units.number(change.new_median)), text(_percent(change.change_pct)), text(change.test)))
    return Table(("cell", "metric", "old median", "new median", "change", "beyond the noise by"), tuple(rows),
                 (False, False, True, True, True, False))


def _compare_cell(old: CellResult, new: CellResult, threshold_pct: float) -> list[Change]:
    changes = []
    for metric in sorted(set(old.metrics()) & set(new.metrics())):
        sign = direction(metric)
        if sign is None:
            continue
        was, now = stat_of(old, metric), stat_of(new, metric)
        before, after = was.median, now.median
        if before == after:
            pct = 0.0
        elif before == 0:
            pct = math.inf
        else:
            pct = (after - before) / abs(before) * 100
        noise = differs(was.values, now.values)
        significant = noise.significant and abs(pct) >= threshold_pct
        worse = (after - before) * sign < 0
        changes.append(Change(old.id, metric, before, after, pct, significant, significant and worse, noise.describe()))
    return changes


def _plan_differences(old: Results, new: Results) -> list[str]:
    found = []
    for key in dict.fromkeys([*old.plan, *new.plan]):
        if key in PLAN_KEYS_SKIPPED or old.plan.get(key) == new.plan.get(key):
            continue
        before, after = old.plan.get(key), new.plan.get(key)
        if key == "links" and isinstance(before, dict) and isinstance(after, dict) and list(before) == list(after):
            changed = [name for name in before if before[name] != after[name]]
            found.append(f"links: the figures of {', '.join(changed)} changed")
            continue
        found.append(f"{key}: {_short(old.plan.get(key), key)} → {_short(new.plan.get(key), key)}")
    old_servers, new_servers = old.environment.get("servers", {}), new.environment.get("servers", {})
    for name in dict.fromkeys([*old_servers, *new_servers]):
        before, after = old_servers.get(name, {}).get("version"), new_servers.get(name, {}).get("version")
        if before and after and before != after:
            found.append(f"{name} version: {before} → {after}")
    return found


def _short(value: Any, key: str = "") -> str:
    if key == "links" and isinstance(value, dict):  # link → figures: the names say which links ran
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{k} {_short(v)}" for k, v in value.items() if k != "canonicalisation")
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return "not recorded" if value is None else str(value)


def compare_runs(old: Results, new: Results, *, threshold_pct: float = 10.0) -> Comparison:
    """Every shared cell's figures, old against new; see the module's docstring for the rules."""
    if not threshold_pct >= 0:  # also refuses NaN
        raise UsageError(f"the threshold is a percentage of zero or more, not {threshold_pct}; try --threshold 10")
    old_cells = {cell.id: cell for cell in old.cells}
    new_cells = {cell.id: cell for cell in new.cells}
    comparison = Comparison(
        old.run_id, new.run_id, threshold_pct,
        only_old=[cell_id for cell_id in old_cells if cell_id not in new_cells],
        only_new=[cell_id for cell_id in new_cells if cell_id not in old_cells],
        plan_differences=_plan_differences(old, new),
    )
    for cell_id, before in old_cells.items():
        after = new_cells.get(cell_id)
        if after is None:
            continue
        if before.ok != after.ok:
            comparison.status_changes.append(StatusChange(cell_id, before.status, after.status, after.error))
        elif before.ok:
            comparison.changes += _compare_cell(before, after, threshold_pct)
    return comparison
