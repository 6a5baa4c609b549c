"""Each claim's rule on crafted results, for every outcome it can give.

The results here are made up in the tests themselves: a few cells with the metrics a
rule reads, so that each verdict follows from figures the test states.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import claims
from bench.claims import DEPENDS, NOT_MEASURED, REFUTED, SUPPORTED, Verdict, derive_c11
from bench.links import parse_link
from bench.results import CellResult, Results

CLAIMS_DOC = Path(__file__).parent.parent.parent / "docs" / "claims.md"
MB = 10**6


def cell(scenario: str = "bulk-fetch", server: str = "dovecot", mode: str = "imap", variant: str = "full",
         tls: str = "off", *, failed: bool = False, link: str = "lan", **metrics: float | list[float]) -> CellResult:
    """A cell with three samples; a metric given as one number has it in every sample. A
    link other than lan is a profile of ``bench.links``, its figures in the cell's info."""
    series = {name: value if isinstance(value, list) else [value] * 3 for name, value in metrics.items()}
    samples = [{name: values[i] for name, values in series.items()} for i in range(3)] if series else []
    result = CellResult(scenario, server, mode, variant, tls, link, samples=samples)
    result.info["link"] = parse_link(link).as_dict()
    if failed:
        result.fail("IntegrityError: 1 missing")
    return result


def results(*cells: CellResult, **plan) -> Results:
    return Results("test", "2026-01-01T00:00:00+00:00", "mailbench run", plan=dict(plan), cells=list(cells))


def fetched(server="dovecot", mode="imap", variant="full", tls="off", *, seconds=(1.0, 1.1, 1.2), trips=7,
            before=5 * MB, after=None, downloaded=4 * MB, link="lan", limit=None) -> CellResult:
    """A bulk-fetch cell: its times, round trips and the server's store before and after;
    on a relayed link with ``limit``, the limit and each sample's efficiency against it."""
    if after is None:
        after = 0.005 * MB if mode == "pop3-delete" else before
    against = {} if limit is None else {"limit_s": limit, "efficiency": [limit / t for t in seconds]}
    return cell("bulk-fetch", server, mode, variant, tls, link=link, elapsed_s=list(seconds), round_trips=trips,
                bytes_down=downloaded, message_bytes=downloaded, server_disk_bytes=before,
                server_disk_after_bytes=after, **against)


def ids(verdict: Verdict) -> set[str]:
    return {cell_id for figure in verdict.figures for cell_id in figure.cell_ids}


EMPTY = results()
FAST, SLOW = (1.0, 1.05, 1.1), (2.0, 2.1, 2.2)


# --- the claims as documented --------------------------------------------------------------


def test_claim_texts_are_those_of_the_docs():
    rows = re.findall(r"^\| (C\d+) \| (.+?) \| .+ \|$", CLAIMS_DOC.read_text(encoding="utf-8"), re.MULTILINE)
    assert dict(rows) == claims.CLAIMS


def test_judge_gives_every_claim_in_order_and_names_the_deciding_scenario():
    verdicts = claims.judge(EMPTY)
    assert [v.claim_id for v in verdicts] == [f"C{i}" for i in range(1, 12)]
    assert all(v.verdict == NOT_MEASURED for v in verdicts)
    condition = {v.claim_id: v.condition for v in verdicts}
    assert "multi-device-sync" in condition["C1"]
    assert "offline-use" in condition["C4"]
    assert "storage-exposure" in condition["C5"] and "storage-exposure" in condition["C8"]
    assert "offline-use" in condition["C10"] and "device loss" in condition["C10"]
    assert "bulk-fetch" in condition["C3"]


# --- C1 ------------------------------------------------------------------------------------


def test_c1_not_measured_without_multi_device_sync_or_its_metrics():
    assert claims.c1(results(fetched())).verdict == NOT_MEASURED
    ran = claims.c1(results(cell("multi-device-sync", elapsed_s=1.0)))
    assert ran.verdict == NOT_MEASURED and "messages_missing" in ran.condition


@pytest.mark.parametrize("missing, outcome", [((0, 0), SUPPORTED), ((2, 1), REFUTED), ((0, 3), DEPENDS)])
def test_c1_outcomes(missing, outcome):
    cells = [cell("multi-device-sync", server, "imap", messages_missing=n, states_wrong=0)
             for server, n in zip(("dovecot", "courier"), missing)]
    verdict = claims.c1(results(*cells))
    assert verdict.verdict == outcome
    if outcome == DEPENDS:
        assert "holds for dovecot" in verdict.condition and "not for courier" in verdict.condition
    assert ids(verdict) == {c.id for c in cells}


def test_c1_counts_mail_lost_in_a_broken_imap_download_when_interrupted_sync_ran():
    synced = cell("multi-device-sync", "dovecot", "imap", messages_missing=0, states_wrong=0)
    clean = cell("interrupted-sync", "dovecot", "imap", "server-killed", messages_lost=0, messages_duplicated=0,
                 messages_partial=0)
    assert claims.c1(results(synced, clean)).verdict == SUPPORTED
    lossy = cell("interrupted-sync", "courier", "imap", "cut-mid-message", messages_lost=2, messages_duplicated=0,
                 messages_partial=0)
    pop3 = cell("interrupted-sync", "courier", "pop3-delete", "cut-mid-message", messages_lost=5)
    verdict = claims.c1(results(synced, clean, lossy, pop3))
    assert verdict.verdict == DEPENDS and "courier" in verdict.condition
    assert ids(verdict) == {synced.id, clean.id, lossy.id}  # POP3 cells do not speak for IMAP


# --- C2 ------------------------------------------------------------------------------------


def test_c2_not_measured_without_the_store_on_the_server():
    assert claims.c2(EMPTY).verdict == NOT_MEASURED
    unmeasured = fetched(before=0, after=0)  # a store read as empty was not read
    assert claims.c2(results(unmeasured)).verdict == NOT_MEASURED


def test_c2_supported_when_imap_leaves_the_mail_on_the_server():
    verdict = claims.c2(results(fetched(), fetched(variant="headers", downloaded=0.1 * MB)))
    assert verdict.verdict == SUPPORTED
    assert any("new device" in f.label and "full copy" in f.value for f in verdict.figures)


def test_c2_refuted_when_the_mail_is_gone_after_an_imap_sync():
    assert claims.c2(results(fetched(after=0.01 * MB))).verdict == REFUTED


def test_c2_depends_on_the_server_and_names_where_the_store_was_not_measured():
    verdict = claims.c2(results(fetched("dovecot"), fetched("courier", after=0.01 * MB),
                                fetched("cyrus", before=0, after=0)))
    assert verdict.verdict == DEPENDS
    assert "holds for dovecot; not for courier" in verdict.condition
    assert "not measured on cyrus" in verdict.condition


# --- C3 ------------------------------------------------------------------------------------


def test_c3_not_measured_without_bulk_fetch_or_both_protocols():
    assert claims.c3(EMPTY).verdict == NOT_MEASURED
    assert claims.c3(results(fetched(mode="imap"))).verdict == NOT_MEASURED


def test_c3_supported_when_imap_beats_the_faster_pop3_mode_beyond_the_noise():
    cells = [fetched(mode="imap", seconds=FAST, trips=7), fetched(mode="pop3-keep", seconds=SLOW, trips=22),
             fetched(mode="pop3-delete", seconds=(3.0, 3.1, 3.2), trips=23)]
    verdict = claims.c3(results(*cells, messages=200))
    assert verdict.verdict == SUPPORTED
    (figure,) = verdict.figures
    assert figure.cell_ids == (cells[0].id, cells[1].id)  # against the faster POP3 mode
    assert "round trips 7 vs 22" in figure.value and "pop3-keep 2.00× as long" in figure.value
    assert "200 messages" in verdict.condition and "round trip" in verdict.condition


def test_c3_refuted_when_pop3_is_faster_or_the_difference_is_noise():
    pop3_faster = results(fetched(mode="imap", seconds=SLOW), fetched(mode="pop3-keep", seconds=FAST))
    assert claims.c3(pop3_faster).verdict == REFUTED
    overlapping = results(fetched(mode="imap", seconds=(1.0, 1.5, 2.0)),
                          fetched(mode="pop3-keep", seconds=(1.2, 1.6, 2.2)))
    verdict = claims.c3(overlapping)
    assert verdict.verdict == REFUTED and "within the noise" in verdict.figures[0].value


def test_c3_depends_names_the_condition_that_decides():
    cells = [fetched("dovecot", "imap", seconds=FAST), fetched("dovecot", "pop3-keep", seconds=SLOW),
             fetched("courier", "imap", seconds=SLOW), fetched("courier", "pop3-keep", seconds=FAST)]
    verdict = claims.c3(results(*cells))
    assert verdict.verdict == DEPENDS
    assert verdict.condition.startswith("depends on the server: holds for dovecot; not for courier")


def test_c3_depends_on_tls_quotes_the_tls_figures_that_differ():
    cells = [fetched(mode="imap", tls="off", seconds=FAST), fetched(mode="pop3-keep", tls="off", seconds=SLOW),
             fetched(mode="imap", tls="on", seconds=SLOW), fetched(mode="pop3-keep", tls="on", seconds=FAST)]
    verdict = claims.c3(results(*cells))
    assert verdict.verdict == DEPENDS and "depends on the TLS setting" in verdict.condition
    assert [f.label for f in verdict.figures] == ["dovecot, full, TLS off", "dovecot, full, TLS on"]


def test_c3_ignores_failed_cells():
    cells = [fetched(mode="imap", seconds=FAST), fetched(mode="pop3-keep", seconds=SLOW)]
    broken = cell("bulk-fetch", "dovecot", "pop3-delete", failed=True)
    assert claims.c3(results(*cells, broken)).verdict == SUPPORTED


def test_c3_compares_imap_and_pop3_on_the_same_link_only():
    # On lan IMAP is slower; on satellite it is faster. Were the links mixed up, IMAP's
    # satellite cell would be compared with POP3's lan cell, or one link would hide the other.
    cells = [fetched(mode="imap", seconds=SLOW), fetched(mode="pop3-keep", seconds=FAST),
             fetched(mode="imap", link="satellite", seconds=(5.0, 5.1, 5.2), limit=2.5),
             fetched(mode="pop3-keep", link="satellite", seconds=(6.0, 6.1, 6.2), limit=2.5)]
    verdict = claims.c3(results(*cells, messages=200))
    assert verdict.verdict == DEPENDS
    assert verdict.condition.startswith("depends on the link: holds for satellite; not for lan")
    assert "links: lan (loopback), satellite (630 ms)" in verdict.condition
    assert "on the slowest link, satellite, IMAP was faster beyond the noise in 1 of 1 comparisons" in verdict.condition
    assert "on loopback" not in verdict.condition
    lan, satellite = verdict.figures  # one figure per link, shortest round trip first
    assert lan.label == "dovecot, full, TLS off" and lan.cell_ids == (cells[0].id, cells[1].id)
    assert "POP3 faster" in lan.value and "efficiency" not in lan.value
    assert satellite.label == "dovecot, full, TLS off, satellite (630 ms)"
    assert satellite.cell_ids == (cells[2].id, cells[3].id)
    # the efficiency is the median of the samples' efficiency: 2.5 / 5.1 and 2.5 / 6.1
    assert "IMAP faster" in satellite.value and "efficiency against the limit 49% vs 41%" in satellite.value


def test_c3_on_slow_links_alone():
    cells = [fetched(mode=mode, link=link, seconds=seconds, limit=limit)
             for link, limit in (("mobile-4g", 1.0), ("satellite", 2.5))
             for mode, seconds in (("imap", FAST), ("pop3-keep", SLOW))]
    verdict = claims.c3(results(*cells))
    assert verdict.verdict == SUPPORTED
    assert "links: mobile-4g (53.1 ms), satellite (630 ms)" in verdict.condition
    assert "in 1 of 1 comparisons" in verdict.condition
    assert [f.label for f in verdict.figures] == ["dovecot, full, TLS off, mobile-4g (53.1 ms)",
                                                  "dovecot, full, TLS off, satellite (630 ms)"]


def test_storage_figures_are_quoted_for_one_link():
    cells = [fetched(mode=mode, link=link) for link in ("lan", "satellite") for mode in ("pop3-keep", "pop3-delete")]
    verdict = claims.c6(results(*cells))
    assert verdict.verdict == DEPENDS and "holds for pop3-delete; not for pop3-keep" in verdict.condition
    (figure,) = verdict.figures  # what is left on the server does not depend on the link: lan's cells
    assert figure.cell_ids == (cells[0].id, cells[1].id)
    only_satellite = claims.c6(results(*cells[2:]))
    (figure,) = only_satellite.figures
    assert figure.cell_ids == (cells[2].id, cells[3].id) and figure.label.endswith(", satellite (630 ms)")


# --- C4 ------------------------------------------------------------------------------------


def test_c4_not_measured_without_offline_use_but_shows_the_storage():
    verdict = claims.c4(results(fetched()))
    assert verdict.verdict == NOT_MEASURED and "offline-use" in verdict.condition
    assert "imap 5.00 MB → 5.00 MB" in verdict.figures[0].value


@pytest.mark.parametrize("shares, outcome", [((0.1, 0.0), SUPPORTED), ((1.0, 1.0), REFUTED), ((0.1, 1.0), DEPENDS)])
def test_c4_outcomes(shares, outcome):
    cells = [cell("offline-use", "dovecot", "imap", variant, readable_offline_share=share)
             for variant, share in zip(("online", "full-copy"), shares)]
    verdict = claims.c4(results(*cells))
    assert verdict.verdict == outcome
    if outcome == DEPENDS:
        assert "depends on the variant: holds for online; not for full-copy" in verdict.condition


# --- C5 and C8 -----------------------------------------------------------------------------


def exposure(imap: float, keep: float, delete: float) -> list[CellResult]:
    return [cell("storage-exposure", "dovecot", mode, exposed_messages=n)
            for mode, n in (("imap", imap), ("pop3-keep", keep), ("pop3-delete", delete))]


def test_c5_not_measured_without_storage_exposure():
    verdict = claims.c5(results(fetched(), fetched(mode="pop3-delete")))
    assert verdict.verdict == NOT_MEASURED and "storage-exposure" in verdict.condition
    assert "pop3-delete 5.00 MB → 5.00 kB" in verdict.figures[0].value


@pytest.mark.parametrize("exposed, outcome", [((200, 20, 0), SUPPORTED), ((200, 200, 200), REFUTED),
                                              ((200, 200, 0), DEPENDS)])
def test_c5_outcomes(exposed, outcome):
    verdict = claims.c5(results(*exposure(*exposed)))
    assert verdict.verdict == outcome
    if outcome == DEPENDS:
        assert "depends on the mode: holds for pop3-delete; not for pop3-keep" in verdict.condition


def test_c5_pairs_cells_of_the_same_link_only():
    imap_far = cell("storage-exposure", "dovecot", "imap", link="satellite", exposed_messages=200)
    pop3_near = cell("storage-exposure", "dovecot", "pop3-delete", exposed_messages=0)
    assert claims.c5(results(imap_far, pop3_near)).verdict == NOT_MEASURED
    pop3_far = cell("storage-exposure", "dovecot", "pop3-delete", link="satellite", exposed_messages=0)
    verdict = claims.c5(results(imap_far, pop3_near, pop3_far))
    assert verdict.verdict == SUPPORTED and ids(verdict) == {imap_far.id, pop3_far.id}


def test_c8_not_measured_without_storage_exposure():
    assert claims.c8(EMPTY).verdict == NOT_MEASURED


def test_c8_outcomes():
    assert claims.c8(results(*exposure(200, 20, 0))).verdict == SUPPORTED
    assert claims.c8(results(*exposure(200, 200, 200))).verdict == REFUTED
    # less exposed on the server, but more lost with the device: it depends on what "safer" means
    lost = [cell("offline-use", "dovecot", mode, messages_lost_with_device=n)
            for mode, n in (("imap", 0), ("pop3-keep", 0), ("pop3-delete", 200))]
    verdict = claims.c8(results(*exposure(200, 20, 0), *lost))
    assert verdict.verdict == DEPENDS
    assert verdict.condition.startswith("holds in 3 of 4 cases")
    assert "POP3 loses more with the device in 1" in verdict.condition


# --- C6 and C7 -----------------------------------------------------------------------------


def test_c6_not_measured_without_the_store():
    assert claims.c6(results(fetched(mode="pop3-delete", before=0, after=0))).verdict == NOT_MEASURED


def test_c6_outcomes():
    assert claims.c6(results(fetched(mode="pop3-delete"))).verdict == SUPPORTED
    assert claims.c6(results(fetched(mode="pop3-keep"))).verdict == REFUTED
    verdict = claims.c6(results(fetched(mode="pop3-keep"), fetched(mode="pop3-delete")))
    assert verdict.verdict == DEPENDS
    assert verdict.condition.startswith("depends on the mode: holds for pop3-delete; not for pop3-keep")


def test_c6_counts_a_small_new_mail_sync_as_removed_despite_the_indexes_left():
    # 0.17 MB of new mail downloaded and deleted; the 0.03 MB left are the account's indexes
    new = fetched(mode="pop3-delete", variant="new", before=0.19 * MB, after=0.03 * MB, downloaded=0.17 * MB)
    assert claims.c6(results(new)).verdict == SUPPORTED


def test_c7_not_measured_without_offline_use_but_judges_the_state():
    verdict = claims.c7(results(fetched(mode="pop3-keep"), fetched(mode="pop3-delete")))
    assert verdict.verdict == NOT_MEASURED
    assert "offline-use" in verdict.condition and "holds for pop3-delete; not for pop3-keep" in verdict.condition


def test_c7_outcomes():
    readable = [cell("offline-use", "dovecot", "pop3-delete", readable_offline_share=1.0)]
    assert claims.c7(results(fetched(mode="pop3-delete"), *readable)).verdict == SUPPORTED
    unreadable = [cell("offline-use", "dovecot", "pop3-keep", readable_offline_share=0.0)]
    assert claims.c7(results(fetched(mode="pop3-keep"), *unreadable)).verdict == REFUTED
    verdict = claims.c7(results(fetched(mode="pop3-keep"), fetched(mode="pop3-delete"), *readable))
    assert verdict.verdict == DEPENDS


# --- C9 ------------------------------------------------------------------------------------


def test_c9_not_measured_without_multi_device_sync():
    assert claims.c9(results(fetched(mode="pop3-keep"))).verdict == NOT_MEASURED
    assert claims.c9(results(cell("multi-device-sync", mode="pop3-keep", elapsed_s=1.0))).verdict == NOT_MEASURED


def test_c9_outcomes():
    def synced(mode, others, changes):
        return cell("multi-device-sync", "dovecot", mode,
                    other_device_messages_share=others, changes_seen_share=changes)

    assert claims.c9(results(synced("pop3-delete", 0.0, 0.0))).verdict == SUPPORTED
    assert claims.c9(results(synced("pop3-keep", 1.0, 0.5))).verdict == REFUTED
    verdict = claims.c9(results(synced("pop3-keep", 1.0, 0.0), synced("pop3-delete", 0.0, 0.0)))
    assert verdict.verdict == DEPENDS


# --- C10 -----------------------------------------------------------------------------------


def test_c10_not_measured_without_device_loss():
    verdict = claims.c10(results(fetched(mode="pop3-delete")))
    assert verdict.verdict == NOT_MEASURED and "device loss" in verdict.condition
    assert verdict.figures  # what pop3-delete left on the server


@pytest.mark.parametrize("lost, outcome", [((200, 200), SUPPORTED), ((0, 0), REFUTED), ((0, 200), DEPENDS)])
def test_c10_outcomes(lost, outcome):
    cells = [cell("offline-use", "dovecot", mode, messages_lost_with_device=n)
             for mode, n in zip(("pop3-keep", "pop3-delete"), lost)]
    verdict = claims.c10(results(*cells))
    assert verdict.verdict == outcome
    if outcome == DEPENDS:
        assert "holds for pop3-delete; not for pop3-keep" in verdict.condition


# --- C11 -----------------------------------------------------------------------------------


def verdicts(outcome: str, **others: str) -> list[Verdict]:
    return [Verdict(f"C{i}", claims.CLAIMS[f"C{i}"], others.get(f"C{i}", outcome), "", []) for i in range(1, 11)]


def test_c11_is_derived_from_the_others():
    assert derive_c11(verdicts(SUPPORTED)).verdict == SUPPORTED
    assert derive_c11(verdicts(REFUTED)).verdict == REFUTED
    mixed = derive_c11(verdicts(SUPPORTED, C3=REFUTED))
    assert mixed.verdict == DEPENDS and "IMAP for frequent use: refuted" in mixed.condition
    partial = derive_c11(verdicts(SUPPORTED, C8=NOT_MEASURED))
    assert partial.verdict == NOT_MEASURED and "POP3 for the security-minded" in partial.condition
    assert claims.c11(EMPTY).verdict == NOT_MEASURED


def test_c11_from_results_follows_c3():
    run = results(fetched(mode="imap", seconds=FAST), fetched(mode="pop3-keep", seconds=SLOW))
    verdict = claims.c11(run)
    assert verdict.verdict == NOT_MEASURED
    assert "IMAP for frequent use: supported" in verdict.condition


def test_every_figure_names_cells_of_the_run():
    run = results(fetched(mode="imap", seconds=FAST), fetched(mode="pop3-keep", seconds=SLOW),
                  fetched(mode="pop3-delete", seconds=SLOW))
    known = {c.id for c in run.cells}
    for verdict in claims.judge(run):
        assert ids(verdict) <= known
