"""Each claim's rule on crafted results: one where the claim is true, one where it is
false, and one where it cannot be decided, for every claim.

The results here are made up in the tests themselves: a few cells with the metrics a
rule reads, so that each verdict follows from figures the test states.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import claims
from bench.claims import DEPENDS, NOT_MEASURED, REFUTED, SUPPORTED, Verdict, derive_c11
from bench.results import CellResult, Results

CLAIMS_DOC = Path(__file__).parent.parent.parent / "docs" / "claims.md"
MB = 10**6
SERVERS = ("dovecot", "cyrus")


def cell(scenario: str, mode: str = "imap", variant: str = "full", server: str = "dovecot", *, tls: str = "off",
         samples: int = 3, info: list[dict] | None = None, by_policy: dict[str, dict[str, float]] | None = None,
         **metrics: float | list[float]) -> CellResult:
    """A cell with ``samples`` samples; a metric given as one number has it in every sample,
    and so has each client policy's figure in ``by_policy``."""
    series = {name: value if isinstance(value, list) else [value] * samples for name, value in metrics.items()}
    rows = [{name: values[i] for name, values in series.items()} for i in range(samples)] if series else []
    result = CellResult(scenario, server, mode, variant, tls, "lan", sample_info=list(info or []))
    for i in range(samples if series or by_policy else 0):
        result.add_sample(rows[i] if rows else {}, {policy: dict(figures) for policy, figures in (by_policy or {}).items()})
    return result


def failed(scenario: str, mode: str = "imap", variant: str = "full", *, integrity: bool) -> CellResult:
    """A failed cell: an integrity failure (a device departed from its protocol) or another error."""
    result = CellResult(scenario, "dovecot", mode, variant)
    if integrity:
        result.fail("IntegrityError: round 3: the devices or the server differ from the protocol-expected state")
        result.integrity = {"passed": False, "round": 3}
    else:
        result.fail("server dovecot unavailable: no answer")
    return result


def results(*cells: CellResult, **plan) -> Results:
    return Results("test", "2026-01-01T00:00:00+00:00", "mailbench run", plan=dict(plan), cells=list(cells))


def verdict(rule, *cells: CellResult, **plan) -> Verdict:
    return rule(results(*cells, **plan))


EMPTY = results()


# --- the claims as documented --------------------------------------------------------------


def test_claim_texts_are_those_of_the_docs():
    rows = re.findall(r"^\| (C\d+) \| (.+?) \| .+ \|$", CLAIMS_DOC.read_text(encoding="utf-8"), re.MULTILINE)
    assert dict(rows) == claims.CLAIMS


def test_judge_gives_every_claim_in_order_and_nothing_is_decided_without_results():
    verdicts = claims.judge(EMPTY)
    assert [v.claim_id for v in verdicts] == [f"C{i}" for i in range(1, 12)]
    assert all(v.verdict == NOT_MEASURED for v in verdicts)
    condition = {v.claim_id: v.condition for v in verdicts}
    assert "multi-device-sync" in condition["C1"]
    assert "bulk-fetch" in condition["C3"]
    assert "storage-exposure" in condition["C5"]
    assert "offline-use" in condition["C10"]


# --- C1: IMAP keeps devices in sync --------------------------------------------------------


def synced(server: str = "dovecot", misses: float | list[float] = 0, missing: float = 0) -> CellResult:
    return cell("multi-device-sync", "imap", "incremental", server, sync_misses=misses, messages_missing=missing,
                sync_rounds=10, sync_miss_rounds=0 if misses == 0 else 2, sync_misses_worst_round=misses)


def test_c1_true_when_no_imap_device_missed_a_change_in_any_round():
    v = verdict(claims.c1, *(synced(s) for s in SERVERS))
    assert v.verdict == SUPPORTED
    assert "misses in 0 of 10 rounds" in v.headline.value


def test_c1_false_when_imap_devices_missed_changes_after_their_sessions():
    v = verdict(claims.c1, *(synced(s, misses=[0, 3, 1]) for s in SERVERS))
    assert v.verdict == REFUTED
    assert "changes missed" in v.condition


def test_c1_a_device_departing_from_imap_counts_against_the_claim_not_as_a_missing_cell():
    v = verdict(claims.c1, failed("multi-device-sync", "imap", "incremental", integrity=True))
    assert v.verdict == REFUTED
    mixed = verdict(claims.c1, synced("cyrus"), failed("multi-device-sync", "imap", "incremental", integrity=True))
    assert mixed.verdict == DEPENDS and "dovecot" in mixed.condition


def test_c1_undecided_when_no_imap_cell_measured_misses_and_other_failures_decide_nothing():
    assert verdict(claims.c1).verdict == NOT_MEASURED
    assert verdict(claims.c1, failed("multi-device-sync", "imap", "incremental", integrity=False)).verdict \
        == NOT_MEASURED
    # POP3 cells, however many misses they have, are not evidence about IMAP
    assert verdict(claims.c1, cell("multi-device-sync", "pop3-keep", sync_misses=9)).verdict == NOT_MEASURED


def test_c1_a_broken_download_that_lost_mail_refutes_nothing_lost():
    lost = cell("interrupted-sync", "imap", "cut-mid-message", messages_lost=[0, 2, 0], messages_duplicated=0,
                messages_partial=0)
    v = verdict(claims.c1, synced(), lost)
    assert v.verdict == DEPENDS
    assert "nothing lost: refuted" in v.condition


# --- C2: a new IMAP device reads most of the mailbox ------------------------------------


def joined(mode: str, share: float, server: str = "dovecot") -> CellResult:
    return cell("multi-device-sync", mode, "incremental", server, join_visible_share=share, join_readable_share=share,
                join_s_per_session=0.2, join_bytes_down_per_session=2e6)


def test_c2_true_when_a_new_imap_device_shows_most_of_the_mailbox_after_its_first_session():
    v = verdict(claims.c2, joined("imap", 1.0), joined("pop3-delete", 0.1))
    assert v.verdict == SUPPORTED
    assert any("pop3-delete" in f.label for f in v.figures)  # POP3's new device shown beside


def test_c2_false_when_a_new_imap_device_shows_less_than_half():
    assert verdict(claims.c2, joined("imap", 0.3), joined("imap", 0.2, "cyrus")).verdict == REFUTED


def test_c2_undecided_without_a_joining_imap_device():
    assert verdict(claims.c2, joined("pop3-keep", 1.0)).verdict == NOT_MEASURED


# --- C3: IMAP faster and more flexible ---------------------------------------------------


def timed(mode: str, seconds: list[float], server: str = "dovecot", variant: str = "full", **more) -> CellResult:
    return cell("bulk-fetch", mode, variant, server, samples=len(seconds), elapsed_s=seconds, round_trips=7, **more)


FAST5 = [1.0, 1.01, 1.02, 1.03, 1.04]
SLOW5 = [2.0, 2.02, 2.04, 2.06, 2.08]


def test_c3_true_when_imap_is_faster_beyond_the_noise_after_the_correction_and_searches_cheaper():
    cells = [timed(m, FAST5 if m == "imap" else SLOW5, s) for s in SERVERS for m in ("imap", "pop3-keep")]
    cells += [timed(m, FAST5 if m == "imap" else SLOW5, s, "search", bytes_down=1e5 if m == "imap" else 5e6)
              for s in SERVERS for m in ("imap", "pop3-keep")]
    v = verdict(claims.c3, *cells, messages=300)
    assert v.verdict == SUPPORTED, v.condition
    assert "growing sizes not measured" in v.condition


def test_c3_false_when_pop3_is_as_fast_and_search_costs_imap_as_much():
    cells = [timed(m, FAST5 if m == "imap" else [x * 1.01 for x in FAST5], s) for s in SERVERS
             for m in ("imap", "pop3-keep")]
    cells += [timed(m, FAST5, s, "search", bytes_down=5e6) for s in SERVERS for m in ("imap", "pop3-keep")]
    assert verdict(claims.c3, *cells).verdict == REFUTED


def test_c3_undecided_with_three_samples_a_side_however_far_apart():
    cells = [timed("imap", [1.0, 1.01, 1.02]), timed("pop3-keep", [9.0, 9.1, 9.2])]
    v = verdict(claims.c3, *cells)
    assert v.verdict == NOT_MEASURED
    assert "--repeat 5" in v.condition


def test_c3_a_cheaper_search_alone_does_not_make_it_supported_while_speed_is_undecided():
    cells = [timed("imap", [1.0, 1.01, 1.02]), timed("pop3-keep", [9.0, 9.1, 9.2])]
    cells += [timed(m, [1.0, 1.1, 1.2], variant="search", bytes_down=1e5 if m == "imap" else 5e6)
              for m in ("imap", "pop3-keep")]
    v = verdict(claims.c3, *cells)
    assert v.verdict == NOT_MEASURED and "faster: undecided" in v.condition
    cells[-1] = timed("pop3-keep", [1.0, 1.1, 1.2], variant="search", bytes_down=1e5)
    assert verdict(claims.c3, *cells).verdict == REFUTED  # a refuted part decides "faster and more flexible"


def test_c3_corrects_for_many_comparisons():
    # one comparison at p = 0.008 passes alone; among many comparisons at p = 1 it does not
    alone = verdict(claims.c3, timed("imap", FAST5), timed("pop3-keep", SLOW5))
    assert alone.verdict == SUPPORTED
    crowd = [timed("imap", FAST5), timed("pop3-keep", SLOW5)]
    for i in range(20):
        crowd += [timed("imap", FAST5, f"s{i}"), timed("pop3-keep", FAST5, f"s{i}")]
    v = verdict(claims.c3, *crowd)
    assert v.verdict == REFUTED  # the one difference is lost among the ties: not faster anywhere


# --- C4: IMAP needs the server online, and storage ----------------------------------------


def offline(mode: str, server: str = "dovecot", **shares: float) -> CellResult:
    return cell("offline-use", mode, "server-down", server,
                by_policy={p: {"readable_offline_share": v} for p, v in shares.items()})


def stored(mode: str, after: float, state: float, server: str = "dovecot") -> CellResult:
    return cell("bulk-fetch", mode, "full", server, server_disk_bytes=17 * MB, server_disk_after_bytes=after,
                server_state_bytes=state, message_bytes=16 * MB, elapsed_s=1.0)


def test_c4_true_when_no_imap_client_reads_offline_and_the_server_keeps_the_mail():
    v = verdict(claims.c4, offline("imap", online=0.0, headers=0.0), stored("imap", 17 * MB, 1e5))
    assert v.verdict == SUPPORTED


def test_c4_false_when_imap_reads_offline_and_the_server_keeps_no_mail():
    v = verdict(claims.c4, offline("imap", full=1.0), stored("imap", 1e5, 1e5))
    assert v.verdict == REFUTED


def test_c4_depends_on_the_cache_policy():
    v = verdict(claims.c4, offline("imap", full=1.0, headers=0.0, online=0.0), stored("imap", 17 * MB, 1e5))
    assert v.verdict == DEPENDS
    assert "cache policy" in v.condition and "needs server storage: supported" in v.condition


def test_c4_undecided_without_offline_use_or_storage():
    assert verdict(claims.c4, offline("pop3-keep", full=1.0)).verdict == NOT_MEASURED


# --- C5 and C8: exposure -----------------------------------------------------------------


def exposed(mode: str, hours: float, device_hours: float, server: str = "dovecot") -> CellResult:
    return cell("storage-exposure", mode, "timeline", server, exposed_message_hours=hours,
                device_exposed_message_hours=device_hours, exposed_messages=hours / 10)


def lost(mode: str, count: float, server: str = "dovecot") -> CellResult:
    return cell("offline-use", mode, "server-down", server, messages_lost_with_device=count,
                by_policy={"full": {"readable_offline_share": 1.0}})


def test_c5_true_when_imap_exposes_more_to_the_password_and_the_stolen_device():
    assert verdict(claims.c5, exposed("imap", 9000, 8000), exposed("pop3-delete", 300, 4000)).verdict == SUPPORTED


def test_c5_false_when_pop3_exposes_as_much_a_tie_is_no_win():
    v = verdict(claims.c5, exposed("imap", 9000, 8000), exposed("pop3-keep", 9100, 8100))
    assert v.verdict == REFUTED
    assert "a tie" in v.condition


def test_c5_undecided_without_both_protocols():
    assert verdict(claims.c5, exposed("imap", 9000, 8000)).verdict == NOT_MEASURED
    assert verdict(claims.c5).verdict == NOT_MEASURED


def test_c8_true_when_pop3_exposes_less_everywhere_and_loses_less():
    v = verdict(claims.c8, exposed("imap", 9000, 8000), exposed("pop3-delete", 300, 4000),
                lost("imap", 5), lost("pop3-delete", 0))
    assert v.verdict == SUPPORTED


def test_c8_false_when_pop3_loses_mail_with_the_device_and_exposes_as_much():
    v = verdict(claims.c8, exposed("imap", 9000, 8000), exposed("pop3-keep", 9000, 8000),
                lost("imap", 0), lost("pop3-delete", 0), lost("pop3-keep", 0))
    assert v.verdict == REFUTED  # 0 against 0 is a tie, judged the same way as any other


def test_c8_undecided_without_exposure_or_device_loss():
    assert verdict(claims.c8).verdict == NOT_MEASURED
    assert verdict(claims.c8, exposed("pop3-keep", 1, 1)).verdict == NOT_MEASURED


# --- C6, C9: what other devices see --------------------------------------------------------


def devices(mode: str, share: float, reached: tuple[int, int] | None = None, server: str = "dovecot") -> CellResult:
    """A multi-device-sync cell: ``share`` of messages on other devices; ``reached`` (made,
    reached) changes of state in every sample's last round."""
    info = []
    if reached is not None:
        made, got = reached
        by_kind = {"read": {"made": made, "reached": got}, "new": {"made": 50, "reached": 50}}
        info = [{"change_rounds": [{"round": 9, "by_kind": by_kind, "misses": 0}]}] * 3
    return cell("multi-device-sync", mode, "incremental", server, info=info, other_device_messages_share=share)


def test_c6_true_when_no_pop3_message_shows_on_another_device():
    assert verdict(claims.c6, devices("pop3-delete", 0.0), devices("imap", 1.0)).verdict == SUPPORTED


def test_c6_false_when_pop3_mail_shows_on_the_other_devices():
    assert verdict(claims.c6, devices("pop3-keep", 0.9)).verdict == REFUTED


def test_c6_undecided_without_pop3_devices():
    assert verdict(claims.c6, devices("imap", 1.0)).verdict == NOT_MEASURED


def test_c9_true_when_pop3_mail_and_changes_stay_on_one_device():
    assert verdict(claims.c9, devices("pop3-delete", 0.0, (10, 0))).verdict == SUPPORTED


def test_c9_false_when_pop3_mail_and_changes_reach_other_devices():
    assert verdict(claims.c9, devices("pop3-keep", 0.9, (10, 10))).verdict == REFUTED


def test_c9_new_mail_is_not_a_change_of_state():
    v = verdict(claims.c9, devices("pop3-keep", 0.9, (10, 0)))
    assert v.verdict == DEPENDS  # the mail reaches other devices; the changes do not
    assert "no sync of changes: supported" in v.condition


def test_c9_undecided_without_pop3_cells():
    assert verdict(claims.c9, devices("imap", 1.0, (10, 10))).verdict == NOT_MEASURED


# --- C7: no per-user state, works offline --------------------------------------------------


def test_c7_true_when_pop3_leaves_no_state_and_reads_offline():
    assert verdict(claims.c7, stored("pop3-delete", 0, 0), lost("pop3-delete", 3)).verdict == SUPPORTED


def test_c7_false_when_pop3_leaves_state_and_cannot_read_offline():
    unreadable = cell("offline-use", "pop3-keep", "server-down", by_policy={"full": {"readable_offline_share": 0.2}})
    assert verdict(claims.c7, stored("pop3-keep", 17 * MB, 40_000), unreadable).verdict == REFUTED


def test_c7_undecided_without_pop3_cells():
    assert verdict(claims.c7, stored("imap", 17 * MB, 40_000)).verdict == NOT_MEASURED


# --- C10: mail lost with the device ---------------------------------------------------------


def test_c10_true_when_every_pop3_mode_loses_mail_with_the_device():
    assert verdict(claims.c10, lost("pop3-delete", 299), lost("imap", 0)).verdict == SUPPORTED


def test_c10_false_when_no_pop3_mode_loses_anything():
    assert verdict(claims.c10, lost("pop3-keep", 0)).verdict == REFUTED


def test_c10_undecided_without_device_loss():
    assert verdict(claims.c10, lost("imap", 0)).verdict == NOT_MEASURED


# --- C11: a sentence per user, derived ------------------------------------------------------


def _v(claim_id: str, outcome: str, condition: str = "because") -> Verdict:
    return Verdict(claim_id, claims.CLAIMS[claim_id], outcome, condition, [])


def test_c11_true_when_every_part_holds():
    v = derive_c11([_v(f"C{i}", SUPPORTED) for i in range(1, 11)])
    assert v.verdict == SUPPORTED
    assert len(v.figures) == 4 and all(f.value.startswith("For ") for f in v.figures)


def test_c11_false_when_every_part_fails():
    assert derive_c11([_v(f"C{i}", REFUTED) for i in range(1, 11)]).verdict == REFUTED


def test_c11_gives_a_sentence_per_user_from_the_parts_it_rests_on_with_their_conditions():
    verdicts = [_v(f"C{i}", SUPPORTED) for i in range(1, 11)]
    verdicts[3] = Verdict("C4", claims.CLAIMS["C4"], DEPENDS, "…", [], parts={
        "needs the server online": (DEPENDS, "depends on the client's cache policy: holds for online; not for full"),
        "needs server storage": (SUPPORTED, "holds in every case measured")})
    v = derive_c11(verdicts)
    assert v.verdict == DEPENDS
    offline = next(f for f in v.figures if f.label.startswith("reading offline"))
    assert offline.value.startswith("For reading offline: POP3 only under conditions.")
    assert "an IMAP client cannot read its mail offline: depends (depends on the client's cache policy" in offline.value
    assert "needs server storage" not in offline.value  # a part no user rests on is left out


def test_c11_undecided_without_any_decided_part():
    assert derive_c11([_v(f"C{i}", NOT_MEASURED) for i in range(1, 11)]).verdict == NOT_MEASURED


# --- every rule -----------------------------------------------------------------------------


@pytest.mark.parametrize("rule", claims.RULES, ids=lambda r: r.__name__)
def test_every_figure_names_cells_of_the_run(rule):
    run = results(synced(), joined("imap", 1.0), joined("pop3-keep", 1.0), offline("imap", full=1.0, online=0.0),
                  stored("imap", 17 * MB, 1e5), stored("pop3-delete", 1e5, 1e5), exposed("imap", 9, 8),
                  exposed("pop3-delete", 1, 8), lost("imap", 0), lost("pop3-delete", 3), devices("pop3-keep", 1.0),
                  timed("imap", FAST5), timed("pop3-keep", SLOW5))
    known = {c.id for c in run.cells}
    v = rule(run)
    assert v.verdict in claims.OUTCOMES
    assert {i for f in v.figures for i in f.cell_ids} <= known
