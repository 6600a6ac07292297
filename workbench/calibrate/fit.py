"""Calibration: multi-start fitting, profile likelihoods and the calibration record.

:func:`calibrate` fits the estimated parameters of a PEtab problem
(:mod:`workbench.petab_problem`) by multi-start local optimisation in their
parameter scales: starts from a seeded Latin hypercube within the bounds
(McKay et al. 1979, doi:10.2307/1268522), each refined by a trust-region
reflective least-squares fit (scipy ``least_squares``, Branch et al. 1999,
doi:10.1137/S1064827595289108) when the objective is a sum of squares, else
by L-BFGS-B (Byrd et al. 1995, doi:10.1137/0916069); the multi-start approach
follows Raue et al. 2013 (doi:10.1371/journal.pone.0074335). Starts run on the
worker processes (:mod:`workbench.sim.executors`), one private libRoadRunner engine
per worker.

The result (:class:`CalibrationResult`) is the calibration record the FDA
draft guidance asks for: per parameter the initial and final values, bounds,
scale, standard error and 95 %
confidence interval (Wald from the expected Fisher information, or from the
profile likelihood), the multi-start
table (waterfall), the fit per measurement, and goodness of fit (AIC, BIC,
chi-square). :func:`profile_likelihood` computes profiles by re-optimising the
other parameters along a grid of the profiled one (Raue et al. 2009,
doi:10.1093/bioinformatics/btp358); the 95 % interval is where the objective
stays within chi2(1, 0.95) / 2 = 1.92 of its minimum (each end located by root
finding, :mod:`workbench._profile`), and a parameter whose
interval reaches a bound on either side is practically non-identifiable.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.calibrate._profile import PROFILE_THRESHOLD
from workbench.calibrate._profile import profile_ci as _profile_ci
from workbench.calibrate._profile import scan as _scan
from workbench.calibrate.petab_objective import FAILED_OBJECTIVE, Objective
from workbench.calibrate.petab_problem import PetabProblem, read_petab
from workbench.calibrate.plots import plot_calibration
from workbench.core._versions import __version__
from workbench.core.parameter_space import unscale
from workbench.errors import CalibrationError, SpecError
from workbench.sim._engine import IntegratorSettings
from workbench.sim.executors import (  # _terminate: the Ctrl-C path, tested from here
    ProcessExecutor,
    SerialExecutor,
    Task,
    WorkersBroken,
    _terminate,  # noqa: F401
    worker_context,
)

__all__ = ["CalibrationResult", "calibrate", "profile_likelihood", "update_provenance",
           "write_calibration"]

log = logging.getLogger(__name__)

#: polishing divides the CVODE tolerances by this (1e-8 -> 1e-12), so that finite
#: differences with a larger step resolve flat valleys; never below a relative
#: tolerance of 1e-13 (CVODE cannot meet tolerances near machine precision)
_POLISH_FACTOR = 1e4
_POLISH_FLOOR = 1e-13
_METHODS = ("auto", "least_squares", "lbfgsb")


@dataclass(frozen=True)
class CalibrationResult:
    """The calibration record of one PEtab problem.

    Attributes
    ----------
    problem
        The problem fitted.
    x_best
        Best estimated values, in their parameter scales (order of ``problem.free_ids``).
    objective_best, nllh_best
        Negative log-posterior and negative log-likelihood at ``x_best``.
    objective_nominal, nllh_nominal
        The same at the nominal values of the parameter table.
    parameters
        One row per parameter-table entry, :data:`~workbench.columns.CALIBRATION_PARAMETER_COLUMNS`.
    starts
        One row per start, best first, :data:`~workbench.columns.STARTS_COLUMNS`
        then the final scaled value of each estimated parameter.
    fit
        One row per measurement at ``x_best``, :data:`~workbench.columns.FIT_COLUMNS`.
    goodness
        Goodness of fit, :data:`~workbench.columns.SUMMARY_COLUMNS`.
    profiles
        Profile points (:data:`~workbench.columns.PROFILE_COLUMNS`), or None.
    method, seed, settings
        How it was fitted.
    """

    problem: PetabProblem
    x_best: np.ndarray = field(repr=False)
    objective_best: float
    nllh_best: float
    objective_nominal: float
    nllh_nominal: float
    parameters: pd.DataFrame = field(repr=False)
    starts: pd.DataFrame = field(repr=False)
    fit: pd.DataFrame = field(repr=False)
    goodness: pd.DataFrame = field(repr=False)
    profiles: pd.DataFrame | None = field(default=None, repr=False)
    method: str = "least_squares"
    seed: int = 0
    settings: IntegratorSettings = field(default_factory=IntegratorSettings)
    seconds: float = 0.0

    def to_frame(self) -> pd.DataFrame:
        """The parameter table of the record."""
        return self.parameters

    def fitted_curves(self, points: int = 200) -> pd.DataFrame:
        """The model at the best fit on a dense time grid, for figures.

        One row per (observable, conditions, overrides) group of the measurement table and
        time point: ``points`` equally spaced times from 0 to the group's last measurement,
        plus the measured times themselves. Columns: the PEtab keys ``observableId``,
        ``preequilibrationConditionId``, ``simulationConditionId``,
        ``observableParameters``, ``noiseParameters``, then ``time``, ``measurement``
        (NaN) and ``simulation`` (the observable at ``x_best``, in the measurement
        table's units).
        """
        keys = ["observableId", "preequilibrationConditionId", "simulationConditionId",
                "observableParameters", "noiseParameters"]
        m = self.problem.measurements.copy()
        for k in keys[1:]:
            m[k] = m[k].astype(object).where(m[k].notna(), "")
        rows = []
        for key, g in m.groupby(keys, sort=False, dropna=False):
            t = g["time"].to_numpy(dtype=float)
            t = t[np.isfinite(t)]
            if not len(t):
                continue
            grid = np.unique(np.concatenate([np.linspace(0.0, float(t.max()), points), t]))
            rows += [dict(zip(keys, key, strict=True), time=tt, measurement=np.nan)
                     for tt in grid]
        dense = pd.DataFrame(rows, columns=[*keys, "time", "measurement"])
        for k in keys[1:]:
            dense[k] = dense[k].replace("", np.nan)
        obj = Objective(self.problem, self.settings, measurements=dense)
        dense["simulation"] = obj.evaluate(self.x_best)["simulation"]
        return dense

    @property
    def method_text(self) -> str:
        """One line describing the method, for reports and the provenance table."""
        n = int((self.starts[C.STATUS] == C.STATUS_OK).sum())
        algo = ("trust-region reflective least squares (scipy least_squares)"
                if self.method == "least_squares" else "L-BFGS-B (scipy)")
        return (f"maximum likelihood (PEtab problem {self.problem.name}, {self.problem.n_data} "
                f"measurements): {len(self.starts)} Latin-hypercube starts (seed {self.seed}, "
                f"{n} converged), {algo}, parameters in their PEtab scales")


# ---------------------------------------------------------------------------
# local optimisation of one start (runs in a worker process)
# ---------------------------------------------------------------------------

def _local_fit(obj: Objective, x0: np.ndarray, method: str, max_evaluations: int,
               fixed: dict[int, float] | None = None, resample_seed: int | None = None,
               resample_tries: int = 20, diff_step: float = 1e-5) -> dict:
    """Minimise ``obj`` from ``x0`` (scaled) within the bounds; ``fixed``: index -> value.

    With ``resample_seed``, a start where the simulation fails is replaced by
    uniform draws within the bounds (seeded) until one simulates."""
    from scipy.optimize import least_squares, minimize

    lb, ub = obj.lower.copy(), obj.upper.copy()
    free = np.array([j for j in range(obj.n_free) if not fixed or j not in fixed], dtype=int)
    full = np.asarray(x0, dtype=float).copy()
    for j, v in (fixed or {}).items():
        full[j] = v

    def expand(z):
        x = full.copy()
        x[free] = z
        return x

    z0 = np.clip(full[free], lb[free], ub[free])
    t0 = time.perf_counter()
    f0 = obj(expand(z0))
    tries = 0
    if f0 >= FAILED_OBJECTIVE and resample_seed is not None:
        rng = np.random.default_rng(resample_seed)
        while f0 >= FAILED_OBJECTIVE and tries < resample_tries:
            z0 = rng.uniform(lb[free], ub[free])
            f0 = obj(expand(z0))
            tries += 1
    note = f" (start resampled {tries} time(s): the simulation failed)" if tries else ""
    if f0 >= FAILED_OBJECTIVE:
        return {"status": "failed: simulation fails at the start point", "x": expand(z0),
                "x0": expand(z0), "f0": math.nan, "f": math.nan, "nfev": 1 + tries,
                "seconds": time.perf_counter() - t0,
                "message": "simulation fails at the start point" + note}
    if len(free) == 0:
        return {"status": C.STATUS_OK, "x": expand(z0), "x0": expand(z0), "f0": f0, "f": f0,
                "nfev": 1, "seconds": time.perf_counter() - t0, "message": "nothing to fit"}
    x_start = expand(z0)
    try:
        if method == "least_squares":
            def res(z):
                r = obj.residuals(expand(z))
                return np.where(np.isfinite(r), r, 1e6)

            # max_nfev counts residual calls, not the n + 1 of each finite-difference Jacobian
            sol = least_squares(res, z0, bounds=(lb[free], ub[free]), method="trf",
                                diff_step=diff_step, x_scale="jac",
                                max_nfev=max(20, max_evaluations // (len(free) + 1)),
                                ftol=1e-10, xtol=1e-10, gtol=1e-8)
            z, nfev, msg = sol.x, int(sol.nfev + sol.njev * (len(free) + 1)), sol.message
        else:
            sol = minimize(lambda z: obj(expand(z)), z0, method="L-BFGS-B",
                           bounds=list(zip(lb[free], ub[free], strict=True)),
                           options={"maxfun": max_evaluations, "eps": diff_step / 10,
                                    "ftol": 1e-12,
                                    "gtol": 1e-7})
            z, nfev, msg = sol.x, int(sol.nfev), str(sol.message)
    except Exception as exc:  # a solver failure inside scipy: record, never stop the batch
        return {"status": f"failed: {type(exc).__name__}: {exc}", "x": x_start, "x0": x_start,
                "f0": f0, "f": math.nan, "nfev": 0, "seconds": time.perf_counter() - t0,
                "message": str(exc)}
    x = expand(z)
    f = obj(x)
    ok = f < FAILED_OBJECTIVE
    return {"status": C.STATUS_OK if ok else "failed: simulation fails at the end point",
            "x": x, "x0": x_start, "f0": f0, "f": f if ok else math.nan, "nfev": nfev + tries,
            "seconds": time.perf_counter() - t0, "message": " ".join(str(msg).split()) + note}


# the objective of the running tasks is the executor's context (workbench.sim.executors):
# one Objective, with its private engine, per worker process; _TIGHT caches its polishing twin
_TIGHT: dict[str, Objective] = {}


def _objective() -> Objective:
    # the executor's context is untyped; here it is always the Objective given to _run_tasks
    return cast(Objective, worker_context())


def _worker_start(i: int, x0: np.ndarray, method: str, max_evaluations: int, seed: int):
    return i, _local_fit(_objective(), x0, method, max_evaluations, resample_seed=seed)


def _polish_settings(s: IntegratorSettings) -> IntegratorSettings:
    """``s`` tightened by :data:`_POLISH_FACTOR`, the relative tolerance not below 1e-13."""
    return s.tightened(max(1.0, min(_POLISH_FACTOR, s.relative_tolerance / _POLISH_FLOOR)))


def _tight(obj: Objective) -> Objective:
    """The objective with CVODE tolerances 1e4 times tighter (for polishing)."""
    if _TIGHT.get("of") is not obj:
        _TIGHT["tight"] = Objective(obj.problem, _polish_settings(obj.settings))
        _TIGHT["of"] = obj
    return _TIGHT["tight"]


def _worker_polish(i: int, x0: np.ndarray, method: str, max_evaluations: int):
    return i, _local_fit(_tight(_objective()), x0, method, max_evaluations, diff_step=1e-4)


def _worker_profile(j: int, x_best: np.ndarray, f_best: float, method: str, kw: dict):
    return j, _profile_one(_objective(), j, x_best, f_best, method, **kw)


def _run_tasks(obj: Objective, tasks: list[tuple], fn, workers: int, desc: str,
               progress: bool | None) -> dict:
    """Run ``fn(*task)`` for every task, in this process (1 worker) or on worker processes
    that receive ``obj`` once (:class:`workbench.sim.executors.ProcessExecutor`); results
    by key."""
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=desc, unit="task", leave=False,
               disable=None if progress is None else not progress)
    ex = (SerialExecutor(context=obj) if workers <= 1 or len(tasks) <= 1
          else ProcessExecutor(workers, context=obj, preload=("workbench.calibrate.fit",)))
    try:
        results = ex.execute([Task(fn, tuple(t)) for t in tasks], bar.update)
    except WorkersBroken:
        raise CalibrationError("a worker process died (crashed or was killed); no result",
                               source=obj.problem.source,
                               fix="run with workers=1 to see the error") from None
    finally:
        bar.close()
        _TIGHT.clear()
    return dict(results)


# ---------------------------------------------------------------------------
# standard errors
# ---------------------------------------------------------------------------

def _standard_errors(obj: Objective, x: np.ndarray) -> np.ndarray:
    """Standard errors (scaled) from the inverse expected Fisher information; inf for
    parameters in a direction the data do not inform."""
    try:
        F = obj.fisher_information(x)
    except Exception as exc:  # a simulation failing next to the optimum
        log.warning("no standard errors: %s", exc)
        return np.full(obj.n_free, np.nan)
    if not np.all(np.isfinite(F)):
        return np.full(obj.n_free, np.nan)
    F = 0.5 * (F + F.T)
    w, V = np.linalg.eigh(F)
    tiny = w <= 1e-10 * max(float(w.max()), 1e-300)
    winv = np.where(tiny, 0.0, 1.0 / np.where(tiny, 1.0, w))
    se = np.sqrt(np.einsum("ij,j,ij->i", V, winv, V))
    if np.any(tiny):
        se[np.any(np.abs(V[:, tiny]) > 1e-3, axis=1)] = np.inf
    return se


# ---------------------------------------------------------------------------
# profile likelihood
# ---------------------------------------------------------------------------

def _profile_one(obj: Objective, j: int, x_best: np.ndarray, f_best: float, method: str, *,
                 max_evaluations: int = 2000, **kw) -> list[dict]:
    """Profile of estimated parameter ``j`` (:func:`workbench.calibrate._profile.scan`): each point
    re-optimises the other parameters with ``x_j`` fixed."""
    def fit(start: np.ndarray, value: float) -> dict:
        return _local_fit(obj, start, method, max_evaluations, fixed={j: value})

    kw.setdefault("threshold", PROFILE_THRESHOLD)
    return _scan(fit, j, x_best, f_best, float(obj.lower[j]), float(obj.upper[j]), **kw)


def profile_likelihood(problem: PetabProblem | Objective, x_best: np.ndarray,
                       parameters: Sequence[str], *, method: str = "auto", workers: int = 1,
                       max_points: int = 30, step: float = 0.05,
                       threshold: float = PROFILE_THRESHOLD, tolerance: float = 1e-3,
                       progress: bool | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Profile likelihoods of ``parameters`` around the optimum ``x_best`` (scaled).

    Each profile point re-optimises the other parameters with the profiled one
    fixed (Raue et al. 2009, doi:10.1093/bioinformatics/btp358). The scan steps
    out from the optimum until the objective has risen by more than
    ``threshold``; then each end of the interval is located by root finding
    (on the square root of the rise, exact for a quadratic profile) until the
    re-optimised objective there is within ``tolerance`` of the threshold. The
    refined points belong to the profile table.

    Parameters
    ----------
    problem
        A :class:`~workbench.calibrate.petab_problem.PetabProblem` or its :class:`Objective`.
    x_best
        The optimum, scaled, in the order of the estimated parameters.
    parameters
        Ids of estimated parameters to profile.
    method
        Local optimiser for the other parameters (as in :func:`calibrate`).
    workers
        Processes (one profile per task).
    max_points, step
        Scan points per direction, and the first step on the parameter scale
        (adapted so that a step raises the objective by about ``threshold`` / 5;
        a step raising it by more than ``threshold`` is retried shorter).
    threshold
        Objective rise that bounds the interval (default chi2(1, 0.95) / 2).
    tolerance
        The ends of the interval are where the profile rises by ``threshold``
        within this (objective units).

    Returns
    -------
    (profiles, intervals)
        ``profiles``: one row per point, :data:`~workbench.columns.PROFILE_COLUMNS`;
        ``intervals``: one row per parameter with ``parameter, ci_low, ci_high,
        identifiable`` (linear values; an open side is set to the bound).
    """
    obj = problem if isinstance(problem, Objective) else Objective(problem)
    method = _resolve_method(obj, method)
    x_best = np.asarray(x_best, dtype=float)
    f_best = obj(x_best)
    idx = []
    for pid in parameters:
        if pid not in obj.free_ids:
            raise SpecError(f"cannot profile {pid!r}: not an estimated parameter",
                            element=pid, fix="choose among: " + ", ".join(obj.free_ids))
        idx.append(obj.free_ids.index(pid))
    kw = {"max_points": max_points, "step": step, "threshold": threshold, "tolerance": tolerance}
    res = _run_tasks(obj, [(j, x_best, f_best, method, kw) for j in idx], _worker_profile,
                     workers, "profiles", progress)
    rows, cis = [], []
    for j in idx:
        pts = res[j]
        pid, s = obj.free_ids[j], obj.scales[j]
        xs = np.array([p["x"] for p in pts])
        fs = np.array([p["f"] for p in pts])
        best = min(f_best, float(np.nanmin(fs)))
        for p in pts:
            rows.append({C.PARAMETER: pid, C.SCALED_VALUE: p["x"],
                         C.VALUE: float(unscale(p["x"], s)), C.OBJECTIVE: p["f"],
                         C.DELTA_OBJECTIVE: p["f"] - best, C.STATUS: p["status"]})
        lo, hi, ident = _profile_ci(xs, fs - best, float(x_best[j]), obj.lower[j], obj.upper[j],
                                    threshold)
        cis.append({C.PARAMETER: pid, C.CI_LOW: float(unscale(lo, s)),
                    C.CI_HIGH: float(unscale(hi, s)), C.IDENTIFIABLE: ident})
        if best < f_best - 1e-3:
            log.warning("profile of %s found a better optimum (%.6g < %.6g): the fit had not "
                        "converged", pid, best, f_best)
    return (pd.DataFrame(rows, columns=list(C.PROFILE_COLUMNS)),
            pd.DataFrame(cis, columns=[C.PARAMETER, C.CI_LOW, C.CI_HIGH, C.IDENTIFIABLE]))


# ---------------------------------------------------------------------------
# the verb
# ---------------------------------------------------------------------------

def _resolve_method(obj: Objective, method: str) -> str:
    if method not in _METHODS:
        raise SpecError(f"unknown method {method!r}", element="method",
                        fix="use " + ", ".join(_METHODS))
    if method == "auto":
        return "least_squares" if obj.least_squares_ok else "lbfgsb"
    if method == "least_squares" and not obj.least_squares_ok:
        raise SpecError("least squares needs normal noise and Gaussian or uniform priors",
                        element="method", fix="use method='lbfgsb' (or 'auto')")
    return method


def latin_hypercube(lower: np.ndarray, upper: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` points of a Latin hypercube in the box [lower, upper] (seeded)."""
    from scipy.stats import qmc

    if n <= 0:
        return np.empty((0, len(lower)))
    u = qmc.LatinHypercube(d=len(lower), rng=np.random.default_rng(seed)).random(n)
    return qmc.scale(u, lower, upper) if len(lower) else u


def calibrate(problem: PetabProblem | str | os.PathLike[str], *, starts: int = 20, seed: int = 0,
              workers: int = 1, method: str = "auto", max_evaluations: int = 20000,
              include_nominal: bool = False, polish: int = 3,
              profile: Sequence[str] | str | None = None,
              settings: IntegratorSettings | None = None,
              progress: bool | None = None, convergence_check=None) -> CalibrationResult:
    """Fit a PEtab problem by multi-start local optimisation.

    Parameters
    ----------
    problem
        A :class:`~workbench.calibrate.petab_problem.PetabProblem` or the path of its YAML file
        (checked first: every error at once, and no fit, when invalid).
    starts
        Number of Latin-hypercube start points within the bounds (parameter scales);
        a start where the simulation fails is replaced by seeded uniform draws.
    seed
        Seed of the start points; the same seed gives the same tables.
    workers
        Processes running starts (and profiles) in parallel; 1 runs them here.
    method
        ``"least_squares"`` (trust-region reflective on the residuals),
        ``"lbfgsb"`` (L-BFGS-B on the objective), or ``"auto"``: least squares
        when the noise is normal and the priors Gaussian or uniform.
    max_evaluations
        Objective evaluations allowed per start (finite-difference Jacobians included).
    include_nominal
        Also start from the nominal values of the parameter table.
    polish
        The best ``polish`` starts are refined again with CVODE tolerances 1e4
        times tighter, the relative one not below 1e-13 (and a larger finite-difference step), which resolves flat
        valleys; the reported objectives (best and nominal) use those tolerances.
    profile
        Estimated parameter ids to profile, or ``"all"``.
    settings
        CVODE settings (default :class:`~workbench.IntegratorSettings`: relative 1e-11,
        absolute 1e-12).
    progress
        Show a progress bar (default: when stderr is a terminal).
    convergence_check
        Simulate the best fit again at 100-fold tighter tolerances and warn
        (:class:`~workbench.sim.convergence.ConvergenceWarning`) when an observable
        moves by more than 1e-4 relative (see :func:`workbench.sim.convergence.check_objective`).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    CalibrationError
        The problem is invalid (all findings at once), or every start failed.
    """
    t_start = time.perf_counter()
    pr = problem if isinstance(problem, PetabProblem) else read_petab(problem)
    obj = Objective(pr, settings)
    method = _resolve_method(obj, method)
    if starts < 1 and not include_nominal:
        raise SpecError("give at least one start", element="starts")
    x_nom = pr.x_nominal
    X0 = latin_hypercube(obj.lower, obj.upper, starts, seed)
    if include_nominal:
        X0 = np.vstack([np.clip(x_nom, obj.lower, obj.upper)[None, :], X0])
    workers = max(1, min(int(workers or 1), len(X0)))
    log.info("%s: %d starts, %s, %d worker(s)", pr.name, len(X0), method, workers)
    seeds = np.random.SeedSequence(seed).spawn(len(X0))
    res = _run_tasks(obj, [(i, X0[i], method, max_evaluations,
                            int(seeds[i].generate_state(1)[0])) for i in range(len(X0))],
                     _worker_start, workers, "starts", progress)
    good = sorted((i for i in range(len(X0)) if res[i]["status"] == C.STATUS_OK),
                  key=lambda i: res[i]["f"])
    if not good:
        raise CalibrationError(f"every one of the {len(X0)} starts failed (first: "
                               f"{res[0]['status']})", source=pr.source,
                               fix="check the bounds and the model; try more starts")
    # polish the best starts with tighter CVODE tolerances (all objectives then compared
    # at those tolerances)
    chosen = good[:max(0, int(polish))]
    if chosen:
        pol = _run_tasks(obj, [(i, res[i]["x"], method, max_evaluations) for i in chosen],
                         _worker_polish, min(workers, len(chosen)), "polish", progress)
        for i in chosen:
            q = pol[i]
            if q["status"] == C.STATUS_OK and q["f"] <= q["f0"]:
                res[i] = {**res[i], "x": q["x"], "f": q["f"], "nfev": res[i]["nfev"] + q["nfev"],
                          "seconds": res[i]["seconds"] + q["seconds"],
                          "message": res[i]["message"] + "; polished with relative tolerance "
                          f"{_polish_settings(obj.settings).relative_tolerance:g}"}
    rows = []
    for i in range(len(X0)):
        r = res[i]
        rows.append({C.START: i, C.STATUS: r["status"], C.OBJECTIVE_START: r["f0"],
                     C.OBJECTIVE: r["f"], C.N_EVALUATIONS: r["nfev"], C.SECONDS: r["seconds"],
                     C.MESSAGE: r["message"],
                     **{pid: float(r["x"][j]) for j, pid in enumerate(pr.free_ids)}})
    st = pd.DataFrame(rows, columns=[*C.STARTS_COLUMNS, *pr.free_ids])
    st = st.sort_values(C.OBJECTIVE, na_position="last", kind="stable").reset_index(drop=True)
    ok = st[st[C.STATUS] == C.STATUS_OK]
    i_best = int(ok[C.START].iloc[0])
    x_best = np.asarray(res[i_best]["x"], dtype=float)
    initial = np.asarray(res[i_best]["x0"], dtype=float)
    ref = Objective(pr, _polish_settings(obj.settings)) if chosen else obj
    f_best = ref(x_best)
    se = _standard_errors(ref, x_best)
    prof = None
    cis = None
    if profile:
        ids = list(pr.free_ids) if profile == "all" else list(profile)
        prof, cis = profile_likelihood(obj, x_best, ids, method=method, workers=workers,
                                       progress=progress)
    params = _parameter_table(pr, x_best, initial, se, cis)
    fit = ref.fit_table(x_best)
    from workbench.sim.convergence import check_objective, resolve_options

    check_objective(obj, x_best, resolve_options(convergence_check), fit=obj.fit_table(x_best))
    nllh_best = float(fit[C.NLLH].sum())
    f_nom, nllh_nom = ref(x_nom), ref.nllh(x_nom)
    goodness = _goodness(obj, fit, f_best, nllh_best, f_nom, nllh_nom)
    return CalibrationResult(problem=pr, x_best=x_best, objective_best=f_best,
                             nllh_best=nllh_best, objective_nominal=f_nom,
                             nllh_nominal=nllh_nom, parameters=params, starts=st,
                             fit=fit, goodness=goodness, profiles=prof, method=method,
                             seed=seed, settings=obj.settings,
                             seconds=time.perf_counter() - t_start)


def _parameter_table(pr: PetabProblem, x_best: np.ndarray, initial: np.ndarray, se: np.ndarray,
                     cis: pd.DataFrame | None) -> pd.DataFrame:
    from scipy.stats import norm

    z = float(norm.ppf(0.975))
    free = {pid: j for j, pid in enumerate(pr.free_ids)}
    rows = []
    for pid, r in pr.parameters.iterrows():
        s = str(r["parameterScale"])
        lb, ub = float(r["lowerBound"]), float(r["upperBound"])
        row = {C.PARAMETER: pid, C.SCALE: s, C.LOWER_BOUND: lb, C.UPPER_BOUND: ub,
               C.ESTIMATED: pid in free, C.NOMINAL: float(r["nominalValue"]),
               C.INITIAL_VALUE: math.nan, C.FINAL_VALUE: float(r["nominalValue"]),
               C.SE_SCALED: math.nan, C.CI_LOW: math.nan, C.CI_HIGH: math.nan, C.CI_METHOD: "",
               C.IDENTIFIABLE: pd.NA, C.AT_BOUND: False}
        if pid in free:
            j = free[pid]
            xs, sej = float(x_best[j]), float(se[j])
            slb, sub = float(pr.lower[j]), float(pr.upper[j])
            row.update({C.INITIAL_VALUE: float(unscale(initial[j], s)),
                        C.FINAL_VALUE: float(unscale(xs, s)), C.SE_SCALED: sej,
                        C.AT_BOUND: bool(min(xs - slb, sub - xs) < 1e-3 * max(sub - slb, 1e-12))})
            hit = cis[cis[C.PARAMETER] == pid] if cis is not None else pd.DataFrame()
            if len(hit):
                h = hit.iloc[0]
                row.update({C.CI_LOW: h[C.CI_LOW], C.CI_HIGH: h[C.CI_HIGH], C.CI_METHOD: "profile",
                            C.IDENTIFIABLE: bool(h[C.IDENTIFIABLE])})
            elif math.isfinite(sej):
                lo, hi = xs - z * sej, xs + z * sej
                row.update({C.CI_LOW: float(unscale(max(lo, slb), s)),
                            C.CI_HIGH: float(unscale(min(hi, sub), s)), C.CI_METHOD: "wald",
                            C.IDENTIFIABLE: bool(lo > slb and hi < sub)})
            else:
                row.update({C.CI_LOW: lb, C.CI_HIGH: ub, C.CI_METHOD: "wald",
                            C.IDENTIFIABLE: False})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(C.CALIBRATION_PARAMETER_COLUMNS))


def _goodness(obj: Objective, fit: pd.DataFrame, f_best: float, nllh: float, f_nom: float,
              nllh_nom: float) -> pd.DataFrame:
    from scipy.stats import chi2

    n, k = len(fit), obj.n_free
    wr = fit[C.WEIGHTED_RESIDUAL].to_numpy(dtype=float)
    chisq = float(np.nansum(wr ** 2))
    items = [("n_measurements", n), ("n_estimated", k), ("nllh", nllh),
             ("neglogprior", f_best - nllh), ("objective", f_best),
             ("nllh_nominal", nllh_nom), ("objective_nominal", f_nom),
             ("aic", 2 * k + 2 * nllh), ("aicc", 2 * k + 2 * nllh + (2 * k * (k + 1)) / (n - k - 1)
                                          if n - k - 1 > 0 else math.nan),
             ("bic", k * math.log(n) + 2 * nllh), ("chi2", chisq),
             ("chi2_dof", n - k), ("chi2_p_value", float(chi2.sf(chisq, n - k)) if n > k else
                                   math.nan),
             ("rms_weighted_residual", float(np.sqrt(np.nanmean(wr ** 2))))]
    return pd.DataFrame(items, columns=list(C.SUMMARY_COLUMNS))


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

def write_calibration(result: CalibrationResult, out: str | os.PathLike[str], *,
                      plots: bool = True) -> list[Path]:
    """Write the calibration record into directory ``out`` (atomically, file by file).

    Files: ``parameters.csv``, ``starts.csv``, ``fit.csv``, ``goodness_of_fit.csv``,
    ``profiles.csv`` (when profiled), ``parameters_fitted.tsv`` (the PEtab
    parameter table with the fitted values as nominal values), ``calibration.json``
    (summary, versions) and, with ``plots``, ``waterfall.png``, ``fit.png``,
    ``observed_vs_predicted.png``, ``residuals.png``, ``profiles.png``.

    Returns
    -------
    list of Path
        The files written.
    """
    from workbench.core._io import atomic_write_text
    from workbench.sim._engine import versions

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    written = []

    def csv(name: str, df: pd.DataFrame, **kw) -> None:
        atomic_write_text(d / name, df.to_csv(index=False, float_format="%.10g",
                                              lineterminator="\n", **kw))
        written.append(d / name)

    csv("parameters.csv", result.parameters)
    csv("starts.csv", result.starts)
    csv("fit.csv", result.fit)
    csv("goodness_of_fit.csv", result.goodness)
    if result.profiles is not None:
        csv("profiles.csv", result.profiles)
    fitted = result.problem.parameters.copy()
    for _, r in result.parameters.iterrows():
        fitted.loc[r[C.PARAMETER], "nominalValue"] = r[C.FINAL_VALUE]
    csv("parameters_fitted.tsv", fitted.reset_index(), sep="\t")
    from importlib import metadata

    summary = {
        "problem": result.problem.source, "model": result.problem.model_source,
        "method": result.method, "method_text": result.method_text, "seed": result.seed,
        "starts": len(result.starts),
        "starts_ok": int((result.starts[C.STATUS] == C.STATUS_OK).sum()),
        "objective_best": result.objective_best, "nllh_best": result.nllh_best,
        "objective_nominal": result.objective_nominal, "nllh_nominal": result.nllh_nominal,
        "relative_tolerance": result.settings.relative_tolerance,
        "absolute_tolerance": result.settings.absolute_tolerance,
        "seconds": result.seconds,
        "versions": {"workbench": __version__, "petab": metadata.version("petab"), **versions()},
    }
    atomic_write_text(d / "calibration.json", json.dumps(summary, indent=1, default=float) + "\n")
    written.append(d / "calibration.json")
    if plots:
        written += plot_calibration(result, d)
    return written


def update_provenance(table: pd.DataFrame, result: CalibrationResult,
                      justification: str = "") -> pd.DataFrame:
    """The provenance table with the calibrated parameters recorded on their chosen rows.

    For each estimated parameter with an entry: ``initial_value`` (the value
    before, in the row's unit), ``value`` and ``calibrated_value`` (the fit,
    converted to the row's unit), ``source_type = calibrated``,
    ``calibration_method`` and ``calibration_justification``. Parameters of
    the problem without an entry are logged and skipped.

    Parameters
    ----------
    table
        A provenance table (:func:`workbench.core.provenance.read_provenance`).
    result
        The calibration.
    justification
        Why these parameters were calibrated (default: a sentence naming the data).
    """
    from workbench.core import units as U
    from workbench.core.model import load_model

    model = load_model(result.problem.model_source)
    out = table.copy()
    just = justification or (f"estimated from the {result.problem.n_data} measurements of "
                             f"PEtab problem {result.problem.name}; no direct measurement")
    for _, r in result.parameters[result.parameters[C.ESTIMATED]].iterrows():
        pid = r[C.PARAMETER]
        hit = out.index[(out[C.ID] == pid) & (out[C.SCOPE].fillna("") == "")
                        & (out[C.CHOSEN].astype(bool))]
        if not len(hit):
            log.info("%s: no provenance entry; not recorded", pid)
            continue
        i = hit[0]
        unit = str(out.at[i, C.UNIT] or "")
        model_unit = model.unit_of(pid) if model.kind_of(pid) == "parameter" else ""
        v = float(r[C.FINAL_VALUE])
        if unit and model_unit and unit != model_unit:
            v = U.convert(v, model_unit, unit)
        out.at[i, C.INITIAL_VALUE] = out.at[i, C.VALUE]
        out.at[i, C.VALUE] = v
        out.at[i, C.CALIBRATED_VALUE] = v
        out.at[i, C.SOURCE_TYPE] = "calibrated"
        out.at[i, C.CALIBRATION_METHOD] = result.method_text
        out.at[i, C.CALIBRATION_JUSTIFICATION] = just
    return out
