"""Cells on a relayed link run side by side, one process per server, and come back into the
run's results as they would one server at a time (bench/side_by_side.py)."""

from __future__ import annotations

import pytest

from bench import results
from bench.runner import Run, RunConfig
from bench.servers.base import LABEL_RUN
from bench.servers.docker_client import connect

pytestmark = pytest.mark.integration

SERVERS = ("dovecot", "courier")
LINK = "rtt=10ms,down=200mbit,up=200mbit"  # relayed, and quick
EXACT = ("messages", "message_bytes", "bytes_up", "round_trips", "connections")


def _run(tmp_path, side_by_side: bool) -> tuple[results.Results, Run]:
    config = RunConfig(scenarios=["bulk-fetch"], servers=list(SERVERS), modes=["imap", "pop3-keep"],
                       variants=["full"], tls=["off"], links=["lan", LINK], messages=20, repeat=2,
                       out=tmp_path, side_by_side=side_by_side)
    run = Run(config)
    folder = run.execute()
    return results.load(folder / "results.json"), run


def test_relayed_cells_run_side_by_side_and_measure_what_they_measure_one_at_a_time(server_image, tmp_path):
    for name in SERVERS:
        server_image(name)
    side, run = _run(tmp_path / "side", True)
    apart, _ = _run(tmp_path / "apart", False)
    relayed = [cell for cell in side.cells if cell.link != "lan"]
    assert len(side.cells) == len(apart.cells) == 8 and len(relayed) == 4
    assert all(cell.ok and cell.integrity["passed"] and len(cell.samples) == 2 for cell in side.cells)
    assert all(cell.info.get("side_by_side") for cell in relayed)
    assert not any(cell.info.get("side_by_side") for cell in side.cells if cell.link == "lan")
    assert side.plan["side_by_side"]["servers"] == list(SERVERS) and side.plan["side_by_side"]["cells"] == 4
    assert "side_by_side" not in apart.plan
    # each server's containers: the lan cells' and the relayed cells' process's
    assert [len(side.environment["servers"][name]["containers"]) for name in SERVERS] == [2, 2]
    assert not (run.folder / "side-by-side").exists()
    assert not connect().containers.list(all=True, filters={"label": f"{LABEL_RUN}={run.run_id}"})
    by_id = {cell.id: cell for cell in apart.cells}
    for cell in relayed:
        for mine, theirs in zip(cell.samples, by_id[cell.id].samples, strict=True):
            assert {key: mine[key] for key in EXACT} == {key: theirs[key] for key in EXACT}, cell.id
