"""Sobol indices with N set by convergence, against the analytic indices of an additive model,
and sensitivity at named doses."""

from __future__ import annotations

import pytest

from workbench import columns as C
from workbench.analysis.sensitivity import ParameterRange, ParameterSpace
from workbench.core.model import load_model
from workbench.mabel.decision_analyses import (
    WHERE,
    sensitivity_at_levels,
    sobol_converged,
)
from workbench.mabel.plots import sensitivity_blocks

#: y = a + 2 b, a, b ~ U(0, 1): Var y = 1/12 + 4/12, S1 = ST = 0.2 (a) and 0.8 (b)
ADDITIVE = """model additive
  a = 0.5
  b = 0.5
  y := a + 2 * b
end"""

SPACE = ParameterSpace((ParameterRange("a", "uniform", low=0.0, high=1.0),
                        ParameterRange("b", "uniform", low=0.0, high=1.0)))


def test_sobol_n_doubles_until_converged_and_matches_the_analytic_indices():
    r = sobol_converged(load_model(ADDITIVE), SPACE, None, metrics=["max(y)"], times=[0, 1],
                        n_start=16, n_max=512, tol=0.03, log=False, seed=1)
    st = r.indices.set_index(C.PARAMETER)
    assert r.settings["converged"] and 16 < r.settings["n"] <= 512
    assert len(r.samples) == r.settings["n"] * 4 == r.settings["n_runs"]  # N (k + 2) runs
    assert st.loc["a", C.ST] == pytest.approx(0.2, abs=0.05)
    assert st.loc["b", C.ST] == pytest.approx(0.8, abs=0.05)
    assert st.loc["b", C.S1] == pytest.approx(0.8, abs=0.05)
    conv = r.convergence
    assert list(conv[C.N_BASE]) == [16 * 2 ** i for i in range(len(conv))]
    assert bool(conv[C.STABLE].iloc[-1]) and conv[C.MAX_ST_CHANGE].iloc[-1] <= 0.03


def test_sobol_stops_at_the_stated_maximum():
    r = sobol_converged(load_model(ADDITIVE), SPACE, None, metrics=["max(y)"], times=[0, 1],
                        n_start=8, n_max=32, tol=1e-9, log=False, seed=1)
    assert not r.settings["converged"] and r.settings["n"] == 32 and r.settings["n_max"] == 32


def test_sensitivity_at_named_doses():
    m = load_model("""model pk
  unit time_unit = 3600 second
  unit substance = 1e-9 mole
  unit volume = litre
  compartment central = 3
  species Drug in central = 0
  CL = 0.1
  R1: Drug -> ; CL * Drug
end""")
    space = ParameterSpace((ParameterRange("CL", "loguniform", low=0.05, high=0.2),
                            ParameterRange("central", "loguniform", low=2.0, high=4.0)))
    ls = sensitivity_at_levels(m, space, [("QSP MABEL", 3.0), ("ladder level 1", 1.0),
                                          ("nothing", float("nan"))], "nmol",
                               metrics=["max(Drug)"], times=[0, 1, 2], n_start=8, n_max=16,
                               target="Drug")
    assert list(ls.doses[WHERE]) == ["QSP MABEL", "ladder level 1"]
    # peak = dose / V: d ln y / d ln V = -1, d ln y / d ln CL = 0 at t = 0
    loc = ls.local.set_index([WHERE, C.PARAMETER])[C.SENSITIVITY]
    assert loc[("QSP MABEL", "central")] == pytest.approx(-1.0, abs=1e-6)
    assert loc[("ladder level 1", "CL")] == pytest.approx(0.0, abs=1e-6)
    assert set(ls.sobol[WHERE]) == {"QSP MABEL", "ladder level 1"}
    assert "stated maximum of N = 16" in ls.verdict()
    # the point without a positive dose is not silently dropped: the result and the report say so
    assert ls.settings["skipped"] and ls.settings["skipped"][0][0] == "nothing"
    assert "Not analysed (the dose is not a positive number): nothing (nan)" in ls.verdict()
    zero = sensitivity_at_levels(m, space, [("zero", 0.0), ("negative", -1.0)], "nmol",
                                 metrics=["max(Drug)"], times=[0, 1, 2], sobol=False,
                                 target="Drug")
    assert zero.doses.empty and [w for w, _ in zero.settings["skipped"]] == ["zero", "negative"]
    text = " ".join(str(b[1]) for b in sensitivity_blocks(zero) if b[0] == "p")
    assert "zero (0.0), negative (-1.0)" in text
