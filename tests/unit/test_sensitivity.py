"""Sensitivity analyses against known answers: Sobol indices of the Ishigami function,
Morris on a linear model, local coefficients of the one-compartment model; parameter
distributions against scipy.stats; failures; the CLI verb."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import DATA
from scipy import stats

import workbench as wb
from workbench import columns as C
from workbench.cli import main
from workbench.errors import InputFileError, SimulationError, SpecError

PI = math.pi


@pytest.fixture(scope="module")
def ishigami():
    return wb.load_model(DATA / "ishigami.ant")


@pytest.fixture(scope="module")
def onecomp(onecomp_text):
    return wb.load_model(onecomp_text)


def _uniform(ids, lo, hi):
    return wb.ParameterSpace(tuple(wb.ParameterRange(i, "uniform", lo, hi) for i in ids))


# --- parameter space ----------------------------------------------------------

def test_distributions_match_scipy():
    u = np.linspace(0.01, 0.99, 33)
    r = wb.ParameterRange("k", "uniform", 2.0, 6.0)
    assert r.ppf(u) == pytest.approx(stats.uniform(2, 4).ppf(u))
    r = wb.ParameterRange("k", "loguniform", 0.1, 10.0)
    assert r.ppf(u) == pytest.approx(stats.loguniform(0.1, 10).ppf(u))
    r = wb.ParameterRange("k", "triangular", 1.0, 5.0, nominal=2.0)
    assert r.ppf(u) == pytest.approx(stats.triang(0.25, loc=1, scale=4).ppf(u))
    r = wb.ParameterRange("k", "normal", 0.0, 4.0, nominal=1.0, sd=2.0)
    assert r.ppf(u) == pytest.approx(stats.truncnorm(-0.5, 1.5, loc=1, scale=2).ppf(u))
    r = wb.ParameterRange("k", "lognormal", nominal=3.0, sd=0.4)  # truncated at 3 sd of ln
    ref = np.exp(stats.truncnorm(-3, 3, loc=math.log(3), scale=0.4).ppf(u))
    assert r.ppf(u) == pytest.approx(ref)
    r = wb.ParameterRange("k", "lognormal", nominal=3.0, fold=2.0)  # 95 % within [1.5, 6]
    assert r.ppf(np.array([0.5]))[0] == pytest.approx(3.0)
    assert r._sd() == pytest.approx(math.log(2) / stats.norm.ppf(0.975))
    r = wb.ParameterRange("k", "log-uniform", nominal=2.0, fold=10)
    assert r.ppf(np.array([0.0, 0.5, 1.0])) == pytest.approx([0.2, 2.0, 20.0])


def test_parameter_space_table_roundtrip(tmp_path, onecomp):
    p = tmp_path / "params.csv"
    p.write_text("id,distribution,low,high,nominal,fold,sd,unit\n"
                 "CL,lognormal,,,,2,,\ncentral,uniform,3,7,,,,\n")
    space = wb.read_parameter_space(p).with_model(onecomp)
    assert space.ids == ["CL", "central"]
    assert space.ranges[0].nominal == 0.5 and space.ranges[0].unit == "L/h"
    assert list(space.to_frame().columns) == list(C.PARAMETER_SPACE_COLUMNS)
    space.write_csv(tmp_path / "again.csv")
    assert wb.read_parameter_space(tmp_path / "again.csv") == space
    a, b = space.sample(50, seed=3, method="lhs"), space.sample(50, seed=3, method="lhs")
    pd.testing.assert_frame_equal(a, b)
    assert a["central"].between(3, 7).all()


@pytest.mark.parametrize("text, match", [
    ("id,distribution\nCL,gamma\n", "unknown distribution"),
    ("id,distribution,low,high\nCL,loguniform,0,1\n", "must be positive"),
    ("id,distribution\nCL,uniform\n", "low and high, or a fold"),
    ("id,distribution,sd\nCL,normal,\n", "needs sd"),
    ("id,distribution,fold\nCL,uniform,1\nCL,uniform,2\n", "> 1"),
    ("name\nCL\n", "no 'id' column"),
])
def test_parameter_space_errors(tmp_path, onecomp, text, match):
    p = tmp_path / "p.csv"
    p.write_text(text)
    with pytest.raises(SpecError, match=match):
        wb.read_parameter_space(p).with_model(onecomp)


def test_missing_table_is_input_error(tmp_path):
    with pytest.raises(InputFileError):
        wb.read_parameter_space(tmp_path / "none.csv")


# --- Sobol: Ishigami ----------------------------------------------------------

def test_sobol_ishigami_matches_analytic_within_ci(ishigami, tmp_path):
    space = _uniform(["x1", "x2", "x3"], -PI, PI)
    res = wb.sobol(ishigami, space, metrics=["value(Y, 0)"], n=1024, seed=1, workers=1,
                   second_order=True, check_convergence=True)
    idx = res.indices.set_index(C.PARAMETER)
    # Ishigami & Homma (1990), a = 7, b = 0.1
    exact_s1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
    exact_st = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
    for p in exact_s1:
        assert abs(idx.loc[p, C.S1] - exact_s1[p]) <= idx.loc[p, C.S1_CONF]
        assert abs(idx.loc[p, C.ST] - exact_st[p]) <= idx.loc[p, C.ST_CONF]
    assert list(idx.sort_values(C.RANK).index) == ["x1", "x2", "x3"]
    s2 = res.second_order.set_index([C.PARAMETER_1, C.PARAMETER_2])[C.S2]
    assert abs(s2[("x1", "x3")] - 0.2437) < 0.1  # S13 = ST3 (x3 acts only with x1)
    conv = res.convergence.iloc[0]
    assert conv[C.STABLE] and conv[C.TOP_PARAMETERS] == "x1; x2; x3"
    assert len(res.samples) == 2 * 1024 * (2 * 3 + 2)  # the first N re-used for 2N
    files = {p.name for p in res.write(tmp_path)}
    assert {"sobol_indices.csv", "sobol_second_order.csv", "sobol_convergence.csv",
            "samples.csv", "parameter_space.csv", "sobol.png"} <= files
    back = pd.read_csv(tmp_path / "sobol_indices.csv")
    assert list(back.columns) == list(C.SOBOL_COLUMNS)


def test_sobol_same_seed_same_tables(ishigami):
    space = _uniform(["x1", "x2", "x3"], -PI, PI)
    a = wb.sobol(ishigami, space, metrics=["value(Y, 0)"], n=64, seed=5, workers=1)
    b = wb.sobol(ishigami, space, metrics=["value(Y, 0)"], n=64, seed=5, workers=2)
    pd.testing.assert_frame_equal(a.indices, b.indices)
    c = wb.sobol(ishigami, space, metrics=["value(Y, 0)"], n=64, seed=6, workers=1)
    assert not a.indices[C.ST].equals(c.indices[C.ST])


# --- Morris: linear model ------------------------------------------------------

def test_morris_ranks_linear_model():
    m = wb.load_model(DATA / "linear4.ant")
    res = wb.morris(m, _uniform(["p1", "p2", "p3", "p4"], 0.0, 1.0), metrics=["value(Y, 0)"],
                    trajectories=10, levels=4, seed=3, workers=1)
    idx = res.indices.set_index(C.PARAMETER)
    assert list(idx.sort_values(C.RANK).index) == ["p4", "p3", "p2", "p1"]
    # every elementary effect of p_i is its coefficient
    assert idx[C.MU_STAR].to_numpy() == pytest.approx([1, 2, 4, 8])
    assert idx[C.MU].to_numpy() == pytest.approx([1, 2, 4, 8])
    assert idx[C.SIGMA].to_numpy() == pytest.approx(0, abs=1e-9)
    assert len(res.samples) == 10 * (4 + 1)


# --- local: one-compartment model ----------------------------------------------

def test_local_matches_analytic_derivatives(onecomp, tmp_path):
    # C(t) = D/V exp(-CL t / V): d ln C / d ln CL = -CL t / V, d ln C / d ln V = CL t / V - 1;
    # Cmax = D / V; AUC(0, inf) = D / CL
    res = wb.local_sensitivity(onecomp, ["CL", "central"], "100 nmol iv", target="Drug",
                               metrics=["value(Drug, 20)", "max(Drug)"], end=20, points=3)
    s = res.indices.set_index([C.METRIC, C.PARAMETER])[C.SENSITIVITY]
    k = 0.5 / 5.0
    assert s[("value(Drug, 20)", "CL")] == pytest.approx(-k * 20, rel=1e-4)
    assert s[("value(Drug, 20)", "central")] == pytest.approx(k * 20 - 1, rel=1e-4)
    assert s[("max(Drug)", "central")] == pytest.approx(-1, rel=1e-6)
    assert s[("max(Drug)", "CL")] == pytest.approx(0, abs=1e-9)
    assert list(res.indices.columns) == list(C.LOCAL_COLUMNS)
    assert res.indices.set_index([C.METRIC, C.PARAMETER]).loc[("max(Drug)", "CL"), C.VALUE] == \
        pytest.approx(20)
    assert {p.name for p in res.write(tmp_path)} >= {"local_indices.csv", "tornado.png"}


# --- failures ------------------------------------------------------------------

BLOWUP = "model blowup\n  x' = k * x^2\n  x = 1\n  k = 0.01\nend\n"


def test_sobol_stops_when_samples_keep_failing():
    m = wb.load_model(BLOWUP)  # x = 1 / (1 - k t) blows up at t = 1/k < 10 when k > 0.1
    space = wb.ParameterSpace((wb.ParameterRange("k", "uniform", 0.001, 0.2),))
    with pytest.raises(SimulationError, match=r"still failed after a retry") as err:
        wb.sobol(m, space, metrics=["value(x, 10)"], n=16, seed=1, workers=1)
    assert "First failure: sample" in str(err.value)


def test_failed_samples_are_retried_with_tighter_tolerances(monkeypatch, ishigami):
    from workbench.sim import _backends as ensemble

    real = ensemble._ChunkRunner.run_chunk
    calls = []

    def flaky(self, values, settings):
        out, failed = real(self, values, settings)
        calls.append(settings)
        if settings is None:  # default tolerances: pretend the samples with x1 > 2 fail
            failed = failed + [(i, "the solver failed: test") for i, v in enumerate(values)
                               if v[0] > 2]
            out[[i for i, _ in failed]] = np.nan
        return out, failed

    monkeypatch.setattr(ensemble._ChunkRunner, "run_chunk", flaky)
    space = _uniform(["x1", "x2", "x3"], -PI, PI)
    res = wb.sobol(ishigami, space, metrics=["value(Y, 0)"], n=32, seed=1, workers=1)
    assert res.n_failed > 0 and res.n_retried_ok == res.n_failed
    assert any(s is not None and s.relative_tolerance < 1e-8 for s in calls)
    assert (res.samples[C.STATUS] == C.STATUS_OK).all()
    monkeypatch.undo()
    ref = wb.sobol(ishigami, space, metrics=["value(Y, 0)"], n=32, seed=1, workers=1)
    x = res.samples["value(Y, 0)"].to_numpy()
    assert x == pytest.approx(ref.samples["value(Y, 0)"].to_numpy(), abs=1e-9)


# --- time-resolved indices and the CLI ------------------------------------------

def test_time_resolved_sobol_and_plot(onecomp, tmp_path):
    space = wb.ParameterSpace((wb.ParameterRange("CL", "loguniform", nominal=0.5, fold=2),
                               wb.ParameterRange("central", "loguniform", nominal=5, fold=2)))
    res = wb.sobol(onecomp, space, "100 nmol iv", target="Drug", outputs=["Drug"],
                   times=[0, 12, 48], n=64, seed=2, workers=1)
    idx = res.indices.set_index([C.TIME, C.PARAMETER])
    # at t = 0, C = D / V depends on V only
    assert idx.loc[(0.0, "CL"), C.ST] == pytest.approx(0, abs=1e-12)
    assert idx.loc[(0.0, "central"), C.S1] == pytest.approx(1, abs=0.05)
    # later, elimination (CL t / V) matters too
    assert idx.loc[(12.0, "CL"), C.ST] > 0.1 and idx.loc[(48.0, "CL"), C.ST] > 0.1
    assert "sobol_over_time.png" in {p.name for p in res.write(tmp_path)}


def test_cli_sensitivity(tmp_path, capsys):
    params = tmp_path / "params.csv"
    params.write_text("id,distribution,fold\nCL,loguniform,2\ncentral,loguniform,2\n")
    out = tmp_path / "out"
    rc = main(["sensitivity", str(DATA / "onecomp.ant"), "--params", str(params),
               "--method", "morris", "--n", "8", "--metric", "max(Drug)", "--metric",
               "auc(Drug)", "--dose", "100 nmol iv", "--into", "Drug", "--end", "48 h",
               "--points", "49", "--workers", "1", "--seed", "1", "--out", str(out)])
    assert rc == 0
    assert (out / "morris_indices.csv").exists() and (out / "morris.png").exists()
    assert "mu_star" in capsys.readouterr().out
    rc = main(["sensitivity", str(DATA / "onecomp.ant"), "--params", str(params), "--metric",
               "peak(Drug)", "--end", "1", "--out", str(tmp_path / "bad")])
    assert rc == 1 and not (tmp_path / "bad").exists()
    assert "unknown metric" in capsys.readouterr().err
