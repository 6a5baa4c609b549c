"""A cell's wall-clock limit: SIGALRM raises CellTimeout wherever the cell is, and leaves
the process's signal handling as it found it. (A real cell past its limit, with a server
and the following cell, is in tests/integration/test_cell_timeout.py.)"""

from __future__ import annotations

import signal
import socket
import threading
import time

import pytest

from bench.errors import MailbenchError
from bench.runner import CellTimeout, RunConfig, time_limit


def test_a_blocked_read_is_interrupted_with_the_limit_in_the_message():
    left, right = socket.socketpair()
    started = time.monotonic()
    with left, right, pytest.raises(CellTimeout, match=r"^timed out after 0\.3 s$"):
        with time_limit(0.3):
            left.recv(1)  # nothing ever comes
    assert 0.25 < time.monotonic() - started < 2.0
    assert isinstance(CellTimeout("x"), MailbenchError)


def test_a_swallowed_timeout_is_raised_again(monkeypatch):
    import bench.runner

    monkeypatch.setattr(bench.runner, "TIMEOUT_REPEAT_S", 0.2)
    caught = 0
    started = time.monotonic()
    with pytest.raises(CellTimeout):
        with time_limit(0.2):
            try:  # a scenario that takes a failure for an outage and goes on
                time.sleep(5)
            except Exception:
                caught += 1
            time.sleep(5)
    assert time.monotonic() - started < 1.5
    assert caught == 1


def test_a_block_within_its_limit_runs_and_nothing_is_left_armed():
    before = signal.getsignal(signal.SIGALRM)
    earlier = signal.getitimer(signal.ITIMER_REAL)
    with time_limit(5):
        time.sleep(0.01)
    assert signal.getsignal(signal.SIGALRM) is before
    now = signal.getitimer(signal.ITIMER_REAL)
    if earlier[0] == 0:
        assert now == (0.0, 0.0)
    else:  # pytest-timeout's own alarm is running again, with what was left of it
        assert 0 < now[0] <= earlier[0]


def test_a_timer_already_running_is_restored_with_the_time_it_had_left():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    saved = signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with time_limit(10):
            time.sleep(0.3)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0.5 < left < 0.75
        time.sleep(0.9)
        assert fired == [True]
    finally:
        signal.setitimer(signal.ITIMER_REAL, *saved)
        signal.signal(signal.SIGALRM, previous)


def test_no_limit_off_the_main_thread_or_when_none():
    outcome = []

    def worker() -> None:
        with time_limit(0.05):
            time.sleep(0.2)
        outcome.append("done")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert outcome == ["done"]
    with time_limit(None):
        time.sleep(0.01)


def test_the_default_is_an_hour():
    assert RunConfig().cell_timeout_s == 3600.0
