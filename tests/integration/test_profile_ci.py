"""Profile-likelihood intervals: each end is where the re-optimised objective rises by
chi2(1, 0.95) / 2 (Raue et al. 2009), checked by separate fixed-parameter fits and
against the closed form of a linear-Gaussian model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import DATA
from petab_factory import write_problem
from scipy.optimize import minimize, minimize_scalar
from scipy.stats import chi2

from workbench import calibrate
from workbench import columns as C
from workbench.calibrate.fit import PROFILE_THRESHOLD
from workbench.calibrate.petab_objective import Objective

Z = math.sqrt(chi2.ppf(0.95, 1))  # 1.959964...


def minimum(obj: Objective, x0: np.ndarray) -> float:
    """The optimum, by Nelder-Mead from ``x0`` (not the calibration's optimiser)."""
    r = minimize(obj, x0, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
    return min(float(r.fun), obj(x0))


def fixed_fit(obj: Objective, x0: np.ndarray, j: int, value: float) -> float:
    """Objective re-optimised over the other parameter (2-parameter problems), x_j = value."""
    assert obj.n_free == 2
    k = 1 - j

    def f(v):
        x = np.array(x0, dtype=float)
        x[j], x[k] = value, v
        return obj(x)

    r = minimize_scalar(f, bounds=(obj.lower[k], obj.upper[k]), method="bounded",
                        options={"xatol": 1e-10})
    return float(r.fun)


def test_profile_ci_ends_rise_by_the_threshold():
    """The study's PEtab problem (CL, Kd on log10 scales; data from the closed form with
    CL = 0.5 L/h, Kd = 2 nM). The CL interval (about +- 0.012 on log10) is much narrower
    than the first profile step (0.05): linear interpolation between points far beyond
    the threshold once gave 0.485-0.4986 (rises of 0.50 and 0.42, not 1.92)."""
    r = calibrate(DATA / "study_with_data" / "petab" / "problem.yaml", starts=3, seed=0,
                  profile="all")
    obj = Objective(r.problem)
    f_min = minimum(obj, r.x_best)
    p = r.parameters.set_index(C.PARAMETER)
    for j, pid in enumerate(r.problem.free_ids):
        lo, hi = p.at[pid, C.CI_LOW], p.at[pid, C.CI_HIGH]
        assert p.at[pid, C.CI_METHOD] == "profile" and bool(p.at[pid, C.IDENTIFIABLE])
        for end in (lo, hi):
            rise = fixed_fit(obj, r.x_best, j, math.log10(end)) - f_min
            assert rise == pytest.approx(PROFILE_THRESHOLD, abs=0.05), (pid, end)
        # the profile has points inside the interval on both sides of the optimum, and its
        # refined ends are rows of the table
        g = r.profiles[r.profiles[C.PARAMETER] == pid]
        v, d = g[C.VALUE].to_numpy(), g[C.DELTA_OBJECTIVE].to_numpy()
        best = p.at[pid, C.FINAL_VALUE]
        assert np.any((v > lo) & (v < best)) and np.any((v < hi) & (v > best))
        assert np.sum(np.abs(d - PROFILE_THRESHOLD) < 1e-2) >= 2
    # the data were simulated with CL = 0.5 L/h and Kd = 2 nM; both inside their intervals
    assert p.at["CL", C.CI_LOW] < 0.5 < p.at["CL", C.CI_HIGH]
    assert p.at["Kd", C.CI_LOW] < 2.0 < p.at["Kd", C.CI_HIGH]


#: A(t) = a + b t (zero-order input b from A(0) = a)
LINE_ANTIMONY = """
model line
  compartment cell = 1;
  species A in cell;
  A = a;
  J1: -> A; b;
  a = 2; b = 0.5;
end
"""


def test_profile_ci_of_linear_gaussian_model_is_the_closed_form(tmp_path):
    """y = a + b t + N(0, 0.2^2), a and b on linear scales, sigma known: the objective is
    quadratic, its profiles exactly quadratic, and the 95 % profile interval is the
    ordinary-least-squares estimate +- z SE, z = sqrt(chi2(1, 0.95)) (Raue et al. 2009).
    The interval of b (+- 0.03) is narrower than the first profile step (0.05)."""
    sigma = 0.2
    t = np.linspace(0.0, 10.0, 16)
    y = 2.0 + 0.5 * t + np.random.default_rng(7).normal(0.0, sigma, t.size)
    meas = [{"observableId": "obs_A", "simulationConditionId": "c0", "time": float(ti),
             "measurement": float(yi)} for ti, yi in zip(t, y, strict=True)]
    obs = [{"observableId": "obs_A", "observableFormula": "A", "noiseFormula": sigma,
            "observableTransformation": "lin", "noiseDistribution": "normal"}]
    pars = [{"parameterId": pid, "parameterScale": "lin", "lowerBound": 0.0, "upperBound": 10.0,
             "nominalValue": v, "estimate": 1} for pid, v in (("a", 2.0), ("b", 0.5))]
    yaml = write_problem(tmp_path, LINE_ANTIMONY, observables=obs, measurements=meas,
                         parameters=pars)
    r = calibrate(yaml, starts=2, seed=0, profile="all")
    # closed form: OLS and its covariance sigma^2 (X^T X)^-1
    X = np.column_stack([np.ones_like(t), t])
    est = np.linalg.solve(X.T @ X, X.T @ y)
    se = sigma * np.sqrt(np.diag(np.linalg.inv(X.T @ X)))
    p = r.parameters.set_index(C.PARAMETER)
    for i, pid in enumerate(("a", "b")):
        assert p.at[pid, C.CI_METHOD] == "profile"
        assert p.at[pid, C.CI_LOW] == pytest.approx(est[i] - Z * se[i], rel=1e-3)
        assert p.at[pid, C.CI_HIGH] == pytest.approx(est[i] + Z * se[i], rel=1e-3)
        # the half-widths too (a much stricter check than 1e-3 of the ends)
        assert (p.at[pid, C.CI_HIGH] - p.at[pid, C.CI_LOW]) / 2 == pytest.approx(Z * se[i],
                                                                                rel=1e-5)
    assert se[1] * Z < 0.05  # the narrow case the scan must resolve
