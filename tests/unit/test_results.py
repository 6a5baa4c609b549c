import json
from pathlib import Path

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


def test_a_run_s_saves_are_compact_and_make_a_cell_s_data_once_its_last_indented_and_whole(tmp_path, monkeypatch):
    made = []
    to_json = CellResult.to_json
    monkeypatch.setattr(CellResult, "to_json", lambda cell: made.append(cell.id) or to_json(cell))
    run, path, kept = _results(), tmp_path / "results.json", {}
    results.save(run, path, readable=False, finished_cells=kept)
    assert len(path.read_text().splitlines()) == 1 and len(made) == 2
    run.cells.append(CellResult("bulk-fetch", "dovecot", "pop3-delete", "full"))
    results.save(run, path, readable=False, finished_cells=kept)
    assert len(made) == 3 and len(results.load(path).cells) == 3  # only the new cell's data made
    run.cells[0].samples.append({"elapsed_s": 9.0, "messages": 10})  # a run never does: shows the last save's
    results.save(run, path)
    assert len(path.read_text().splitlines()) > 10 and len(made) == 6
    assert results.load(path).cells[0].metrics()["elapsed_s"]["n"] == 4


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


# --- Versions: every earlier shape loads through the upgrade path -----------------------------

DATA = Path(__file__).parent.parent / "data"
EARLIER = sorted(DATA.glob("results_*.json"))  # every one labelled 1, each a shape version 1 had
CELL_KEYS = ["id", "scenario", "server", "mode", "variant", "tls", "link", "status", "error", "integrity",
             "samples", "sample_info", "metrics", "by_policy", "commands", "info"]
PLAN_KEYS_ADDED = ("tls", "links", "order_seed", "excluded", "cell_timeout_s")
LAN = {"name": "lan", "rtt_ms": 0.0, "down_mbit": None, "up_mbit": None,
       "source": "loopback on this machine: no relay, the client connects to the container's published port"}


def _raw(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _saved_again(path: Path, tmp_path: Path) -> tuple[Results, dict]:
    """The file loaded (upgraded) and saved: the run, and the data of the file it wrote."""
    loaded = results.load(path)
    out = tmp_path / "upgraded.json"
    results.save(loaded, out)
    return loaded, _raw(out)


def test_every_version_has_its_history_and_one_upgrade_to_the_next():
    assert sorted(results.SCHEMA_HISTORY) == list(range(1, results.SCHEMA_VERSION + 1))
    assert sorted(results.UPGRADES) == list(range(1, results.SCHEMA_VERSION))


def test_the_test_data_are_the_earlier_shapes():
    assert [p.name for p in EARLIER] == ["results_devices.json", "results_interrupted.json", "results_links.json",
                                         "results_real_tls.json", "results_v1.json"]
    assert {_raw(p)["schema_version"] for p in EARLIER} == {1}


@pytest.mark.parametrize("path", EARLIER, ids=lambda p: p.stem)
def test_an_earlier_file_comes_out_in_the_current_version_with_every_key(path, tmp_path):
    raw = _raw(path)
    loaded, data = _saved_again(path, tmp_path)
    assert data["schema_version"] == results.SCHEMA_VERSION
    assert list(data) == ["schema_version", "run_id", "started_at", "finished_at", "command", "environment",
                          "plan", "micro", "cells"]
    assert all(key in data["plan"] for key in PLAN_KEYS_ADDED)
    assert set(data["plan"]["links"]) == {cell.link for cell in loaded.cells}
    assert data["plan"]["tls"] == raw["plan"].get("tls", ["off"])
    assert len(data["cells"]) == len(raw["cells"])
    for old, new in zip(raw["cells"], data["cells"]):
        assert list(new) == CELL_KEYS
        assert new["id"] == results.cell_id(new["scenario"], new["server"], new["mode"], new["variant"],
                                            new["tls"], new["link"])
        assert (new["tls"], new["link"]) == (old.get("tls", "off"), old.get("link", "lan"))
        assert len(new["sample_info"]) == len(new["samples"]) == len(old["samples"])
        assert new["sample_info"] == old.get("sample_info", [{}] * len(old["samples"]))
        for policy in new["by_policy"].values():
            assert len(policy["samples"]) == len(new["samples"])  # sample i of a policy is sample i of the cell
        for sample, before in zip(new["samples"], old["samples"]):
            assert sample == {name: value for name, value in before.items() if name in sample}


def test_the_first_shape_gets_what_it_lacked_as_it_was_when_written(tmp_path):
    raw = _raw(DATA / "results_v1.json")
    loaded, data = _saved_again(DATA / "results_v1.json", tmp_path)
    assert [c.id for c in loaded.cells][:2] == ["bulk-fetch/dovecot/imap/full/tls-off",
                                                "bulk-fetch/dovecot/pop3-keep/full/tls-off"]
    assert [cell["id"] for cell in raw["cells"]][:1] == ["bulk-fetch/dovecot/imap/full"]
    assert {(c.tls, c.link) for c in loaded.cells} == {("off", "lan")}
    plan = data["plan"]
    assert plan["tls"] == ["off"] and plan["links"] == {"lan": LAN}
    assert (plan["order_seed"], plan["excluded"], plan["cell_timeout_s"]) == (None, [], None)
    assert data["micro"] == [] and "_note" not in data
    assert loaded.cells[0].values("elapsed_s") == [s["elapsed_s"] for s in raw["cells"][0]["samples"]]
    assert loaded.cells[-1].error == raw["cells"][-1]["error"]


def test_tls_without_links_and_links_without_sample_info(tmp_path):
    tls = results.load(DATA / "results_real_tls.json")
    assert {c.tls for c in tls.cells} == {"off", "on"} and {c.link for c in tls.cells} == {"lan"}
    assert tls.plan["links"] == {"lan": LAN}
    links_raw = _raw(DATA / "results_links.json")
    links = results.load(DATA / "results_links.json")
    assert links.plan["links"] == links_raw["plan"]["links"]  # recorded figures are kept as they were
    assert all(c.sample_info == [{}] * len(c.samples) for c in links.cells)
    interrupted = results.load(DATA / "results_interrupted.json")
    assert interrupted.plan["cell_timeout_s"] == 3600.0 and interrupted.plan["order_seed"] is None


def test_offline_use_policy_figures_move_from_suffixes_to_their_keys():
    raw = _raw(DATA / "results_devices.json")
    loaded = results.load(DATA / "results_devices.json")
    raw_cell = next(c for c in raw["cells"] if c["id"] == "offline-use/dovecot/imap/link-cut/tls-off")
    cell = next(c for c in loaded.cells if c.id == raw_cell["id"])
    assert sorted(cell.policies()) == ["full", "headers", "online"]
    before = raw_cell["samples"][0]
    for policy in ("full", "headers", "online"):
        for name in ("readable_offline_share", "listed_offline_share", "ready_s", "ready_bytes_down"):
            assert cell.values(name, policy)[0] == before[f"{name}_{policy}"]
    assert cell.values("ready_s") == [s["ready_s"] for s in raw_cell["samples"]]  # mobile's own stays whole
    assert not any(name.endswith(("_full", "_headers", "_online")) for c in loaded.cells for s in c.samples
                   for name in s)
    pop3 = next(c for c in loaded.cells if c.scenario == "offline-use" and c.mode == "pop3-keep")
    assert pop3.policies() == ["full"] and pop3.summary("readable_offline_share", "full")["median"] == 1.0
    assert pop3.summary("readable_offline_share", "headers") is None


def _v1_new_mail(sample_info: list[dict] | None) -> dict:
    sample = {"empty_poll_ms": 12.5, "missed_idle": 0, "latency_ms_idle": 480.0, "latency_ms_max_idle": 520.0,
              "pushed_share_idle": 1.0, "connections_opened_per_hour_idle": 0.0, "bytes_per_hour_idle": 900.0,
              "round_trips_per_hour_idle": 2.0, "server_cpu_s_per_hour_idle": 0.1,
              "missed_poll_400ms": 1, "latency_ms_poll_400ms": 300.0, "latency_ms_max_poll_400ms": 390.0,
              "connections_opened_per_hour_poll_400ms": 9000.0, "bytes_per_hour_poll_400ms": 4.5e6,
              "round_trips_per_hour_poll_400ms": 9e4, "server_cpu_s_per_hour_poll_400ms": 3.0}
    cell = {"id": "new-mail/dovecot/imap/trickle/tls-off", "scenario": "new-mail", "server": "dovecot",
            "mode": "imap", "variant": "trickle", "tls": "off", "status": "ok", "error": None,
            "integrity": {"checked": 5, "passed": True}, "samples": [sample, dict(sample, missed_idle=2)],
            "metrics": {}, "commands": {}, "info": {}}
    if sample_info is not None:
        cell["sample_info"] = sample_info
    return {"schema_version": 1, "run_id": "r", "started_at": "t", "finished_at": None, "command": "mailbench run",
            "environment": {}, "plan": {"scenarios": ["new-mail"], "repeat": 2}, "cells": [cell]}


@pytest.mark.parametrize("sample_info", [[{"policies": ["idle", "poll_400ms"]}] * 2, None],
                         ids=["policies-recorded", "no-sample-info"])
def test_new_mail_policy_figures_move_from_suffixes_to_their_keys(tmp_path, sample_info):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_v1_new_mail(sample_info)))
    cell = results.load(path).cells[0]
    assert cell.policies() == ["idle", "poll_400ms"]
    assert cell.samples == [{"empty_poll_ms": 12.5}] * 2
    assert cell.values("missed", "idle") == [0, 2] and cell.values("missed", "poll_400ms") == [1, 1]
    assert cell.values("latency_ms", "idle") == [480.0] * 2 and cell.values("latency_ms_max", "idle") == [520.0] * 2
    assert cell.values("pushed_share", "idle") == [1.0] * 2 and cell.values("pushed_share", "poll_400ms") == []
    assert cell.summary("connections_opened_per_hour", "poll_400ms")["median"] == 9000.0
    assert cell.summary("server_cpu_s_per_hour", "idle")["n"] == 2


def test_a_link_without_recorded_figures_gets_its_profile_s(tmp_path):
    data = _v1_new_mail(None)
    data["cells"][0]["link"] = "satellite"
    data["cells"].append(dict(data["cells"][0], link="custom(rtt=80ms,down=20mbit)"))
    data["cells"].append(dict(data["cells"][0], link="moon"))
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    links = results.load(path).plan["links"]
    assert links["satellite"]["rtt_ms"] == 630.0 and links["satellite"]["name"] == "satellite"
    assert links["custom(rtt=80ms,down=20mbit)"]["rtt_ms"] == 80.0
    assert links["moon"] == {"name": "moon", "rtt_ms": None, "down_mbit": None, "up_mbit": None,
                             "source": "not recorded"}


def test_a_newer_version_is_refused_in_one_line(tmp_path):
    path = tmp_path / "results.json"
    data = _raw(DATA / "results_links.json")
    data["schema_version"] = results.SCHEMA_VERSION + 1
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=f"schema version {results.SCHEMA_VERSION + 1}") as error:
        results.load(path)
    assert "\n" not in str(error.value) and "upgrade mailbench" in str(error.value)


@pytest.mark.parametrize("path", [*EARLIER, Path(__file__).parent.parent.parent / "reports" / "reference" /
                                  "results.json"], ids=lambda p: p.parent.name if p.stem == "results" else p.stem)
def test_an_upgraded_file_saved_and_loaded_again_is_unchanged(path, tmp_path):
    loaded, data = _saved_again(path, tmp_path)
    again = tmp_path / "again.json"
    results.save(results.load(tmp_path / "upgraded.json"), again)
    assert _raw(again) == data
    assert again.read_bytes() == (tmp_path / "upgraded.json").read_bytes()
    assert results.load(again) == loaded


def test_a_current_file_missing_a_key_is_damaged(tmp_path):
    path = tmp_path / "results.json"
    results.save(_results(), path)
    data = _raw(path)
    del data["cells"][0]["by_policy"]
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError, match="damaged results file"):
        results.load(path)


def test_each_policy_keeps_one_entry_per_sample_of_the_cell():
    cell = CellResult("new-mail", "dovecot", "imap", "trickle")
    cell.add_sample({"empty_poll_ms": 10.0}, {"poll_1s": {"latency_ms": 500.0}})
    cell.add_sample({"empty_poll_ms": 11.0}, {"idle": {"latency_ms": 20.0}, "poll_1s": {"latency_ms": 600.0}})
    cell.add_sample({"empty_poll_ms": 12.0})
    assert cell.policies() == ["poll_1s", "idle"]
    assert cell.by_policy == {"poll_1s": [{"latency_ms": 500.0}, {"latency_ms": 600.0}, {}],
                              "idle": [{}, {"latency_ms": 20.0}, {}]}
    assert cell.values("latency_ms", "poll_1s") == [500.0, 600.0] and cell.values("latency_ms") == []
    data = cell.to_json()
    assert data["by_policy"]["idle"]["metrics"]["latency_ms"]["n"] == 1
    assert CellResult.from_json(data) == cell


def test_fewer_samples_on_relayed_links_are_said_only_where_such_cells_ran():
    plan = {"repeat": {"bulk-fetch": 3}, "repeat_on_links": 2}
    on_lan = Results("r", "t", "c", plan=plan, cells=[CellResult("bulk-fetch", "dovecot", "imap", "full")])
    assert on_lan.samples_per_cell() == "3 samples per cell"
    relayed = Results("r", "t", "c", plan=plan, cells=[
        CellResult("bulk-fetch", "dovecot", "imap", "full"),
        CellResult("bulk-fetch", "dovecot", "imap", "full", "off", "mobile-4g")])
    assert relayed.samples_per_cell() == "3 samples per cell (2 per cell on a relayed link)"
