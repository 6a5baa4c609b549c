"""Verdicts on the article's claims (``docs/claims.md``, C1–C11), from a run's results alone.

Each claim has one rule: a function taking the loaded ``Results`` and returning a
``Verdict``: ``supported``, ``refuted``, ``depends`` (with the condition: which modes,
servers, cache policies, links or parts of the claim it holds for), or ``not measured``
(naming what would decide it). ``judge(results)`` runs them all, in order; C11 is derived
from the others, one sentence per kind of user.

A rule tests what the article says, with the measures ``seed/CLAIMS.md`` lists, and every
rule can come out false: its unit tests feed it results in which the claim is true, false
and undecidable. A rule looks at *cases*: one comparison or one measurement ("on cyrus,
the IMAP devices of multi-device-sync missed no change in any round"). All cases hold:
supported; none: refuted; some: depends, and the condition names the fewest dimensions that
tell the two apart. Cells are compared only with cells of the same server, TLS setting and
link.

Three rules of evidence hold for every claim:

- A cell that failed because a device departed from what its protocol should deliver, or a
  download lost or changed a byte (an integrity failure), is evidence against a claim that
  the protocol keeps mail in sync or safe: it is never dropped as a missing cell. A cell
  that failed for another reason (a server that did not start, a time-out) decides nothing.
- A tie is never a win: "IMAP exposes more than POP3" and "POP3 exposes less than IMAP"
  both fail when the two are within ``TIE`` of each other.
- "Faster" is decided by a two-sided Mann–Whitney U test per comparison, corrected for the
  number of comparisons (Benjamini–Hochberg, ``scipy.stats.false_discovery_control``), and
  an effect of at least ``EFFECT``. With fewer than ``MIN_SPEED_SAMPLES`` samples a side, a
  comparison decides nothing: 3 against 3 cannot reach p < 0.05 even before the correction.

The metrics each rule reads are listed in ``docs/claims.md``.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import NamedTuple

from scipy import stats

from bench.modes import get_mode
from bench.protocols import IMAP, POP3
from bench.results import CellResult, Results

SUPPORTED = "supported"
REFUTED = "refuted"
DEPENDS = "depends"
NOT_MEASURED = "not measured"
OUTCOMES = (SUPPORTED, REFUTED, DEPENDS, NOT_MEASURED)

BULK = "bulk-fetch"
MULTI_DEVICE = "multi-device-sync"
OFFLINE = "offline-use"
INTERRUPTED = "interrupted-sync"
EXPOSURE = "storage-exposure"
MANY = "many-devices"

NONE = 1e-9  # a share or count at most this is zero
MOST = 0.5  # "most of the mailbox": more than half of it
KEPT = 0.9  # a store that holds at least this share of the downloaded bytes keeps the mail
TIE = 0.05  # two exposures within 5 % of the larger are a tie: neither side is more exposed
ALPHA = 0.05  # false discovery rate of the speed comparisons, after the correction
EFFECT = 0.10  # "faster" needs the slower side's median at least 10 % longer
MIN_SPEED_SAMPLES = 5  # per side; below it a speed comparison decides nothing
SEARCH_SHARE = 0.5  # "more flexible": IMAP answers a search with at most half POP3's bytes
CHANGE_KINDS = ("read", "flag", "move", "delete")  # changes of state, new mail apart

CLAIMS = {
    "C1": "IMAP lets a user read mail on any device and keeps the devices in sync, so nothing is missed or lost.",
    "C2": "With IMAP the mail stays on the server, and most of it can be read straight from any client; convenient.",
    "C3": "IMAP is faster and more flexible when handling large amounts of mail.",
    "C4": "IMAP needs the server online all the time, and server storage.",
    "C5": "An IMAP mailbox is easier to attack, because the server keeps the user's data.",
    "C6": "POP3 downloads the mail and then deletes it from the server, so it can be read only on the device "
          "that downloaded it.",
    "C7": "POP3 needs no per-user state on the server and works offline.",
    "C8": "A POP3 mailbox is harder to attack; its mail is safer.",
    "C9": "POP3 works on one device only; no multi-device sync.",
    "C10": "With POP3 the user must back up by hand, or mail deleted from the server is lost.",
    "C11": "Conclusion: IMAP for many devices and frequent use; POP3 for offline reading and security-minded users.",
}


class Figure(NamedTuple):
    """One figure behind a verdict, and the cells it comes from."""

    label: str
    value: str
    cell_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    claim_text: str
    verdict: str
    condition: str
    figures: list[Figure]
    deciding: Figure | None = None  # the one figure a reader needs first; the first figure if unset
    # Each part of a claim of several parts: aspect → (outcome, condition); "" for the whole.
    parts: dict[str, tuple[str, str]] = field(default_factory=dict)

    def part(self, aspect: str | None) -> tuple[str, str]:
        """A part's outcome and condition; the whole claim's for ``None`` or an unknown part."""
        if aspect is not None and aspect in self.parts:
            return self.parts[aspect]
        return self.verdict, self.condition

    @property
    def headline(self) -> Figure | None:
        return self.deciding or (self.figures[0] if self.figures else None)


@dataclass(frozen=True)
class _Case:
    """One comparison or measurement: where it was made, whether the claim held there,
    and, when it did not, why in a few words."""

    where: dict[str, str]
    holds: bool
    note: str = ""


@dataclass
class _Evidence:
    """The cases and figures a rule gathers, part by part."""

    cases: list[_Case] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    deciding: Figure | None = None
    case_figures: list[tuple[_Case, Figure]] = field(default_factory=list)

    def add(self, case: _Case, figure: Figure) -> None:
        self.cases.append(case)
        self.figures.append(figure)
        self.case_figures.append((case, figure))

    def decide(self, outcome: str) -> None:
        """The deciding figure: a case that holds for a supported claim, one that does not
        for a refuted one, one of each for a claim that depends."""
        held = next((f for c, f in self.case_figures if c.holds), None)
        failed = next((f for c, f in self.case_figures if not c.holds), None)
        if outcome == SUPPORTED:
            self.deciding = held
        elif outcome == REFUTED:
            self.deciding = failed
        elif held is not None and failed is not None:
            self.deciding = Figure(f"holds: {held.label}", f"{held.value}; not: {failed.label}: {failed.value}",
                                   held.cell_ids + failed.cell_ids)


# ---------------------------------------------------------------------------------------
# Reading the results


def _ran(results: Results, scenario: str) -> bool:
    return any(cell.scenario == scenario for cell in results.cells)


def _article_mode(mode: str) -> bool:
    """Whether the mode speaks one of the article's two protocols (a JMAP cell is evidence
    about JMAP, never about IMAP or POP3)."""
    return get_mode(mode).protocol in (IMAP, POP3)


def _cells(results: Results, scenario: str, modes: Iterable[str] | None = None) -> list[CellResult]:
    """The cells of ``scenario`` that succeeded, in ``modes`` (when None, every mode of IMAP
    and POP3)."""
    wanted = None if modes is None else set(modes)
    return [c for c in results.cells if c.scenario == scenario and c.ok
            and (c.mode in wanted if wanted is not None else _article_mode(c.mode))]


def _departed(results: Results, scenario: str, modes: Iterable[str]) -> list[CellResult]:
    """Cells that failed because a device or a download was wrong (an integrity failure):
    evidence against a claim of sync or safety, never a missing cell."""
    wanted = set(modes)
    return [c for c in results.cells if c.scenario == scenario and not c.ok and c.mode in wanted
            and c.integrity.get("passed") is False]


def _values(cell: CellResult, metric: str, policy: str | None = None) -> list[float]:
    return [float(value) for value in cell.values(metric, policy)]


def _median(cell: CellResult | None, metric: str, policy: str | None = None) -> float | None:
    """The median over the cell's samples, of the whole sample or of a client ``policy``."""
    values = _values(cell, metric, policy) if cell is not None else []
    return statistics.median(values) if values else None


def _worst(cell: CellResult, metric: str) -> float | None:
    values = _values(cell, metric)
    return max(values) if values else None


def _pop3(mode: str) -> bool:
    return get_mode(mode).protocol is POP3


def _where(cell: CellResult, **more: str) -> dict[str, str]:
    return {"server": cell.server, "mode": cell.mode, "variant": cell.variant, "tls": f"TLS {cell.tls}",
            "link": cell.link, **more}


def _same_place(cell: CellResult) -> tuple[str, str, str, str]:
    return cell.server, cell.variant, cell.tls, cell.link


def _pairs(cells: Sequence[CellResult]) -> list[tuple[CellResult, CellResult]]:
    """(imap cell, POP3 cell) of the same server, variant, TLS setting and link."""
    imap = {_same_place(c): c for c in cells if c.mode == "imap"}
    return [(imap[_same_place(c)], c) for c in cells if _pop3(c.mode) and _same_place(c) in imap]


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _number(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:.3g}"


def _bytes(value: float | None) -> str:
    if value is None:
        return "n/a"
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g} s"


def _per_server(cells: Sequence[CellResult], show: Callable[[CellResult], str]) -> str:
    """``dovecot 0, cyrus 0, courier 0``: one figure per server."""
    return ", ".join(f"{c.server} {show(c)}" for c in cells)


def _messages(results: Results) -> str:
    messages = results.plan.get("messages")
    return f"{messages} messages" if messages else "the run's mailbox"


# ---------------------------------------------------------------------------------------
# Judging cases


_NO_CASE = "holds in no case measured"
DIMENSIONS = ("aspect", "mode", "policy", "server", "variant", "tls", "link")
DIMENSION_NAMES = {"tls": "TLS setting", "aspect": "part of the claim", "policy": "client's cache policy"}
MAX_NAMED = 8


def _scope(cases: Sequence[_Case], dims: Sequence[str]) -> str:
    parts = []
    for dim in dims:
        seen = list(dict.fromkeys(c.where[dim] for c in cases if dim in c.where))
        if dim == "link" and seen == ["lan"]:
            continue  # a run on loopback alone: nothing to say about links
        if seen:
            parts.append(", ".join(seen))
    return "; ".join(parts)


def _names(keys: Sequence[str]) -> str:
    shown = ", ".join(keys[:MAX_NAMED])
    return shown + (f" and {len(keys) - MAX_NAMED} more" if len(keys) > MAX_NAMED else "")


def _split(cases: Sequence[_Case], dims: Sequence[str]) -> str:
    """The fewest dimensions (one or two) whose values tell the cases that hold from those
    that do not; failing that, the cases that hold, and why the others did not."""
    present = [d for d in dims if len({c.where.get(d) for c in cases}) > 1]
    for size in (1, 2):
        for combo in combinations(present, size):
            groups: dict[str, set[bool]] = {}
            for case in cases:
                key = " ".join(case.where.get(d, "") for d in combo).strip()
                groups.setdefault(key, set()).add(case.holds)
            if all(len(outcomes) == 1 for outcomes in groups.values()):
                yes = [k for k, v in groups.items() if v == {True}]
                no = [k for k, v in groups.items() if v == {False}]
                named = " and ".join(DIMENSION_NAMES.get(d, d) for d in combo)
                return f"depends on the {named}: holds for {_names(yes)}; not for {_names(no)}"
    yes = [" ".join(c.where.get(d, "") for d in present) for c in cases if c.holds]
    notes = Counter(c.note for c in cases if not c.holds and c.note)
    elsewhere = f"; elsewhere {', '.join(f'{note} in {n}' for note, n in notes.items())}" if notes else ""
    return f"holds in {len(yes)} of {len(cases)} cases ({_names(yes)}){elsewhere}"


def _judge(cases: Sequence[_Case], dims: Sequence[str] = DIMENSIONS) -> tuple[str, str]:
    held = sum(case.holds for case in cases)
    scope = _scope(cases, dims)
    if held == len(cases):
        return SUPPORTED, f"holds in every case measured ({scope})"
    if held == 0:
        notes = Counter(c.note for c in cases if c.note)
        why = f": {', '.join(f'{note} ({n})' for note, n in notes.most_common())}" if notes else ""
        return REFUTED, f"{_NO_CASE} ({scope}){why}"
    return DEPENDS, _split(cases, dims)


def _verdict(claim_id: str, outcome: str, condition: str, evidence: _Evidence | None = None,
             parts: dict[str, tuple[str, str]] | None = None) -> Verdict:
    if evidence is not None and evidence.deciding is None:
        evidence.decide(outcome)
    figures = list(evidence.figures) if evidence else []
    return Verdict(claim_id, CLAIMS[claim_id], outcome, condition, figures,
                   evidence.deciding if evidence else None, dict(parts or {}))


def _combined(outcomes: Sequence[str]) -> str:
    """Parts that all hold: supported; all fail: refuted; else depends."""
    if all(o == SUPPORTED for o in outcomes):
        return SUPPORTED
    if all(o == REFUTED for o in outcomes):
        return REFUTED
    return DEPENDS


def _decide(claim_id: str, evidence: _Evidence, dims: Sequence[str] = DIMENSIONS, more: str = "") -> Verdict:
    """The verdict from the cases; a claim of several parts (``aspect``) is judged part by
    part, and the condition says what each part came to."""
    aspects = list(dict.fromkeys(c.where.get("aspect", "") for c in evidence.cases))
    if len(aspects) < 2:
        outcome, condition = _judge(evidence.cases, dims)
        return _verdict(claim_id, outcome, condition + more, evidence)
    inner = [d for d in dims if d != "aspect"]
    parts = []
    for aspect in aspects:
        outcome, condition = _judge([c for c in evidence.cases if c.where.get("aspect", "") == aspect], inner)
        parts.append((aspect, outcome, condition))
    condition = "; ".join(f"{aspect}: {condition}" if outcome == DEPENDS else f"{aspect}: {outcome}, {condition}"
                          for aspect, outcome, condition in parts)
    return _verdict(claim_id, _combined([o for _, o, _ in parts]), condition + more, evidence,
                    {aspect: (outcome, condition) for aspect, outcome, condition in parts})


def _not_measured(claim_id: str, condition: str, evidence: _Evidence | None = None) -> Verdict:
    return _verdict(claim_id, NOT_MEASURED, condition, evidence)


# ---------------------------------------------------------------------------------------
# Shared readings


def changes_reached_samples(cell: CellResult, kinds: Sequence[str] = CHANGE_KINDS) -> list[float]:
    """Per sample, of the changes of ``kinds`` made on one device, the share that reached
    the other devices by the end: from each sample's last ``change_rounds`` entry, else
    from the mean of the ``changes_seen_share_<kind>`` metrics. A sample in which no such
    change was tracked (no other device showed the message to be changed) gives none."""
    shares = []
    for info, sample in zip(cell.sample_info or [{}] * len(cell.samples), cell.samples):
        rounds = info.get("change_rounds")
        if rounds:
            by_kind = rounds[-1].get("by_kind", {})
            made = sum(by_kind.get(k, {}).get("made", 0) for k in kinds)
            if made:
                shares.append(sum(by_kind.get(k, {}).get("reached", 0) for k in kinds) / made)
            continue
        found = [sample[f"changes_seen_share_{k}"] for k in kinds if f"changes_seen_share_{k}" in sample]
        if found:
            shares.append(statistics.mean(found))
    return shares


def changes_reached(cell: CellResult, kinds: Sequence[str] = CHANGE_KINDS) -> float | None:
    """The median over the samples of ``changes_reached_samples``; ``None`` when none."""
    shares = changes_reached_samples(cell, kinds)
    return statistics.median(shares) if shares else None


def _storage(cell: CellResult) -> str:
    return (f"{_bytes(_median(cell, 'server_disk_after_bytes'))} kept on the server after the sync, "
            f"{_bytes(_median(cell, 'server_state_bytes'))} of it indexes and state")


def _per_cell(evidence: _Evidence, cells: Sequence[CellResult], metric: str, judged: Callable[[str], bool],
              holds: Callable[[float], bool], note: str, describe: Callable[[CellResult, float], str]) -> None:
    """A case per cell of a judged mode whose ``metric`` was recorded (``holds`` of its
    median; ``note`` where it does not), and the other modes' cells as figures beside them."""
    for cell in cells:
        value = _median(cell, metric)
        if value is None:
            continue
        figure = Figure(f"{cell.server}, {cell.mode}, {cell.variant}", describe(cell, value), (cell.id,))
        if judged(cell.mode):
            evidence.add(_Case(_where(cell), holds(value), note), figure)
        else:
            evidence.figures.append(figure)


# ---------------------------------------------------------------------------------------
# The rules


def c1(results: Results) -> Verdict:
    """IMAP keeps devices in sync: after every session, a device shows every change and
    every message made before it (no *miss*, in any round), nothing is missing at the end,
    and a broken download loses, doubles or half-stores nothing."""
    evidence = _Evidence()
    for cell in _cells(results, MULTI_DEVICE, ["imap"]):
        misses, missing = _worst(cell, "sync_misses"), _worst(cell, "messages_missing")
        if misses is None:
            continue
        rounds, missed = _median(cell, "sync_rounds"), _worst(cell, "sync_miss_rounds")
        worst_round = _worst(cell, "sync_misses_worst_round")
        holds = misses <= NONE and (missing or 0) <= NONE
        figure = Figure(f"{cell.server}, {cell.variant}",
                        f"misses in {_number(missed)} of {_number(rounds)} rounds (worst round "
                        f"{_number(worst_round)}), {_number(missing)} messages missing at the end", (cell.id,))
        evidence.add(_Case(_where(cell, aspect="in sync"), holds, "changes missed"), figure)
    for cell in _departed(results, MULTI_DEVICE, ["imap"]):
        evidence.add(_Case(_where(cell, aspect="in sync"), False, "a device departed from IMAP's model"),
                     Figure(f"{cell.server}, {cell.variant}", f"failed: {cell.error}", (cell.id,)))
    broken = ("messages_lost", "messages_duplicated", "messages_partial")
    for cell in _cells(results, INTERRUPTED, ["imap"]):
        worst = [_worst(cell, m) for m in broken]
        if worst[0] is None:
            continue
        evidence.add(_Case(_where(cell, aspect="nothing lost"), all((v or 0) <= NONE for v in worst),
                           "mail lost, doubled or half-stored"),
                     Figure(f"{INTERRUPTED}: {cell.server}, {cell.variant}",
                            "lost / duplicated / partial (worst sample) " + " / ".join(map(_number, worst)),
                            (cell.id,)))
    for cell in _departed(results, INTERRUPTED, ["imap"]):
        evidence.add(_Case(_where(cell, aspect="nothing lost"), False, "a broken download lost or changed mail"),
                     Figure(f"{INTERRUPTED}: {cell.server}, {cell.variant}", f"failed: {cell.error}", (cell.id,)))
    if not evidence.cases:
        return _not_measured("C1", f"needs {MULTI_DEVICE} IMAP cells that record sync_misses (changes a device "
                                   "did not show after a session that could have brought them)")
    return _decide("C1", evidence, ("aspect", "server", "variant", "tls", "link"))


def c2(results: Results) -> Verdict:
    """A new IMAP device can read most of the mailbox straight away: the device that joins
    half-way shows more than half the intended mailbox after its first session; its time
    and bytes to get there, and POP3's, are the figures."""
    evidence = _Evidence()
    _per_cell(evidence, _cells(results, MULTI_DEVICE), "join_visible_share", lambda mode: mode == "imap",
              lambda share: share > MOST, "less than most of the mailbox on a new device",
              lambda cell, share: (f"a new device shows {_share(share)} of the mailbox after its first session, "
                                   f"readable whole {_share(_median(cell, 'join_readable_share'))}, in "
                                   f"{_seconds(_median(cell, 'join_s_per_session'))} and "
                                   f"{_bytes(_median(cell, 'join_bytes_down_per_session'))}"))
    for cell in _cells(results, OFFLINE, ["imap"]):
        for policy in IMAP.cache_policies:
            seconds = _median(cell, "ready_s", policy)
            if seconds is not None:
                evidence.figures.append(Figure(
                    f"{OFFLINE}: {cell.server}, {cell.variant}, cache {policy}",
                    f"first sync {_seconds(seconds)}, {_bytes(_median(cell, 'ready_bytes_down', policy))}",
                    (cell.id,)))
    if not evidence.cases:
        return _not_measured("C2", f"needs {MULTI_DEVICE} IMAP cells that record join_visible_share (a device "
                                   "that joins an existing mailbox)", evidence)
    return _decide("C2", evidence, ("server", "variant", "tls", "link"))


def _speed_cases(results: Results) -> tuple[list[tuple[_Case, Figure]], int]:
    """IMAP against the faster POP3 mode, per server, variant, TLS setting and link, by
    elapsed time: Mann–Whitney U per comparison, Benjamini–Hochberg over all of them, and
    an effect of at least ``EFFECT``. Returns the decided comparisons and how many there
    were in all (those with too few samples decide nothing)."""
    groups: dict[tuple[str, str, str, str], list[CellResult]] = {}
    for cell in _cells(results, BULK):
        if _values(cell, "elapsed_s"):
            groups.setdefault(_same_place(cell), []).append(cell)
    compared = []
    for place, cells in groups.items():
        imap = next((c for c in cells if c.mode == "imap"), None)
        pop3 = [c for c in cells if _pop3(c.mode)]
        if imap is None or not pop3:
            continue
        best = min(pop3, key=lambda c: _median(c, "elapsed_s"))
        a, b = _values(imap, "elapsed_s"), _values(best, "elapsed_s")
        if min(len(a), len(b)) < MIN_SPEED_SAMPLES:
            compared.append((imap, best, None))
            continue
        p = 1.0 if min(a) == max(a) == min(b) == max(b) else float(stats.mannwhitneyu(a, b).pvalue)
        compared.append((imap, best, p))
    tested = [item for item in compared if item[2] is not None]
    adjusted = stats.false_discovery_control([p for _, _, p in tested]) if tested else []
    decided = []
    for (imap, best, _), q in zip(tested, adjusted):
        t_imap, t_pop3 = _median(imap, "elapsed_s"), _median(best, "elapsed_s")
        ratio = t_pop3 / t_imap if t_imap else math.inf
        faster = q < ALPHA and ratio >= 1 + EFFECT
        slower = q < ALPHA and ratio <= 1 / (1 + EFFECT)
        note = "IMAP faster" if faster else ("POP3 faster" if slower else "no difference of 10 % beyond the noise")
        value = (f"imap {_seconds(t_imap)}, {best.mode} {_seconds(t_pop3)} ({best.mode}/imap {ratio:.2f}, "
                 f"corrected p = {q:.2g}): {note}; round trips {_number(_median(imap, 'round_trips'))} vs "
                 f"{_number(_median(best, 'round_trips'))}")
        figure = Figure(f"{imap.server}, {imap.variant}, TLS {imap.tls}, {imap.link}", value, (imap.id, best.id))
        decided.append((_Case(_where(imap, aspect="faster"), faster, note), figure))
    return decided, len(compared)


def c3(results: Results) -> Verdict:
    """IMAP is faster (bulk-fetch times, corrected for many comparisons, with an effect
    size) and more flexible (it answers a search with at most half the bytes POP3 must
    download to search), at the run's mailbox size and on its links."""
    if not _ran(results, BULK):
        return _not_measured("C3", f"needs {BULK}: full download, headers, new mail and search, IMAP against POP3, "
                                   "at growing mailbox sizes and on several links")
    evidence = _Evidence()
    decided, compared = _speed_cases(results)
    for case, figure in decided:
        evidence.add(case, figure)
    searches = [c for c in _cells(results, BULK) if c.variant == "search"]
    for imap, pop3 in _pairs(searches):
        a, b = _median(imap, "bytes_down"), _median(pop3, "bytes_down")
        if a is None or b is None:
            continue
        evidence.add(_Case(_where(pop3, aspect="flexible"), a <= SEARCH_SHARE * b, "search costs IMAP as much"),
                     Figure(f"search: {pop3.server}, TLS {pop3.tls}, {pop3.link}",
                            f"bytes to answer a search: imap {_bytes(a)}, {pop3.mode} {_bytes(b)}", (imap.id, pop3.id)))
    links = list(dict.fromkeys(c.link for c in results.cells if c.scenario == BULK))
    sizes = f"at one mailbox size ({_messages(results)}): growing sizes not measured"
    more = f"; {sizes}; links: {', '.join(links)}"
    if compared and not decided:
        more += (f"; speed undecided: {compared} comparisons with fewer than {MIN_SPEED_SAMPLES} samples a side "
                 "cannot be told from noise (run with --repeat 5 or more)")
    elif compared > len(decided):
        more += f"; {compared - len(decided)} of {compared} speed comparisons had too few samples to decide"
    if not searches:
        more += "; flexibility (search) not run"
    if not evidence.cases:
        return _not_measured("C3", "no comparison decided" + more, evidence)
    verdict = _decide("C3", evidence, ("aspect", "variant", "server", "tls", "link"), more)
    if compared and not decided and verdict.verdict != REFUTED:
        # "faster and more flexible": with the speed undecided, only a refuted part decides
        return _not_measured("C3", f"faster: undecided; {verdict.condition}", evidence)
    return verdict


def _server_cost(results: Results, modes: Iterable[str]) -> list[Figure]:
    """What a user costs the server, from the many-devices cells of ``modes`` where the run
    had them: CPU per user-hour, memory per connection, per-user state on disk, and the
    users held per core. Figures only: they inform the claims, they decide none."""
    figures = []
    for cell in _cells(results, MANY, modes):
        levels = cell.info.get("levels") or []
        if not levels:
            continue
        last = levels[-1].get("figures", {})
        found = cell.info.get("capacity", {})
        figures.append(Figure(
            f"{MANY}: {cell.server}, {cell.mode}",
            f"server CPU {_number(_median(cell, 'server_cpu_s_per_user_hour') or last.get('server_cpu_s_per_user_hour'))} "
            f"s per user-hour, memory {_bytes(_median(cell, 'memory_bytes_per_connection'))} per connection, "
            f"per-user state {_bytes(last.get('state_bytes_per_user'))} on disk at {levels[-1].get('users')} users, "
            f"holds {_number(found.get('per_core'))} users per core", (cell.id,)))
    return figures


def c4(results: Results) -> Verdict:
    """IMAP needs the server online (an IMAP device reads less than most of its mailbox with
    no connection: depends on its cache policy) and server storage (the account keeps at
    least ``KEPT`` of the mail's bytes on the server after the device synced)."""
    evidence = _Evidence()
    for cell in _cells(results, OFFLINE, ["imap"]):
        for policy in reversed(IMAP.cache_policies):  # most kept first
            share = _median(cell, "readable_offline_share", policy)
            if share is None:
                continue
            evidence.add(_Case(_where(cell, aspect="needs the server online", policy=policy), share < MOST,
                               "most mail readable offline"),
                         Figure(f"{cell.server}, {cell.variant}, cache {policy}",
                                f"{_share(share)} of the mailbox readable with no connection", (cell.id,)))
    for cell in _cells(results, BULK, ["imap"]):
        after, downloaded = _median(cell, "server_disk_after_bytes"), _median(cell, "message_bytes")
        if cell.variant != "full" or after is None or not downloaded:
            continue
        evidence.add(_Case(_where(cell, aspect="needs server storage"), after >= KEPT * downloaded,
                           "mail not kept on the server"),
                     Figure(f"{cell.server}, TLS {cell.tls}, {cell.link}",
                            f"{_storage(cell)}, for {_bytes(downloaded)} of mail", (cell.id,)))
    evidence.figures += _server_cost(results, ["imap"])
    if not evidence.cases:
        return _not_measured("C4", f"needs {OFFLINE} (what each IMAP cache policy reads with no connection) "
                                   f"and {BULK} (the account's store on the server after a sync)", evidence)
    return _decide("C4", evidence, ("aspect", "policy", "server", "variant", "tls", "link"))


def _exposure(results: Results, metric: str, aspect: str) -> _Evidence:
    """Each POP3 cell of storage-exposure against the IMAP cell of the same place: the case
    holds when IMAP's ``metric`` is larger than POP3's by more than a tie (C5 reads it as
    "IMAP exposes more", C8 as "POP3 exposes less": the same test, so a tie fails both)."""
    evidence = _Evidence()
    for imap, pop3 in _pairs(_cells(results, EXPOSURE)):
        a, b = _median(imap, metric), _median(pop3, metric)
        if a is None or b is None:
            continue
        tie = abs(a - b) <= TIE * max(a, b, NONE)
        holds = not tie and a > b
        note = "a tie" if tie else "POP3 exposes more"
        evidence.add(_Case(_where(pop3, aspect=aspect), holds, note),
                     Figure(f"{aspect}: {pop3.server}, {pop3.mode}",
                            f"imap {_number(a)}, {pop3.mode} {_number(b)} message-hours", (imap.id, pop3.id)))
    return evidence


def _merge(*parts: _Evidence) -> _Evidence:
    merged = _Evidence()
    for part in parts:
        merged.cases += part.cases
        merged.figures += part.figures
        merged.case_figures += part.case_figures
    return merged


def c5(results: Results) -> Verdict:
    """IMAP exposes more to whoever holds the password (message-hours readable on the
    server, from each message's delivery to its deletion there) and to whoever holds a
    stolen device (message-hours readable whole on the device that holds most). "Easier to
    attack" (the attack surface) is not measured: the same logins guard both protocols."""
    if not _ran(results, EXPOSURE):
        return _not_measured("C5", f"needs {EXPOSURE}: message-hours readable with the password, per mode")
    evidence = _merge(_exposure(results, "exposed_message_hours", "password holder"),
                      _exposure(results, "device_exposed_message_hours", "stolen device"))
    if not evidence.cases:
        return _not_measured("C5", f"{EXPOSURE} ran, but no IMAP and POP3 cells of one server recorded "
                                   "exposed_message_hours")
    return _decide("C5", evidence, ("aspect", "mode", "server", "tls", "link"),
                   "; damage after a compromise only: how easy an account is to break into is not measured")


def c6(results: Results) -> Verdict:
    """POP3 mail can be read only on the device that downloaded it: of the mailbox, the
    share the other devices show (``other_device_messages_share``) is zero."""
    evidence = _Evidence()
    _per_cell(evidence, _cells(results, MULTI_DEVICE), "other_device_messages_share", _pop3, lambda share: share <= NONE,
              "mail on other devices too",
              lambda cell, share: f"other devices show {_share(share)} of the messages a device downloaded")
    for cell in _cells(results, EXPOSURE):
        if _pop3(cell.mode) and _median(cell, "exposed_messages") is not None:
            evidence.figures.append(Figure(f"{EXPOSURE}: {cell.server}, {cell.mode}",
                                           f"{_number(_median(cell, 'exposed_messages'))} messages readable on the "
                                           "server with the password at the end", (cell.id,)))
    if not evidence.cases:
        return _not_measured("C6", f"needs {MULTI_DEVICE} POP3 cells: messages visible per device", evidence)
    return _decide("C6", evidence, ("mode", "server", "variant", "tls", "link"))


def c7(results: Results) -> Verdict:
    """POP3 keeps no per-user state on the server (``server_state_bytes``: indexes, UID
    lists, flags left in the account after a POP3 sync, zero) and works offline (a POP3
    device reads all of its mailbox with no connection)."""
    evidence = _Evidence()
    for cell in _cells(results, BULK):
        state = _median(cell, "server_state_bytes")
        if cell.variant != "full" or state is None:
            continue
        figure = Figure(f"{cell.server}, {cell.mode}, TLS {cell.tls}, {cell.link}", _storage(cell), (cell.id,))
        if _pop3(cell.mode):
            evidence.add(_Case(_where(cell, aspect="no per-user state"), state <= NONE, "state kept per user"), figure)
        else:
            evidence.figures.append(figure)
    for cell in _cells(results, OFFLINE):
        share = _median(cell, "readable_offline_share", "full")
        if not _pop3(cell.mode) or share is None:
            continue
        evidence.add(_Case(_where(cell, aspect="works offline"), share >= 1 - NONE, "mail unreadable offline"),
                     Figure(f"{cell.server}, {cell.mode}, {cell.variant}",
                            f"{_share(share)} of the mailbox readable with no connection", (cell.id,)))
    evidence.figures += _server_cost(results, ("pop3-keep", "pop3-delete", "imap"))
    if not evidence.cases:
        return _not_measured("C7", f"needs {BULK} POP3 cells that record server_state_bytes, and {OFFLINE}",
                             evidence)
    return _decide("C7", evidence, ("aspect", "mode", "server", "variant", "tls", "link"))


def c8(results: Results) -> Verdict:
    """POP3 mail is safer: less readable with the password (message-hours on the server),
    less on a stolen device, and no more lost with the device (``messages_lost_with_device``
    in offline-use, against IMAP's)."""
    if not _ran(results, EXPOSURE) and not _ran(results, OFFLINE):
        return _not_measured("C8", f"needs {EXPOSURE} (message-hours readable with the password or on a stolen "
                                   f"device) and device loss in {OFFLINE}")
    evidence = _merge(_exposure(results, "exposed_message_hours", "password holder"),
                      _exposure(results, "device_exposed_message_hours", "stolen device"))
    for imap, pop3 in _pairs(_cells(results, OFFLINE)):
        a, b = _median(imap, "messages_lost_with_device"), _median(pop3, "messages_lost_with_device")
        if a is None or b is None:
            continue
        evidence.add(_Case(_where(pop3, aspect="device lost"), b < a, "POP3 loses as much or more"),
                     Figure(f"device lost: {pop3.server}, {pop3.mode}, {pop3.variant}",
                            f"messages that exist nowhere else: imap {_number(a)}, {pop3.mode} {_number(b)}",
                            (imap.id, pop3.id)))
    if not evidence.cases:
        return _not_measured("C8", "no IMAP and POP3 cells of one server recorded exposure or device loss")
    return _decide("C8", evidence, ("aspect", "mode", "server", "tls", "link"))


def c9(results: Results) -> Verdict:
    """POP3 works on one device only: its mail reaches one device (the others show none of
    it) and no change of state made on one device (read, flag, move, delete) reaches another."""
    evidence = _Evidence()
    for cell in _cells(results, MULTI_DEVICE):
        share, changes = _median(cell, "other_device_messages_share"), changes_reached(cell)
        label = f"{cell.server}, {cell.mode}, {cell.variant}"
        if not _pop3(cell.mode):
            if changes is not None:
                evidence.figures.append(Figure(label, f"changes reached the other devices: {_share(changes)}", (cell.id,)))
            continue
        if share is not None:
            evidence.add(_Case(_where(cell, aspect="one device only"), share <= NONE, "mail on other devices"),
                         Figure(label, f"other devices show {_share(share)} of the messages", (cell.id,)))
        if changes is not None:
            evidence.add(_Case(_where(cell, aspect="no sync of changes"), changes <= NONE, "changes reached other devices"),
                         Figure(label, f"changes reached the other devices: {_share(changes)}", (cell.id,)))
    if not evidence.cases:
        return _not_measured("C9", f"needs {MULTI_DEVICE} in both POP3 modes: messages and changes seen on the "
                                   "other devices")
    return _decide("C9", evidence, ("aspect", "mode", "server", "variant", "tls", "link"))


def c10(results: Results) -> Verdict:
    """With POP3, mail that the server no longer holds is lost with the device: messages
    that exist nowhere once the downloading device is gone (offline-use), per POP3 mode."""
    evidence = _Evidence()
    _per_cell(evidence, _cells(results, OFFLINE), "messages_lost_with_device", _pop3, lambda lost: lost > NONE,
              "nothing lost", lambda cell, lost: f"{_number(lost)} messages exist nowhere once the device is lost")
    if not evidence.cases:
        return _not_measured("C10", f"needs device loss in {OFFLINE}: messages that exist nowhere once the "
                                    "downloading device is lost, per POP3 mode")
    return _decide("C10", evidence, ("mode", "server", "variant", "tls", "link"))


# ---------------------------------------------------------------------------------------
# C11: one sentence per kind of user, from the decided parts


class _Reason(NamedTuple):
    claim: str
    aspect: str | None  # the part of the claim it rests on; None: the whole claim
    says: str  # what holds when the part is supported


class _User(NamedTuple):
    user: str
    article: str  # what the article recommends for this user
    reasons: tuple[_Reason, ...]


C11_USERS = (
    _User("several devices", "IMAP", (
        _Reason("C1", None, "IMAP devices stay in sync and a broken download loses nothing"),
        _Reason("C9", "no sync of changes", "no change made on one POP3 device reaches another"))),
    _User("frequent use of large mailboxes", "IMAP", (
        _Reason("C3", None, "IMAP is faster and answers a search with fewer bytes"),)),
    _User("reading offline", "POP3", (
        _Reason("C7", "works offline", "a POP3 device reads all its mail offline"),
        _Reason("C4", "needs the server online", "an IMAP client cannot read its mail offline"))),
    _User("the security-minded", "POP3", (
        _Reason("C8", "password holder", "POP3 leaves less for someone holding the password"),
        _Reason("C8", "stolen device", "POP3 leaves less on a stolen device"),
        _Reason("C8", "device lost", "POP3 loses less with the device"))),
)


def _sentence(user: _User, by_id: dict[str, Verdict]) -> tuple[str, str]:
    """The user's outcome and sentence: whether the article's choice holds for them, and
    the parts of the claims it rests on, each with what it came to (and its condition
    where it depends, what failed where it did not hold)."""
    said, outcomes = [], []
    for reason in user.reasons:
        verdict = by_id.get(reason.claim)
        if verdict is None:
            continue
        outcome, condition = verdict.part(reason.aspect)
        if outcome == NOT_MEASURED:
            said.append(f"{reason.says}: not measured ({reason.claim})")
            continue
        outcomes.append(outcome)
        if outcome == REFUTED and _NO_CASE in condition:  # the scope matters less than why
            condition = condition.split("): ", 1)[-1] if "): " in condition else ""
        why = f" ({condition})" if outcome in (DEPENDS, REFUTED) and condition else ""
        said.append(f"{reason.says}: {outcome}{why} ({reason.claim})")
    if not outcomes:
        return NOT_MEASURED, f"For {user.user}: not decided; " + "; ".join(said) + "."
    outcome = _combined(outcomes)
    choice = {SUPPORTED: f"{user.article}, as the article says", REFUTED: f"not {user.article} for the article's reasons",
              DEPENDS: f"{user.article} only under conditions"}[outcome]
    reasons = "; ".join(said)
    return outcome, f"For {user.user}: {choice}. {reasons[:1].upper()}{reasons[1:]}."


def derive_c11(verdicts: Sequence[Verdict]) -> Verdict:
    """The conclusion, one sentence per kind of user the article names, each derived from
    the parts of C1–C10 it rests on (``C11_USERS``), with their conditions."""
    by_id = {v.claim_id: v for v in verdicts}
    evidence = _Evidence()
    outcomes = []
    for user in C11_USERS:
        outcome, sentence = _sentence(user, by_id)
        outcomes.append(outcome)
        evidence.figures.append(Figure(f"{user.user} ({user.article}, says the article)", sentence))
    decided = [o for o in outcomes if o != NOT_MEASURED]
    if not decided:
        return _verdict("C11", NOT_MEASURED, "no part of the conclusion was decided", evidence)
    condition = "; ".join(f"{user.user}: {o}" for user, o in zip(C11_USERS, outcomes))
    return _verdict("C11", _combined(decided), condition, evidence,
                    {user.user: (o, f.value) for user, o, f in zip(C11_USERS, outcomes, evidence.figures)})


RULES: tuple[Callable[[Results], Verdict], ...] = (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)


def judge(results: Results) -> list[Verdict]:
    """Every claim's verdict, C1 to C11."""
    verdicts = [rule(results) for rule in RULES]
    return verdicts + [derive_c11(verdicts)]


__all__ = ["CLAIMS", "OUTCOMES", "Figure", "Verdict", "changes_reached", "changes_reached_samples", "derive_c11", "judge"]
