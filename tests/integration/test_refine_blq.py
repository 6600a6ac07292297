"""Observations below the limit of quantification: the M3 likelihood recovers the simulating
clearance, dropping them biases it (Beal 2001). One-compartment IV model, closed form
C(t) = D / V exp(-CL / V t), V = 5 L, CL = 0.5 L/h (tests/data/onecomp.ant)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from workbench import columns as C
from workbench import refine
from workbench.errors import CalibrationError

MODEL = DATA / "onecomp.ant"
V, CL_TRUE, SD, LLOQ = 5.0, 0.5, 0.3, 2.0
T = np.array([2.0, 6.0, 12.0, 18.0, 24.0, 30.0, 36.0])


def conc(cl, t):
    return 100.0 / V * np.exp(-cl / V * np.asarray(t, dtype=float))


def cohort(seed: int = 11, n: int = 20) -> pd.DataFrame:
    """n subjects, 100 nmol IV, log-normal residual SD 0.3; values below 2 nM reported
    empty with their LLOQ (about 40 % of them at these times)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        y = conc(CL_TRUE, T) * np.exp(SD * rng.standard_normal(len(T)))
        rows += [{C.SUBJECT: f"s{i}", C.REGIMEN: "100 nmol iv", C.OUTPUT: "Drug", C.TIME: t,
                  C.TIME_UNIT: "h", C.VALUE: v if v >= LLOQ else "", C.UNIT: "nM", C.LLOQ: LLOQ}
                 for t, v in zip(T, y, strict=True)]
    return pd.DataFrame(rows)


def closed_form_mle(obs: pd.DataFrame, censored: bool) -> float:
    """The maximum-likelihood clearance on the closed form (independent of the ODE engine
    and of the importance sampling)."""
    blq = obs[C.VALUE] == ""
    t_q, y_q = obs.loc[~blq, C.TIME].to_numpy(float), obs.loc[~blq, C.VALUE].to_numpy(float)
    t_b = obs.loc[blq, C.TIME].to_numpy(float)

    def nll(cl):
        r = (np.log(y_q) - np.log(conc(cl, t_q))) / SD
        out = 0.5 * np.sum(r ** 2)
        if censored:
            out -= np.sum(norm.logcdf((np.log(LLOQ) - np.log(conc(cl, t_b))) / SD))
        return out

    return minimize_scalar(nll, bounds=(0.3, 0.7), method="bounded",
                           options={"xatol": 1e-7}).x


def test_m3_recovers_the_clearance_where_dropping_blq_biases_it():
    obs = cohort()
    share = (obs[C.VALUE] == "").mean()
    assert 0.3 < share < 0.5
    prior = pd.DataFrame({"CL": np.linspace(0.35, 0.65, 601)})  # flat prior on a fine grid
    kw = dict(sd_log=SD, target="Drug", level=0.9)
    m3 = refine(MODEL, obs, prior, blq="m3", **kw)
    m1 = refine(MODEL, obs, prior, blq="drop", **kw)
    p3 = m3.parameters.set_index(C.PARAMETER).loc["CL"]
    p1 = m1.parameters.set_index(C.PARAMETER).loc["CL"]
    assert m3.n_below == m1.n_below == int((obs[C.VALUE] == "").sum())
    # M3: the simulating value lies in the 90 % posterior interval ...
    assert p3[C.POSTERIOR_LOWER] < CL_TRUE < p3[C.POSTERIOR_UPPER]
    # ... dropping the BLQ values keeps only the high ones near the limit: slower
    # elimination, the simulating value above the interval (about 5 % bias)
    assert p1[C.POSTERIOR_UPPER] < CL_TRUE
    assert p1[C.POSTERIOR_MEDIAN] < 0.97 * CL_TRUE
    # the posterior medians (flat prior: the likelihood) agree with the closed-form MLEs
    assert p3[C.POSTERIOR_MEDIAN] == pytest.approx(closed_form_mle(obs, True), abs=2e-3)
    assert p1[C.POSTERIOR_MEDIAN] == pytest.approx(closed_form_mle(obs, False), abs=2e-3)


def test_blq_rows_in_the_check_table_and_zero_without_lloq_is_an_error():
    obs = cohort(n=2)
    r = refine(MODEL, obs, pd.DataFrame({"CL": np.linspace(0.3, 0.7, 21)}), sd_log=SD,
               target="Drug")
    t = r.prior_check.table
    blq = (obs[C.VALUE] == "").to_numpy()
    assert t.loc[blq, C.FOLD_ERROR].isna().all() and t.loc[~blq, C.FOLD_ERROR].notna().all()
    # a BLQ observation lies in the band when the band reaches below the limit
    assert (t.loc[blq, C.INSIDE_BAND] == (t.loc[blq, C.LOWER] <= LLOQ)).all()
    bad = obs.assign(**{C.LLOQ: ""})
    bad.loc[bad[C.VALUE] == "", C.VALUE] = 0.0
    with pytest.raises(CalibrationError, match="lloq"):
        refine(MODEL, bad, pd.DataFrame({"CL": [0.4, 0.5]}), target="Drug")
    with pytest.raises(CalibrationError, match="needs an lloq"):
        refine(MODEL, obs.assign(**{C.LLOQ: ""}), pd.DataFrame({"CL": [0.4, 0.5]}),
               target="Drug")
