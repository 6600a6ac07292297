"""Monte Carlo uncertainty propagation against closed forms (issue 5).

One-compartment IV bolus, V = 5 L, CL lognormal (median 0.5 L/h): C(t) = D/V exp(-CL t/V)
falls as CL rises, so the p-th percentile of C(t) is C at the (100 - p)-th percentile of
CL, and P(C(t) <= c) = P(CL >= -V/t ln(c V / D)). A stratified sample (Latin hypercube,
Sobol') puts each empirical percentile within about 1/n of its probability level, so the test
compares levels (1.5/n: a CV taken as the sd of ln CL would already miss by 5e-3).
"""

from __future__ import annotations

import math
from collections import UserList

import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from scipy.stats import norm

from workbench import (
    Uncertainty,
    build_uncertainty,
    load_model,
    propagate,
    write_uncertainty,
)
from workbench.analysis.sensitivity import ParameterSpace
from workbench.analysis.uncertainty import parse_distribution, uncertainty_from_provenance
from workbench.errors import SpecError

V, CL0, DOSE, CV = 5.0, 0.5, 100.0, 0.4
SD = math.sqrt(math.log1p(CV**2))
TIMES = [1.0, 4.0, 12.0, 24.0]


@pytest.fixture(scope="module")
def model():
    return load_model(DATA / "onecomp.ant")


def lognormal_cl() -> Uncertainty:
    return Uncertainty(ParameterSpace((parse_distribution(f"CL=lognormal,cv={CV}"),)))


def level_of_concentration(c, t):
    """P(C(t) <= c) for lognormal CL."""
    cl = -V / t * np.log(np.asarray(c) * V / DOSE)
    return 1.0 - norm.cdf((np.log(cl) - math.log(CL0)) / SD)


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_time_course_bands_match_the_analytic_percentiles(model, method):
    n = 512
    res = propagate(model, lognormal_cl(), "100 nmol iv", outputs=["Drug"], times=TIMES,
                    target="Drug", n=n, method=method, seed=7, workers=1)
    b = res.bands
    assert set(b.percentile) == {5.0, 50.0, 95.0}
    assert (b.unit == "nmol/L").all() and (b.n_ok == n).all()
    for p in (5.0, 50.0, 95.0):
        got = b[b.percentile == p].sort_values("time")
        levels = level_of_concentration(got.value.to_numpy(), got.time.to_numpy())
        assert np.max(np.abs(levels - p / 100)) < 1.5 / n, (p, levels)
    # the median maps through exactly: C at the median clearance
    med = b[b.percentile == 50].sort_values("time").value.to_numpy()
    assert med == pytest.approx(DOSE / V * np.exp(-CL0 * np.array(TIMES) / V), rel=5e-3)
    assert res.converged
    assert (res.convergence.n_half == n // 2).all()


def test_time_course_from_end_integrates_only_its_points(model, monkeypatch):
    """outputs with end: 101 output points, not the 201-point run grid on top; every
    sample's value is the closed form at its clearance."""
    import workbench.sim.ensemble as E

    grids = []
    orig = E._time_grid
    monkeypatch.setattr(E, "_time_grid", lambda *a, **k: grids.append(orig(*a, **k)) or grids[-1])
    res = propagate(model, lognormal_cl(), "100 nmol iv", outputs=["Drug"], end=24,
                    target="Drug", n=8, seed=1, workers=1)
    # the ensemble's grid (and the convergence check's re-run of three samples on the same)
    assert grids and all(len(g) == 101 for g in grids)
    assert sorted(set(res.bands.time)) == pytest.approx(np.linspace(0, 24, 101))
    cl = res.runs["CL"].to_numpy()
    for t in (0.24, 12.0, 24.0):
        got = res.runs[f"value(Drug, {t:.10g})"].to_numpy()
        assert got == pytest.approx(DOSE / V * np.exp(-cl * t / V), rel=1e-6)
    # a metric over the run keeps the run grid (end, points)
    grids.clear()
    propagate(model, lognormal_cl(), "100 nmol iv", outputs=["Drug"], metrics=["max(Drug)"],
              end=24, points=11, target="Drug", n=4, seed=1, workers=1)
    assert set(np.linspace(0, 24, 11)) <= set(grids[0])


def test_same_seed_same_bands_other_seed_other_bands(model):
    kw = dict(outputs=["Drug"], times=TIMES, target="Drug", n=64, workers=1)
    a = propagate(model, lognormal_cl(), "100 nmol iv", seed=11, **kw)
    b = propagate(model, lognormal_cl(), "100 nmol iv", seed=11, **kw)
    c = propagate(model, lognormal_cl(), "100 nmol iv", seed=12, **kw)
    pd.testing.assert_frame_equal(a.bands, b.bands)
    pd.testing.assert_frame_equal(a.samples, b.samples)
    assert not a.bands.value.equals(c.bands.value)


def test_dose_response_bands_scale_with_dose(model):
    # linear PK: AUC(0-T) = D/CL (1 - exp(-CL T / V)); the log-down trapezoid is exact here
    doses = [10.0, 100.0, 1000.0]
    res = propagate(model, lognormal_cl(), [f"{d:g} nmol iv" for d in doses],
                    metrics=["auc(Drug)", "max(Drug)"], target="Drug", end=400, points=401,
                    n=256, seed=3, workers=1)
    b = res.bands
    for d in doses:
        g = b[(b.quantity == "auc(Drug)") & (b.regimen == f"{d:g} nmol iv")]
        for _, row in g.iterrows():
            # AUC falls with CL (the exp term is < 1e-6 for every sampled CL) -> its level
            level = 1.0 - norm.cdf((math.log(d / row.value) - math.log(CL0)) / SD)
            assert abs(level - row.percentile / 100) < 1.5 / 256
        cmax = b[(b.quantity == "max(Drug)") & (b.regimen == f"{d:g} nmol iv")].value
        assert cmax.to_numpy() == pytest.approx(d / V)
    assert set(b.unit[b.quantity == "auc(Drug)"]) == {"nmol/L*h"}


def test_regimens_in_any_sequence_are_levels(model):
    # the signature takes a Sequence of regimens: one that is not a list or tuple is still
    # one regimen per level (it used to be passed on whole, as a single regimen)
    texts = ["10 nmol iv", "100 nmol iv"]
    kw = dict(metrics=["max(Drug)"], target="Drug", end=24, n=8, seed=1, workers=1)
    res = propagate(model, lognormal_cl(), UserList(texts), **kw)
    ref = propagate(model, lognormal_cl(), texts, **kw)
    assert list(dict.fromkeys(res.bands.regimen)) == texts
    pd.testing.assert_frame_equal(res.bands, ref.bands)


def test_cv_bounds_and_correlations():
    space = ParameterSpace((parse_distribution("CL=lognormal,cv=0.3,median=2"),
                            parse_distribution("V=lognormal,sd=0.2,median=5"),
                            parse_distribution("ka=lognormal,cv=0.5,median=1,low=0.8,high=1.5")))
    unc = Uncertainty(space, (("CL", "V", 0.8),))
    s = unc.sample(4000, seed=5, method="lhs")
    cv = s.CL.std() / s.CL.mean()
    assert cv == pytest.approx(0.3, rel=0.05)
    assert np.median(s.V) == pytest.approx(5, rel=0.02)
    assert np.corrcoef(np.log(s.CL), np.log(s.V))[0, 1] == pytest.approx(0.8, abs=0.03)
    assert s.ka.min() >= 0.8 and s.ka.max() <= 1.5
    with pytest.raises(SpecError):
        Uncertainty(space, (("CL", "V", 0.9), ("CL", "ka", 0.9), ("V", "ka", -0.9)))


def _prov_rows(chosen_prior="lognormal", spread=""):
    base = dict(kind="parameter", scope="", name="", source_type="literature",
                reference="doi:10.0/x", citation="", organism="human", assay="", notes="",
                rationale="", initial_value=np.nan, calibrated_value=np.nan,
                calibration_method="", calibration_justification="", candidate_use="",
                prior="", prior_centre=np.nan, prior_spread="", prior_rationale="")
    rows = [{**base, "id": "CL", "chosen": True, "value": 0.5, "unit": "L/h",
             "prior": chosen_prior, "prior_spread": spread},
            {**base, "id": "CL", "chosen": False, "value": 0.25, "unit": "L/h",
             "candidate_use": "same"},
            {**base, "id": "CL", "chosen": False, "value": 36.0, "unit": "L/day",   # 1.5 L/h
             "candidate_use": "scaled: per-kg x 70 kg from mouse"},
            {**base, "kind": "compartment", "id": "central", "chosen": True, "value": 5.0,
             "unit": "L"}]
    return base, rows


def test_prior_from_provenance_is_centred_on_the_chosen_value(model):
    """The prior is centred on the chosen value: the median of the draws is the chosen
    value within sampling error (not the midpoint of the candidates' span)."""
    _, rows = _prov_rows()
    unc = uncertainty_from_provenance(pd.DataFrame(rows), model)
    assert unc.ids == ["CL"]                       # central has no prior: not sampled
    r = unc.space.ranges[0]
    assert r.distribution == "lognormal"
    # the widest same/scaled candidate (1.5 L/h, 3-fold from 0.5) is the 95 % fold
    assert r.sd == pytest.approx(math.log(3.0) / 1.959963984540054)
    assert dict(unc.origin) == {"CL": "provenance"}
    s = unc.sample(4000, seed=1, method="random")
    # median of a lognormal sample: standard error ~ 1.2533 sd / sqrt(n) in ln
    se = 1.2533 * r.sd / math.sqrt(4000)
    assert abs(math.log(np.median(s.CL)) - math.log(0.5)) < 4 * se
    # the old min-max log-uniform would put the median at sqrt(0.25 * 1.5) = 0.61
    assert abs(np.median(s.CL) - math.sqrt(0.25 * 1.5)) > 0.05
    both = build_uncertainty(model, provenance=pd.DataFrame(rows), params=["central=normal,sd=0.5"])
    assert both.to_frame().set_index("id").origin.to_dict() == {"CL": "provenance",
                                                                "central": "user"}


def test_comparison_candidate_does_not_widen_the_prior(model):
    base, rows = _prov_rows()
    wide = uncertainty_from_provenance(pd.DataFrame(rows), model).space.ranges[0].sd
    rows.append({**base, "id": "CL", "chosen": False, "value": 0.005, "unit": "L/h",
                 "candidate_use": "comparison"})       # 100-fold lower, another quantity
    with_cmp = uncertainty_from_provenance(pd.DataFrame(rows), model).space.ranges[0].sd
    assert with_cmp == wide
    rows[-1]["candidate_use"] = "same"                  # the same value as a real candidate
    assert uncertainty_from_provenance(pd.DataFrame(rows), model).space.ranges[0].sd > wide


def test_stated_prior_spread_and_errors(model):
    _, rows = _prov_rows(spread="cv=0.3")
    r = uncertainty_from_provenance(pd.DataFrame(rows), model).space.ranges[0]
    assert r.sd == pytest.approx(math.sqrt(math.log1p(0.09)))
    _, rows = _prov_rows(chosen_prior="weibull")
    with pytest.raises(SpecError):
        uncertainty_from_provenance(pd.DataFrame(rows), model)
    _, rows = _prov_rows(chosen_prior="")
    with pytest.raises(SpecError):                     # no prior anywhere
        uncertainty_from_provenance(pd.DataFrame(rows), model)


def test_parse_distribution_errors():
    with pytest.raises(SpecError):
        parse_distribution("CL lognormal")
    with pytest.raises(SpecError):
        parse_distribution("CL=lognormal,cv=x")
    with pytest.raises(SpecError):
        parse_distribution("CL=lognormal,shape=2")
    with pytest.raises(SpecError):
        parse_distribution("CL=weibull,cv=0.2")


def test_cli_uncertainty_writes_bands(tmp_path, capsys):
    from workbench.cli import main

    out = tmp_path / "unc"
    rc = main(["uncertainty", str(DATA / "onecomp.ant"), "--param", "CL=lognormal,cv=0.3",
               "--dose", "100 nmol iv", "--into", "Drug", "--outputs", "Drug", "--end", "24",
               "--points", "7", "--n", "32", "--workers", "1", "--out", str(out)])
    assert rc in (0, 1)
    bands = pd.read_csv(out / "bands.csv")
    assert list(bands.columns) == ["regimen", "quantity", "time", "percentile", "value", "unit",
                                   "n_ok"]
    assert len(bands) == 7 * 3
    assert (out / "bands.png").exists() and (out / "band_convergence.csv").exists()
    # the exit code follows the convergence table: 0 only when every shift is small
    err = capsys.readouterr().err
    assert ("NOT converged" in err) == (rc == 1), err
    res_files = write_uncertainty(
        propagate(DATA / "onecomp.ant", lognormal_cl(), "100 nmol iv", outputs=["Drug"],
                  times=[1, 2], target="Drug", n=8, workers=1), tmp_path / "again")
    assert len(res_files) == 7


def test_cli_uncertainty_exits_1_when_not_converged(tmp_path, capsys):
    """n = 4: the percentiles of 2 samples cannot match those of 4; the run says so, writes
    its files and exits 1, unless --allow-unconverged."""
    from workbench.cli import main

    args = ["uncertainty", str(DATA / "onecomp.ant"), "--param", "CL=lognormal,cv=0.5",
            "--dose", "100 nmol iv", "--into", "Drug", "--outputs", "Drug", "--end", "24",
            "--points", "5", "--n", "4", "--workers", "1", "--seed", "3"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert "NOT converged" in err and "--allow-unconverged" in err
    conv = pd.read_csv(tmp_path / "a" / "band_convergence.csv")
    assert len(conv) and (tmp_path / "a" / "bands.csv").exists()
    assert main([*args, "--out", str(tmp_path / "b"), "--allow-unconverged"]) == 0
