"""The executor interface (workbench.sim.executors): results in task order whatever the
finishing order, progress in task sizes, the context sent once per worker, and a worker
that dies reported as WorkersBroken (never a hang, never a partial result)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from workbench.sim.executors import (
    ProcessExecutor,
    SerialExecutor,
    Task,
    WorkersBroken,
    _shared_arguments,
    pool_ready,
    shutdown_pool,
    worker_context,
)


def _square_after(x: float, delay: float) -> tuple[float, int]:
    time.sleep(delay)
    return x * x, os.getpid()


def _with_context(i: int):
    return i, worker_context(), os.getpid()


def _die(code: int) -> None:
    os._exit(code)


def test_serial_results_in_order_with_progress_and_context():
    seen = []
    ex = SerialExecutor(context={"k": 3})
    got = ex.execute([Task(_with_context, (i,), size=i + 1) for i in range(4)], seen.append)
    assert [g[0] for g in got] == [0, 1, 2, 3]
    assert all(g[1] == {"k": 3} and g[2] == os.getpid() for g in got)
    assert seen == [1, 2, 3, 4]
    assert worker_context() is None  # the context does not outlive the call


def test_process_pool_keeps_task_order_when_later_tasks_finish_first():
    # the first task is the slowest: the results still come back in task order
    tasks = [Task(_square_after, (float(x), 0.6 if x == 0 else 0.0)) for x in range(6)]
    try:
        got = ProcessExecutor(2).execute(tasks)
        assert [g[0] for g in got] == [float(x * x) for x in range(6)]
        assert os.getpid() not in {g[1] for g in got}
        assert pool_ready(2)  # the kept pool stays for the next call
    finally:
        shutdown_pool()
    assert not pool_ready(2)


def test_process_pool_with_context_sends_it_to_each_worker_and_stops_after():
    ctx = {"objective": np.arange(3.0)}
    got = ProcessExecutor(2, context=ctx).execute([Task(_with_context, (i,)) for i in range(4)])
    assert [g[0] for g in got] == [0, 1, 2, 3]
    for _, c, pid in got:
        assert pid != os.getpid()
        assert list(c["objective"]) == [0.0, 1.0, 2.0]
    assert not pool_ready(2)  # a context pool is not the kept one


def test_a_dying_worker_is_reported_and_the_kept_pool_dropped():
    try:
        with pytest.raises(WorkersBroken) as err:
            ProcessExecutor(2).execute([Task(_die, (3,)), Task(_square_after, (2.0, 0.0))])
        assert not err.value.starting
        assert not pool_ready(2)
        # the next call starts a fresh pool and works
        got = ProcessExecutor(2).execute([Task(_square_after, (3.0, 0.0))])
        assert got[0][0] == 9.0
    finally:
        shutdown_pool()


def test_dask_sends_an_argument_shared_by_every_task_once():
    big, small = np.zeros(5), np.ones(2)
    tasks = [Task(_square_after, (big, 1, "a", None, small if i else np.ones(2)))
             for i in range(3)]
    assert _shared_arguments(tasks) == {0}  # not numbers/text/None, not per-task objects
    assert _shared_arguments(tasks[:1]) == set()
