"""The negative log-posterior of a PEtab v1 problem (:class:`Objective`).

A function of the estimated parameters in their parameter scales (lin, log, log10):

* conditions: an optional pre-equilibration (steady state under the
  pre-equilibration condition), then the simulation condition's values
  (parameters, species and compartment values, possibly overridden by
  estimated parameters) and integration from t = 0 (time ``inf``: steady state);
* observables: ``observableFormula`` and ``noiseFormula`` parsed with
  ``petab.v1.math.sympify_petab`` and evaluated vectorised on the simulation
  outputs, with the per-measurement ``observableParameters`` and
  ``noiseParameters`` substituted for their placeholders;
* noise: normal or Laplace on the lin, log or log10 scale of the observable,
  with the likelihood of the measurement itself (the Jacobian of the
  transformation evaluated at the measurement), as in the PEtab specification
  (Schmiester et al. 2021, doi:10.1371/journal.pcbi.1008646);
* priors: ``objectivePriorType`` / ``objectivePriorParameters`` (uniform,
  normal, laplace, logNormal, logLaplace on the linear value; parameterScale*
  on the scaled value), as negative log densities not normalised over the bounds.

Simulation goes through :mod:`workbench._engine` (libRoadRunner, CVODE), one
private engine per objective and process.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypedDict

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.calibrate.petab_problem import (
    _PLACEHOLDER,
    PetabProblem,
    _entity_kinds,
    _is_number,
    _prior_params,
    _split_overrides,
    _str_col,
    unscale,
)
from workbench.errors import CalibrationError, SimulationError
from workbench.sim._engine import IntegratorSettings

__all__ = ["FAILED_OBJECTIVE", "Objective"]

log = logging.getLogger(__name__)

#: offset that keeps the noise residuals sqrt(2 log sigma + K) real for sigma > 1e-15
_SIGMA_OFFSET = 70.0
#: objective returned for a failed simulation (finite, so gradient-free steps can back off)
FAILED_OBJECTIVE = 1e12

#: what a symbol of an observable or noise formula stands for: a placeholder
#: (``"ph"``, ``"observable"``/``"noise"``, its number), a model entity (``"model"``, its
#: id), a parameter (``"par"``, its index in the full parameter vector), or the time
_Symbol = (tuple[Literal["ph"], str, int] | tuple[Literal["model"], str]
           | tuple[Literal["par"], int] | tuple[Literal["time"]])
#: a compiled formula: the lambdified expression and what each of its arguments stands for
_Compiled = tuple[Callable[..., np.ndarray], list[_Symbol]]


class _ObservableFormulas(TypedDict):
    """The compiled formulas of one observable and its noise model."""

    transformation: str
    noise: str
    obs: _Compiled
    sigma: _Compiled
    obs_params: bool    # the formula depends on parameters or model values
    sigma_params: bool


@dataclass
class _Source:
    """Values of a list of ids: a constant, or an entry of the full parameter vector."""

    ids: list[str]
    const: np.ndarray
    pidx: np.ndarray  # -1: constant

    def values(self, p: np.ndarray) -> np.ndarray:
        v = self.const.copy()
        m = self.pidx >= 0
        v[m] = p[self.pidx[m]]
        return v

    def as_dict(self, p: np.ndarray) -> dict[str, float]:
        return dict(zip(self.ids, self.values(p).tolist(), strict=True))


def _has_params(formula: _Compiled) -> bool:
    """True when the formula depends on parameters or model values (not only on time)."""
    return any(k[0] in ("ph", "par", "model") for k in formula[1])


@dataclass
class _Condition:
    preeq: str
    sim: str
    times: np.ndarray
    outputs: list[str]
    sim_values: _Source
    preeq_values: _Source | None
    rows: np.ndarray      # measurement rows of this condition
    tidx: np.ndarray      # index into times of each row
    cols: np.ndarray      # columns of the model-value matrix filled by each output


class Objective:
    """Negative log-posterior of a PEtab problem over its estimated parameters (scaled).

    ``objective(x)`` returns the negative log-likelihood of the data plus the
    negative log-prior; :meth:`nllh` the data part only (the number the
    benchmark collection reports as ``-llh``). A failed simulation gives
    :data:`FAILED_OBJECTIVE`. Picklable: each process builds its own engine.

    Parameters
    ----------
    problem
        A :class:`PetabProblem`.
    settings
        CVODE settings (default :class:`~workbench.IntegratorSettings`: relative 1e-11,
        absolute 1e-12).
    measurements
        Another measurement table for the same problem (e.g. a dense time grid
        for plots; its ``measurement`` column may be NaN).
    """

    def __init__(self, problem: PetabProblem, settings: IntegratorSettings | None = None,
                 measurements: pd.DataFrame | None = None) -> None:
        self.problem = problem
        self.settings = settings or IntegratorSettings()
        self.meas = (measurements if measurements is not None
                     else problem.measurements).reset_index(drop=True)
        for col in ("preequilibrationConditionId", "observableParameters", "noiseParameters"):
            if col not in self.meas.columns:
                self.meas[col] = np.nan
        self.ids = problem.ids
        self.free_ids = problem.free_ids
        self.scales = problem.free_scales
        self.lower, self.upper = problem.lower, problem.upper
        pidx = {pid: i for i, pid in enumerate(self.ids)}
        self._pidx = pidx
        self._free_idx = np.array([pidx[i] for i in self.free_ids], dtype=int)
        self._p_fixed = np.array([float(v) for v in problem.parameters["nominalValue"]])
        self._build()
        self._engine = None

    # -- pickling: lambdified functions and the engine are rebuilt per process ----
    def __getstate__(self):
        return {"problem": self.problem, "settings": self.settings, "meas": self.meas}

    def __setstate__(self, state):
        self.__init__(state["problem"], state["settings"], state["meas"])

    @property
    def n_free(self) -> int:
        return len(self.free_ids)

    @property
    def n_data(self) -> int:
        return len(self.meas)

    # -- construction ---------------------------------------------------------
    def _build(self) -> None:
        import sympy as sp
        from petab.v1.math import sympify_petab

        pr = self.problem
        kinds = _entity_kinds(pr.sbml)
        meas = self.meas
        obs = pr.observables
        # observables: compiled formulas
        self._obs: dict[str, _ObservableFormulas] = {}
        model_syms: dict[str, int] = {}
        for oid in dict.fromkeys(map(str, meas["observableId"])):
            r = obs.loc[oid]
            compiled: dict[str, _Compiled] = {}
            for part, col in (("obs", "observableFormula"), ("sigma", "noiseFormula")):
                text = r[col]
                expr = sympify_petab(text if isinstance(text, str) else float(text))
                syms = sorted(expr.free_symbols, key=str)
                names = [str(s) for s in syms]
                kinds_: list[_Symbol] = []
                for name in names:
                    m = _PLACEHOLDER.match(name)
                    if m:
                        kinds_.append(("ph", m.group(1), int(m.group(2))))
                    elif name in kinds:
                        model_syms.setdefault(name, len(model_syms))
                        kinds_.append(("model", name))
                    elif name in self._pidx:
                        kinds_.append(("par", self._pidx[name]))
                    elif name in ("t", "time"):
                        kinds_.append(("time",))
                    else:  # lint catches this; defensive
                        raise CalibrationError(f"{col} of {oid!r} refers to unknown {name!r}",
                                               source=pr.source, element=oid)
                compiled[part] = (sp.lambdify(syms, expr, modules="numpy"), kinds_)
            self._obs[oid] = _ObservableFormulas(
                transformation=str(r["observableTransformation"]),
                noise=str(r["noiseDistribution"]),
                obs=compiled["obs"], sigma=compiled["sigma"],
                obs_params=_has_params(compiled["obs"]),
                sigma_params=_has_params(compiled["sigma"]))
        self._model_syms = model_syms
        # placeholders: per row and (kind, k): constant or parameter index
        n = len(meas)
        self._ph: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        for col, kind in (("observableParameters", "observable"), ("noiseParameters", "noise")):
            for i, cell in enumerate(meas[col].tolist()):
                for k, v in enumerate(_split_overrides(cell), start=1):
                    slot = (kind, k)
                    if slot not in self._ph:
                        self._ph[slot] = (np.full(n, np.nan), np.full(n, -1, dtype=int))
                    if isinstance(v, str):
                        self._ph[slot][1][i] = self._pidx[v]
                    else:
                        self._ph[slot][0][i] = v
        self._rows_by_obs = {oid: np.flatnonzero(meas["observableId"].astype(str).to_numpy() == oid)
                             for oid in self._obs}
        self._y = meas["measurement"].to_numpy(dtype=float)
        self._t = meas["time"].to_numpy(dtype=float)
        # model parameters set from the parameter table in every condition
        model_pars = [pid for pid in self.ids if kinds.get(pid) == "parameter"]
        # conditions
        pre = _str_col(meas["preequilibrationConditionId"]).to_numpy()
        sim = meas["simulationConditionId"].astype(str).to_numpy()
        self._conds: list[_Condition] = []
        for key in dict.fromkeys(zip(pre, sim, strict=True)):
            rows = np.flatnonzero((pre == key[0]) & (sim == key[1]))
            times = np.unique(self._t[rows])
            outs = sorted({s for oid in set(meas["observableId"].astype(str).to_numpy()[rows])
                           for f in (self._obs[oid]["obs"], self._obs[oid]["sigma"])
                           for k in f[1]
                           if k[0] == "model" for s in [k[1]]})
            sim_src = self._source(key[1], model_pars, skip_nan=True)
            pre_src = self._source(key[0], model_pars, skip_nan=True) if key[0] else None
            if not outs:
                outs = []
            self._conds.append(_Condition(key[0], key[1], times, outs, sim_src, pre_src, rows,
                                          np.searchsorted(times, self._t[rows]),
                                          np.array([model_syms[o] for o in outs], dtype=int)))
        # priors of the estimated parameters: (index, type, parameters)
        self._priors: list[tuple[int, str, tuple[float, float]]] = []
        par = pr.parameters
        if "objectivePriorType" in par.columns:
            for j, pid in enumerate(self.free_ids):
                t = par.at[pid, "objectivePriorType"]
                if isinstance(t, str) and t:
                    self._priors.append((j, t, _prior_params(par.loc[pid])))

    def _source(self, cid: str, model_pars: list[str], skip_nan: bool) -> _Source:
        """Values a condition sets: the parameter table's model parameters, then the
        condition's columns (numbers or parameter-table ids; NaN: left as is)."""
        vals: dict[str, tuple[float, int]] = {}
        for pid in model_pars:
            vals[pid] = (math.nan, self._pidx[pid])
        cond = self.problem.conditions
        if cid in cond.index:
            for col in cond.columns:
                if col == "conditionName":
                    continue
                v = cond.at[cid, col]
                if isinstance(v, str) and not _is_number(v):
                    vals[col] = (math.nan, self._pidx[v])
                elif v is not None and not (isinstance(v, float) and math.isnan(v)):
                    vals[col] = (float(v), -1)
                elif not skip_nan:
                    vals.pop(col, None)
        ids = list(vals)
        return _Source(ids, np.array([vals[i][0] for i in ids], dtype=float),
                       np.array([vals[i][1] for i in ids], dtype=int))

    # -- evaluation -------------------------------------------------------------
    def full_parameters(self, x) -> np.ndarray:
        """Linear values of every parameter-table id for scaled estimated values ``x``."""
        x = np.asarray(x, dtype=float)
        p = self._p_fixed.copy()
        for j, (i, s) in enumerate(zip(self._free_idx, self.scales, strict=True)):
            p[i] = float(unscale(x[j], s))
        return p

    def _engine_get(self):
        if self._engine is None:
            from workbench.sim._engine import Engine

            # a private engine: the calibration path changes initial values in place
            # (parameter initial assignments reading a condition's values are evaluated
            # by the engine, as for every run: Engine._with_dependents)
            self._engine = Engine(self.problem.sbml, (), self.problem.model_source)
        return self._engine

    def _model_values(self, p: np.ndarray) -> np.ndarray:
        eng = self._engine_get()
        V = np.full((self.n_data, len(self._model_syms)), np.nan)
        for c in self._conds:
            if not c.outputs:
                continue
            params = c.sim_values.as_dict(p)
            pre = c.preeq_values.as_dict(p) if c.preeq_values is not None else None
            res = eng.run_condition(c.times, c.outputs, parameters=params, preequilibration=pre,
                                    settings=self.settings)
            V[np.ix_(c.rows, c.cols)] = res[c.tidx][:, 1:]
        return V

    def _eval(self, fn_kinds, rows: np.ndarray, V: np.ndarray, p: np.ndarray) -> np.ndarray:
        fn, kinds = fn_kinds
        args = []
        for k in kinds:
            if k[0] == "model":
                args.append(V[rows, self._model_syms[k[1]]])
            elif k[0] == "par":
                args.append(np.full(len(rows), p[k[1]]))
            elif k[0] == "time":
                args.append(self._t[rows])
            else:
                found = self._ph.get((k[1], k[2]))
                if found is None:
                    raise CalibrationError(f"{k[1]}Parameter{k[2]} has no value in the "
                                           "measurement table", source=self.problem.source)
                const, pidx = found
                v = const[rows].copy()
                m = pidx[rows] >= 0
                v[m] = p[pidx[rows][m]]
                if np.any(np.isnan(v)):
                    raise CalibrationError(f"{k[1]}Parameter{k[2]} is missing for some "
                                           "measurements", source=self.problem.source)
                args.append(v)
        out = fn(*args)
        return np.broadcast_to(np.asarray(out, dtype=float), (len(rows),)).copy()

    def evaluate(self, x) -> dict[str, np.ndarray]:
        """Simulations, sigmas and per-measurement negative log-likelihoods at ``x``.

        Raises
        ------
        SimulationError
            When a simulation fails.
        """
        p = self.full_parameters(x)
        V = self._model_values(p)
        n = self.n_data
        sim = np.full(n, np.nan)
        sig = np.full(n, np.nan)
        nll = np.full(n, np.nan)
        wres = np.full(n, np.nan)
        y = self._y
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for oid, rows in self._rows_by_obs.items():
                e = self._obs[oid]
                s = self._eval(e["obs"], rows, V, p)
                sd = self._eval(e["sigma"], rows, V, p)
                sim[rows], sig[rows] = s, sd
                tr, nd = e["transformation"], e["noise"]
                m = y[rows]
                if tr == "lin":
                    hs, hm, jac = s, m, 0.0
                elif tr == "log":
                    hs, hm, jac = np.log(s), np.log(m), np.log(m)
                else:
                    hs, hm, jac = np.log10(s), np.log10(m), np.log(m * np.log(10.0))
                r = (hs - hm) / sd
                wres[rows] = r
                if nd == "normal":
                    nll[rows] = 0.5 * np.log(2 * np.pi * sd ** 2) + jac + 0.5 * r ** 2
                else:
                    nll[rows] = np.log(2 * sd) + jac + np.abs(r)
        return {"simulation": sim, "sigma": sig, "nllh": nll, "weighted_residual": wres}

    def nllh(self, x) -> float:
        """Negative log-likelihood of the data (no prior); inf when a simulation fails."""
        try:
            v = float(np.sum(self.evaluate(x)["nllh"]))
        except SimulationError:
            return math.inf
        return v if math.isfinite(v) else math.inf

    def neglogprior(self, x) -> float:
        """Negative log-prior of the estimated parameters (0 without priors).

        PEtab v1: ``parameterScale*`` densities apply to the value on its parameter
        scale, the others to the linear value; not normalised over the bounds.
        """
        x = np.asarray(x, dtype=float)
        total = 0.0
        for j, t, (a, b) in self._priors:
            total += _neglogprior(t, float(x[j]), float(unscale(x[j], self.scales[j])), a, b)
        return total

    def __call__(self, x) -> float:
        """Negative log-posterior; :data:`FAILED_OBJECTIVE` when a simulation fails."""
        v = self.nllh(x)
        if not math.isfinite(v):
            return FAILED_OBJECTIVE
        v += self.neglogprior(x)
        return v if math.isfinite(v) else FAILED_OBJECTIVE

    # -- least squares ------------------------------------------------------------
    @property
    def least_squares_ok(self) -> bool:
        """True when the objective is a sum of squares (normal noise; Gaussian or flat priors)."""
        normal = all(e["noise"] == "normal" for e in self._obs.values())
        return normal and all(t in _LS_PRIORS for _, t, _ in self._priors)

    def residuals(self, x) -> np.ndarray:
        """Residuals r with 0.5 |r|^2 = objective(x) + constant (normal noise only).

        Data residuals (h(sim) - h(meas)) / sigma; for parameter-dependent
        sigmas also sqrt(2 log sigma + K), so that their squares add the
        log sigma terms; for Gaussian priors (x - mu) / s. NaN when a simulation
        fails.
        """
        n_sig = sum(len(rows) for oid, rows in self._rows_by_obs.items()
                    if self._obs[oid]["sigma_params"])
        n_out = self.n_data + n_sig + len(self._priors)
        try:
            ev = self.evaluate(x)
        except SimulationError:
            return np.full(n_out, np.nan)
        parts = [ev["weighted_residual"]]
        for oid, rows in self._rows_by_obs.items():
            if self._obs[oid]["sigma_params"]:
                with np.errstate(divide="ignore", invalid="ignore"):
                    v = 2.0 * np.log(ev["sigma"][rows]) + _SIGMA_OFFSET
                parts.append(np.sqrt(np.clip(v, 0.0, None)))
        x = np.asarray(x, dtype=float)
        pri = []
        for j, t, (mu, sd) in self._priors:
            if t == "parameterScaleNormal":
                pri.append((x[j] - mu) / sd)
            elif t == "normal":
                pri.append((float(unscale(x[j], self.scales[j])) - mu) / sd)
            else:  # uniform priors: constant inside the bounds
                pri.append(0.0)
        parts.append(np.array(pri, dtype=float))
        out = np.concatenate(parts)
        return out

    def fisher_information(self, x, step: float = 1e-5) -> np.ndarray:
        """Expected Fisher information of the estimated parameters (scaled) at ``x``.

        For each measurement, with m the transformed simulation and s the noise
        parameter, I = dm dm^T / s^2 + c ds ds^T / s^2 (c = 2 for normal, 1 for
        Laplace noise; the location-scale Fisher information), the derivatives
        by forward differences; plus 1 / sd^2 for each normal prior. A direction
        the data do not inform has a (near) zero eigenvalue.
        """
        x = np.asarray(x, dtype=float)

        def parts(z):
            ev = self.evaluate(z)
            h = ev["simulation"].copy()
            for oid, rows in self._rows_by_obs.items():
                tr = self._obs[oid]["transformation"]
                if tr == "log":
                    h[rows] = np.log(h[rows])
                elif tr == "log10":
                    h[rows] = np.log10(h[rows])
            return h, ev["sigma"]

        m0, s0 = parts(x)
        Jm = np.empty((self.n_data, self.n_free))
        Js = np.empty((self.n_data, self.n_free))
        for j in range(self.n_free):
            hj = step * max(1.0, abs(x[j]))
            if x[j] + hj > self.upper[j]:
                hj = -hj
            z = x.copy()
            z[j] += hj
            m1, s1 = parts(z)
            Jm[:, j] = (m1 - m0) / hj
            Js[:, j] = (s1 - s0) / hj
        c = np.array([2.0 if self._obs[o]["noise"] == "normal" else 1.0
                      for o in self.meas["observableId"].astype(str)])
        w = 1.0 / s0 ** 2
        F = (Jm * w[:, None]).T @ Jm + (Js * (c * w)[:, None]).T @ Js
        for j, t, (_, sd) in self._priors:
            if t == "parameterScaleNormal":
                F[j, j] += 1.0 / sd ** 2
            elif t == "normal":  # on the linear value v: dv/dx = 1, v, or v ln 10
                v = float(unscale(x[j], self.scales[j]))
                dv = {"lin": 1.0, "log": v, "log10": v * math.log(10.0)}[self.scales[j]]
                F[j, j] += (dv / sd) ** 2
        return F

    def fit_table(self, x) -> pd.DataFrame:
        """One row per measurement: columns :data:`workbench.columns.FIT_COLUMNS`."""
        ev = self.evaluate(x)
        meas = self.meas
        obs = self.problem.observables
        oids = meas["observableId"].astype(str)
        return pd.DataFrame({
            C.OBSERVABLE: oids.to_numpy(),
            C.PREEQUILIBRATION: _str_col(meas["preequilibrationConditionId"]).to_numpy(),
            C.CONDITION: meas["simulationConditionId"].astype(str).to_numpy(),
            C.TIME: self._t, C.MEASUREMENT: self._y, C.SIMULATION: ev["simulation"],
            C.SIGMA: ev["sigma"],
            C.TRANSFORMATION: [str(obs.at[o, "observableTransformation"]) for o in oids],
            C.NOISE: [str(obs.at[o, "noiseDistribution"]) for o in oids],
            C.RESIDUAL: ev["simulation"] - self._y, C.WEIGHTED_RESIDUAL: ev["weighted_residual"],
            C.NLLH: ev["nllh"]}, columns=list(C.FIT_COLUMNS))


#: prior types whose negative log density is a sum of squares (plus a constant)
_LS_PRIORS = ("parameterScaleNormal", "normal", "parameterScaleUniform", "uniform")


def _neglogprior(kind: str, xs: float, v: float, a: float, b: float) -> float:
    """Negative log density of a PEtab v1 prior at scaled value ``xs`` / linear value ``v``."""
    if kind.startswith("parameterScale"):
        kind, z = kind[len("parameterScale"):].lower(), xs
    else:
        kind, z = kind.lower(), v
    if kind == "uniform":
        if math.isnan(a) or math.isnan(b):
            return 0.0  # default: uniform over the bounds, a constant
        return -math.log(b - a) if a <= z <= b else math.inf
    if kind == "normal":
        return 0.5 * math.log(2 * math.pi * b * b) + 0.5 * ((z - a) / b) ** 2
    if kind == "laplace":
        return math.log(2 * b) + abs(z - a) / b
    if z <= 0:
        return math.inf
    if kind == "lognormal":
        return math.log(z * b * math.sqrt(2 * math.pi)) + (math.log(z) - a) ** 2 / (2 * b * b)
    if kind == "loglaplace":
        return math.log(2 * b * z) + abs(math.log(z) - a) / b
    raise CalibrationError(f"unknown prior type {kind!r}")
