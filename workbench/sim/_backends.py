"""Back ends of :func:`workbench.run_ensemble`: what travels to the workers, the worker
side (one :class:`workbench.sim._batch.BatchRunner` per ensemble, metrics computed in the
worker), the chunking, and the choice of executor (:mod:`workbench.sim.executors`: this
process, the kept process pool or Dask).

Chunks shrink towards the end (guided self-scheduling) so the workers finish
together; the process pool is kept between ensembles and its workers cache one
engine per model (:func:`start_pool`, :func:`shutdown_pool`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import pickle
import threading
from dataclasses import dataclass, field, replace

import numpy as np

from workbench import columns as C
from workbench.errors import SimulationError
from workbench.sim._batch import BatchRunner
from workbench.sim._engine import DoseEvent, IntegratorSettings, engine_for
from workbench.sim.executors import (
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SerialExecutor,
    Task,
    WorkersBroken,
    pool_ready,
    shutdown_pool,
    start_pool,
)
from workbench.sim.metric_spec import Metric
from workbench.sim.metrics import auc, time_above

__all__ = ["executor_for", "run_chunks", "shutdown_pool", "start_pool"]

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


def _chunk_task(spec: _Spec, settings: IntegratorSettings | None, start: int,
                values: np.ndarray):
    """One chunk on this process's cached runner (a task of every executor)."""
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


def executor_for(backend: str, workers: int, nrow: int, scheduler=None) -> Executor:
    """The executor of an ensemble of ``nrow`` samples: Dask, this process (one worker,
    or too few samples to be worth starting a pool) or the kept process pool."""
    if backend == "dask":
        return DaskExecutor(workers, scheduler)
    if workers == 1 or nrow < workers * (_MIN_PER_WARM_WORKER if pool_ready(workers)
                                         else _MIN_PER_WORKER):
        return SerialExecutor()
    return ProcessExecutor(workers)


def run_chunks(executor: Executor, spec: _Spec, values: np.ndarray,
               settings: IntegratorSettings | None, out: np.ndarray, status: np.ndarray,
               chunk: int, progress=None) -> None:
    """Run every sample of ``values`` (chunks of at most ``chunk``) on ``executor``; the
    metrics go into ``out`` and failures into ``status``, row by row."""
    tasks = [Task(_chunk_task, (spec, settings, s, values[s:e]), size=e - s)
             for s, e in _chunks(len(values), chunk, executor.workers)]
    try:
        results = executor.execute(tasks, progress)
    except WorkersBroken as exc:
        if exc.starting:
            raise SimulationError(
                "the worker processes could not start (the process-pool server stopped)",
                source=spec.source or None,
                fix="in a script, put the calls under `if __name__ == \"__main__\":` (the "
                    "workers re-import the script), or run with workers=1") from None
        raise SimulationError("a worker process died (crashed, was killed, or could not start); "
                              "no result", source=spec.source or None,
                              fix="run with workers=1 to see the error of the failing sample; in "
                                  "a script, put the calls under `if __name__ == \"__main__\":` "
                                  "(the workers re-import the script)") from None
    for start, block, failed in results:
        _collect(out, status, start, block, failed)
