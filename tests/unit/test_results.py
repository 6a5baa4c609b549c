import json

import pytest

from bench import results
from bench.errors import ResultsError
from bench.results import CellResult, Results


def _results() -> Results:
    cell = CellResult("bulk-fetch", "dovecot", "imap", "full")
    cell.samples = [{"elapsed_s": 1.0, "messages": 10}, {"elapsed_s": 3.0, "messages": 10},
                    {"elapsed_s": 2.0, "messages": 10}]
    failed = CellResult("bulk-fetch", "dovecot", "pop3-keep", "full")
    failed.fail("IntegrityError: 1 missing")
    return Results("r1", "2026-01-01T00:00:00+00:00", "mailbench run", cells=[cell, failed])


def test_save_then_load_round_trips(tmp_path):
    path = tmp_path / "results.json"
    results.save(_results(), path)
    loaded = results.load(path)
    assert [c.id for c in loaded.cells] == ["bulk-fetch/dovecot/imap/full/tls-off", "bulk-fetch/dovecot/pop3-keep/full/tls-off"]
    assert loaded.cells[1].error == "IntegrityError: 1 missing"
    data = json.loads(path.read_text())
    assert data["schema_version"] == results.SCHEMA_VERSION
    assert data["cells"][0]["metrics"]["elapsed_s"]["median"] == 2.0
    assert data["cells"][0]["metrics"]["elapsed_s"]["min"] == 1.0
    assert data["cells"][0]["metrics"]["elapsed_s"]["n"] == 3
    assert [c.ok for c in loaded.cells] == [True, False]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_load_refuses_unknown_schema_version(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema_version": 99, "cells": []}))
    with pytest.raises(ResultsError, match="schema version 99"):
        results.load(path)


@pytest.mark.parametrize("text", ["not json", "[]", '{"cells": []}'])
def test_load_refuses_what_is_not_a_results_file(tmp_path, text):
    path = tmp_path / "results.json"
    path.write_text(text)
    with pytest.raises(ResultsError) as error:
        results.load(path)
    assert "\n" not in str(error.value)


def test_load_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(ResultsError, match="does not exist"):
        results.load(tmp_path / "nope.json")


def test_samples_per_cell_in_words_for_one_count_and_for_each_scenario_s_own():
    from bench.results import Results

    assert Results("r", "t", "c", plan={"repeat": 3}).samples_per_cell() == "3 samples per cell"
    per_scenario = {"bulk-fetch": 5, "offline-use": 3, "storage-exposure": 3}
    assert Results("r", "t", "c", plan={"repeat": per_scenario}).samples_per_cell() == \
        "5 per bulk-fetch cell, 3 per other cell"
