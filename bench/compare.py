"""Two runs compared: which figures changed, judged so that unchanged code compares clean.

    from bench.results import load
    from bench.compare import compare_runs
    comparison = compare_runs(load(old_path), load(new_path))  # threshold_pct=DEFAULT_THRESHOLD_PCT
    print("\\n".join(comparison.lines()))
    comparison.write(out_dir)                     # comparison.md
    comparison.exit_code                          # 1 on a regression, else 0

Cells are matched by id (``scenario/server/mode/variant/tls-…[/link]``): a cell over
satellite is compared only with the same cell over satellite. A figure of a client policy
(``CellResult.by_policy``) is compared as a row of its own, named ``latency_ms [poll_1s]``,
and judged by its metric's name. docs/compare.md says what is judged and how; in short:

- **Exact figures** (bytes, round trips, connections, message counts, outcome counts such
  as messages lost or states wrong, shares computed from the seeded timeline) are compared
  exactly: any change of the value is reported, a regression when it is worse in the
  metric's direction. A figure is exact when its name is not of a noisy kind *and* its
  samples are identical in every cell of both runs with the same scenario, server, mode
  and TLS (Dovecot ends its IMAP answers with the time the command took, so its IMAP byte
  counts can vary by a few bytes between samples; those are then judged as noisy). Messages lost,
  missing, duplicated or partial and states wrong are always exact, on the worst sample.
- **Noisy figures** (times, CPU, rates, memory growth, efficiency, latencies, and exact
  kinds whose samples varied) are changed only when three tests agree: Welch's t-test on
  the logarithms, Benjamini–Hochberg-corrected over every noisy figure that can be judged;
  a two-sided Mann–Whitney U at the same α (which 3 samples against 3 can never pass, so
  with ``--repeat 3`` no timing change is claimed, and the output says so); and medians at
  least ``threshold_pct`` apart (``change_size_pct``: the larger of new/old and old/new,
  less 1). A memory change is listed, never counted as a regression.
- **Machines**: when the runs' environments differ in what can move timings (machine,
  boot, Python, Docker, client libraries, base image), noisy changes are listed as
  "changed, machine differs" and never counted as regressions; exact figures still are.

A cell that succeeded in the old run and failed in the new one is a regression; cells found
in one run only are listed. ``exit_code`` is 1 only on a regression.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import UsageError
from bench.report import markdown, units
from bench.report.document import BulletList, Code, Document, Paragraph, Section, Strong, Table, Text, text
from bench.report.stats import ALPHA, NoiseTest, adjust_p_values, noise_test
from bench.results import CellResult, Results

DEFAULT_THRESHOLD_PCT = 175.0
RECOMMENDED_REPEAT = 5

# Metrics that are not results of the protocol: never compared.
NOT_COMPARED = {
    "limit_s": "a perfect protocol's time on the link, derived from the bytes: not a measurement",
    "delivery_messages_per_s": "the corpus's delivery: setup, not the measured sync",
}
# A word of the name (split at "_") that makes a figure noisy: times, rates, CPU, memory,
# efficiency (a time ratio), latencies. Every other figure is of an exact kind.
NOISY_WORDS = frozenset({"s", "ms", "cpu", "mb", "rss", "mem", "efficiency", "latency"})

HIGHER_IS_BETTER = frozenset({
    "messages_per_s", "mb_per_s", "efficiency", "kept_through_fault", "whole_on_device", "changes_seen",
    "changes_seen_share", "other_device_messages_share", "pushed_share",
})
HIGHER_IS_BETTER_PREFIXES = ("consistency_", "readable_offline_share", "listed_offline_share")
LOWER_IS_BETTER = frozenset({
    "round_trips", "connections", "client_rss_growth_mb", "server_mem_delta_mb",
    "client_peak_rss_mb", "server_mem_mb",  # in files written before the two above replaced them
    "messages_lost", "messages_missing", "messages_duplicated", "messages_partial", "messages_lost_with_device",
    "states_wrong", "recover_attempts", "recover_refused", "refetched", "actions_impossible",
    "offline_actions_impossible", "sessions_still_listing_removed_mail", "messages_listed_then_gone",
    "change_visible_rounds_median", "missed",
})
LOWER_IS_BETTER_PREFIXES = ("bytes_", "wire_bytes_", "exposed_", "device_exposed_")
# Messages a protocol lost or got wrong: always judged exactly, on the worst sample, even when
# they vary between samples (a fault's timing can make them vary): one more is a regression.
OUTCOME_COUNTS = frozenset({
    "messages_lost", "messages_missing", "messages_duplicated", "messages_partial", "messages_lost_with_device",
    "states_wrong",
})
# Byte counts that are sizes of what was stored or sent, not a cost of the protocol.
NO_DIRECTION_PREFIXES = ("message_bytes", "first_bytes", "server_disk", "server_store", "server_message_file",
                         "server_state")
# Plan entries that say what ran; a difference in them is worth a line above the changes.
PLAN_KEYS_SKIPPED = frozenset({"cells"})

# What can move timings, beside the code: the machine (``environment.machine``) ...
MACHINE_KEYS = (("platform", "platform"), ("processor", "processor"), ("cpu_model", "CPU model"),
                ("cpus", "CPUs"), ("memory_bytes", "memory bytes"), ("kernel", "kernel"), ("boot_id", "boot id"))
# ... and the software around it.
LIBRARIES_ON_MEASURED_PATH = ("imapclient", "docker")

UNCHANGED, WITHIN_NOISE, CANNOT_TELL = "unchanged", "within the noise", "cannot tell"
REGRESSION, IMPROVEMENT, CHANGED = "regression", "improvement", "changed"
MACHINE_DIFFERS, ENVIRONMENT_DIFFERS = "changed, machine differs", "changed, environment differs"
MEMORY_CHANGED = "changed, memory (not counted)"
FOUND = frozenset({REGRESSION, IMPROVEMENT, CHANGED, MACHINE_DIFFERS, ENVIRONMENT_DIFFERS, MEMORY_CHANGED})
# Words of a memory figure's name. Memory is noisy, and what a sample's memory grows by also
# depends on what the process and the server did before it (the allocator's free lists, the
# page cache): between two runs of the same code on one machine it moved by several times,
# consistently across a cell's samples (docs/compare.md). So a memory change is listed, never
# counted as a regression.
MEMORY_WORDS = frozenset({"rss", "mem"})


def direction(metric: str) -> int | None:
    """-1 when lower is better, +1 when higher is better, ``None`` when neither."""
    if metric in NOT_COMPARED or metric.startswith(NO_DIRECTION_PREFIXES):
        return None
    words = set(metric.split("_"))
    if metric in HIGHER_IS_BETTER or metric.startswith(HIGHER_IS_BETTER_PREFIXES) or metric.endswith("_per_s"):
        return 1
    if (metric in LOWER_IS_BETTER or metric.startswith(LOWER_IS_BETTER_PREFIXES) or "round_trips" in metric
            or words & {"bytes", "s", "ms", "cpu", "latency"}):
        return -1
    return None


def compared(metric: str) -> bool:
    return metric not in NOT_COMPARED


def noisy_kind(metric: str) -> bool:
    """Whether the metric's name says it is a time, rate, CPU, memory or latency figure."""
    return bool(set(metric.split("_")) & NOISY_WORDS)


def memory_kind(metric: str) -> bool:
    """Whether the metric is a memory figure (noisy, and listed but not counted when it changes)."""
    return bool(set(metric.split("_")) & MEMORY_WORDS)


@dataclass(frozen=True)
class Change:
    """One figure of one cell (a metric, of the whole sample or of a client policy), old run
    against new, and the verdict on it."""

    cell_id: str
    metric: str
    old_median: float
    new_median: float
    change_pct: float  # (new - old) / old × 100; infinite when old is 0 and new is not
    exact: bool  # judged as an exact figure (else against the noise of the samples)
    verdict: str  # unchanged, within the noise, cannot tell, regression, improvement, changed, changed, …
    test: str = ""  # how it was judged
    n_old: int = 0
    n_new: int = 0
    p_value: float | None = None  # noisy figures: Welch's t-test's p, before the correction
    adjusted_p: float | None = None  # ... and after it (Benjamini–Hochberg); None when not judged
    policy: str | None = None  # the client policy the figure is of; None: the whole sample's

    @property
    def label(self) -> str:
        """The figure as the comparison names it: ``elapsed_s``; ``latency_ms [poll_1s]``."""
        return figure_label((self.metric, self.policy))

    @property
    def significant(self) -> bool:
        """Reported as a change: an exact figure that differs, or a noisy one beyond the noise."""
        return self.verdict in FOUND

    @property
    def regression(self) -> bool:
        return self.verdict == REGRESSION

    @property
    def improvement(self) -> bool:
        return self.verdict == IMPROVEMENT


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
    machine_differences: list[str] = field(default_factory=list)  # the machine itself
    environment_differences: list[str] = field(default_factory=list)  # software that can move timings
    code: str | None = None  # the commits the two runs' code came from

    @property
    def timings_comparable(self) -> bool:
        """Whether noisy changes can count as regressions: same machine, boot and software."""
        return not self.machine_differences and not self.environment_differences

    @property
    def significant(self) -> list[Change]:
        return [change for change in self.changes if change.significant]

    @property
    def regressions(self) -> list[Change | StatusChange]:
        return [c for c in self.status_changes if c.regression] + [c for c in self.changes if c.regression]

    @property
    def improvements(self) -> list[Change | StatusChange]:
        return [c for c in self.status_changes if not c.regression] + [c for c in self.changes if c.improvement]

    @property
    def other_changes(self) -> list[Change]:
        """Changes that are neither: no direction, memory, or noisy while the machines differ."""
        return [c for c in self.changes if c.significant and not c.regression and not c.improvement]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0

    @property
    def noisy_judged(self) -> int:
        """Noisy figures whose sample counts let them be judged: the family of the correction."""
        return sum(1 for c in self.changes if not c.exact and c.verdict != CANNOT_TELL)

    def _method(self) -> str:
        return (f"exact figures: any change; noisy figures: Welch's t on logarithms, Benjamini–Hochberg over the "
                f"{self.noisy_judged} judged, and Mann–Whitney U, both at α = {ALPHA}, and medians "
                f"{units.number(self.threshold_pct)}% apart or more")

    def machine_line(self) -> str | None:
        """What tells the two runs' machines or software apart, and what follows; ``None`` if nothing."""
        parts = []
        if self.machine_differences:
            parts.append("the two runs ran on different machines: " + "; ".join(self.machine_differences))
        if self.environment_differences:
            parts.append(("and in different environments: " if parts else "the two runs ran in different "
                          "environments: ") + "; ".join(self.environment_differences))
        if not parts:
            return None
        label = MACHINE_DIFFERS if self.machine_differences else ENVIRONMENT_DIFFERS
        return (", ".join(parts) + f". Timing changes are listed as \"{label}\", not counted as regressions; "
                "exact figures are judged as usual.")

    def cannot_tell_line(self) -> str | None:
        """The note for noisy figures whose sample counts let no change be told from noise."""
        few = [c for c in self.changes if c.verdict == CANNOT_TELL]
        if not few:
            return None
        counts = sorted({(c.n_old, c.n_new) for c in few})
        if all(a == b for a, b in counts):
            samples = " or ".join(str(a) for a, _ in counts)
        else:
            samples = " or ".join(f"{a} against {b}" for a, b in counts)
        noisy = sum(1 for c in self.changes if not c.exact)
        if len(few) == noisy:
            return (f"with {samples} samples per cell no timing change can be told from noise; "
                    f"use --repeat {RECOMMENDED_REPEAT} or more")
        return (f"{len(few)} of {noisy} noisy figures have {samples} samples per cell: for them no change can be "
                f"told from noise; use --repeat {RECOMMENDED_REPEAT} or more")

    def lines(self) -> list[str]:
        """What a terminal shows: the machines first, then only what changed, regressions first."""
        out = [f"run {self.old_run_id} → run {self.new_run_id} ({self._method()})"]
        notes = [self.machine_line(), self.code and f"code: {self.code}", self.cannot_tell_line()]
        out += [note for note in notes if note]
        out += [f"the runs differ in {difference}" for difference in self.plan_differences]
        for label, found in (("REGRESSION", self.regressions), ("improvement", self.improvements)):
            out += [f"{label}  {_line(change)}" for change in found]
        out += [f"{change.verdict}  {_line(change)}" for change in self.other_changes]
        out += [f"only in run {self.old_run_id}: {cell_id}" for cell_id in self.only_old]
        out += [f"only in run {self.new_run_id}: {cell_id}" for cell_id in self.only_new]
        out.append(self._summary())
        return out

    def _summary(self) -> str:
        exact = [c for c in self.changes if c.exact]
        noisy = [c for c in self.changes if not c.exact]
        counts = (f"{len(self.changes)} figures compared: {len(exact)} exact, {sum(c.significant for c in exact)} "
                  f"changed; {len(noisy)} noisy, {self.noisy_judged} judged, {sum(c.significant for c in noisy)} "
                  f"beyond the noise")
        if not self.regressions and not self.improvements and not self.other_changes:
            return f"no change beyond the noise ({counts})"
        return f"{len(self.regressions)} regressions ({counts})"

    def document(self) -> Document:
        document = Document(
            title=f"mailbench comparison: run {self.old_run_id} → run {self.new_run_id}",
            intro=[Paragraph(text(
                f"Every cell the two runs share, compared figure by figure: {len(self.changes)} figures. Exact "
                "figures (bytes, round trips, counts) are reported at any change; noisy ones (times, rates, CPU, "
                f"memory) only beyond the noise of the samples ({self._method()}). See docs/compare.md."
            ))],
        )
        notes = [self.machine_line(), self.code and f"Code: {self.code}.", self.cannot_tell_line()]
        if any(notes):
            document.sections.append(Section("Before reading", [Paragraph(text(_sentence(n))) for n in notes if n]))
        if self.plan_differences:
            document.sections.append(Section("The runs differ", [Paragraph(text(
                "The two runs were not made alike, so a change below may come from that: ",
                "; ".join(self.plan_differences), ".",
            ))]))
        for title, found in (("Regressions", self.regressions), ("Improvements", self.improvements),
                             ("Other changes", self.other_changes)):
            blocks = [_changes_table(found)] if found else [Paragraph(text("None."))]
            document.sections.append(Section(title, blocks))
        if self.only_old or self.only_new:
            rows = [(text(Code(c)), text(f"run {self.old_run_id} only")) for c in self.only_old]
            rows += [(text(Code(c)), text(f"run {self.new_run_id} only")) for c in self.only_new]
            document.sections.append(Section("Cells in one run only", [Table(("cell", "found in"), tuple(rows))]))
        document.sections.append(Section("Summary", [BulletList((text(self._summary()),))]))
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


def _sentence(words: str) -> str:
    words = words[0].upper() + words[1:]
    return words if words.endswith(".") else words + "."


def _percent(change_pct: float) -> str:
    if math.isinf(change_pct):
        return "new (was 0)"
    return f"{change_pct:+.1f}%"


def _figure(value: float) -> str:
    """Whole numbers in full (a byte more shows), others to three significant digits."""
    return str(int(value)) if float(value).is_integer() else units.number(value)


def _line(change: Change | StatusChange) -> str:
    if isinstance(change, StatusChange):
        error = f": {change.error}" if change.error else ""
        return f"{change.cell_id}  {change.old_status} → {change.new_status}{error}"
    return (f"{change.cell_id}  {change.label}  {_figure(change.old_median)} → {_figure(change.new_median)}  "
            f"{_percent(change.change_pct)}  ({change.test})")


def _changes_table(found: list[Change | StatusChange]) -> Table:
    rows: list[tuple[Text, ...]] = []
    for change in found:
        if isinstance(change, StatusChange):
            rows.append((text(Code(change.cell_id)), text("status"), text(change.old_status),
                         text(Strong(change.new_status)), text("—"), text(change.error or "—")))
        else:
            rows.append((text(Code(change.cell_id)), text(Code(change.label)), text(_figure(change.old_median)),
                         text(_figure(change.new_median)), text(_percent(change.change_pct)), text(change.test)))
    return Table(("cell", "metric", "old median", "new median", "change", "judged by"), tuple(rows),
                 (False, False, True, True, True, False))


# --- Judging ---------------------------------------------------------------------------------

Figure = tuple[str, str | None]  # a metric, and the client policy it is of (None: the whole sample's)
Group = tuple[str, str, str, str, Figure]  # scenario, server, mode, tls, figure


def figure_label(figure: Figure) -> str:
    """A figure as a comparison names it: the metric, with a client policy's in brackets."""
    metric, policy = figure
    return metric if policy is None else f"{metric} [{policy}]"


def _values(cell: CellResult, figure: Figure) -> list[float]:
    return cell.values(*figure)


def _figures(cell: CellResult) -> list[Figure]:
    """Every figure of the cell: the whole sample's, then each policy's, by metric name."""
    found = [(name, None) for name in cell.metric_names()]
    found += [(name, policy) for policy in cell.policies() for name in cell.metric_names(policy)]
    return sorted(found, key=lambda figure: (figure[0], figure[1] or ""))


def _varying(results: Results) -> set[Group]:
    """Groups of cells (same scenario, server, mode and TLS) in which a figure's samples
    were not all identical in some cell."""
    found: set[Group] = set()
    for cell in results.cells:
        if not cell.ok:
            continue
        for figure in _figures(cell):
            if len(set(_values(cell, figure))) > 1:
                found.add((cell.scenario, cell.server, cell.mode, cell.tls, figure))
    return found


def _median(cell: CellResult, figure: Figure) -> float:
    values = _values(cell, figure)
    median = statistics.median(values)  # as the results file's summary has it
    if float(median).is_integer() and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return int(median)  # a count stays a count
    return median


def _change_pct(before: float, after: float) -> float:
    if before == after:
        return 0.0
    if before == 0:
        return math.inf
    return (after - before) / abs(before) * 100


def change_size_pct(before: float, after: float) -> float:
    """How far apart two medians are, the same way up and down: the larger of new/old and
    old/new, less 1, in percent (twice or half the time: 100 %; a rate that fell to 1/3:
    200 %, as the time that tripled). Where a median is not positive, the plain relative change."""
    if before > 0 and after > 0:
        return (max(after / before, before / after) - 1) * 100
    return abs(_change_pct(before, after))


def _sign_verdict(sign: int | None, before: float, after: float) -> str:
    if sign is None:
        return CHANGED
    return REGRESSION if (after - before) * sign < 0 else IMPROVEMENT


@dataclass
class _Pending:
    """A noisy figure waiting for the correction over all of them."""

    cell_id: str
    figure: Figure
    before: float
    after: float
    n_old: int
    n_new: int
    test: NoiseTest
    why: str


def _exact(old: CellResult, new: CellResult, figure: Figure, worst: bool = False) -> Change:
    """An exact figure: its median (identical samples: their value), or with ``worst`` its
    worst sample; any difference is a change."""
    metric, policy = figure
    if worst:
        before, after, how = max(_values(old, figure)), max(_values(new, figure)), "exact, worst sample"
    else:
        before, after, how = _median(old, figure), _median(new, figure), "exact"
    verdict = UNCHANGED if before == after else _sign_verdict(direction(metric), before, after)
    return Change(old.id, metric, before, after, _change_pct(before, after), True, verdict, how,
                  len(_values(old, figure)), len(_values(new, figure)), policy=policy)


def _judge(pending: list[_Pending], adjusted: dict[int, float], threshold_pct: float,
           timing_label: str | None) -> list[Change]:
    changes = []
    for index, figure in enumerate(pending):
        (metric, policy), test, pct = figure.figure, figure.test, _change_pct(figure.before, figure.after)
        if index not in adjusted:
            verdict, how = CANNOT_TELL, f"{figure.why}; {figure.n_old} against {figure.n_new} samples: cannot tell"
        else:
            scale = "logs" if test.on_logs else "values"
            how = (f"{figure.why}; Welch on {scale} p = {test.p_value:.2g}, adjusted {adjusted[index]:.2g}, "
                   f"Mann–Whitney p = {test.rank_p:.2g}")
            beyond = adjusted[index] < ALPHA and test.rank_p is not None and test.rank_p < ALPHA
            if not (beyond and change_size_pct(figure.before, figure.after) >= threshold_pct):
                verdict = WITHIN_NOISE
            else:
                verdict = _sign_verdict(direction(metric), figure.before, figure.after)
                if memory_kind(metric):
                    verdict = MEMORY_CHANGED
                elif timing_label is not None:
                    verdict = timing_label
        changes.append(Change(figure.cell_id, metric, figure.before, figure.after, pct, False, verdict, how,
                              figure.n_old, figure.n_new, test.p_value, adjusted.get(index), policy))
    return changes


# --- Environments ----------------------------------------------------------------------------

def _machine_differences(old: Results, new: Results) -> list[str]:
    before, after = old.environment.get("machine"), new.environment.get("machine")
    if not isinstance(before, dict) or not isinstance(after, dict):
        missing = [f"run {r.run_id}" for r, m in ((old, before), (new, after)) if not isinstance(m, dict)]
        return [f"the machine is not recorded in {' and '.join(missing)}"]
    found = []
    for key, label in MACHINE_KEYS:
        a, b = before.get(key), after.get(key)
        if a == b:
            continue  # the same, or recorded in neither (files written before it was)
        if a is None or b is None:
            found.append(f"{label} recorded in run {(new if a is None else old).run_id} only")
        elif key == "boot_id":
            found.append("boot id differs (another machine, or the same one rebooted)")
        else:
            found.append(f"{label} {a} → {b}")
    return found


def _base_image(env: dict[str, Any]) -> str | None:
    image = env.get("base_image")
    if not isinstance(image, dict):
        return None if image is None else str(image)
    source = str(image.get("source", "")).removeprefix("cached, ")  # a cached image is the one it was made as
    return f"{image.get('ref')} ({source})"


def _environment_differences(old: Results, new: Results) -> list[str]:
    a, b = old.environment, new.environment
    pairs = [("Python", a.get("python"), b.get("python")),
             ("Docker", (a.get("docker") or {}).get("server"), (b.get("docker") or {}).get("server")),
             ("base image", _base_image(a), _base_image(b))]
    pairs += [(name, (a.get("libraries") or {}).get(name), (b.get("libraries") or {}).get(name))
              for name in LIBRARIES_ON_MEASURED_PATH]
    return [f"{label} {_short(before)} → {_short(after)}" for label, before, after in pairs if before != after]


def _code(old: Results, new: Results) -> str | None:
    def described(results: Results) -> str:
        checkout = results.environment.get("checkout")
        if not isinstance(checkout, dict) or not checkout.get("commit"):
            return "not recorded"
        return f"commit {checkout['commit'][:12]}" + (" with local changes" if checkout.get("modified") else "")

    before, after = described(old), described(new)
    if before == after == "not recorded":
        return None
    return f"{before} in both runs" if before == after else f"{before} → {after}"


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
        return ", ".join(map(str, value)) or "none"
    return "not recorded" if value is None else str(value)


def compare_runs(old: Results, new: Results, *, threshold_pct: float = DEFAULT_THRESHOLD_PCT) -> Comparison:
    """Every shared cell's figures, old against new; see the module's docstring for the rules."""
    if not (threshold_pct >= 0 and math.isfinite(threshold_pct)):  # also refuses NaN
        raise UsageError(f"the threshold is a percentage of zero or more, not {threshold_pct}; "
                         f"try --threshold {units.number(DEFAULT_THRESHOLD_PCT)}")
    old_cells = {cell.id: cell for cell in old.cells}
    new_cells = {cell.id: cell for cell in new.cells}
    comparison = Comparison(
        old.run_id, new.run_id, threshold_pct,
        only_old=[cell_id for cell_id in old_cells if cell_id not in new_cells],
        only_new=[cell_id for cell_id in new_cells if cell_id not in old_cells],
        plan_differences=_plan_differences(old, new),
        machine_differences=_machine_differences(old, new),
        environment_differences=_environment_differences(old, new),
        code=_code(old, new),
    )
    varying_old, varying_new = _varying(old), _varying(new)
    pending: list[_Pending] = []
    for cell_id, before in old_cells.items():
        after = new_cells.get(cell_id)
        if after is None:
            continue
        if before.ok != after.ok:
            comparison.status_changes.append(StatusChange(cell_id, before.status, after.status, after.error))
            continue
        if not before.ok:
            continue
        shared = set(_figures(after))
        for figure in [f for f in _figures(before) if f in shared]:
            metric = figure[0]
            if not compared(metric):
                continue
            group = (before.scenario, before.server, before.mode, before.tls, figure)
            varied = [f"run {r}" for r, found in ((old.run_id, varying_old), (new.run_id, varying_new))
                      if group in found]
            if metric in OUTCOME_COUNTS or (not noisy_kind(metric) and not varied):
                comparison.changes.append(_exact(before, after, figure, worst=metric in OUTCOME_COUNTS))
                continue
            why = "noisy" if noisy_kind(metric) else f"varies between samples in {' and '.join(varied)}"
            a, b = _values(before, figure), _values(after, figure)
            pending.append(_Pending(cell_id, figure, _median(before, figure), _median(after, figure), len(a), len(b),
                                    noise_test(a, b), why))
    judged = [i for i, p in enumerate(pending) if p.test.rank_can_decide and p.test.p_value is not None]
    adjusted = dict(zip(judged, adjust_p_values([pending[i].test.p_value for i in judged])))
    timing_label = None
    if not comparison.timings_comparable:
        timing_label = MACHINE_DIFFERS if comparison.machine_differences else ENVIRONMENT_DIFFERS
    comparison.changes += _judge(pending, adjusted, threshold_pct, timing_label)
    return comparison
