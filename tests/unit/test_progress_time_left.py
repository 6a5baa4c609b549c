"""The progress bar's time left comes from the samples done over the whole run."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress, TimeRemainingColumn

from bench.cli import ESTIMATE_PERIOD_S, ProgressObserver


def test_samples_a_minute_apart_still_give_the_time_left():
    now = [1000.0]
    progress = Progress(TimeRemainingColumn(), console=Console(file=io.StringIO()),
                        speed_estimate_period=ESTIMATE_PERIOD_S, get_time=lambda: now[0])
    observer = ProgressObserver(progress)
    observer.start(10)
    for _ in range(3):  # one sample every 40 s: rich's default 30 s window would hold one
        now[0] += 40
        observer.advance("bulk-fetch/dovecot/imap/full/tls-off")
    assert progress.tasks[0].time_remaining == 7 * 40
