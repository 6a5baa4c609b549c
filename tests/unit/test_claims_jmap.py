"""The claims about IMAP judged with JMAP in IMAP's place: true, false and undecidable for
JMAP, never moving IMAP's own verdict, with JMAP's cells behind its figures; and the claims
table's column, present only where JMAP ran."""

from __future__ import annotations

from bench import claims
from bench.claims import NOT_MEASURED, REFUTED, SUPPORTED
from bench.claims_jmap import judge_in_imaps_place
from bench.report import markdown
from bench.report.document import Document
from bench.report.verdicts import claims_section
from bench.results import CellResult
from tests.unit.test_claims import FAST5, SLOW5, cell, exposed, results, synced, timed


def jmap_synced(misses: float | list[float] = 0) -> CellResult:
    return cell("multi-device-sync", "jmap", "incremental", "cyrus", sync_misses=misses, messages_missing=0,
                sync_rounds=10, sync_miss_rounds=0 if misses == 0 else 2, sync_misses_worst_round=misses)


def test_no_jmap_cell_no_jmap_reading():
    assert judge_in_imaps_place(results(synced("cyrus"))) == {}


def test_c1_with_jmap_in_imaps_place_true_false_and_undecidable():
    imap = synced("cyrus")
    held = judge_in_imaps_place(results(imap, jmap_synced()))["C1"]
    assert held.verdict == SUPPORTED and held.claim_text.startswith("JMAP ")
    assert held.headline.cell_ids == ("multi-device-sync/cyrus/jmap/incremental/tls-off",)
    missed = judge_in_imaps_place(results(imap, jmap_synced([0, 3, 1])))["C1"]
    assert missed.verdict == REFUTED
    # JMAP's misses do not move IMAP's own verdict
    assert claims.c1(results(imap, jmap_synced([0, 3, 1]))).verdict == SUPPORTED
    other = judge_in_imaps_place(results(imap, timed("jmap", FAST5, "cyrus")))["C1"]
    assert other.verdict == NOT_MEASURED  # a JMAP cell, but none of multi-device-sync


def test_c3_and_c5_compare_jmap_with_pop3_of_the_same_server():
    cells = [timed("jmap", FAST5, "cyrus"), timed("pop3-keep", SLOW5, "cyrus"), timed("imap", SLOW5, "cyrus"),
             timed("jmap", FAST5, "cyrus", "search", bytes_down=1e5),
             timed("pop3-keep", SLOW5, "cyrus", "search", bytes_down=5e6)]
    faster = judge_in_imaps_place(results(*cells, messages=300))["C3"]
    assert faster.verdict == SUPPORTED, faster.condition
    assert all("imap" not in f.value for f in faster.figures)
    assert any(f.value.startswith("jmap ") for f in faster.figures)
    exposure = judge_in_imaps_place(results(exposed("jmap", 9000, 8000, "cyrus"),
                                            exposed("pop3-keep", 9100, 8100, "cyrus")))["C5"]
    assert exposure.verdict == REFUTED and "a tie" in exposure.condition


def test_only_the_claims_about_imap_have_a_jmap_reading():
    assert sorted(judge_in_imaps_place(results(jmap_synced()))) == ["C1", "C2", "C3", "C4", "C5"]


def test_the_claims_table_has_a_jmap_column_only_where_jmap_ran():
    def table(run) -> str:
        return markdown.render(Document("t", sections=[claims_section(run)]))

    assert "in IMAP's place" not in table(results(synced("cyrus")))
    with_jmap = table(results(synced("cyrus"), jmap_synced()))
    assert "| with JMAP in IMAP's place |" in with_jmap
    assert "#evidence-c1-jmap" in with_jmap
