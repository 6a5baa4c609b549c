"""Waiting for a quiet disk (benchmarks/disk_idle.py), on a statistics file of its own."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "disk_idle.py"


def load():
    spec = importlib.util.spec_from_file_location("disk_idle", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_io_ticks_are_the_tenth_field(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("    1 2 3 4 5 6 7 8 0 4321 11 12 13 14 15 16 17\n")
    assert load().io_ticks_ms(stat) == 4321


def test_the_wait_ends_after_quiet_windows_in_a_row_and_a_busy_one_starts_the_count_again(monkeypatch, tmp_path):
    disk_idle = load()
    # io_ticks before and after each 10 ms window: busy (5 ms), quiet, busy, then quiet three times
    ticks = iter([0, 5, 5, 5, 5, 9, 9, 9, 9, 9, 9, 9, -1])
    monkeypatch.setattr(disk_idle, "WINDOW_S", 0.01)
    monkeypatch.setattr(disk_idle, "stat_file", lambda path: tmp_path / "stat")
    monkeypatch.setattr(disk_idle, "io_ticks_ms", lambda path: next(ticks))
    waited = disk_idle.wait_until_quiet(tmp_path)
    assert waited is not None and waited >= 6 * 0.01
    assert next(ticks) == -1  # six windows read, no more


def test_a_file_system_without_a_block_device_is_not_waited_for(tmp_path):
    disk_idle = load()
    assert disk_idle.stat_file(Path("/proc")) is None
    assert disk_idle.wait_until_quiet(Path("/proc")) is None
