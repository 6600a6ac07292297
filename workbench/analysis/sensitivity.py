"""Sensitivity analysis: local coefficients, Morris screening, Sobol indices.

The parameters varied and their ranges form a
:class:`~workbench.core.parameter_space.ParameterSpace` (defined in
:mod:`workbench.parameter_space`, re-exported here).

Every method maps points of the unit hypercube through each parameter's
inverse distribution function, runs the ensemble (:func:`workbench.run_ensemble`)
and computes indices of scalar metrics (``"max(RO)"``, ``"auc(Drug)"``) or of
trajectories at chosen times (``outputs`` and ``times``: time-resolved indices).

* :func:`local_sensitivity`: normalized coefficients d ln y / d ln p by central
  differences in log space (p e^{+h}, p e^{-h}).
* :func:`morris`: elementary effects (Morris 1991, Technometrics 33:161;
  mu* of Campolongo, Cariboni & Saltelli 2007, Environ Model Softw 22:1509),
  computed on the unit hypercube, so mu, mu* and sigma are in the metric's unit
  per unit of quantile; SALib does the sampling and analysis.
* :func:`sobol`: first-order and total indices (Saltelli 2002, Comput Phys
  Commun 145:280; Saltelli et al. 2010, Comput Phys Commun 181:259), optional
  second-order indices, bootstrap confidence intervals; SALib Sobol' sequences.
  ``check_convergence`` repeats the analysis with twice the base sample (the
  first half re-used) and reports whether the top parameters keep their order.

Every analysis needs every row: samples that fail are counted, retried once
with tolerances 100x tighter, and if any still fail the analysis stops with a
:class:`~workbench.errors.SimulationError` (rows are never dropped).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.analysis.plots import plot_indices
from workbench.core._io import atomic_write_text
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.core.parameter_space import (
    DISTRIBUTIONS,
    ParameterRange,
    ParameterSpace,
    read_parameter_space,
)
from workbench.core.parameter_space import model_value as _model_value  # noqa: F401 (former name)
from workbench.errors import SimulationError, SpecError
from workbench.sim._engine import IntegratorSettings
from workbench.sim._timegrid import TimeGrid
from workbench.sim.ensemble import Metric, parse_metric, run_ensemble
from workbench.sim.options import RunOptions, bundles

__all__ = ["DISTRIBUTIONS", "ParameterRange", "ParameterSpace", "SensitivityResult",
           "local_sensitivity", "morris", "read_parameter_space", "run_sensitivity", "sobol"]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# shared machinery
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SensitivityResult:
    """The result of one analysis.

    Attributes
    ----------
    method
        ``"local"``, ``"morris"`` or ``"sobol"``.
    indices
        :data:`~workbench.columns.LOCAL_COLUMNS`, :data:`~workbench.columns.MORRIS_COLUMNS`
        or :data:`~workbench.columns.SOBOL_COLUMNS`.
    samples
        The ensemble table (one row per run: ids, metrics, status).
    space
        The parameter space, nominal values and units filled.
    second_order
        Sobol with second-order indices: :data:`~workbench.columns.SOBOL2_COLUMNS`.
    convergence
        Sobol with ``check_convergence``: :data:`~workbench.columns.CONVERGENCE_COLUMNS`.
    n_failed, n_retried_ok
        Samples that failed at first, and how many of them a retry with
        tighter tolerances recovered (all of them, or the analysis stops).
    """

    method: str
    indices: pd.DataFrame
    samples: pd.DataFrame
    space: ParameterSpace
    second_order: pd.DataFrame | None = None
    convergence: pd.DataFrame | None = None
    n_failed: int = 0
    n_retried_ok: int = 0
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The index table."""
        return self.indices.copy()

    def _repr_html_(self) -> str:
        """Summary for Jupyter (:mod:`workbench._html_repr`)."""
        from workbench.core._html_repr import sensitivity_html

        return sensitivity_html(self)

    def write(self, out_dir: str | os.PathLike[str], plots: bool = True) -> list[Path]:
        """Write the tables as CSV (and the plots as PNG) into ``out_dir``; returns the paths.

        Files: ``<method>_indices.csv``, ``samples.csv`` (headers ``"id [unit]"``),
        ``parameter_space.csv``,
        ``sobol_second_order.csv``, ``sobol_convergence.csv`` (when computed) and
        ``tornado.png`` / ``morris.png`` / ``sobol.png`` (+ ``sobol_over_time.png``
        for time-resolved indices).
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []

        def put(name: str, df: pd.DataFrame) -> None:
            atomic_write_text(out / name, df.to_csv(index=False, float_format="%.10g"))
            paths.append(out / name)

        put(f"{self.method}_indices.csv", self.indices)
        units = {**{r.id: r.unit for r in self.space.ranges},
                 **self.samples.attrs.get("units", {})}
        put("samples.csv", self.samples.rename(  # "max(RO) [dimensionless]", as trajectories
            columns=lambda c: f"{c} [{units[c]}]" if units.get(c) else c))
        put("parameter_space.csv", self.space.to_frame())
        if self.second_order is not None:
            put("sobol_second_order.csv", self.second_order)
        if self.convergence is not None:
            put("sobol_convergence.csv", self.convergence)
        if plots:
            paths += plot_indices(self, out)
        return paths


def _metrics(model: Model, metrics, outputs, times) -> list[Metric]:
    mlist = [mt if isinstance(mt, Metric) else parse_metric(mt, model) for mt in (metrics or [])]
    if outputs is not None:
        if times is None:
            raise SpecError("time-resolved indices need both outputs=... and times=...",
                            element="outputs")
        mlist += [Metric(f"value({o}, {float(t):.10g})", "value", o, time=float(t))
                  for o in outputs for t in times]
    if not mlist:
        raise SpecError("no metric given", element="metric",
                        fix="give metrics such as 'max(RO)' or 'auc(Drug)', or outputs and times")
    return mlist


def _evaluate(model: Model, table: pd.DataFrame, mlist: list[Metric], kw: dict
              ) -> tuple[pd.DataFrame, np.ndarray, int, int]:
    """Run the ensemble; retry failed rows once with tighter tolerances; stop if any still fail.

    Returns (ensemble table, Y (rows, metrics), number failed at first, number recovered).
    """
    if "run" not in kw:  # the older keywords (callers outside this module)
        kw = _ensemble_kw("sensitivity", kw.get("regimen"),
                          {k: v for k, v in kw.items() if k != "regimen"}, None, None, None)
    res = run_ensemble(model, table, metrics=mlist, **kw)
    failed = np.flatnonzero(res[C.STATUS].to_numpy() != C.STATUS_OK)
    n_failed, recovered = len(failed), 0
    if n_failed:
        run = kw["run"]
        tight = (run.integrator or IntegratorSettings()).tightened()
        log.warning("%d of %d samples failed; retrying them with tighter tolerances "
                    "(rtol %g, atol %g)", n_failed, len(table), tight.relative_tolerance,
                    tight.absolute_tolerance)
        kw2 = {**kw, "run": replace(run, integrator=tight,
                                    workers=min(run.workers or 1, max(1, n_failed)))}
        again = run_ensemble(model, table.iloc[failed], metrics=mlist, **kw2)
        again.index = res.index[failed]
        cols = [mt.text for mt in mlist]
        res.loc[res.index[failed], cols] = again[cols].to_numpy(dtype=float)
        res.loc[res.index[failed], C.STATUS] = again[C.STATUS].to_numpy()
        still = again[again[C.STATUS] != C.STATUS_OK]
        recovered = n_failed - len(still)
        if len(still):
            first = still.iloc[0]
            vals = ", ".join(f"{i}={first[i]:.6g}" for i in table.columns)
            raise SimulationError(
                f"{n_failed} of {len(table)} samples failed and {len(still)} still failed after "
                f"a retry with tolerances 100x tighter; the analysis needs every sample, so it "
                f"stops (no rows are dropped). First failure: sample {first[C.SAMPLE]} ({vals}): "
                f"{first[C.STATUS]}", source=model.source, element="samples",
                fix="narrow the parameter ranges, or look at this sample with "
                    "workbench.simulate(parameters=...)")
    y = res[[mt.text for mt in mlist]].to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        bad = [mlist[j].text for j in range(y.shape[1]) if not np.all(np.isfinite(y[:, j]))]
        raise SimulationError(f"metric(s) {', '.join(bad)} are not finite for some samples",
                              source=model.source, element=bad[0])
    return res, y, n_failed, recovered


#: the older keywords of the sensitivity analyses (adapters of ``dosing``, ``grid``, ``run``)
_SENS_KEYS = ("target", "mw", "subject", "start", "end", "points", "times", "integrator",
              "workers", "backend", "scheduler", "progress")


def _ensemble_kw(func: str, regimen, legacy: dict, dosing, grid, run, **defaults) -> dict:
    """The keywords of :func:`run_ensemble`: the bundles given, or built from ``legacy``
    (``defaults``: this analysis's own defaults of older keywords, e.g. ``workers=1``)."""
    d, g, r = bundles(func, legacy, dosing=dosing, grid=grid, run=run, allowed=_SENS_KEYS,
                      defaults=defaults)
    return dict(regimen=regimen, dosing=d, grid=g, run=r)


def _seeds(seed: int | None, k: int) -> list[int]:
    """``k`` independent nonzero seeds from one (SALib treats seed 0 as 'unseeded')."""
    ss = np.random.SeedSequence(seed)
    return [int(s) % (2**31 - 2) + 1 for s in ss.generate_state(k)]


def _meta(mt: Metric) -> tuple[str, float]:
    if mt.kind == "value":
        assert mt.time is not None  # parse_metric gives every value metric its time
        return mt.output, mt.time
    return mt.output, float("nan")


def _rank(df: pd.DataFrame, by: str) -> pd.DataFrame:
    df[C.RANK] = df.groupby(C.METRIC, sort=False)[by].rank(ascending=False, method="first")
    df[C.RANK] = df[C.RANK].fillna(len(df)).astype(int)
    return df


def _as_space(model: Model, space, check: bool = True) -> ParameterSpace:
    if isinstance(space, ParameterSpace):
        pass
    elif isinstance(space, pd.DataFrame):
        space = ParameterSpace.from_frame(space)
    elif isinstance(space, str | os.PathLike):
        space = read_parameter_space(space)
    else:  # a list of ids: uniform over a fold range of 2 (local analysis uses only nominals)
        space = ParameterSpace(tuple(ParameterRange(str(i), "loguniform", fold=2.0)
                                     for i in space))
    return space.with_model(model, check=check)


# ---------------------------------------------------------------------------
# methods
# ---------------------------------------------------------------------------

_COMMON_DOC = """
    regimen, dosing
        Doses and their conversion (:class:`~workbench.core.options.Dosing`), as for
        :func:`workbench.simulate`.
    grid
        :class:`~workbench.sim._timegrid.TimeGrid`: output grid for metrics over the
        run (see :func:`workbench.run_ensemble`); its ``times`` are the times of
        time-resolved indices (with ``outputs``).
    run
        :class:`~workbench.sim.options.RunOptions`: integrator settings (failed samples
        are retried with ``integrator.tightened()``), workers, backend, scheduler, progress
        bar (see :func:`workbench.run_ensemble`).
    **legacy
        The older keywords, each building its bundle: ``target``, ``mw``, ``subject``;
        ``start``, ``end``, ``points``, ``times``; ``integrator``, ``workers``,
        ``backend``, ``scheduler``, ``progress``. Giving a bundle and one of its
        keywords is a :class:`SpecError`.
"""


def local_sensitivity(model: Model | str | os.PathLike[str], parameters,
                      regimen=None, *, metrics: Sequence[str | Metric] | None = None,
                      outputs: Sequence[str] | None = None, step: float = 0.01,
                      dosing: Dosing | None = None, grid: TimeGrid | None = None,
                      run: RunOptions | None = None, **legacy) -> SensitivityResult:
    """Normalized local sensitivity coefficients d ln y / d ln p at the nominal values.

    Each parameter is multiplied by ``e^{+step}`` and ``e^{-step}`` (the others at
    nominal), and the coefficient is ``(ln y+ - ln y-) / (2 step)`` (central
    differences in log space; error O(step^2)). When ``y+`` and ``y-`` differ in
    sign or one is zero, ``(y+ - y-) / (2 step y0)`` is used (the same
    derivative, normalized by the nominal value; NaN when ``y0 = 0``).

    Parameters
    ----------
    model
        A :class:`~workbench.Model` or a path.
    parameters
        A :class:`ParameterSpace` (its nominal values; the model's when empty), a
        parameter-space table or CSV path, or a list of ids (model values).
    metrics, outputs, times
        Scalar metrics (``"max(RO)"``), or outputs at times (time-resolved).
    step
        Step in ln p (0.01: +-1 %).
    """ + _COMMON_DOC + """
    Returns
    -------
    SensitivityResult
        ``indices`` with columns :data:`workbench.columns.LOCAL_COLUMNS`; ``value``
        is the metric at the nominal values, ``rank`` orders |sensitivity| per metric.
    """
    kw = _ensemble_kw("local_sensitivity", regimen, legacy, dosing, grid, run, workers=1)
    m = model if isinstance(model, Model) else load_model(model)
    space = _as_space(m, parameters, check=False)
    mlist = _metrics(m, metrics, outputs, kw["grid"].times)
    if not step > 0:
        raise SpecError(f"step must be positive, got {step}", element="step")
    nom = np.array([r.nominal for r in space.ranges], dtype=float)
    if np.any(nom == 0):
        zero = [r.id for r in space.ranges if r.nominal == 0]
        raise SpecError(f"a log-space step cannot move a zero nominal value: {', '.join(zero)}",
                        source=m.source, element=zero[0], fix="give a nonzero nominal value")
    d = len(nom)
    rows = np.tile(nom, (2 * d + 1, 1))
    for i in range(d):
        rows[2 * i + 1, i] = nom[i] * math.exp(step)
        rows[2 * i + 2, i] = nom[i] * math.exp(-step)
    table = pd.DataFrame(rows, columns=space.ids)
    res, y, nf, nr = _evaluate(m, table, mlist, kw)
    units = res.attrs.get("units", {})
    out = []
    for j, mt in enumerate(mlist):
        y0 = y[0, j]
        for i, r in enumerate(space.ranges):
            yp, ym = y[2 * i + 1, j], y[2 * i + 2, j]
            if yp * ym > 0:
                s = (math.log(abs(yp)) - math.log(abs(ym))) / (2 * step)
            elif y0 != 0:
                s = (yp - ym) / (2 * step * y0)
            else:
                s = float("nan")
            o, t = _meta(mt)
            out.append({C.METRIC: mt.text, C.OUTPUT: o, C.TIME: t, C.PARAMETER: r.id,
                        C.NOMINAL: r.nominal, C.VALUE: y0, C.UNIT: units.get(mt.text, ""),
                        C.SENSITIVITY: s, "_abs": abs(s) if np.isfinite(s) else -1.0})
    df = _rank(pd.DataFrame(out), "_abs").drop(columns="_abs")
    return SensitivityResult("local", df[list(C.LOCAL_COLUMNS)], res, space, n_failed=nf,
                             n_retried_ok=nr, settings={"step": step})


def morris(model: Model | str | os.PathLike[str], space, regimen=None, *,
           metrics: Sequence[str | Metric] | None = None, outputs: Sequence[str] | None = None,
           trajectories: int = 20, levels: int = 4, optimal_trajectories: int | None = None,
           seed: int | None = None, conf_level: float = 0.95, num_resamples: int = 1000,
           dosing: Dosing | None = None, grid: TimeGrid | None = None,
           run: RunOptions | None = None, **legacy) -> SensitivityResult:
    """Morris elementary-effects screening (SALib): mu, mu*, sigma per parameter and metric.

    Morris MD (1991) Factorial sampling plans for preliminary computational
    experiments. Technometrics 33:161-174; mu* from Campolongo F, Cariboni J,
    Saltelli A (2007) Environ Model Softw 22:1509-1518.

    Parameters
    ----------
    space
        A :class:`ParameterSpace`, a table or a CSV path.
    trajectories
        Number of trajectories r (runs: r (D + 1)).
    levels
        Grid levels p of the unit hypercube.
    optimal_trajectories
        When given, that many trajectories are chosen out of ``trajectories``
        to spread them out (Campolongo et al. 2007).
    seed
        Seeds the sampling and the bootstrap; the same seed gives the same table.
    conf_level, num_resamples
        Bootstrap confidence interval of mu*.
    """ + _COMMON_DOC + """
    Returns
    -------
    SensitivityResult
        ``indices``: :data:`workbench.columns.MORRIS_COLUMNS` (in the metric's unit
        per unit of quantile), ``rank`` by mu*.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    kw = _ensemble_kw("morris", regimen, legacy, dosing, grid, run)
    m = model if isinstance(model, Model) else load_model(model)
    space = _as_space(m, space)
    mlist = _metrics(m, metrics, outputs, kw["grid"].times)
    problem = _problem(space)
    s_sample, s_boot = _seeds(seed, 2)
    u = morris_sample.sample(problem, int(trajectories), num_levels=int(levels),
                             optimal_trajectories=optimal_trajectories, seed=s_sample)
    res, y, nf, nr = _evaluate(m, space.transform(u), mlist, kw)
    units = res.attrs.get("units", {})
    out = []
    for j, mt in enumerate(mlist):
        si = morris_analyze.analyze(problem, u, y[:, j], num_resamples=int(num_resamples),
                                    conf_level=conf_level, num_levels=int(levels), seed=s_boot)
        o, t = _meta(mt)
        for i, r in enumerate(space.ranges):
            out.append({C.METRIC: mt.text, C.OUTPUT: o, C.TIME: t, C.PARAMETER: r.id,
                        C.MU: float(si["mu"][i]), C.MU_STAR: float(si["mu_star"][i]),
                        C.SIGMA: float(si["sigma"][i]),
                        C.MU_STAR_CONF: float(si["mu_star_conf"][i]),
                        C.UNIT: units.get(mt.text, "")})
    df = _rank(pd.DataFrame(out), C.MU_STAR)
    return SensitivityResult("morris", df[list(C.MORRIS_COLUMNS)], res, space, n_failed=nf,
                             n_retried_ok=nr,
                             settings={"trajectories": trajectories, "levels": levels,
                                       "seed": seed})


def _problem(space: ParameterSpace) -> dict:
    return {"num_vars": len(space.ranges), "names": space.ids,
            "bounds": [[0.0, 1.0]] * len(space.ranges)}


def sobol(model: Model | str | os.PathLike[str], space, regimen=None, *,
          metrics: Sequence[str | Metric] | None = None, outputs: Sequence[str] | None = None,
          n: int = 1024, second_order: bool = False, seed: int | None = None,
          conf_level: float = 0.95, num_resamples: int = 100, check_convergence: bool = False,
          top: int = 5, dosing: Dosing | None = None, grid: TimeGrid | None = None,
          run: RunOptions | None = None, **legacy) -> SensitivityResult:
    """Sobol variance-based indices (SALib): S1, ST (and S2) with bootstrap confidence intervals.

    Saltelli A (2002) Making best use of model evaluations to compute
    sensitivity indices. Comput Phys Commun 145:280-297; Saltelli A et al.
    (2010) Variance based sensitivity analysis of model output. Comput Phys
    Commun 181:259-270.

    Parameters
    ----------
    space
        A :class:`ParameterSpace`, a table or a CSV path.
    n
        Base sample size N, ideally a power of 2; runs: N (D + 2), or N (2 D + 2)
        with ``second_order``.
    second_order
        Also compute S2 for every pair of parameters.
    seed
        Seeds the Sobol' scrambling and the bootstrap; the same seed gives the same tables.
    conf_level, num_resamples
        Bootstrap confidence intervals (``*_conf`` are half-widths).
    check_convergence
        Also analyse with 2 N (the first N re-used) and report in ``convergence``
        whether the ``top`` parameters by ST keep their order. The indices
        reported are those at N.
    """ + _COMMON_DOC + """
    Returns
    -------
    SensitivityResult
        ``indices``: :data:`workbench.columns.SOBOL_COLUMNS` (rank by ST);
        ``second_order``: :data:`workbench.columns.SOBOL2_COLUMNS`;
        ``convergence``: :data:`workbench.columns.CONVERGENCE_COLUMNS`.
    """
    from SALib.sample import sobol as sobol_sample

    kw = _ensemble_kw("sobol", regimen, legacy, dosing, grid, run)
    m = model if isinstance(model, Model) else load_model(model)
    space = _as_space(m, space)
    mlist = _metrics(m, metrics, outputs, kw["grid"].times)
    problem = _problem(space)
    n = int(n)
    if n < 2:
        raise SpecError(f"the base sample size must be at least 2, got {n}", element="n")
    s_sample, s_boot = _seeds(seed, 2)
    n_total = 2 * n if check_convergence else n
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*power of 2.*")
        warnings.filterwarnings("ignore", message=".*balance properties.*")
        u = sobol_sample.sample(problem, n_total, calc_second_order=second_order, seed=s_sample)
        u_n = sobol_sample.sample(problem, n, calc_second_order=second_order, seed=s_sample) \
            if check_convergence else u
    rows_n, offset = len(u_n), 0
    if check_convergence and not np.array_equal(u[:rows_n], u_n):  # pragma: no cover - SALib change
        u, offset = np.vstack([u_n, u]), rows_n
    res, y, nf, nr = _evaluate(m, space.transform(u), mlist, kw)
    first, second, conv = [], [], []
    for j, mt in enumerate(mlist):
        si = _sobol_analyze(problem, y[:rows_n, j], second_order, conf_level, num_resamples,
                            s_boot, mt.text)
        o, t = _meta(mt)
        for i, r in enumerate(space.ranges):
            first.append({C.METRIC: mt.text, C.OUTPUT: o, C.TIME: t, C.PARAMETER: r.id,
                          C.S1: si["S1"][i], C.S1_CONF: si["S1_conf"][i], C.ST: si["ST"][i],
                          C.ST_CONF: si["ST_conf"][i]})
        if second_order:
            for a in range(len(space.ranges)):
                for b in range(a + 1, len(space.ranges)):
                    second.append({C.METRIC: mt.text, C.OUTPUT: o, C.TIME: t,
                                   C.PARAMETER_1: space.ids[a], C.PARAMETER_2: space.ids[b],
                                   C.S2: si["S2"][a, b], C.S2_CONF: si["S2_conf"][a, b]})
        if check_convergence:
            si2 = _sobol_analyze(problem, y[offset:, j], second_order, conf_level, num_resamples, s_boot,
                                 mt.text)
            k = min(int(top), len(space.ranges))
            order1 = [space.ids[i] for i in np.argsort(-np.nan_to_num(si["ST"], nan=-1))[:k]]
            order2 = [space.ids[i] for i in np.argsort(-np.nan_to_num(si2["ST"], nan=-1))[:k]]
            conv.append({C.METRIC: mt.text, C.N_BASE: n, C.TOP_PARAMETERS: "; ".join(order1),
                         C.TOP_PARAMETERS_2N: "; ".join(order2), C.STABLE: order1 == order2,
                         C.MAX_ST_CHANGE: float(np.nanmax(np.abs(si2["ST"] - si["ST"])))})
    df = _rank(pd.DataFrame(first), C.ST)
    return SensitivityResult(
        "sobol", df[list(C.SOBOL_COLUMNS)], res, space,
        second_order=pd.DataFrame(second, columns=list(C.SOBOL2_COLUMNS)) if second_order else None,
        convergence=pd.DataFrame(conv, columns=list(C.CONVERGENCE_COLUMNS))
        if check_convergence else None,
        n_failed=nf, n_retried_ok=nr,
        settings={"n": n, "second_order": second_order, "seed": seed})


def _sobol_analyze(problem, y, second_order, conf_level, num_resamples, seed, what) -> dict:
    from SALib.analyze import sobol as sobol_analyze

    d = problem["num_vars"]
    if np.var(y) == 0:
        log.warning("%s is the same for every sample: its Sobol indices are undefined (NaN)", what)
        nan = np.full(d, np.nan)
        return {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan,
                "S2": np.full((d, d), np.nan), "S2_conf": np.full((d, d), np.nan)}
    si = sobol_analyze.analyze(problem, y, calc_second_order=second_order, conf_level=conf_level,
                               num_resamples=int(num_resamples), seed=seed)
    return {k: np.asarray(v, dtype=float) for k, v in si.items()}


def run_sensitivity(model: Model | str | os.PathLike[str], space, method: str = "sobol", *,
                    n: int = 1024, **kwargs) -> SensitivityResult:
    """Dispatch to :func:`local_sensitivity`, :func:`morris` or :func:`sobol` (the CLI's verb).

    ``n`` is the Sobol base sample size, or the number of Morris trajectories;
    other keyword arguments go to the method.
    """
    method = method.lower()
    only = {"local": ("seed", "second_order", "check_convergence", "levels"),
            "morris": ("second_order", "check_convergence"), "sobol": ("levels",)}
    for k in only.get(method, ()):  # options of the other methods
        kwargs.pop(k, None)
    if method == "local":
        return local_sensitivity(model, space, **kwargs)
    if method == "morris":
        return morris(model, space, trajectories=n, **kwargs)
    if method == "sobol":
        return sobol(model, space, n=n, **kwargs)
    raise SpecError(f"unknown sensitivity method {method!r}", element="method",
                    fix="use 'local', 'morris' or 'sobol'")
