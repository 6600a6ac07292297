"""check-data and refinement against the closed form of a one-compartment IV model.

C(t) = D / V exp(-CL / V t), V = 5 L, D in nmol, C in nM, t in h.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import DATA

from workbench import check_data, refine, write_data_check, write_refinement
from workbench import columns as C
from workbench.analysis.regimens import weighted_quantile
from workbench.cli import main
from workbench.errors import CalibrationError

MODEL = DATA / "onecomp.ant"
V = 5.0
T = np.array([1.0, 2.0, 4.0, 8.0])


def conc(dose: float, cl: float, t) -> np.ndarray:
    return dose / V * np.exp(-cl / V * np.asarray(t, dtype=float))


def observed(values, dose=100.0, unit="nM", time_unit="h", times=T) -> pd.DataFrame:
    return pd.DataFrame({C.SUBJECT: "s1", C.REGIMEN: f"{dose:g} nmol iv", C.OUTPUT: "Drug",
                         C.TIME: times, C.TIME_UNIT: time_unit, C.VALUE: values, C.UNIT: unit})


def test_fold_error_statistics_exact():
    factors = np.array([1.0, 1.5, 2.5, 4.0])
    r = check_data(MODEL, observed(conc(100, 0.5, T) * factors), target="Drug")
    s = r.summary.set_index(C.WHAT)[C.VALUE]
    assert r.table[C.FOLD_ERROR].to_numpy() == pytest.approx(1 / factors, rel=1e-6)
    assert s["within_2fold"] == 0.5 and s["within_3fold"] == 0.75
    assert s["gmfe"] == pytest.approx(10 ** np.mean(np.log10(factors)), rel=1e-6)
    assert math.isnan(s["coverage"])  # no sample, no band


def test_values_of_an_earlier_ensemble_do_not_leak_into_predictions():
    """An in-process ensemble setting CL and the volume first (same cached engine): the
    predictions without a sample still use the model's CL = 0.5 and V = 5."""
    from workbench import run_ensemble

    run_ensemble(MODEL, pd.DataFrame({"CL": [0.9], "central": [10.0]}), "100 nmol iv",
                 target="Drug", metrics=["value(Drug, 4)"], workers=1)
    r = check_data(MODEL, observed(conc(100, 0.5, T)), target="Drug")
    assert r.table[C.FOLD_ERROR].to_numpy() == pytest.approx(1.0, rel=1e-6)
    r = check_data(MODEL, observed(conc(100, 0.5, T)), target="Drug",
                   samples=pd.DataFrame({"central": [5.0, 5.0]}))
    assert r.table[C.PREDICTED].to_numpy() == pytest.approx(conc(100, 0.5, T), rel=1e-6)


def test_units_of_the_data_are_converted():
    """The same data in ug/L (MW 1000 g/mol -> 1 nM = 1 ug/L) and in minutes."""
    c = conc(100, 0.5, T)
    r = check_data(MODEL, observed(c * 1e-3, unit="umol/L", times=T * 60, time_unit="min"),
                   target="Drug")
    assert r.table[C.TIME].to_numpy() == pytest.approx(T)
    assert r.table[C.FOLD_ERROR].to_numpy() == pytest.approx(1.0, rel=1e-6)


def test_prediction_band_and_coverage():
    """CL sampled on a grid: band edges = closed form at the CL order statistics."""
    cls = np.linspace(0.3, 0.7, 21)
    obs = observed(np.array([conc(100, 0.5, 1)[()], conc(100, 0.5, 2)[()],
                             conc(100, 0.2, 4)[()], conc(100, 0.9, 8)[()]]))
    r = check_data(MODEL, obs, samples=pd.DataFrame({"CL": cls}), target="Drug", level=0.9)
    lo_cl = float(weighted_quantile(cls, 0.95, method="inverted_cdf"))  # high CL -> low conc.
    hi_cl = float(weighted_quantile(cls, 0.05, method="inverted_cdf"))
    assert r.table[C.LOWER].to_numpy() == pytest.approx(conc(100, lo_cl, T), rel=1e-6)
    assert r.table[C.UPPER].to_numpy() == pytest.approx(conc(100, hi_cl, T), rel=1e-6)
    assert r.table[C.INSIDE_BAND].tolist() == [True, True, False, False]
    assert r.summary.set_index(C.WHAT)[C.VALUE]["coverage"] == 0.5
    assert len(r.outside) == 2


def test_refinement_weights_posterior_and_next_dose(tmp_path):
    cls = np.linspace(0.3, 0.7, 41)
    sd = 0.1
    y = conc(100, 0.5, T)
    r = refine(MODEL, observed(y), pd.DataFrame({"CL": cls}), next_regimens=["300 nmol iv"],
               metrics=["value(Drug, 6 h)"], sd_log=sd, target="Drug", seed=3)
    # importance weights: the closed-form likelihood of each prior sample, normalised
    ll = np.array([-0.5 * np.sum(((np.log(y) - np.log(conc(100, c, T))) / sd) ** 2)
                   for c in cls])
    w = np.exp(ll - ll.max())
    w /= w.sum()
    assert r.weights == pytest.approx(w, rel=1e-4, abs=1e-12)  # ODE error, amplified by 1/sd^2
    assert r.ess == pytest.approx(1 / np.sum(w ** 2), rel=1e-6)
    p = r.parameters.set_index(C.PARAMETER)
    assert p.at["CL", C.POSTERIOR_MEDIAN] == pytest.approx(0.5)
    assert p.at["CL", C.PRIOR_LOWER] < p.at["CL", C.POSTERIOR_LOWER]
    assert p.at["CL", C.POSTERIOR_UPPER] < p.at["CL", C.PRIOR_UPPER]
    # next cohort: C(6 h) is monotone in CL, so its quantiles map from those of CL
    d = r.dose_response.iloc[0]
    q = weighted_quantile(cls, [0.05, 0.5, 0.95], w, method="inverted_cdf")
    assert [d[C.POSTERIOR_UPPER], d[C.POSTERIOR_MEDIAN], d[C.POSTERIOR_LOWER]] == pytest.approx(
        conc(300, q, 6.0), rel=1e-6)
    assert d[C.UNIT] in ("nM", "nmol/L")
    assert not r.revision_needed
    # the resample is seeded and drawn with the weights
    assert r.posterior_samples["CL"].between(0.4, 0.6).mean() > 0.9
    names = {f.name for f in write_refinement(r, tmp_path)}
    assert {"prior_check.csv", "posterior_check.csv", "refined_parameters.csv",
            "posterior_samples.csv", "dose_response_next.csv", "weights.csv",
            "prior_observed_vs_predicted.png"} <= names


def test_observation_outside_band_triggers_revision():
    cls = np.linspace(0.3, 0.7, 21)
    y = conc(100, 0.5, T)
    y[-1] *= 10
    r = refine(MODEL, observed(y), pd.DataFrame({"CL": cls}), sd_log=0.3, target="Drug")
    assert r.revision_needed
    assert r.prior_check.outside[C.TIME].tolist() == [8.0]


def test_bad_data_all_problems_at_once():
    bad = observed(conc(100, 0.5, T))
    bad.loc[0, C.TIME] = -1.0
    bad[C.VALUE] = bad[C.VALUE].astype(object)
    bad.loc[1, C.VALUE] = "n/a"
    with pytest.raises(CalibrationError) as exc:
        check_data(MODEL, bad, target="Drug")
    assert "negative" in str(exc.value) and "n/a" in str(exc.value)
    with pytest.raises(CalibrationError, match="Nope"):
        check_data(MODEL, observed(conc(100, 0.5, T)).assign(output="Nope"), target="Drug")


def test_cli_check_data(tmp_path):
    obs = observed(conc(100, 0.5, T) * 1.2)
    obs.to_csv(tmp_path / "data.csv", index=False)
    pd.DataFrame({"CL": np.linspace(0.3, 0.7, 11)}).to_csv(tmp_path / "s.csv", index=False)
    out = tmp_path / "out"
    assert main(["check-data", str(MODEL), str(tmp_path / "data.csv"), "--out", str(out),
                 "--into", "Drug", "--samples", str(tmp_path / "s.csv")]) == 0
    assert (out / "check.csv").exists() and (out / "observed_vs_predicted.png").exists()
    assert main(["check-data", str(MODEL), str(tmp_path / "data.csv"), "--out", str(out),
                 "--into", "Drug", "--samples", str(tmp_path / "s.csv"), "--refine",
                 "--next-dose", "200 nmol iv", "--metric", "max(Drug)"]) == 0
    dr = pd.read_csv(out / "dose_response_next.csv")
    assert dr[C.POSTERIOR_MEDIAN].iloc[0] == pytest.approx(200 / V, rel=1e-6)  # Cmax = D / V
    files = write_data_check(check_data(MODEL, obs, target="Drug"), tmp_path / "o2")
    assert all(f.exists() for f in files)
