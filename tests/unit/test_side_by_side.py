"""Which cells run side by side, and how their results come back into the run's."""

from __future__ import annotations

import io
import queue
from types import SimpleNamespace

from bench import results
from bench.links import PROFILES
from bench.plan import Cell
from bench.results import CellResult, Results
from bench.side_by_side import LineObserver, _merge, _relay, apart, summary_line

LINKS = {name: PROFILES[name] for name in ("lan", "mobile-4g", "satellite")}


def cell(server: str, link: str, scenario: str = "bulk-fetch", mode: str = "imap") -> Cell:
    return Cell(scenario, server, mode, "full", "off", link)


def test_the_relayed_cells_of_every_server_run_side_by_side_in_each_server_s_order():
    order = {
        "dovecot": [cell("dovecot", "mobile-4g"), cell("dovecot", "lan"), cell("dovecot", "satellite", mode="pop3-keep")],
        "cyrus": [cell("cyrus", "lan"), cell("cyrus", "mobile-4g")],
    }
    assert apart(order, LINKS) == {
        "dovecot": [cell("dovecot", "mobile-4g"), cell("dovecot", "satellite", mode="pop3-keep")],
        "cyrus": [cell("cyrus", "mobile-4g")],
    }


def test_nothing_runs_side_by_side_for_one_server_when_turned_off_or_for_a_load():
    one = {"dovecot": [cell("dovecot", "mobile-4g")], "cyrus": [cell("cyrus", "lan")]}
    assert apart(one, LINKS) == {}
    two = {"dovecot": [cell("dovecot", "mobile-4g")], "cyrus": [cell("cyrus", "mobile-4g")]}
    assert apart(two, LINKS, enabled=False) == {}
    loads = {name: [cell(name, "mobile-4g", scenario="many-devices")] for name in ("dovecot", "cyrus")}
    assert apart(loads, LINKS) == {}  # it pins the server to CPUs of its own


def _finished(server: str, link: str = "mobile-4g") -> CellResult:
    result = CellResult("bulk-fetch", server, "imap", "full", "off", link)
    result.add_sample({"elapsed_s": 1.0}, {})
    result.info["time_split_s"] = {"total": 12.0}
    return result


def test_a_server_process_s_finished_cells_join_the_run_s_results_once(tmp_path):
    saved = []
    run = SimpleNamespace(results=Results(run_id="r", started_at="2026-12-01T00:00:00+00:00", command="mailbench run"), save=lambda: saved.append(1))
    folder = tmp_path / "dovecot"
    child = Results(run_id="r", started_at="2026-12-01T00:00:00+00:00", command="mailbench run")
    _merge(run, folder, set())  # nothing written yet
    assert run.results.cells == [] and not saved
    child.cells.append(_finished("dovecot"))
    results.save(child, folder / "r" / "results.json")
    merged: set[str] = set()
    _merge(run, folder, merged)
    _merge(run, folder, merged)
    assert [c.id for c in run.results.cells] == [child.cells[0].id] and len(saved) == 1
    assert run.results.cells[0].info["side_by_side"] is True


def test_the_end_of_run_line_sets_wall_time_beside_the_cells_time():
    cells = [_finished("dovecot"), _finished("cyrus"), _finished("cyrus", "lan")]
    for result in cells[:2]:
        result.info["side_by_side"] = True
    plan = {"side_by_side": {"servers": ["dovecot", "cyrus"], "cells": 2, "wall_s": 13.2}}
    assert summary_line(plan, cells) == ("cells on relayed links (2, of dovecot, cyrus): 13 s of wall time "
                                         "side by side, for 24 s of their cells' time")
    assert summary_line({}, cells) is None


def test_a_server_process_tells_what_it_says_and_each_sample_on_its_output():
    out = io.StringIO()
    observer = LineObserver(out)
    observer.start(4)
    observer.say("cyrus ready in 1.0 s")
    observer.advance("bulk-fetch/cyrus/imap/full/tls-off/mobile-4g")
    events: queue.Queue = queue.Queue()
    _relay("cyrus", io.StringIO(out.getvalue() + "a line of its own\n"), events)
    assert list(events.queue) == [("say", "cyrus", "cyrus ready in 1.0 s"),
                                  ("advance", "cyrus", "bulk-fetch/cyrus/imap/full/tls-off/mobile-4g"),
                                  ("say", "cyrus", "a line of its own")]
