"""The convergence check and blow-up detection (workbench.convergence), on models with a
known answer: a synthetic unstable analytically-zero subsystem, and a one-compartment model
(closed form)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import DATA

from workbench import IntegratorSettings, run_ensemble, simulate
from workbench.sim.convergence import (
    BlowUpError,
    ConvergenceError,
    ConvergenceWarning,
    check_blowup,
    convergence_options,
    relative_differences,
)

UNSTABLE = DATA / "unstable_zero.ant"
ONECOMP = DATA / "onecomp.ant"


def test_unstable_subsystem_caught_when_it_is_an_output():
    # at rtol 1e-8 X has grown from solver error to ~1e26 (the true value is 0)
    with pytest.warns(ConvergenceWarning, match=r"not converged.*X"):
        df = simulate(UNSTABLE, end=100, points=11, outputs=["Y", "X"],
                      integrator=IntegratorSettings(1e-8, 1e-12))
    conv = df.attrs["convergence"].table.set_index("output")
    assert abs(df["X"].iloc[-1]) > 1e10  # the wrong number the check is there for
    assert conv.loc["X", "max_rel_diff"] > 1.0


def test_unstable_subsystem_caught_when_unobserved_and_at_the_defaults():
    # only A observed (unaffected): the hidden state X is compared at the end of the run
    with pytest.warns(ConvergenceWarning, match=r"state X"):
        simulate(UNSTABLE, end=100, points=11, outputs=["A"])


def test_unstable_subsystem_strict_fails_naming_the_state():
    with convergence_options(strict=True), pytest.raises(ConvergenceError, match="X"):
        simulate(UNSTABLE, end=100, points=11, outputs=["Y"],
                 integrator=IntegratorSettings(1e-8, 1e-12))


def test_blow_up_named_even_without_the_convergence_check():
    # faster feedback: X passes 1e30 by t = 100 (e^150 * solver error)
    with pytest.raises(BlowUpError, match=r"blew up.*\bX\b"):
        simulate(UNSTABLE, end=100, points=11, outputs=["A"], parameters={"g": 1.5},
                 convergence_check=False)


def test_ensemble_check_catches_the_unstable_subsystem():
    s = pd.DataFrame({"g": np.linspace(0.7, 0.8, 8)})
    with pytest.warns(ConvergenceWarning, match=r"ensemble.*max\(X\)"):
        r = run_ensemble(UNSTABLE, s, metrics=["max(X)", "auc(A)"], end=100, workers=1,
                         integrator=IntegratorSettings(1e-8, 1e-12))
    conv = r.attrs["convergence"].table.set_index("output")
    assert conv.loc["auc(A)", "max_rel_diff"] < 1e-4
    # of order one, far above the 1e-4 threshold (libRoadRunner 2.10 gives about 2e26; 2.11,
    # whose loose and tight runs land on opposite sides of the blow-up, exactly 1)
    assert conv.loc["max(X)", "max_rel_diff"] >= 0.5


def test_converged_model_passes_quietly_and_matches_closed_form():
    # one compartment, k = CL/V = 0.1 /h: Drug(t) = 1 nmol / 5 L * exp(-0.1 t)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        df = simulate(ONECOMP, "1 nmol iv", target="Drug", end=48, points=49)
        r = run_ensemble(ONECOMP, {"CL": [0.25, 0.5, 1.0]}, "1 nmol iv", target="Drug",
                         metrics=["max(Drug)"], end=48, workers=1)
    exact = 0.2 * np.exp(-0.1 * df["time"].to_numpy())
    assert np.max(np.abs(df["Drug"].to_numpy() / exact - 1)) < 1e-8
    conv = df.attrs["convergence"]
    assert conv.converged and conv.table["max_rel_diff"].max() < 1e-6
    assert r.attrs["convergence"].table["max_rel_diff"].max() < 1e-6


def test_opt_out():
    with convergence_options(enabled=False):
        df = simulate(UNSTABLE, end=100, points=11, outputs=["Y"])
    assert df.attrs["convergence"] is None
    df = simulate(UNSTABLE, end=100, points=11, outputs=["Y"], convergence_check=False)
    assert df.attrs["convergence"] is None


def test_relative_differences_ignore_values_below_solver_resolution():
    ref = np.array([[1.0, 0.0], [1e-3, 1e-20]])
    val = np.array([[1.0 + 1e-6, 0.0], [1e-3, 3e-20]])
    t = relative_differences(val, ref, ["a", "b"], floor=1e-12).set_index("output")
    assert t.loc["a", "max_rel_diff"] == pytest.approx(1e-6)
    assert t.loc["b", "max_rel_diff"] < 1e-6  # 2e-20 against the 1e-12 floor


def test_relative_differences_say_where_the_worst_difference_sits():
    """The table keeps the reference value at the worst point and the column's largest, so
    the warning can say a 3 % difference sits on a value 1e5-fold below the rest."""
    from workbench.sim.convergence import _where

    ref = np.array([[1e-5], [2e-11]])
    val = np.array([[1e-5], [2.07e-11]])
    t = relative_differences(val, ref, ["c"]).set_index("output")
    assert t.loc["c", "max_rel_diff"] == pytest.approx(0.035)
    assert t.loc["c", "reference"] == 2e-11 and t.loc["c", "largest"] == 1e-5
    assert _where(t.loc["c"]) == " (at 2e-11 of largest 1e-05)"
    t2 = relative_differences(np.array([[1.1], [1.0]]), np.array([[1.0], [1.0]]), ["d"])
    assert _where(t2.iloc[0]) == ""  # the worst point is the largest value: nothing to add


def test_check_blowup_names_non_finite_and_huge():
    check_blowup(["a"], np.array([[1e29]]), source="m", limit=1e30)
    with pytest.raises(BlowUpError, match=r"b \(not finite\).*c \(reaches 2e\+31\)"):
        check_blowup(["a", "b", "c"], np.array([[1.0, math.nan, 2e31]]), source="m",
                     limit=1e30)


def test_check_ensemble_reports_a_non_finite_ok_row():
    """A non-finite metric in a row marked ok was replaced by 0 before the blow-up check
    (masked); it is now reported, naming the metric, and finite rows still pass."""
    from workbench.convergence import ConvergenceOptions, check_ensemble

    opts = ConvergenceOptions(enabled=False)
    ok = pd.DataFrame({"max(x)": [1.0, 2.0], "status": ["ok", "ok"]})
    assert check_ensemble(lambda s, r: ok, ok, ["max(x)"], "status", "ok", settings=None,
                          opts=opts, source="m") is None
    bad = pd.DataFrame({"max(x)": [1.0, math.inf], "status": ["ok", "ok"]})
    with pytest.raises(BlowUpError, match=r"max\(x\) \(not finite\)"):
        check_ensemble(lambda s, r: bad, bad, ["max(x)"], "status", "ok", settings=None,
                       opts=opts, source="m")
    failed = pd.DataFrame({"max(x)": [1.0, math.nan], "status": ["ok", "failed: x"]})
    assert check_ensemble(lambda s, r: failed, failed, ["max(x)"], "status", "ok",
                          settings=None, opts=opts, source="m") is None
