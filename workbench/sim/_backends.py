"""Back ends of :func:`workbench.run_ensemble`: what travels to the workers, the worker
side (one :class:`workbench.sim._batch.BatchRunner` per ensemble, metrics computed in the
worker), the kept process pool, Dask, and the chunking shared by all of them.

Chunks shrink towards the end (guided self-scheduling) so the workers finish
together; the process pool is kept between ensembles and its workers cache one
engine per model (:func:`start_pool`, :func:`shutdown_pool`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import pickle
import signal
import threading
from dataclasses import dataclass, field, replace

import numpy as np

from workbench import columns as C
from workbench.errors import SimulationError
from workbench.sim._batch import BatchRunner
from workbench.sim._engine import DoseEvent, IntegratorSettings, engine_for
from workbench.sim.metric_spec import Metric
from workbench.sim.metrics import auc, time_above

__all__ = ["shutdown_pool", "start_pool"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# what travels to the workers
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Spec:
    """Everything a worker needs, picklable; ``token`` identifies it in worker caches."""

    sbml: str
    infusion_targets: tuple[str, ...]
    source: str
    ids: tuple[str, ...]
    times: np.ndarray
    outputs: tuple[str, ...]
    doses: tuple[DoseEvent, ...]
    dose_starts: tuple[float, ...]
    metrics: tuple[Metric, ...]
    token: str = field(default="", compare=False)
    dose_scaled: bool = False  # per-sample dose factor in the last value column (DOSE_SCALE)

    def with_token(self) -> _Spec:
        h = hashlib.sha256(pickle.dumps((self.sbml, self.infusion_targets, self.ids,
                                         self.times.tobytes(), self.outputs, self.doses,
                                         self.metrics, self.dose_scaled)))
        return replace(self, token=h.hexdigest())


class _ChunkRunner:
    """Worker side: one :class:`BatchRunner` and the compiled metrics."""

    def __init__(self, spec: _Spec) -> None:
        # the process's engine for this model (the one engine cache, by SBML text)
        eng = engine_for(spec.sbml, spec.infusion_targets, spec.source)
        self.runner = BatchRunner(eng, spec.ids, spec.times, spec.outputs, spec.doses,
                                  predose=bool(spec.doses))
        self.spec = spec
        self.col = {o: j + 1 for j, o in enumerate(spec.outputs)}
        self._plan: list[tuple] | None = None

    def _compile(self, t: np.ndarray) -> list[tuple]:
        """Per metric: (kind, column, row slice, times of the slice, threshold, text)."""
        plan = []
        starts = [d for d in self.spec.dose_starts if t[0] <= d < t[-1]] or [float(t[0])]
        for mt in self.spec.metrics:
            if mt.window is not None:
                a, b = mt.window
                sl = slice(int(np.flatnonzero(t == a)[-1]), int(np.flatnonzero(t == b)[0]) + 1)
            elif mt.kind == "value":
                r = int(np.flatnonzero(t == mt.time)[-1])
                sl = slice(r, r + 1)
            elif mt.kind == "ctrough":
                i = mt.interval if mt.interval >= 0 else len(starts) + mt.interval
                r = int(np.flatnonzero(t == starts[i + 1])[0]) if i + 1 < len(starts) else len(t) - 1
                sl = slice(r, r + 1)
            else:
                sl = slice(None)
            plan.append((mt.kind, self.col[mt.output], sl, t[sl], mt.threshold, mt.text))
        return plan

    @staticmethod
    def _evaluate(plan: list[tuple], res: np.ndarray) -> list[float]:
        vals = []
        for kind, j, sl, tt, c, text in plan:
            y = res[sl, j]
            if kind in ("max", "cmax"):
                v = y.max()
            elif kind in ("min", "cmin"):
                v = y.min()
            elif kind == "tmax":
                v = tt[int(np.argmax(y))]
            elif kind == "auc":
                v = auc(tt, y)
            elif kind == "mean":
                v = auc(tt, y) / (tt[-1] - tt[0])
            elif kind == "time_above":
                v = time_above(tt, y, c)
            else:  # value, ctrough: one row
                v = y[0]
            if math.isnan(v):  # never a NaN marked ok (an infinite value is a blow-up, checked later)
                raise SimulationError(f"the metric {text} is not a number (NaN): its window or "
                                      "values are empty or undefined", element=text)
            vals.append(float(v))
        return vals

    def run_chunk(self, values: np.ndarray, settings: IntegratorSettings | None
                  ) -> tuple[np.ndarray, list[tuple[int, str]]]:
        out = np.full((len(values), len(self.spec.metrics)), np.nan)
        failed: list[tuple[int, str]] = []
        for i, v in enumerate(values):
            try:
                f = 1.0
                if self.spec.dose_scaled:  # per-sample dose factor: the last value (DOSE_SCALE)
                    v, f = v[:-1], float(v[-1])
                    if not (math.isfinite(f) and f >= 0):
                        raise SimulationError(f"the dose scale {f!r} is not a non-negative "
                                              "number", element=C.DOSE_SCALE)
                res = self.runner.run(v, settings, dose_scale=f)
                if self._plan is None:
                    self._plan = self._compile(res[:, 0].copy())
                out[i] = self._evaluate(self._plan, res)
            except SimulationError as exc:
                failed.append((i, exc.message.strip()))
        return out, failed


# below this many samples per worker, starting a pool costs more than it saves; once the
# pool is up (kept between ensembles), a task costs about a millisecond
_MIN_PER_WORKER = 100
_MIN_PER_WARM_WORKER = 16

# worker state (one per worker process, process pool or Dask): chunk runners by spec
# token; the engines behind them are cached by SBML text (workbench.sim._engine.engine_for),
# so a kept worker builds each model's RoadRunner once, whatever the regimen or ids of the
# ensemble (an engine restores what another ensemble's runs changed: Engine.prepare)
_RUNNERS: dict[str, _ChunkRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def _runner_for(spec: _Spec) -> _ChunkRunner:
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(spec.token)
        if runner is None:
            runner = _ChunkRunner(spec)
            if len(_RUNNERS) >= 8:
                _RUNNERS.pop(next(iter(_RUNNERS)))
            _RUNNERS[spec.token] = runner
        return runner


def _pool_init(root: int | None = None) -> None:
    from workbench.sim._runtime import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool on Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # no KeyboardInterrupt (and traceback) here
    die_with_parent(root)  # a killed workbench leaves no worker behind


def _pool_chunk(spec: _Spec, settings: IntegratorSettings | None, start: int,
                values: np.ndarray):
    out, failed = _runner_for(spec).run_chunk(values, settings)
    return start, out, failed


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
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        if getattr(mp.current_process(), "_inheriting", False):
            # a worker starting up re-imports the caller's script; without a
            # `__main__` guard the script calls the ensemble again here. Stop this
            # worker quietly (SystemExit prints no traceback): the caller then
            # reports the broken pool once, with the fix.
            raise SystemExit(1)
        with self.lock:
            if self.ex is not None and self.workers == workers:
                return self.ex
            self.close()
            if "forkserver" in mp.get_all_start_methods():
                ctx = mp.get_context("forkserver")
                ctx.set_forkserver_preload(["workbench.sim._worker_boot", "workbench.sim.ensemble"])
                from workbench.sim._worker_boot import start_forkserver

                start_forkserver()  # SIGINT ignored there (a terminal's Ctrl-C hits the group)
            else:  # pragma: no cover - Windows, macOS without forkserver
                ctx = mp.get_context("spawn")
            self.ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                          initializer=_pool_init, initargs=(os.getpid(),))
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
    small to be worth a pool start still use it (:func:`run_ensemble`)."""
    _WARM.get(int(workers))


def shutdown_pool() -> None:
    """Stop the worker processes kept between ensembles (they also stop at exit)."""
    with _WARM.lock:
        _WARM.close()


def _dask_chunk(spec: _Spec, settings: IntegratorSettings | None, start: int, values: np.ndarray):
    out, failed = _runner_for(spec).run_chunk(values, settings)
    return start, out, failed


# ---------------------------------------------------------------------------
# back ends
# ---------------------------------------------------------------------------

def _chunks(n: int, size: int, workers: int = 1) -> list[tuple[int, int]]:
    """(start, end) of each chunk: at most ``size`` samples.

    With several workers the chunks shrink towards the end (guided
    self-scheduling: a quarter of the remaining share of a worker, at least 16
    samples), so the workers finish together instead of one idling while the
    other runs a last full chunk.
    """
    out, s = [], 0
    while s < n:
        k = size if workers == 1 else max(min(size, math.ceil((n - s) / (4 * workers))),
                                          min(size, 16))
        out.append((s, min(s + k, n)))
        s += k
    return out


def _collect(out, status, start, block, failed):
    out[start:start + len(block)] = block
    for i, reason in failed:
        status[start + i] = "failed: " + reason


def _run_in_process(spec, values, settings, out, status, chunk, bar):
    runner = _runner_for(spec)  # the cached runner: its batch plan and options are reused
    for s, e in _chunks(len(values), chunk):
        block, failed = runner.run_chunk(values[s:e], settings)
        _collect(out, status, s, block, failed)
        bar.update(e - s)


def _run_pool(spec, values, settings, out, status, chunk, workers, bar):
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    ex = _WARM.get(workers)
    try:
        try:
            pending = {ex.submit(_pool_chunk, spec, settings, s, values[s:e])
                       for s, e in _chunks(len(values), chunk, workers)}
        except (BrokenPipeError, ConnectionError, EOFError):
            # the forkserver re-imports the main script: without a __main__ guard the
            # script runs again in it and the server dies before the workers start
            raise SimulationError(
                "the worker processes could not start (the process-pool server stopped)",
                source=spec.source or None,
                fix="in a script, put the calls under `if __name__ == \"__main__\":` (the "
                    "workers re-import the script), or run with workers=1") from None
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                s, block, failed = fut.result()
                _collect(out, status, s, block, failed)
                bar.update(len(block))
    except BrokenProcessPool:
        _WARM.drop(ex)
        _terminate(ex)
        raise SimulationError("a worker process died (crashed, was killed, or could not start); "
                              "no result", source=spec.source or None,
                              fix="run with workers=1 to see the error of the failing sample; in "
                                  "a script, put the calls under `if __name__ == \"__main__\":` "
                                  "(the workers re-import the script)") from None
    except BaseException:
        _WARM.drop(ex)
        _terminate(ex)
        raise


def _terminate(ex) -> None:
    """Stop a process pool now (Ctrl-C): end the workers, drop the queued chunks."""
    stop = getattr(ex, "terminate_workers", None)  # Python >= 3.14
    if stop is not None:
        stop()
        return
    procs = list((getattr(ex, "_processes", None) or {}).values())  # shutdown() forgets them
    for p in procs:
        if p.is_alive():
            p.terminate()
    ex.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        p.join(timeout=5)


def _run_dask(spec, values, settings, out, status, chunk, workers, scheduler, bar):
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    own_client = True
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    elif isinstance(scheduler, Client):
        client, own_client = scheduler, False
    else:
        client = Client(str(scheduler))
    futs = []
    try:
        [spec_f] = client.scatter([spec], broadcast=True, hash=False)
        futs = [client.submit(_dask_chunk, spec_f, settings, s, values[s:e], pure=False)
                for s, e in _chunks(len(values), chunk, workers)]
        for fut in as_completed(futs):
            s, block, failed = fut.result()
            _collect(out, status, s, block, failed)
            bar.update(len(block))
    except BaseException:
        if futs:
            client.cancel(futs)
        raise
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()
