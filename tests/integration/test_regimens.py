"""Regimens across a virtual population (workbench.regimens, workbench.population with
simulations): steady-state metrics against the analytic accumulation of a one-compartment
model, per-subject body-size doses, plausible patients and prevalence weights, seeds, CLI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, MODELS

import workbench as wb
from workbench import columns as C
from workbench.analysis.population import (
    Variability,
    allometric,
    filter_plausible,
    prevalence_weights,
    sample_population,
)
from workbench.analysis.regimens import compare_regimens, write_regimens

D, TAU = 10.0, 24.0   # nmol every 24 h


@pytest.fixture(scope="module")
def onecomp():
    return wb.load_model(DATA / "onecomp.ant")


@pytest.fixture(scope="module")
def pop(onecomp):
    return sample_population(onecomp, 6, effects=allometric(["CL"], ["central"]),
                             variability=Variability.from_cv({"CL": 0.3}), seed=4)


def test_steady_state_matches_analytic_accumulation(onecomp, pop):
    res = compare_regimens(onecomp, pop, [f"{D:g} nmol iv q24h x20", "1 nmol/kg iv q12h x40"],
                           exposure=["Drug"], target="Drug", points=60, workers=1)
    s = res.subjects
    cl, v = pop.table["CL"].to_numpy(), pop.table["central"].to_numpy()
    k = cl / v
    a = s[s[C.REGIMEN] == f"{D:g} nmol iv q24h x20"]
    c1 = D / v
    assert a["cmax_first(Drug)"].to_numpy() == pytest.approx(c1, rel=1e-6)
    # superposition of bolus doses: Cmax,n = Cmax,1 (1 - e^{-n k tau}) / (1 - e^{-k tau})
    cmax_n = c1 * (1 - np.exp(-20 * k * TAU)) / (1 - np.exp(-k * TAU))
    assert a["cmax_ss(Drug)"].to_numpy() == pytest.approx(cmax_n, rel=1e-6)
    assert a["cmax_ss(Drug)"].to_numpy() == pytest.approx(c1 / (1 - np.exp(-k * TAU)), rel=1e-3)
    assert a["ctrough_ss(Drug)"].to_numpy() == pytest.approx(cmax_n * np.exp(-k * TAU), rel=1e-6)
    # AUC over a steady-state interval = dose / CL (log-down trapezoids are exact here)
    assert a["auc_tau(Drug)"].to_numpy() == pytest.approx(D / cl, rel=2e-3)
    assert a["accumulation(Drug)"].to_numpy() == pytest.approx(1.0, abs=2e-3)
    # per-kg doses: each subject's dose is 1 nmol/kg x its own weight
    b = s[s[C.REGIMEN] == "1 nmol/kg iv q12h x40"]
    w = pop.table[C.WEIGHT].to_numpy()
    assert b["cmax_first(Drug)"].to_numpy() == pytest.approx(w / v, rel=1e-6)
    assert b["auc_tau(Drug)"].to_numpy() == pytest.approx(w / cl, rel=2e-3)
    assert (s[C.STATUS] == "ok").all()
    assert res.units["auc_tau(Drug)"] == "nmol/L*h"


def test_dose_scale_equals_single_simulation(onecomp):
    samples = pd.DataFrame({"CL": [0.5, 0.7], C.DOSE_SCALE: [50.0, 90.0]})
    res = wb.run_ensemble(onecomp, samples, "0.1 nmol/kg iv q12h x3", target="Drug",
                          subject=wb.Subject(weight=1.0), metrics=["auc(Drug)", "max(Drug)"],
                          end=48, workers=1)
    for i, wt in enumerate([50.0, 90.0]):
        one = wb.run_ensemble(onecomp, samples[["CL"]].iloc[[i]], "0.1 nmol/kg iv q12h x3",
                              target="Drug", subject=wb.Subject(weight=wt),
                              metrics=["auc(Drug)", "max(Drug)"], end=48, workers=1)
        assert res["auc(Drug)"][i] == pytest.approx(one["auc(Drug)"][0], rel=1e-12)
        assert res["max(Drug)"][i] == pytest.approx(one["max(Drug)"][0], rel=1e-12)
    assert res[C.DOSE_SCALE].tolist() == [50.0, 90.0]


def test_same_seed_identical_tables(onecomp, tmp_path):
    def run(seed):
        p = sample_population(onecomp, 5, effects=allometric(["CL"], ["central"]),
                              variability=Variability.from_cv({"CL": 0.3}), seed=seed)
        return compare_regimens(onecomp, p, ["5 nmol iv q24h x3", "10 nmol iv q24h x3"],
                                exposure=["Drug"], target="Drug", points=10, workers=1,
                                criteria=["ctrough_ss(Drug) >= 0.2"])
    a, b = run(7), run(7)
    for x, y in [(a.subjects, b.subjects), (a.summary, b.summary), (a.overlap, b.overlap),
                 (a.attainment, b.attainment)]:
        pd.testing.assert_frame_equal(x, y)
    assert not np.allclose(run(8).subjects["auc_tau(Drug)"], a.subjects["auc_tau(Drug)"])
    paths = write_regimens(a, tmp_path, window=("auc_tau(Drug)", 5, 30))
    names = {p.name for p in paths}
    assert {"subjects.csv", "summary.csv", "overlap.csv", "attainment.csv", "window.csv",
            "exposure_by_regimen.png", "attainment_curves.png", "overlap_matrix.png",
            "exposure_vs_weight.png"} <= names
    assert "auc_tau(Drug) [nmol/L*h]" in (tmp_path / "subjects.csv").read_text().splitlines()[0]


def test_plausible_filter_and_prevalence_weights():
    from scipy import stats

    m = wb.load_model(MODELS / "mab_tmdd.ant")
    p = sample_population(m, 3000, variability=Variability.from_cv({"R0": 0.5}), seed=1)
    p = filter_plausible(m, p, {"value(R, 0)": (0.5, 2.0)}, workers=1)
    r0 = p.table["R0"].to_numpy()
    # R(0) = R0 by the model's initial assignment: plausible exactly when R0 is in range
    assert np.array_equal(p.table[C.PLAUSIBLE].to_numpy(), (r0 >= 0.5) & (r0 <= 2.0))
    target = stats.lognorm(s=0.2, scale=1.2)     # observed baseline: median 1.2 nM, sd(ln) 0.2
    w = prevalence_weights(p, target, max_ratio=1e6)
    ok = w.table[C.PLAUSIBLE].to_numpy()
    ww = w.table[C.PREVALENCE_WEIGHT].to_numpy()
    assert ww[~ok].sum() == 0 and ww[ok].sum() == pytest.approx(ok.sum())
    lr = np.log(r0[ok])
    mean = np.average(lr, weights=ww[ok])
    sd = math.sqrt(np.average((lr - mean) ** 2, weights=ww[ok]))
    assert math.exp(mean) == pytest.approx(1.2, rel=0.03)
    assert sd == pytest.approx(0.2, rel=0.1)
    assert math.exp(np.log(r0[ok]).mean()) < 1.1   # unweighted: the sampled population


def test_cli_population_and_regimens(tmp_path):
    from workbench.cli import main

    pop = tmp_path / "pop.csv"
    assert main([ "population", str(DATA / "onecomp.ant"), "--n", "20", "--bsv", "CL=0.3",
                  "--allometric-cl", "CL", "--allometric-v", "central", "--out", str(pop),
                  "--workers", "1"]) == 0
    out = tmp_path / "reg"
    assert main(["regimens", str(DATA / "onecomp.ant"), "--population", str(pop),
                 "--regimen", "5 nmol iv q24h x4", "--regimen", "0.1 nmol/kg iv q24h x4",
                 "--into", "Drug", "--exposure", "Drug", "--efficacy", "ctrough_ss(Drug) >= 0.1",
                 "--safety", "cmax_ss(Drug) > 3", "--subgroup", "weight=70", "--subgroup", "sex",
                 "--window", "auc_tau(Drug)=5:20", "--points", "10", "--workers", "1",
                 "--out", str(out)]) == 0
    att = pd.read_csv(out / "attainment.csv")
    assert set(att[C.KIND]) == {"efficacy", "safety"}
    assert (out / "overlap_matrix.png").exists()


def test_effect_metrics_and_single_dose(onecomp, pop):
    res = compare_regimens(onecomp, pop, ["10 nmol iv"], exposure=["Drug"], target="Drug",
                           tau="48 h", points=40, workers=1,
                           effects={"c24": "value(Drug, 24)", "peak": "max(Drug, {first_start}, {end})"})
    s = res.subjects
    v, k = pop.table["central"].to_numpy(), (pop.table["CL"] / pop.table["central"]).to_numpy()
    assert s["c24"].to_numpy() == pytest.approx(10 / v * np.exp(-k * 24), rel=1e-6)
    assert s["peak"].to_numpy() == pytest.approx(10 / v, rel=1e-9)
    # single dose: the interval is tau; AUC(0-48 h) = D/CL (1 - e^{-48 k})
    assert s["auc_tau(Drug)"].to_numpy() == pytest.approx(
        10 / pop.table["CL"].to_numpy() * (1 - np.exp(-48 * k)), rel=2e-3)
    assert {"c24", "peak"} <= set(res.summary[C.METRIC])
