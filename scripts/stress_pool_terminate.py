#!/usr/bin/env python
"""The Ctrl-C path of the process pool under load: is every busy worker gone when it returns?

Usage: .venv/bin/python scripts/stress_pool_terminate.py [--tries 60] [--load 2] [--is-alive]

Each try starts a one-worker spawn pool, gives it ``time.sleep(120)``, waits until the task
is running and calls ``workbench.sim.executors._terminate`` (what an interrupted ensemble
or calibration runs). A try fails when a worker has not exited: its sentinel (a pipe that
becomes readable when the process exits) is not ready.

``--is-alive`` asks ``Process.is_alive()`` instead, the check that stop 19's test used. On
Python 3.11 the pool's manager thread also reaps the workers; when it wins, is_alive()
reports a dead worker as alive for a while (measured: 6 of 60 tries with both cores
busy), although the process is gone. The script prints the state in ``/proc/<pid>/stat``
("gone" once reaped), so a false report is told from a worker that really runs.

``--load N`` runs N busy-looping processes during the tries (the CI machine has 2 cores).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import wait


def _spin(stop) -> None:
    while not stop.is_set():
        pass


def one_try(use_is_alive: bool) -> list[tuple[int, str]]:
    """Workers reported running after ``_terminate``: (pid, state in /proc)."""
    from workbench.sim.executors import _terminate

    ex = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
    fut = ex.submit(time.sleep, 120)
    procs = list(ex._processes.values())
    deadline = time.time() + 30
    while not fut.running() and time.time() < deadline:
        time.sleep(0.05)
    _terminate(ex)
    if use_is_alive:  # as stop 19's test did: join, then ask
        for p in procs:
            p.join(timeout=10)
        left = [p for p in procs if p.is_alive()]
    else:
        left = [p for p in procs if not wait([p.sentinel], timeout=0)]
    return [(int(p.pid or 0), _state(int(p.pid or 0))) for p in left]


def _state(pid: int) -> str:
    """The process state from /proc ("R", "S", "Z" for exited but not reaped), or "gone"."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tries", type=int, default=60)
    ap.add_argument("--load", type=int, default=2, help="busy-looping processes meanwhile")
    ap.add_argument("--is-alive", action="store_true",
                    help="check with Process.is_alive() (the racy check) instead of sentinels")
    a = ap.parse_args(argv)
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    spinners = [ctx.Process(target=_spin, args=(stop,), daemon=True) for _ in range(a.load)]
    for s in spinners:
        s.start()
    fails = 0
    try:
        for i in range(a.tries):
            left = one_try(a.is_alive)
            if left:
                fails += 1
                print(f"try {i}: reported running: "
                      + ", ".join(f"pid {pid} (state {st})" for pid, st in left), flush=True)
    finally:
        stop.set()
        for s in spinners:
            s.join(timeout=5)
    check = "Process.is_alive()" if a.is_alive else "sentinels"
    print(f"{fails} of {a.tries} tries left a worker reported running ({check}; "
          f"{a.load} busy processes; Python {sys.version.split()[0]})")
    return 1 if fails else 0


if __name__ == "__main__":
    raise SystemExit(main())
