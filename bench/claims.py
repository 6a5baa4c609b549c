"""Verdicts on the article's claims (``docs/claims.md``, C1–C11), from a run's results alone.

Each claim has one rule: a small function taking the loaded ``Results`` and returning a
``Verdict``: ``supported``, ``refuted``, ``depends`` (with the condition: which servers,
modes, variants or TLS settings it holds for), or ``not measured`` (naming the scenario
that would decide it). ``judge(results)`` runs them all, in order; C11 is derived from
the others.

A rule looks at *cases*: one comparison or one measurement, e.g. "on dovecot, full
download, TLS off, over satellite, IMAP was faster than the best POP3 mode beyond the
noise". All cases hold: supported; none: refuted; some: depends, and the condition names
the fewest dimensions that tell the two apart (the link is one of them). Cells are compared
only with cells of the same link; figures that describe a state rather than a speed (what
is left on the server) are quoted for one link, lan when it ran.

What decides each claim, and what a rule reads:

- bulk-fetch (runs today): ``elapsed_s`` and ``round_trips`` (C3; on relayed links also
  ``efficiency``, the limit of a perfect protocol over the time taken); the account's store on
  the server before and after the sync, ``server_disk_bytes`` and
  ``server_disk_after_bytes`` (C2, C6, C7, and the storage part of C4).
- Scenarios still to come. A scenario that records these metrics under these names is
  judged with no change here; one that runs but records none of them gets "not measured",
  naming the metrics it lacks.

  ================  ============================  =================================================
  scenario          metric                        meaning
  ================  ============================  =================================================
  multi-device-sync messages_missing              messages on the server a device lacked after its
                                                  last sync round (worst device)
  multi-device-sync states_wrong                  (message, state) pairs a device had wrong
  multi-device-sync other_device_messages_share   share of the mailbox a second device could read
  multi-device-sync changes_seen_share            share of flag, read and deletion changes made on
                                                  one device that another device saw
  offline-use       readable_offline_share        share of the mailbox readable with no link
  offline-use       messages_lost_with_device     messages that exist nowhere once the device that
                                                  downloaded them is lost
  storage-exposure  exposed_messages              messages someone holding the password can read
                                                  from the server
  ================  ============================  =================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import NamedTuple

from bench.report import units
from bench.report.cells import LAN, by_rtt, link_label, stat_of
from bench.report.stats import differs
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

# What a sync left on the server: the account's mail store after the sync is at least KEPT
# of what it was before (the mail stayed), or it shrank by at least KEPT of the bytes the
# sync downloaded (the mail is gone; what is left is the account and its indexes).
KEPT = 0.9
NONE = 1e-9  # a share or count at most this is zero

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


@dataclass(frozen=True)
class _Case:
    """One comparison or measurement: where it was made, whether the claim held there,
    and, when it did not, why in a few words."""

    where: dict[str, str]
    holds: bool
    note: str = ""


# ---------------------------------------------------------------------------------------
# Reading the results


def _ran(results: Results, scenario: str) -> bool:
    return any(cell.scenario == scenario for cell in results.cells)


def _ok(results: Results, scenario: str, modes: Iterable[str] | None = None) -> list[CellResult]:
    wanted = None if modes is None else set(modes)
    return [c for c in results.cells if c.scenario == scenario and c.ok and (wanted is None or c.mode in wanted)]


def _values(cell: CellResult, metric: str) -> list[float]:
    stat = stat_of(cell, metric)
    return list(stat.values) if stat is not None else []


def _median(cell: CellResult | None, metric: str) -> float | None:
    stat = stat_of(cell, metric)
    return stat.median if stat is not None else None


def _worst(cell: CellResult, metric: str) -> float | None:
    stat = stat_of(cell, metric)
    return stat.max if stat is not None else None


def _pop3(mode: str) -> bool:
    return mode.startswith("pop3")


def _where(cell: CellResult, **more: str) -> dict[str, str]:
    return {"server": cell.server, "mode": cell.mode, "variant": cell.variant, "tls": f"TLS {cell.tls}",
            "link": cell.link, **more}


def _link_figures(cell: CellResult) -> dict:
    figures = cell.info.get("link")
    return figures if isinstance(figures, dict) else {}


def _on_link(cell: CellResult) -> str:
    """``, satellite (630 ms)`` for a relayed link; nothing for lan."""
    return "" if cell.link == LAN else f", {link_label(cell.link, _link_figures(cell))}"


def _label(cell: CellResult) -> str:
    return f"{cell.server}, {cell.variant}, TLS {cell.tls}{_on_link(cell)}"


def _reference_tls(cells: Sequence[CellResult]) -> str:
    """Figures are quoted for TLS off when it ran: the protocols without TLS on top."""
    settings = {c.tls for c in cells}
    return "off" if "off" in settings or not settings else min(settings)


def _links(cells: Sequence[CellResult]) -> list[str]:
    """The cells' links, from the shortest round trip to the longest (lan first)."""
    return by_rtt((c.link for c in cells), {c.link: _link_figures(c) for c in cells})


def _reference_link(cells: Sequence[CellResult]) -> str:
    """Figures of state (not speed) are quoted for one link: lan when it ran, else the
    link of the shortest round trip."""
    links = _links(cells)
    return LAN if LAN in links or not links else links[0]


def _missing(scenario: str, metrics: Sequence[str], modes: str) -> str:
    return f"{scenario} ran, but no {modes} cell that succeeded recorded {' or '.join(metrics)}"


# ---------------------------------------------------------------------------------------
# Judging cases


DIMENSIONS = ("aspect", "mode", "server", "variant", "tls", "link")
DIMENSION_NAMES = {"tls": "TLS setting", "aspect": "part of the claim"}
MAX_NAMED = 8


def _scope(cases: Sequence[_Case], dims: Sequence[str]) -> str:
    parts = []
    for dim in dims:
        seen = list(dict.fromkeys(c.where[dim] for c in cases if dim in c.where))
        if dim == "link" and seen == [LAN]:
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
    for size in range(1, min(2, max(1, len(present) - 1)) + 1):
        for combo in combinations(present, size):
            groups: dict[str, set[bool]] = {}
            for case in cases:
                key = " ".join(case.where[d] for d in combo)
                groups.setdefault(key, set()).add(case.holds)
            if all(len(outcomes) == 1 for outcomes in groups.values()):
                yes = [k for k, v in groups.items() if v == {True}]
                no = [k for k, v in groups.items() if v == {False}]
                named = " and ".join(DIMENSION_NAMES.get(d, d) for d in combo)
                return f"depends on the {named}: holds for {_names(yes)}; not for {_names(no)}"
    yes = [" ".join(c.where[d] for d in present) for c in cases if c.holds]
    notes = Counter(c.note for c in cases if not c.holds and c.note)
    elsewhere = f"; elsewhere {', '.join(f'{note} in {n}' for note, n in notes.items())}" if notes else ""
    return f"holds in {len(yes)} of {len(cases)} cases ({_names(yes)}){elsewhere}"


def _judge(cases: Sequence[_Case], dims: Sequence[str] = DIMENSIONS) -> tuple[str, str]:
    held = sum(case.holds for case in cases)
    scope = _scope(cases, dims)
    if held == len(cases):
        return SUPPORTED, f"holds in every case measured ({scope})"
    if held == 0:
        return REFUTED, f"holds in no case measured ({scope})"
    return DEPENDS, _split(cases, dims)


def _verdict(claim_id: str, outcome: str, condition: str, figures: Sequence[Figure] = ()) -> Verdict:
    return Verdict(claim_id, CLAIMS[claim_id], outcome, condition, list(figures))


def _not_measured(claim_id: str, condition: str, figures: Sequence[Figure] = ()) -> Verdict:
    return _verdict(claim_id, NOT_MEASURED, condition, figures)


# ---------------------------------------------------------------------------------------
# What a sync leaves on the server (bulk-fetch)


def _left_on_server(cell: CellResult) -> str | None:
    """``kept``, ``removed`` or ``partly removed``: what the sync left of the mail on the
    server; ``None`` when the cell did not measure the store (or measured it as empty)."""
    before, after = _median(cell, "server_disk_bytes"), _median(cell, "server_disk_after_bytes")
    if before is None or after is None or before <= 0:
        return None
    if after >= KEPT * before:
        return "kept"
    downloaded = _median(cell, "message_bytes")
    if downloaded is not None and before - after >= KEPT * downloaded:
        return "removed"
    return "partly removed"


def _storage_cells(results: Results, modes: Iterable[str] | None) -> list[CellResult]:
    return [c for c in _ok(results, BULK, modes) if _left_on_server(c) is not None]


def _unmeasured_stores(results: Results, modes: Iterable[str] | None) -> str:
    """``; ... not measured on cyrus`` for the servers whose cells did not measure the store."""
    cells = _ok(results, BULK, modes)
    measured = {c.server for c in cells if _left_on_server(c) is not None}
    missing = list(dict.fromkeys(c.server for c in cells if c.server not in measured))
    return f"; the store on the server was not measured on {', '.join(missing)}" if missing else ""


def _storage_figures(cells: Sequence[CellResult]) -> list[Figure]:
    """Before → after for each mode, one figure per server, for one variant (full when it
    ran), TLS off and one link (lan when it ran: what is left does not depend on the link)."""
    tls = _reference_tls(cells)
    link = _reference_link(cells)
    variants = {c.variant for c in cells}
    variant = "full" if "full" in variants else min(variants, default="")
    chosen = [c for c in cells if c.tls == tls and c.variant == variant and c.link == link]
    figures = []
    for server in dict.fromkeys(c.server for c in chosen):
        mine = [c for c in chosen if c.server == server]
        value = ", ".join(
            f"{c.mode} {units.byte_size(_median(c, 'server_disk_bytes'))} → "
            f"{units.byte_size(_median(c, 'server_disk_after_bytes'))}"
            for c in mine
        )
        figures.append(Figure(f"{server}, on the server before → after a {variant} sync{_on_link(mine[0])}", value,
                              tuple(c.id for c in mine)))
    return figures


# ---------------------------------------------------------------------------------------
# The rules


def c1(results: Results) -> Verdict:
    """IMAP keeps devices in sync: no message missing, no state wrong, on any device."""
    metrics = ("messages_missing", "states_wrong")
    if not _ran(results, MULTI_DEVICE):
        return _not_measured("C1", f"needs {MULTI_DEVICE}: (message, state) pairs each device has right "
                                   "after each sync round, and messages missing per device")
    cells = [c for c in _ok(results, MULTI_DEVICE, ["imap"]) if any(_values(c, m) for m in metrics)]
    if not cells:
        return _not_measured("C1", _missing(MULTI_DEVICE, metrics, "imap"))
    cases, figures = [], []
    for cell in cells:
        worst = {m: _worst(cell, m) for m in metrics}
        cases.append(_Case(_where(cell), all(v is None or v <= NONE for v in worst.values()), "a device out of sync"))
        figures.append(Figure(_label(cell), ", ".join(
            f"{m.replace('_', ' ')} (worst sample) {units.number(v)}" for m, v in worst.items() if v is not None
        ), (cell.id,)))
    # "nothing ... lost" also when a download breaks: interrupted-sync's IMAP cells, if it ran
    broken = ("messages_lost", "messages_duplicated", "messages_partial")
    for cell in (c for c in _ok(results, INTERRUPTED, ["imap"]) if _values(c, "messages_lost")):
        worst = {m: _worst(cell, m) for m in broken}
        cases.append(_Case(_where(cell), all(v is None or v <= NONE for v in worst.values()),
                           "mail lost, doubled or half-stored after a broken download"))
        figures.append(Figure(f"{INTERRUPTED}: {_label(cell)}", ", ".join(
            f"{m.replace('_', ' ')} (worst sample) {units.number(v)}" for m, v in worst.items() if v is not None
        ), (cell.id,)))
    return _verdict("C1", *_judge(cases), figures)


def c2(results: Results) -> Verdict:
    """IMAP mail stays on the server, and a new device gets a usable mailbox from it."""
    cells = _storage_cells(results, ["imap"])
    if not cells:
        return _not_measured("C2", f"needs {BULK} IMAP cells that record the server's store before and after "
                                   f"the sync (or {MULTI_DEVICE}: a new device's time and bytes to a usable mailbox)")
    cases = [_Case(_where(c), _left_on_server(c) == "kept", f"mail {_left_on_server(c)}") for c in cells]
    outcome, condition = _judge(cases)
    figures = _storage_figures(cells)
    synced = _ok(results, BULK, ["imap"])
    tls, link = _reference_tls(synced), _reference_link(synced)
    for server in dict.fromkeys(c.server for c in synced):
        firsts = [c for variant in ("headers", "full") for c in synced
                  if (c.server, c.tls, c.variant, c.link) == (server, tls, variant, link) and _values(c, "elapsed_s")]
        if firsts:
            value = ", ".join(
                ("list of headers " if c.variant == "headers" else "full copy ")
                + units.seconds(_median(c, "elapsed_s"))
                + (f", {units.byte_size(_median(c, 'bytes_down'))}" if _values(c, "bytes_down") else "")
                for c in firsts
            )
            figures.append(Figure(f"{server}, a new device's first sync{_on_link(firsts[0])}", value,
                                  tuple(c.id for c in firsts)))
    condition += _unmeasured_stores(results, ["imap"])
    condition += ("; a new device's first sync is the bulk-fetch cell itself (headers only: a mailbox it can "
                  "list; full: a complete copy); reading on several devices at once needs " + MULTI_DEVICE)
    return _verdict("C2", outcome, condition, figures)


def c3(results: Results) -> Verdict:
    """IMAP against the faster POP3 mode, per server, variant, TLS setting and link, beyond
    the noise; on relayed links the figures add each side's efficiency against the limit."""
    cells = _ok(results, BULK)
    if not cells:
        return _not_measured("C3", f"needs {BULK}: full download, headers only and new mail, IMAP against POP3")
    groups: dict[tuple[str, str, str, str], dict[str, CellResult]] = {}
    for cell in cells:
        if _values(cell, "elapsed_s"):
            groups.setdefault((cell.server, cell.variant, cell.tls, cell.link), {})[cell.mode] = cell
    found: dict[tuple[str, str, str, str], tuple[_Case, Figure]] = {}
    for (server, variant, tls, link), by_mode in groups.items():
        imap = by_mode.get("imap")
        pop3 = [c for m, c in by_mode.items() if _pop3(m)]
        if imap is None or not pop3:
            continue
        best = min(pop3, key=lambda c: _median(c, "elapsed_s"))
        t_imap, t_pop3 = _median(imap, "elapsed_s"), _median(best, "elapsed_s")
        beyond = differs(_values(imap, "elapsed_s"), _values(best, "elapsed_s")).significant
        holds = beyond and t_imap < t_pop3
        slower, ratio = (best.mode, t_pop3 / t_imap) if t_imap <= t_pop3 else ("imap", t_imap / t_pop3)
        verdict = "IMAP faster" if holds else ("POP3 faster" if beyond else "within the noise")
        value = (f"imap {units.seconds(t_imap)}, {best.mode} {units.seconds(t_pop3)}: {verdict} "
                 f"({slower} {units.factor(ratio)} as long)")
        trips = [_median(c, "round_trips") for c in (imap, best)]
        if None not in trips:
            value += f"; round trips {units.number(trips[0])} vs {units.number(trips[1])}"
        shares = [_median(c, "efficiency") for c in (imap, best)]
        if None not in shares:
            value += f"; efficiency against the limit {shares[0]:.0%} vs {shares[1]:.0%}"
        figure = Figure(_label(imap), value, (imap.id, best.id))
        found[(server, variant, tls, link)] = (_Case(_where(imap), holds, verdict), figure)
    cases = [case for case, _ in found.values()]
    # Figures for TLS off on every link, and for another TLS setting where the outcome
    # differs from TLS off on the same link.
    tls_ref = _reference_tls(cells)
    order = _links(cells)
    figures = [
        figure for (server, variant, tls, link), (case, figure) in sorted(
            found.items(), key=lambda item: (item[0][0], item[0][1], order.index(item[0][3]), item[0][2]))
        if tls == tls_ref or (ref := found.get((server, variant, tls_ref, link))) is None or ref[0].holds != case.holds
    ]
    if not cases:
        return _not_measured("C3", f"{BULK} ran, but no server had both an IMAP and a POP3 cell that succeeded")
    outcome, condition = _judge(cases, ("server", "variant", "tls", "link"))
    messages = results.plan.get("messages")
    condition += f"; at {units.number(messages)} messages per mailbox" if messages else ""
    relayed = [link for link in order if link != LAN]
    if relayed:
        figures_of = {c.link: _link_figures(c) for c in cells}
        condition += f"; links: {', '.join(link_label(link, figures_of.get(link)) for link in order)}"
        slowest = relayed[-1]
        on_slowest = [case for (_, _, _, link), (case, _) in found.items() if link == slowest]
        if on_slowest:
            held = sum(case.holds for case in on_slowest)
            condition += (f"; on the slowest link, {slowest}, IMAP was faster beyond the noise in {held} of "
                          f"{len(on_slowest)} comparisons")
    else:
        condition += ("; on loopback, no link profile: every round trip costs the link's latency on a real link, so "
                      "the round trips above weigh more there")
    condition += "; flexibility seen as headers-only and new-mail syncs, which both protocols did; search not run"
    return _verdict("C3", outcome, condition, figures)


def c4(results: Results) -> Verdict:
    """IMAP needs the server to read mail (offline-use), and keeps the mail on it (bulk-fetch)."""
    storage = _storage_figures(_storage_cells(results, ["imap"]))
    metric = "readable_offline_share"
    if not _ran(results, OFFLINE):
        return _not_measured("C4", f"needs {OFFLINE} (server or link down) for 'needs the server online'; "
                                   f"the storage part is shown by {BULK}: IMAP keeps the mailbox on the server",
                             storage)
    cells = [c for c in _ok(results, OFFLINE, ["imap"]) if _values(c, metric)]
    if not cells:
        return _not_measured("C4", _missing(OFFLINE, [metric], "imap"), storage)
    cases = [_Case(_where(c), _median(c, metric) < 1 - NONE, "all mail readable offline") for c in cells]
    figures = [Figure(_label(c), f"{_median(c, metric):.0%} of the mailbox readable with no link", (c.id,))
               for c in cells]
    return _verdict("C4", *_judge(cases, ("variant", "server", "tls")), figures + storage)


def _exposure_cases(results: Results) -> tuple[list[_Case], list[Figure]]:
    """Each POP3 cell of storage-exposure against the IMAP cell of the same server, variant
    and TLS: holds when IMAP exposes more than POP3, i.e. POP3 less than IMAP."""
    metric = "exposed_messages"
    cells = [c for c in _ok(results, EXPOSURE) if _values(c, metric)]
    imap = {(c.server, c.variant, c.tls, c.link): c for c in cells if c.mode == "imap"}
    cases, figures = [], []
    for cell in cells:
        other = imap.get((cell.server, cell.variant, cell.tls, cell.link))
        if not _pop3(cell.mode) or other is None:
            continue
        exposed_imap, exposed_pop3 = _median(other, metric), _median(cell, metric)
        cases.append(_Case(_where(cell, aspect="on the server"), exposed_imap > exposed_pop3,
                           "POP3 as exposed as IMAP"))
        figures.append(Figure(_label(cell), f"readable with the password: imap {units.number(exposed_imap)}, "
                                            f"{cell.mode} {units.number(exposed_pop3)} messages", (other.id, cell.id)))
    return cases, figures


def c5(results: Results) -> Verdict:
    """IMAP exposes more mail to whoever holds the password than POP3 does."""
    storage = _storage_figures(_storage_cells(results, None))
    if not _ran(results, EXPOSURE):
        return _not_measured("C5", f"needs {EXPOSURE}: message-hours kept on the server per mode, and what "
                                   f"someone holding the password can read; {BULK} shows what each mode leaves "
                                   "on the server", storage)
    cases, figures = _exposure_cases(results)
    if not cases:
        return _not_measured("C5", _missing(EXPOSURE, ["exposed_messages"], "imap and pop3"), storage)
    return _verdict("C5", *_judge(cases), figures)


def c6(results: Results) -> Verdict:
    """POP3 removes the mail from the server: true of pop3-delete, not of pop3-keep."""
    cells = _storage_cells(results, [c.mode for c in results.cells if _pop3(c.mode)])
    if not cells:
        return _not_measured("C6", f"needs {BULK} POP3 cells that record the server's store before and after "
                                   f"the sync (or {MULTI_DEVICE}: messages visible per device)")
    cases = [_Case(_where(c), _left_on_server(c) == "removed", f"mail {_left_on_server(c)}") for c in cells]
    outcome, condition = _judge(cases)
    condition += _unmeasured_stores(results, {c.mode for c in cells})
    condition += ("; mail gone from the server can be read only where it was downloaded"
                  + ("" if _ran(results, MULTI_DEVICE) else f"; other devices' view needs {MULTI_DEVICE}"))
    return _verdict("C6", outcome, condition, _storage_figures(cells))


def c7(results: Results) -> Verdict:
    """POP3 keeps no mail on the server (bulk-fetch), and its mail is readable offline (offline-use)."""
    metric = "readable_offline_share"
    stored = _storage_cells(results, [c.mode for c in results.cells if _pop3(c.mode)])
    cases = [_Case(_where(c, aspect="server state"), _left_on_server(c) == "removed", f"mail {_left_on_server(c)}")
             for c in stored]
    figures = _storage_figures(stored)
    offline = [c for c in _ok(results, OFFLINE) if _pop3(c.mode) and _values(c, metric)]
    if not offline:
        state = (f"; per-user state: {_judge(cases)[1]} (pop3-delete still leaves the account and its indexes)"
                 if cases else "")
        need = (f"needs {OFFLINE} for 'works offline'" if not _ran(results, OFFLINE)
                else _missing(OFFLINE, [metric], "pop3"))
        return _not_measured("C7", need + state, figures)
    for cell in offline:
        cases.append(_Case(_where(cell, aspect="offline"), _median(cell, metric) >= 1 - NONE,
                           "mail unreadable offline"))
        figures.append(Figure(_label(cell) + f", {cell.mode}",
                              f"{_median(cell, metric):.0%} of the mailbox readable with no link", (cell.id,)))
    return _verdict("C7", *_judge(cases), figures)


def c8(results: Results) -> Verdict:
    """POP3 exposes less on the server (storage-exposure), and loses no more with the device (offline-use)."""
    storage = _storage_figures(_storage_cells(results, None))
    if not _ran(results, EXPOSURE):
        return _not_measured("C8", f"needs {EXPOSURE} (what the password opens on the server) and device loss "
                                   f"in {OFFLINE}", storage)
    cases, figures = _exposure_cases(results)
    metric = "messages_lost_with_device"
    lost = [c for c in _ok(results, OFFLINE) if _values(c, metric)]
    imap = {(c.server, c.variant, c.tls, c.link): c for c in lost if c.mode == "imap"}
    for cell in lost:
        other = imap.get((cell.server, cell.variant, cell.tls, cell.link))
        if _pop3(cell.mode) and other is not None:
            cases.append(_Case(_where(cell, aspect="device lost"), _median(cell, metric) <= _median(other, metric),
                               "POP3 loses more with the device"))
            figures.append(Figure(_label(cell), f"lost with the device: imap {units.number(_median(other, metric))}, "
                                                f"{cell.mode} {units.number(_median(cell, metric))} messages",
                                  (other.id, cell.id)))
    if not cases:
        return _not_measured("C8", _missing(EXPOSURE, ["exposed_messages"], "imap and pop3"), storage)
    return _verdict("C8", *_judge(cases), figures)


def c9(results: Results) -> Verdict:
    """POP3 mail reaches one device only, and no change made on one device shows on another."""
    metrics = {"other_device_messages_share": "mail on one device only", "changes_seen_share": "no sync of changes"}
    if not _ran(results, MULTI_DEVICE):
        return _not_measured("C9", f"needs {MULTI_DEVICE} in both POP3 modes: flags, deletions and reads "
                                   "seen on other devices")
    cells = [c for c in _ok(results, MULTI_DEVICE) if _pop3(c.mode)]
    cases, figures = [], []
    for cell in cells:
        for metric, aspect in metrics.items():
            share = _median(cell, metric)
            if share is not None:
                cases.append(_Case(_where(cell, aspect=aspect), share <= NONE, "seen on another device"))
                figures.append(Figure(f"{_label(cell)}, {cell.mode}",
                                      f"{metric.replace('_', ' ')}: {share:.0%}", (cell.id,)))
    if not cases:
        return _not_measured("C9", _missing(MULTI_DEVICE, list(metrics), "pop3"))
    return _verdict("C9", *_judge(cases), figures)


def c10(results: Results) -> Verdict:
    """With POP3, mail is lost with the device (device loss in offline-use)."""
    metric = "messages_lost_with_device"
    storage = _storage_figures(_storage_cells(results, ["pop3-delete"]))
    if not _ran(results, OFFLINE):
        return _not_measured("C10", f"needs device loss in {OFFLINE}: messages that exist nowhere once the "
                                    f"downloading device is lost; {BULK} shows what pop3-delete leaves on the "
                                    "server", storage)
    cells = [c for c in _ok(results, OFFLINE) if _pop3(c.mode) and _values(c, metric)]
    if not cells:
        return _not_measured("C10", _missing(OFFLINE, [metric], "pop3"), storage)
    cases = [_Case(_where(c), _median(c, metric) > NONE, "nothing lost") for c in cells]
    figures = [Figure(f"{_label(c)}, {c.mode}", f"{units.number(_median(c, metric))} messages lost with the device",
                      (c.id,)) for c in cells]
    return _verdict("C10", *_judge(cases), figures)


# C11's parts and the claims each rests on.
C11_PARTS = (
    ("IMAP for many devices", ("C1", "C9")),
    ("IMAP for frequent use", ("C3",)),
    ("POP3 for offline reading", ("C4", "C7")),
    ("POP3 for the security-minded", ("C5", "C8")),
)


def _combined(outcomes: Sequence[str]) -> str:
    if NOT_MEASURED in outcomes:
        return NOT_MEASURED
    if all(o == SUPPORTED for o in outcomes):
        return SUPPORTED
    if all(o == REFUTED for o in outcomes):
        return REFUTED
    return DEPENDS


def derive_c11(verdicts: Sequence[Verdict]) -> Verdict:
    """The conclusion from the verdicts on C1–C10: each part holds when its claims do."""
    by_id = {v.claim_id: v for v in verdicts}
    parts = {}
    figures = []
    for part, ids in C11_PARTS:
        outcomes = [by_id[i].verdict if i in by_id else NOT_MEASURED for i in ids]
        parts[part] = _combined(outcomes)
        figures.append(Figure(part, f"{', '.join(f'{i} {o}' for i, o in zip(ids, outcomes))}: {parts[part]}"))
    outcome = _combined(list(parts.values()))
    undecided = [part for part, o in parts.items() if o == NOT_MEASURED]
    decided = [f"{part}: {o}" for part, o in parts.items() if o != NOT_MEASURED]
    if outcome == NOT_MEASURED:
        condition = f"not yet decided: {', '.join(undecided)}" + (f"; decided: {'; '.join(decided)}" if decided else "")
    elif outcome == DEPENDS:
        condition = "; ".join(decided)
    else:
        condition = f"every part {outcome}"
    return _verdict("C11", outcome, condition, figures)


RULES: tuple[Callable[[Results], Verdict], ...] = (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10)


def c11(results: Results) -> Verdict:
    return derive_c11([rule(results) for rule in RULES])


def judge(results: Results) -> list[Verdict]:
    """Every claim's verdict, C1 to C11."""
    verdicts = [rule(results) for rule in RULES]
    return verdicts + [derive_c11(verdicts)]
