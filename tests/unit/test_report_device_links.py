"""A device scenario run on several links renders: its round-by-round tables come once per
link, each from that link's cells."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from bench.report import build_appendix, build_document, markdown
from bench.results import load

DATA = Path(__file__).parent.parent / "data" / "results_devices.json"


def test_multi_device_sync_on_two_links_has_its_rounds_table_per_link(tmp_path):
    data = json.loads(DATA.read_text(encoding="utf-8"))
    data["plan"]["links"] = {"lan": {"name": "lan", "rtt_ms": 0.0, "down_mbit": None, "up_mbit": None, "source": "t"},
                             "mobile-4g": {"name": "mobile-4g", "rtt_ms": 53.1, "down_mbit": 14.7, "up_mbit": 5.0,
                                           "source": "t"}}
    devices = [c for c in data["cells"] if c["scenario"] == "multi-device-sync"]
    assert devices
    for cell in devices:
        moved = copy.deepcopy(cell)
        moved["link"] = "mobile-4g"
        moved["id"] = cell["id"] + "/mobile-4g"
        data["cells"].append(moved)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    results = load(path)
    appendix = markdown.render(build_appendix(results), {"report.md": build_document(results)})
    detail = appendix.split("multi-device-sync in detail", 1)[1]
    assert "On lan (loopback):" in detail and "On mobile-4g (53.1 ms):" in detail
    assert detail.count("incremental against full-resync") >= 2  # the resync table, once per link
