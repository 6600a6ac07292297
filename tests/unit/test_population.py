"""Virtual populations (workbench.population): requested CVs and correlations are recovered,
covariate models are applied as specified, the same seed gives the same table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.analysis.population import (
    ADULT_COVARIATES,
    CovariateEffect,
    Variability,
    allometric,
    read_population,
    sample_population,
)
from workbench.errors import SpecError


def test_bsv_recovers_cv_and_correlation():
    bsv = Variability.from_cv({"CL": 0.3, "V": 0.5}, [("CL", "V", 0.6)])
    pop = sample_population(None, 20000, variability=bsv, typical={"CL": 2.0, "V": 10.0}, seed=5)
    eta_cl = np.log(pop.table["CL"] / 2.0)
    eta_v = np.log(pop.table["V"] / 10.0)
    # omega^2 = ln(1 + CV^2) (log-normal); standard error of an sd ~ sd / sqrt(2 n) < 0.5 %
    assert eta_cl.std() == pytest.approx(math.sqrt(math.log1p(0.09)), rel=0.02)
    assert eta_v.std() == pytest.approx(math.sqrt(math.log1p(0.25)), rel=0.02)
    assert abs(eta_cl.mean()) < 0.01
    assert np.corrcoef(eta_cl, eta_v)[0, 1] == pytest.approx(0.6, abs=0.02)
    # the CV of the values themselves: sqrt(exp(omega^2) - 1) = requested CV
    x = pop.table["CL"]
    assert x.std() / x.mean() == pytest.approx(0.3, rel=0.05)


def test_omega_matrix_given_directly():
    om = ((0.09, 0.03), (0.03, 0.04))
    bsv = Variability(("a", "b"), om)
    pop = sample_population(None, 20000, variability=bsv, typical={"a": 1, "b": 1}, seed=2)
    cov = np.cov(np.log(pop.table[["a", "b"]].to_numpy()).T)
    assert cov == pytest.approx(np.array(om), abs=0.004)


def test_covariate_correlation_and_bounds():
    pop = sample_population(None, 20000, seed=3)
    t = pop.table
    assert t[C.WEIGHT].between(40, 160).all() and t[C.HEIGHT].between(145, 205).all()
    assert np.median(t[C.WEIGHT]) == pytest.approx(75, rel=0.02)
    assert np.corrcoef(np.log(t[C.WEIGHT]), t[C.HEIGHT])[0, 1] == pytest.approx(0.5, abs=0.03)
    assert (t[C.SEX] == "F").mean() == pytest.approx(0.5, abs=0.02)
    # BSA by Mosteller (1987): sqrt(h w / 3600)
    assert t[C.BSA].to_numpy() == pytest.approx(np.sqrt(t[C.WEIGHT] * t[C.HEIGHT] / 3600))


def test_allometry_140_vs_70_kg():
    cov = pd.DataFrame({C.WEIGHT: [70.0, 140.0, 35.0], C.HEIGHT: [170.0] * 3, C.SEX: ["F", "M", "F"]})
    eff = (*allometric(["CL"], ["V"]), CovariateEffect("CL", C.SEX, level="F", factor=0.8))
    pop = sample_population(None, 3, covariates=cov, effects=eff, typical={"CL": 1.0, "V": 5.0})
    t = pop.table
    assert t["CL"][1] / (t["CL"][0] / 0.8) == pytest.approx(2 ** 0.75, rel=1e-12)
    assert t["CL"][0] == pytest.approx(0.8)            # 70 kg, female: the factor only
    assert t["V"][1] / t["V"][0] == pytest.approx(2.0, rel=1e-12)
    assert t["V"][2] == pytest.approx(2.5)
    assert t["CL"][2] == pytest.approx(0.8 * 0.5 ** 0.75)


def test_same_seed_same_table_and_csv_roundtrip(tmp_path):
    kw = dict(variability=Variability.from_cv({"CL": 0.3}), effects=allometric(["CL"]),
              typical={"CL": 1.0})
    a = sample_population(None, 50, seed=11, **kw)
    b = sample_population(None, 50, seed=11, **kw)
    c = sample_population(None, 50, seed=12, **kw)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.allclose(a.table["CL"], c.table["CL"])
    a.write_csv(tmp_path / "pop.csv")
    assert "weight [kg]" in (tmp_path / "pop.csv").read_text().splitlines()[1]
    r = read_population(tmp_path / "pop.csv")
    assert r.parameters == ("CL",) and C.WEIGHT in r.covariates and r.units[C.WEIGHT] == "kg"
    pd.testing.assert_frame_equal(r.table, a.table, check_dtype=False)


def test_covariates_from_table_are_resampled_whole():
    src = pd.DataFrame({C.WEIGHT: [50.0, 100.0], C.HEIGHT: [150.0, 190.0]})
    pop = sample_population(None, 40, covariates=src, seed=0)
    pairs = set(zip(pop.table[C.WEIGHT], pop.table[C.HEIGHT], strict=True))
    assert pairs <= {(50.0, 150.0), (100.0, 190.0)}


def test_bad_specs():
    with pytest.raises(SpecError):
        Variability(("a", "b"), ((1.0, 2.0), (2.0, 1.0)))   # not positive definite
    with pytest.raises(SpecError):
        CovariateEffect("CL", C.WEIGHT)                       # neither power nor categorical
    with pytest.raises(SpecError):
        sample_population(None, 10, effects=allometric(["CL"]))   # no typical value
    assert ADULT_COVARIATES[0].name == C.WEIGHT


def test_samples_without_parameters_has_one_empty_row_per_subject():
    """run_ensemble takes it as is: one run per subject, nothing set."""
    from workbench.analysis.population import Population

    pop = Population(pd.DataFrame({C.SUBJECT: ["a", "b", "c"], "weight": [60.0, 70.0, 80.0]},
                                  index=[4, 7, 9]), covariates=("weight",))
    s = pop.samples()
    assert s.shape == (3, 0)
    assert s.index.equals(pd.RangeIndex(3))
