"""Many simulations of one model: a process pool on all cores, or a Dask cluster.

:func:`run_ensemble` runs one simulation per row of a sample table (global
parameters, initial species values, compartment sizes) under one regimen and
returns one row per sample: the requested metrics, and a ``status`` column
(``"ok"`` or ``"failed: <reason>"``). A solver failure is recorded in its row
and never stops the batch.

How it is fast (libRoadRunner 2.10; see scripts/bench_ensemble.py):

* one RoadRunner per worker process, built once from the SBML text (never a
  pickled instance: an unpickled RoadRunner applies a t=0 bolus twice unless reset);
* per sample, values are set through index arrays on the executable model
  (``setGlobalParameterValues``), then ``reset`` re-evaluates initial
  assignments; output selections are set once; the integration segments
  between doses are planned once (:class:`workbench.sim._batch.BatchRunner`);
* metrics are computed inside the worker, so only a few numbers per sample
  travel back; samples travel in chunks;
* each output point costs integration time: request only the points the
  metrics need (``points``/``times``).

Doses go through the same conversion (:func:`workbench.sim.simulate.doses_to_events`)
as :func:`workbench.simulate`, and each row runs exactly as a single simulation
does (a simulation is a batch of one row, :class:`workbench.sim._batch.BatchRunner`),
so each row equals the corresponding single simulation exactly.

The metric language (``max(RO)``, ``auc(Drug, 0, 168 h)``, ...) is
:mod:`workbench.metric_spec`; :class:`Metric` and :func:`parse_metric` are
re-exported here.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core.dosing import Regimen, parse_regimen
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.core.parameter_space import ParameterSpace
from workbench.errors import SpecError
from workbench.sim._backends import _Spec, executor_for, run_chunks
from workbench.sim._engine import IntegratorSettings
from workbench.sim._model_index import settable_error
from workbench.sim._timegrid import METRIC_POINTS, TimeGrid, time_grid
from workbench.sim.executors import SerialExecutor, shutdown_pool, start_pool
from workbench.sim.metric_spec import METRIC_KINDS, Metric, _check_output, parse_metric
from workbench.sim.options import RunOptions, bundles
from workbench.sim.simulate import doses_to_events, output_units, resolve_time

__all__ = ["METRIC_KINDS", "Metric", "parse_metric", "run_ensemble", "shutdown_pool",
           "start_pool"]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# the verb
# ---------------------------------------------------------------------------

def _sample_table(samples, n, seed) -> pd.DataFrame:
    if isinstance(samples, pd.DataFrame):
        return samples
    if isinstance(samples, Mapping):
        return pd.DataFrame(dict(samples))
    if isinstance(samples, ParameterSpace):
        if n is None:
            raise SpecError("give n (the number of samples) to draw from a ParameterSpace",
                            element="n")
        return samples.sample(n, seed=seed)
    raise TypeError("samples must be a DataFrame, a mapping id -> values, or a ParameterSpace")


def _time_grid(metrics, start, end, points, times, dose_starts) -> np.ndarray:
    """The metric grid (:func:`workbench.sim._timegrid.time_grid`, default 201 points): the
    evenly spaced and explicit times, the times metrics read, and the dose times inside."""
    needed = [float(x) for mt in metrics for x in mt.needed_times()]
    if end is None and times is None and not (needed and all(mt.kind == "value"
                                                               for mt in metrics)):
        raise SpecError("give the end time (end=...) or the output times (times=...)",
                        element="end")
    # a metric time before the start is reported by _check_metric_times
    arr = time_grid(start, end, points, times, include=[x for x in needed if x >= start],
                    default_points=METRIC_POINTS)
    extra = [d for d in dose_starts if arr[0] <= d <= arr[-1]]
    return np.unique(np.concatenate([arr, extra])) if extra else arr


#: the older keywords of :func:`run_ensemble` (adapters of ``dosing``, ``grid``, ``run``)
_ENSEMBLE_KEYS = ("target", "mw", "subject", "start", "end", "points", "times", "integrator",
                  "workers", "backend", "scheduler", "chunk_size", "progress")


def run_ensemble(model: Model | str | os.PathLike[str], samples,
                 regimen: Regimen | str | None = None, *,
                 metrics: Sequence[str | Metric] | None = None,
                 outputs: Sequence[str] | None = None, dosing: Dosing | None = None,
                 grid: TimeGrid | None = None, run: RunOptions | None = None,
                 n: int | None = None, seed: int | None = None, convergence_check=None,
                 **legacy) -> pd.DataFrame:
    """Simulate a model once per sample and return metrics per sample.

    Parameters
    ----------
    model
        A :class:`~workbench.Model` or anything :func:`~workbench.load_model` takes.
    samples
        A DataFrame with one column per id to set (global parameters, species
        initial values in the unit of the species symbol, compartment sizes;
        model units) and one row per sample; or a mapping id -> values; or a
        :class:`~workbench.analysis.sensitivity.ParameterSpace` with ``n`` and ``seed``.
        Initial assignments that depend on the set values are re-evaluated; a
        value set for an element with its own initial assignment wins over that
        assignment (as in :func:`~workbench.simulate`). Variables of assignment
        rules cannot be set (:class:`SpecError`).
        A column ``dose_scale`` (:data:`workbench.columns.DOSE_SCALE`) is not a
        model id: it multiplies every dose of ``regimen`` (amounts and infusion
        rates) for that sample, e.g. the body weight of each subject for a
        regimen converted per kg (:mod:`workbench.regimens`).
    regimen
        Doses, as for :func:`~workbench.simulate` (converted with ``dosing``).
    metrics
        Metric texts (module docstring), e.g. ``["max(RO)", "auc(Drug)"]``.
    outputs
        Trajectories: adds ``value(X, t)`` for each output ``X`` and each time ``t``
        of ``grid.times``.
    dosing
        :class:`~workbench.core.options.Dosing`: dosed species (``target``),
        molecular weight (``mw``), body size (``subject``), as for :func:`~workbench.simulate`.
    grid
        :class:`~workbench.sim._timegrid.TimeGrid`: ``start``, ``end``, ``points``
        (evenly spaced, default 201: :data:`workbench.sim._timegrid.METRIC_POINTS`) for
        metrics over the run; the times metrics need and dose times are added;
        ``times`` alone sets the output grid of the metrics. Each point costs
        integration time: ask for the points the metrics need.
    run
        :class:`~workbench.sim.options.RunOptions`: ``integrator`` (solver settings);
        ``workers`` (processes, default every core; with ``backend="processes"`` and
        1 worker, or fewer than 100 samples per worker, the runs happen in this
        process: starting a pool would cost more than it saves); ``backend``
        (``"processes"``, a local process pool, or ``"dask"``: dask.distributed, a
        LocalCluster on 127.0.0.1 or the cluster at ``scheduler``); ``scheduler``
        (a Dask scheduler address ``"tcp://host:8786"`` or a ``distributed.Client``);
        ``chunk_size`` (samples per task, default about 20 tasks per worker);
        ``progress`` (a progress bar, default when stderr is a terminal).
    n, seed
        Number of samples and seed when ``samples`` is a ParameterSpace.
    **legacy
        The older keywords, each building its bundle: ``target``, ``mw``,
        ``subject`` (``dosing``); ``start``, ``end``, ``points``, ``times``
        (``grid``); ``integrator``, ``workers``, ``backend``, ``scheduler``,
        ``chunk_size``, ``progress`` (``run``). Giving a bundle and one of its
        keywords is a :class:`SpecError`.
    convergence_check
        Re-run three samples (first, middle, last) in this process at 100-fold
        tighter tolerances and warn (:class:`~workbench.sim.convergence.ConvergenceWarning`)
        when a metric moves by more than 1e-4 relative; True/False or
        :class:`~workbench.sim.convergence.ConvergenceOptions`; None: on unless switched
        off by :func:`~workbench.sim.convergence.convergence_options`. A metric beyond
        any physical scale raises :class:`~workbench.sim.convergence.BlowUpError`.
        The :class:`~workbench.sim.convergence.ConvergenceReport` is in ``attrs["convergence"]``.

    Returns
    -------
    pandas.DataFrame
        Columns ``sample`` (the row label of ``samples``), the sample's ids,
        one column per metric (named by its text), and ``status`` (``"ok"`` or
        ``"failed: <reason>"``; failed rows have NaN metrics). ``attrs["units"]``
        maps each metric column to its unit.

    Raises
    ------
    UnknownIdError, DoseError, UnitError, SimulationError
        For a problem shared by every sample (unknown id, bad dose, bad metric).
        Ctrl-C stops the workers and raises KeyboardInterrupt; nothing is written.
    """
    from tqdm.auto import tqdm

    dosing, tgrid, run = bundles("run_ensemble", legacy, dosing=dosing, grid=grid, run=run,
                                 allowed=_ENSEMBLE_KEYS)
    target, times, integrator = dosing.target, tgrid.times, run.integrator
    m = model if isinstance(model, Model) else load_model(model)
    table = _sample_table(samples, n, seed)
    if isinstance(regimen, str):
        regimen = parse_regimen(regimen, target=target)
    mlist = [mt if isinstance(mt, Metric) else parse_metric(mt, m) for mt in (metrics or [])]
    if outputs is not None:
        if times is None:
            raise SpecError("trajectories need both outputs=... and times=...",
                            element="outputs")
        for o in outputs:
            _check_output(m, o)
        mlist += [Metric(f"value({o}, {float(t):.10g})", "value", o, time=float(t))
                  for o in outputs for t in times]
    if not mlist:
        raise SpecError("no metrics requested", source=m.source, element="metrics",
                              fix="pass metrics=['max(RO)', ...] or outputs=[...] with times=[...]")
    if len({mt.text for mt in mlist}) != len(mlist):
        raise SpecError("a metric is requested twice", element="metrics")
    ids = [str(c) for c in table.columns]
    scaled = C.DOSE_SCALE in ids  # per-sample dose factor: kept as the last value column
    if scaled:
        ids = [*(i for i in ids if i != C.DOSE_SCALE), C.DOSE_SCALE]
        table = table[ids]
    for sid in ids[:-1] if scaled else ids:
        _check_settable(m, sid)
    try:
        values = table.to_numpy(dtype=float, copy=True)
    except (TypeError, ValueError):
        raise SpecError("the sample table has non-numeric values", element="samples") from None
    events = doses_to_events(m, regimen, dosing) if regimen is not None else []
    dose_starts = tuple(sorted({e.time for e in events if e.amount > 0 or e.rate > 0}))
    t0 = resolve_time(tgrid.start, m, "start")
    t1 = resolve_time(tgrid.end, m, "end") if tgrid.end is not None else None
    out_times = _time_grid(mlist, t0, t1, tgrid.points, times, dose_starts)
    _check_metric_times(mlist, out_times, dose_starts)
    outs = tuple(dict.fromkeys(mt.output for mt in mlist))
    spec = _Spec(sbml=m.sbml, infusion_targets=tuple(sorted({e.target for e in events if e.rate})),
                 source=m.source, ids=tuple(ids[:-1] if scaled else ids), times=out_times,
                 outputs=outs, doses=tuple(events), dose_starts=dose_starts,
                 metrics=tuple(mlist), dose_scaled=scaled).with_token()
    nrow = len(values)
    out = np.full((nrow, len(mlist)), np.nan)
    status = np.full(nrow, C.STATUS_OK, dtype=object)
    backend, scheduler, chunk_size, progress = run.backend, run.scheduler, run.chunk_size, \
        run.progress
    workers = max(1, int(run.workers or os.cpu_count() or 1))
    workers = min(workers, max(1, nrow))
    per_task = 20 if backend == "processes" else 8
    chunk = int(chunk_size or min(1024, max(8, math.ceil(nrow / (workers * per_task)))))
    bar = tqdm(total=nrow, unit="sim", desc="ensemble", leave=False,
               disable=None if progress is None else not progress)
    try:
        if nrow:
            run_chunks(executor_for(backend, workers, nrow, scheduler), spec, values,
                       integrator, out, status, chunk, bar.update)
    finally:
        bar.close()
    n_failed = int(np.count_nonzero(status != C.STATUS_OK))
    if n_failed:
        log.warning("%s: %d of %d samples failed", m.source, n_failed, nrow)
    cols: dict[str, np.ndarray] = {C.SAMPLE: table.index.to_numpy()}
    cols.update({sid: values[:, j] for j, sid in enumerate(ids)})
    cols.update({mt.text: out[:, j] for j, mt in enumerate(mlist)})
    cols[C.STATUS] = status
    res = pd.DataFrame(cols)
    ounits = output_units(m, list(outs))
    res.attrs["units"] = {mt.text: mt.unit(ounits.get(mt.output, ""), m.time_unit)
                          for mt in mlist}
    res.attrs["model"] = m.source
    res.attrs["time_unit"] = m.time_unit
    res.attrs["regimen"] = str(regimen) if regimen is not None else ""
    from workbench.sim.convergence import check_ensemble, report_of, resolve_options

    opts = resolve_options(convergence_check)
    columns = [mt.text for mt in mlist]

    def rerun(settings: IntegratorSettings, rows: list[int]) -> pd.DataFrame:
        # the same built spec (and the cached runner) on the chosen rows, in this process
        sub = values[rows]
        got = np.full((len(rows), len(mlist)), np.nan)
        run_chunks(SerialExecutor(), spec, sub, settings, got,
                   np.full(len(rows), C.STATUS_OK, dtype=object), chunk)
        return pd.DataFrame(got, columns=columns)

    res.attrs["convergence"] = report_of(check_ensemble(
        rerun, res, columns, C.STATUS, C.STATUS_OK, settings=integrator, opts=opts,
        source=m.source))
    return res


def _check_metric_times(mlist: list[Metric], grid: np.ndarray, dose_starts) -> None:
    starts = [d for d in dose_starts if grid[0] <= d < grid[-1]] or [float(grid[0])]
    for mt in mlist:
        if any(x < grid[0] for x in mt.needed_times()):
            raise SpecError(f"{mt.text}: the time is before the simulation start ({grid[0]:g})",
                            element=mt.text)
        # a time-average over no time is 0/0: refuse it rather than return NaN marked ok
        if mt.kind == "mean" and mt.window is None and not grid[-1] > grid[0]:
            raise SpecError(f"{mt.text}: the time-average needs a window of positive length, "
                            f"but the output grid is the single time {grid[0]:g}",
                            element=mt.text, fix="give an end time after the start (end=...) "
                            "or at least two output times, or use value(X, t)")
        if mt.kind == "ctrough" and not -len(starts) <= mt.interval < len(starts):
            raise SpecError(f"{mt.text}: there are only {len(starts)} dosing interval(s)",
                            element=mt.text, fix="count intervals from 0, or from -1 at the end")


def _check_settable(model: Model, sid: str) -> None:
    """Raise unless ``sid`` is a global parameter, species or compartment a sample may set
    (the engine's rule, :func:`workbench.sim._model_index.settable_error`, checked here before
    any worker starts)."""
    kind = model.kind_of(sid)  # UnknownIdError with suggestions
    rules = model.rules
    hit = rules[(rules[C.VARIABLE] == sid) & (rules[C.RULE_TYPE] == "assignment")]
    err = settable_error(sid, kind, hit.iloc[0][C.FORMULA] if len(hit) else None,
                         source=model.source)
    if err is not None:
        raise err
