"""The appendix's "Where the run's time went", from crafted results."""

from __future__ import annotations

from bench.report import markdown
from bench.report.document import Document, Table, plain
from bench.report.sections import build_appendix
from bench.report.time_split import TITLE, time_split_section
from bench.results import CellResult, Results


def _cell(scenario: str, mode: str, split: dict[str, float] | None) -> CellResult:
    cell = CellResult(scenario, "dovecot", mode, "full")
    if split is not None:
        cell.info["time_split_s"] = split
    return cell


def _results(*cells: CellResult) -> Results:
    results = Results(run_id="r1", started_at="2026-01-01T00:00:00+00:00", command="mailbench run")
    results.cells = list(cells)
    return results


def _rows(table: Table) -> dict[str, tuple[str, ...]]:
    return {plain(row[0]): tuple(plain(piece) for piece in row) for row in table.rows}


def test_each_scenario_gets_a_table_of_its_parts_added_up_over_its_cells():
    results = _results(
        _cell("bulk-fetch", "imap", {"delivery": 6, "measured": 1, "waiting": 2, "containers": 0, "other": 1,
                                     "total": 10}),
        _cell("bulk-fetch", "pop3-keep", {"delivery": 4, "measured": 1, "waiting": 0, "containers": 0, "other": 5,
                                          "total": 10}),
        _cell("new-mail", "imap", {"delivery": 1, "measured": 2, "waiting": 7, "containers": 0, "other": 0,
                                   "total": 10}),
    )
    results.environment["servers"] = {"dovecot": {"version": "2.3", "image_s": 0.5, "start_s": 3.25}}
    section = time_split_section(results)
    assert section.title == TITLE
    tables = [block for block in section.blocks if isinstance(block, Table)]
    assert [table.caption for table in tables] == ["bulk-fetch", "new-mail", ""]
    bulk = _rows(tables[0])
    assert list(bulk) == ["delivery", "measured", "waiting", "containers", "other", "total"]
    assert bulk["delivery"][2:] == ("10.0", "50.0%")
    assert bulk["other"][2:] == ("6.00", "30.0%")
    assert bulk["total"][1:] == ("2 cells", "20.0", "100%")
    assert _rows(tables[1])["waiting"][2:] == ("7.00", "70.0%")
    assert _rows(tables[2])["dovecot"] == ("dovecot", "0.500", "3.25")


def test_a_file_without_the_split_says_it_was_not_recorded():
    section = time_split_section(_results(_cell("bulk-fetch", "imap", None)))
    assert not any(isinstance(block, Table) for block in section.blocks)
    assert "Not recorded" in markdown.render(Document("t", sections=[section]))


def test_cells_without_a_split_beside_others_are_counted():
    results = _results(_cell("bulk-fetch", "imap", {"measured": 1, "total": 1}), _cell("bulk-fetch", "pop3-keep", None))
    words = markdown.render(Document("t", sections=[time_split_section(results)]))
    assert "1 cell was never run" in words


def test_the_appendix_holds_the_section():
    results = _results(_cell("bulk-fetch", "imap", {"measured": 1, "total": 1}))
    assert TITLE in [section.title for section in build_appendix(results, (time_split_section,)).sections]
    from bench.report.sections import APPENDIX
    assert time_split_section in APPENDIX
