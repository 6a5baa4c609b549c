"""A server's helper process of a run: its cells on relayed links, run beside the other
servers' (``bench.side_by_side`` starts it as ``python -m bench.server_process JOB``).

The job file holds the run's settings, its id, the server and the ids of the cells to run.
The process is a ``Run`` of those cells alone, in the run's order, with the run's id (so
its containers carry the run's labels and ``mailbench clean --run`` finds them), writing
its results beside the job file and telling what it says and each sample it ends on its
output (``LineObserver``). It ends quietly on Ctrl-C, which the run's process sends it:
its containers are removed on the way out, as any run's.
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import replace
from pathlib import Path

from bench.runner import Run
from bench.side_by_side import LineObserver


def run_job(job_file: Path) -> None:
    config, run_id, server, cell_ids = pickle.loads(job_file.read_bytes())
    wanted = set(cell_ids)
    try:
        run = Run(replace(config, out=job_file.parent, side_by_side=False), LineObserver(sys.stdout), run_id=run_id)
        run.cells = [cell for cell in run.cells if cell.id in wanted]
        run.order = {server: [cell for cell in run.order.get(server, []) if cell.id in wanted]}
        run.excluded = []  # the run's process said them
        run.execute()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    run_job(Path(sys.argv[1]))
