"""JMAP against IMAP, one sentence per link and workload: a mode beats the other only where
every one of its samples was faster; overlapping samples decide nothing."""

from __future__ import annotations

from bench.report import build_document, markdown
from bench.report.jmap_imap import comparisons, jmap_imap_section, sentence
from bench.results import CellResult, Results


def _cell(mode: str, seconds: list[float], trips: int, link: str = "mobile-4g", variant: str = "full",
          scenario: str = "bulk-fetch") -> CellResult:
    cell = CellResult(scenario, "cyrus", mode, variant, "off", link)
    for value in seconds:
        cell.add_sample({"round_trips": trips, "elapsed_s": value, "bytes_down": 1000})
    return cell


def _results(*cells: CellResult) -> Results:
    return Results(run_id="r", started_at="now", command="mailbench run", cells=list(cells),
                   plan={"links": {"mobile-4g": {"name": "mobile-4g", "rtt_ms": 53.1, "down_mbit": 14.7,
                                                 "up_mbit": 5.0, "source": "test"}}})


def test_imap_beats_jmap_where_every_imap_sample_is_faster():
    [found] = comparisons(_results(_cell("imap", [1.0, 1.1], 8), _cell("jmap", [2.9, 3.0], 35)))
    assert found.winner == "imap"
    said = sentence(found, {"rtt_ms": 53.1})
    assert said.startswith("On mobile-4g (53.1 ms), full download on cyrus: IMAP's pipelining beats JMAP's batching")
    assert "JMAP 35 round trips and 2.95 s, IMAP 8 and 1.05 s" in said


def test_jmap_beats_imap_where_every_jmap_sample_is_faster():
    [found] = comparisons(_results(_cell("imap", [0.5, 0.6], 12, variant="new"),
                                   _cell("jmap", [0.2, 0.3], 2, variant="new")))
    assert found.winner == "jmap" and found.workload.label == "new-mail sync"
    assert "JMAP's batching beats IMAP's pipelining" in sentence(found)


def test_overlapping_samples_decide_nothing():
    [found] = comparisons(_results(_cell("imap", [1.0, 2.0], 8), _cell("jmap", [1.5, 2.5], 9)))
    assert found.winner is None
    assert "neither beats the other" in sentence(found)


def test_no_section_without_both_modes_on_one_server_and_workload():
    assert jmap_imap_section(_results(_cell("imap", [1.0], 8))) == []
    failed = _cell("jmap", [2.0], 35)
    failed.fail("boom")
    assert jmap_imap_section(_results(_cell("imap", [1.0, 1.1], 8), failed)) == []
    report = markdown.render(build_document(_results(_cell("imap", [1.0, 1.1], 8), _cell("jmap", [2.0, 2.1], 35))), {})
    assert "## JMAP against IMAP" in report and "IMAP's pipelining beats JMAP's batching" in report


def test_one_sample_a_side_decides_nothing():
    [found] = comparisons(_results(_cell("imap", [1.0], 8), _cell("jmap", [9.0], 35)))
    assert found.winner is None
    assert "too few samples to say which is faster (at least 2 a side)" in sentence(found)
