"""Executors: one way to run a list of independent tasks, in this process, on the kept
process pool or on a Dask cluster.

Why this module exists: ensembles (:mod:`workbench.sim._backends`) and calibration
(:mod:`workbench.calibrate.fit`) both hand out independent pieces of work -- chunks of
samples, multi-starts, polishes, profiles -- and both need the same hard parts done once:
a quiet worker start (:mod:`workbench.sim._worker_boot`), workers that ignore a
terminal's Ctrl-C and die with their parent, a Ctrl-C or a crashed worker that ends
every worker at once (no orphan process, no traceback), and the pool kept between
ensembles so its workers keep their RoadRunners. The interface follows pyPESTO's
engines: an executor has one verb, ``execute(tasks)``, that returns the tasks' results
in task order, whatever the order in which they finish.

A task is a picklable function and its arguments (:class:`Task`). Work that needs
one expensive object in every task (calibration's objective, with its engine) gives it
to the executor as its *context*: it is sent to each worker once, at worker start, and
a task reads it with :func:`worker_context`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DaskExecutor", "Executor", "ProcessExecutor", "SerialExecutor", "Task",
           "WorkersBroken", "shutdown_pool", "start_pool", "worker_context"]

log = logging.getLogger(__name__)

# modules the forkserver imports once, so that a forked worker starts with them loaded
_PRELOAD = ("workbench.sim._worker_boot", "workbench.sim.ensemble")


@dataclass(frozen=True)
class Task:
    """One piece of work: ``fn(*args)``, picklable; ``size`` is its progress units
    (samples of a chunk, 1 for a fit)."""

    fn: Callable[..., Any]
    args: tuple = ()
    size: int = 1

    def execute(self) -> Any:
        """Run the task here and return its result."""
        return self.fn(*self.args)


class WorkersBroken(RuntimeError):
    """A worker process died (crashed, was killed) or the workers could not start.

    Callers turn it into their own error with the fix (``starting`` is True when the
    process-pool server stopped before the workers started: a script without a
    ``__main__`` guard).
    """

    def __init__(self, starting: bool = False) -> None:
        super().__init__("the worker processes could not start" if starting
                         else "a worker process died")
        self.starting = starting


# the context of this process (a worker's, or the caller's during a serial run)
_CONTEXT: dict[str, Any] = {}


def worker_context() -> Any:
    """The context object of the running executor (see :class:`Executor`), or None."""
    return _CONTEXT.get("context")


def _set_context(context: Any) -> None:
    _CONTEXT["context"] = context


class Executor(ABC):
    """Runs independent tasks; ``workers`` is how many run at once.

    Parameters
    ----------
    context
        An object every task may need (read with :func:`worker_context`), sent to each
        worker once rather than with every task.
    """

    workers: int = 1

    def __init__(self, context: Any = None) -> None:
        self.context = context

    @abstractmethod
    def execute(self, tasks: Sequence[Task],
                progress: Callable[[int], None] | None = None) -> list:
        """Run ``tasks``; their results in task order.

        ``progress(units)`` is called in this process as each task finishes, with the
        task's ``size``. Ctrl-C stops every worker and raises KeyboardInterrupt; a
        worker that dies raises :class:`WorkersBroken`.
        """


class SerialExecutor(Executor):
    """Every task in this process, one after the other (``workers = 1``)."""

    def execute(self, tasks: Sequence[Task],
                progress: Callable[[int], None] | None = None) -> list:
        had = "context" in _CONTEXT
        old = _CONTEXT.get("context")
        _set_context(self.context)
        try:
            out = []
            for t in tasks:
                out.append(t.execute())
                if progress is not None:
                    progress(t.size)
            return out
        finally:
            if had:
                _set_context(old)
            else:
                _CONTEXT.pop("context", None)


# ---------------------------------------------------------------------------
# process pool (forkserver): worker start, the kept pool, termination
# ---------------------------------------------------------------------------

def _pool_init(root: int | None = None, context: Any = None) -> None:
    from workbench.sim._runtime import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool on Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # no KeyboardInterrupt (and traceback) here
    die_with_parent(root)  # a killed workbench leaves no worker behind
    if context is not None:
        _set_context(context)


def _new_pool(workers: int, context: Any = None, preload: Sequence[str] = ()):
    """A process pool whose workers start quietly and die with this process."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

    if getattr(mp.current_process(), "_inheriting", False):
        # a worker starting up re-imports the caller's script; without a `__main__`
        # guard the script calls the ensemble again here. Stop this worker quietly
        # (SystemExit prints no traceback): the caller then reports the broken pool
        # once, with the fix.
        raise SystemExit(1)
    ctx: BaseContext
    if "forkserver" in mp.get_all_start_methods():
        fs = mp.get_context("forkserver")
        fs.set_forkserver_preload(list(dict.fromkeys((*_PRELOAD, *preload))))
        from workbench.sim._worker_boot import start_forkserver

        start_forkserver()  # SIGINT ignored there (a terminal's Ctrl-C hits the group)
        ctx = fs
    else:  # pragma: no cover - Windows, macOS without forkserver
        ctx = mp.get_context("spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_pool_init,
                               initargs=(os.getpid(), context))


class _WarmPool:
    """One process pool kept between ensembles (workers keep their RoadRunners).

    Starting workers and building a RoadRunner in each costs about 0.3 s; MABEL
    studies and sensitivity analyses run many ensembles of the same model. The
    pool is replaced when another worker count is asked for, dropped after
    Ctrl-C or a crashed worker, and shut down at exit (or by :func:`shutdown_pool`).
    """

    def __init__(self) -> None:
        self.ex = None
        self.workers = 0
        self.lock = threading.Lock()

    def get(self, workers: int):
        with self.lock:
            if self.ex is not None and self.workers == workers:
                return self.ex
            self.close()
            self.ex = _new_pool(workers)
            self.workers = workers
            return self.ex

    def ready(self, workers: int) -> bool:
        """True when a pool of ``workers`` processes is already running."""
        return self.ex is not None and self.workers == workers

    def drop(self, ex) -> None:
        """Forget ``ex`` (terminated or broken)."""
        with self.lock:
            if self.ex is ex:
                self.ex, self.workers = None, 0

    def close(self) -> None:
        if self.ex is not None:
            self.ex.shutdown(wait=True, cancel_futures=True)
        self.ex, self.workers = None, 0


_WARM = _WarmPool()


def start_pool(workers: int) -> None:
    """Start the kept worker pool now (``workers`` processes), so that ensembles too
    small to be worth a pool start still use it (:func:`workbench.run_ensemble`)."""
    _WARM.get(int(workers))


def shutdown_pool() -> None:
    """Stop the worker processes kept between ensembles (they also stop at exit)."""
    with _WARM.lock:
        _WARM.close()


def pool_ready(workers: int) -> bool:
    """True when the kept pool of ``workers`` processes is running."""
    return _WARM.ready(workers)


def _terminate(ex) -> None:
    """Stop a process pool now (Ctrl-C): end the workers, drop the queued tasks."""
    stop = getattr(ex, "terminate_workers", None)  # Python >= 3.14
    if stop is not None:
        stop()
        return
    procs = list((getattr(ex, "_processes", None) or {}).values())  # shutdown() forgets them
    for p in procs:
        if p.is_alive():
            p.terminate()
    ex.shutdown(wait=False, cancel_futures=True)
    # Wait on each worker's sentinel (ready once the process has exited), not on
    # Process.is_alive(): the pool's own thread reaps the workers too, and when it wins
    # the race is_alive() sees ECHILD and reports a dead worker as alive (Python 3.11).
    from multiprocessing.connection import wait
    for p in procs:
        if not wait([p.sentinel], timeout=5):  # SIGTERM can be lost while a spawned worker starts
            p.kill()
            wait([p.sentinel], timeout=5)


class ProcessExecutor(Executor):
    """Tasks on worker processes (forkserver; spawn where there is none).

    Without a context the pool is the one kept between calls (:func:`start_pool`,
    :func:`shutdown_pool`); with a context, a pool of its own is started whose workers
    receive the context once, and it is shut down when :meth:`execute` returns.

    Parameters
    ----------
    workers
        Worker processes.
    context
        See :class:`Executor`.
    preload
        Further modules for the forkserver to import before it forks workers (used only
        when this call starts the forkserver).
    """

    def __init__(self, workers: int, context: Any = None, preload: Sequence[str] = ()) -> None:
        super().__init__(context)
        self.workers = max(1, int(workers))
        self.preload = tuple(preload)

    def execute(self, tasks: Sequence[Task],
                progress: Callable[[int], None] | None = None) -> list:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        kept = self.context is None
        ex = _WARM.get(self.workers) if kept else _new_pool(self.workers, self.context,
                                                            self.preload)
        out: list = [None] * len(tasks)
        try:
            try:
                pending = {ex.submit(t.fn, *t.args): i for i, t in enumerate(tasks)}
            except (BrokenPipeError, ConnectionError, EOFError):
                # the forkserver re-imports the main script: without a __main__ guard the
                # script runs again in it and the server dies before the workers start
                raise WorkersBroken(starting=True) from None
            waiting = set(pending)
            while waiting:
                done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = pending[fut]
                    out[i] = fut.result()
                    if progress is not None:
                        progress(tasks[i].size)
        except BrokenProcessPool:
            self._stop(ex, kept)
            raise WorkersBroken() from None
        except BaseException:
            self._stop(ex, kept)
            raise
        if not kept:
            ex.shutdown(wait=True)
        return out

    @staticmethod
    def _stop(ex, kept: bool) -> None:
        if kept:
            _WARM.drop(ex)
        _terminate(ex)


# ---------------------------------------------------------------------------
# Dask
# ---------------------------------------------------------------------------

def _in_context(context: Any, fn: Callable[..., Any], *args: Any) -> Any:
    _set_context(context)
    return fn(*args)


def _shared_arguments(tasks: Sequence[Task]) -> set[int]:
    """Positions of arguments that are one and the same object in every task (sent
    once to every worker rather than with each task); numbers, text and None excluded."""
    if len(tasks) < 2:
        return set()
    first = tasks[0].args
    return {j for j, a in enumerate(first)
            if not isinstance(a, (int, float, str, bytes, type(None)))
            and all(len(t.args) == len(first) and t.args[j] is a for t in tasks)}


class DaskExecutor(Executor):
    """Tasks on a Dask cluster: a LocalCluster of ``workers`` processes started for the
    call (and closed after it), or the cluster of ``scheduler`` (an address or a
    ``distributed.Client``)."""

    def __init__(self, workers: int, scheduler: Any = None, context: Any = None) -> None:
        super().__init__(context)
        self.workers = max(1, int(workers))
        self.scheduler = scheduler

    def execute(self, tasks: Sequence[Task],
                progress: Callable[[int], None] | None = None) -> list:
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        own_client = True
        if self.scheduler is None:
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                   processes=True, host="127.0.0.1", dashboard_address=None,
                                   silence_logs=logging.ERROR)
            client = Client(cluster)
        elif isinstance(self.scheduler, Client):
            client, own_client = self.scheduler, False
        else:
            client = Client(str(self.scheduler))
        futs: list = []
        out: list = [None] * len(tasks)
        try:
            shared = sorted(_shared_arguments(tasks))
            sent = dict(zip(shared, client.scatter([tasks[0].args[j] for j in shared],
                                                   broadcast=True, hash=False), strict=True)
                        ) if shared else {}
            ctx = None
            if self.context is not None:
                [ctx] = client.scatter([self.context], broadcast=True, hash=False)
            index = {}
            for i, t in enumerate(tasks):
                args = tuple(sent.get(j, a) for j, a in enumerate(t.args))
                fut = (client.submit(_in_context, ctx, t.fn, *args, pure=False) if ctx is not None
                       else client.submit(t.fn, *args, pure=False))
                futs.append(fut)
                index[fut.key] = i
            for fut in as_completed(futs):
                i = index[fut.key]
                out[i] = fut.result()
                if progress is not None:
                    progress(tasks[i].size)
        except BaseException:
            if futs:
                client.cancel(futs)
            raise
        finally:
            if own_client:
                client.close()
            if cluster is not None:
                cluster.close()
        return out
