"""Charts drawn by helper processes: the same files as drawn in one process, none missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.report import chart_workers, write_charts
from bench.report.charts import planned_charts
from bench.report.scenarios import own_charts
from bench.results import load

RESULTS = Path(__file__).parent.parent / "data" / "results_real_tls.json"


@pytest.fixture(scope="module")
def alone(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("alone")
    return out, write_charts(load(RESULTS), out, formats=("svg",))


def _relative(paths: list[Path], root: Path) -> list[Path]:
    return [path.relative_to(root) for path in paths]


def test_helpers_write_the_same_files_as_one_process(alone, tmp_path, monkeypatch):
    monkeypatch.setattr(chart_workers, "HELPERS_FROM", 1)
    results = load(RESULTS)
    assert len(planned_charts(results, own=own_charts())) >= 4
    drawn = chart_workers.write_charts(results, RESULTS, tmp_path, ("svg",), own=own_charts(), helpers=2)
    out, written = alone
    assert _relative(drawn, tmp_path) == _relative(written, out)
    for path in written:
        assert (tmp_path / path.relative_to(out)).read_bytes() == path.read_bytes(), path.name


def test_a_failed_helpers_charts_are_drawn_here(alone, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(chart_workers, "HELPERS_FROM", 1)
    missing = tmp_path / "no-such-results.json"  # the helper cannot read it and fails
    drawn = chart_workers.write_charts(load(RESULTS), missing, tmp_path / "out", ("svg",), own=own_charts(),
                                       helpers=1)
    out, written = alone
    assert _relative(drawn, tmp_path / "out") == _relative(written, out)
    assert all(path.exists() for path in drawn)
    assert "chart helper 1 of 1 failed" in capsys.readouterr().err


def test_few_charts_or_no_file_start_no_helper(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(chart_workers, "start_helper", lambda *args, **kwargs: started.append(args))
    chart_workers.write_charts(load(RESULTS), None, tmp_path / "a", ("svg",), own=own_charts(), helpers=2)
    monkeypatch.setattr(chart_workers, "HELPERS_FROM", 10_000)
    chart_workers.write_charts(load(RESULTS), RESULTS, tmp_path / "b", ("svg",), own=own_charts(), helpers=2)
    assert started == []
