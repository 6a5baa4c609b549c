"""Figures free of run order and of how they are read, on a real run (Cyrus, 20 messages,
2 samples): memory as what the block added, Cyrus's deleted mail purged before the store is
read, no mode deleting what it did not download, a timeline per sample, cells in a seeded
order."""

from __future__ import annotations

import pytest

from bench import process, results
from bench.plan import build_plan, run_order
from bench.runner import Run, RunConfig
from bench.servers.base import LABEL_RUN
from bench.devices.timeline import sync_timeline
from bench.sample import draw_timeline_seed

pytestmark = pytest.mark.integration

MESSAGES = 20
REPEAT = 2
SEED = 3


@pytest.fixture(scope="module")
def run(docker_client, server_image, tmp_path_factory):
    server_image("cyrus")  # build outside the run
    config = RunConfig(scenarios=["bulk-fetch", "multi-device-sync"], servers=["cyrus"],
                       variants=["full", "headers", "incremental"], tls=["off"], messages=MESSAGES, repeat=REPEAT,
                       seed=SEED, out=tmp_path_factory.mktemp("artefacts"))
    the_run = Run(config)
    loaded = results.load(the_run.execute() / "results.json")
    assert not loaded.failed_cells, [(cell.id, cell.error) for cell in loaded.failed_cells]
    assert docker_client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={loaded.run_id}"}) == []
    return loaded


def _cell(loaded, scenario: str, mode: str, variant: str):
    (cell,) = [c for c in loaded.cells if (c.scenario, c.mode, c.variant) == (scenario, mode, variant)]
    return cell


def test_server_memory_is_the_change_over_the_block_not_the_containers_total(run):
    for cell in run.cells:
        for sample in cell.samples:
            assert "server_mem_mb" not in sample and "client_peak_rss_mb" not in sample
            # A block of 20 messages moves the container's memory by a few MB, while its
            # total is tens of MB and only rises over a run (Cyrus: 57 to 1,519 MB).
            assert abs(sample["server_mem_delta_mb"]) < 40, (cell.id, sample["server_mem_delta_mb"])
    deltas = [s["server_mem_delta_mb"] for c in run.cells for s in c.samples]
    assert len(set(deltas)) > 1  # a reading, not a constant


def test_client_memory_is_growth_within_the_block_below_the_process_rss(run):
    rss_mb = process.rss_bytes() / 1e6
    for cell in run.cells:
        for sample in cell.samples:
            growth = sample["client_rss_growth_mb"]
            assert 0 <= growth < rss_mb, (cell.id, growth, rss_mb)


def test_cyrus_pop3_delete_leaves_a_store_without_the_downloaded_mail(run):
    cell = _cell(run, "bulk-fetch", "pop3-delete", "full")
    assert cell.info["server_purge"].startswith("cyr_expire -X 0")
    assert "recoverable" in cell.info["server_deletion"]
    for sample in cell.samples:
        shrunk = sample["server_disk_bytes"] - sample["server_disk_after_bytes"]
        assert shrunk >= 0.9 * sample["message_bytes"], sample
        assert sample["server_message_file_bytes"] == 0
        assert sample["server_state_bytes"] > 0  # the index and the cache stay
    kept = _cell(run, "bulk-fetch", "pop3-keep", "full")
    for sample in kept.samples:
        assert sample["server_disk_after_bytes"] >= sample["server_disk_bytes"]
        assert sample["server_message_file_bytes"] >= sample["message_bytes"]
        assert sample["server_state_bytes"] > 0


def test_no_cell_deletes_what_it_did_not_download(run):
    assert not [c for c in run.cells if c.mode == "pop3-delete" and c.variant == "headers"]
    assert {c.mode for c in run.cells if c.variant == "headers"} == {"imap", "pop3-keep"}
    assert run.plan["excluded"] == [{
        "scenario": "bulk-fetch", "mode": "pop3-delete", "variant": "headers",
        "reason": run.plan["excluded"][0]["reason"]}]
    assert "TOP" in run.plan["excluded"][0]["reason"]


def test_each_sample_of_a_device_scenario_plays_its_own_timeline(run):
    expected = [draw_timeline_seed(SEED, sample) for sample in range(REPEAT)]
    for cell in (c for c in run.cells if c.scenario == "multi-device-sync"):
        seeds = [info["timeline_seed"] for info in cell.sample_info]
        assert seeds == expected  # the same seeds on every mode: like for like
        drawn = [sync_timeline(seed, MESSAGES) for seed in seeds]
        # The recorded timelines are those drawn from the seeds, and what happens in them differs.
        assert [info["timeline"] for info in cell.sample_info] == [timeline.summary() for timeline in drawn]
        assert drawn[0].events != drawn[1].events


def test_cells_run_in_a_seeded_order_recorded_as_positions(run):
    positions = [cell.info["position"] for cell in run.cells]
    assert positions == list(range(len(run.cells)))  # cells are stored in the order they ran
    assert run.plan["order_seed"] == SEED
    planned = build_plan(["bulk-fetch", "multi-device-sync"], ["cyrus"], [], ["full", "headers", "incremental"],
                         ["off"])
    assert [cell.id for cell in run.cells] == [cell.id for cell in run_order(planned, SEED)["cyrus"]]
    assert sorted(cell.id for cell in run.cells) == sorted(cell.id for cell in planned)
