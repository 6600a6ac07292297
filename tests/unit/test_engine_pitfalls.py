"""Regression tests for libRoadRunner pitfalls the engine works around."""

from __future__ import annotations

import math

import pytest

from workbench import load_model, simulate

IA_MODEL = """model m
  compartment c = 1
  species S in c
  S = 2 * Nt
  Nt = 4
  bet = 2 / Nt
  gam = bet * 3
  J: S -> ; bet * S
end"""


def test_parameter_initial_assignments_follow_set_values():
    # libRoadRunner 2.10 does not re-evaluate parameter initial assignments on reset()
    df = simulate(IA_MODEL, times=[0, 1], outputs=["bet", "gam", "S"], parameters={"Nt": 8})
    assert df.bet.iloc[0] == pytest.approx(0.25) and df.gam.iloc[0] == pytest.approx(0.75)
    # S(0) = 2 Nt = 16, dS/dt = -bet S  (c = 1)
    assert df.S.iloc[1] == pytest.approx(16 * math.exp(-0.25), rel=1e-6)
    back = simulate(IA_MODEL, times=[0, 1], outputs=["bet", "S"])
    assert back.bet.iloc[0] == 0.5 and back.S.iloc[0] == 8.0
    own = simulate(IA_MODEL, times=[0, 1], outputs=["bet", "gam"], parameters={"bet": 1.0})
    assert own.bet.iloc[0] == 1.0 and own.gam.iloc[0] == pytest.approx(3.0)


def test_parameter_initial_assignments_read_through_assignment_rules():
    # p = 2 * X0 with the assignment rule X0 := k / d: setting k changes p (it stayed at its
    # loaded 200: only assignments reading a set id directly were evaluated)
    model = ("model m\n compartment c = 1\n species X in c\n k = 20\n d = 0.2\n"
             " X0 := k / d\n X = X0\n p = 2 * X0\n J: X -> ; d * X\nend")
    df = simulate(model, times=[0, 1], outputs=["X0", "X", "p"], parameters={"k": 40})
    assert df.iloc[0][["X0", "X", "p"]].tolist() == pytest.approx([200.0, 200.0, 400.0])
    back = simulate(model, times=[0, 1], outputs=["X0", "X", "p"])
    assert back.iloc[0][["X0", "X", "p"]].tolist() == pytest.approx([100.0, 100.0, 200.0])


def test_selections_survive_model_regeneration():
    # setting a species' initial value can regenerate the model and reset its selections
    m = load_model(IA_MODEL)
    for _ in range(2):
        df = simulate(m, times=[0, 1], outputs=["S"], parameters={"S": 3.0})
        assert list(df.columns) == ["time", "S"]
        assert df.S.iloc[1] == pytest.approx(3 * math.exp(-0.5), rel=1e-6)


def test_element_named_like_a_roadrunner_method():
    # libRoadRunner installs model ids as class attributes; an id `reset` used to delete
    # RoadRunner.reset for every later model in the process
    clash = load_model("model r\n compartment c = 1\n species S in c = 1\n reset = 0.5\n"
                       " simulate = 2\n J: S -> ; reset * S\nend")
    df = simulate(clash, times=[0, 2], outputs=["S", "reset"])
    assert df.S.iloc[1] == pytest.approx(math.exp(-1.0), rel=1e-6)
    other = simulate(IA_MODEL, times=[0, 1], outputs=["S"])
    assert other.S.iloc[1] == pytest.approx(8 * math.exp(-0.5), rel=1e-6)


def test_sedml_export_leaves_libsbml_math_intact():
    # importing python-libsedml next to python-libsbml breaks ASTNode.getType(); the
    # SED-ML writer therefore runs in a child process
    import libsbml

    from workbench.exchange.sedml import sedml_document

    text = sedml_document(load_model(IA_MODEL).sbml, ["S"], end=1.0, points=3)
    assert "sedML" in text
    assert isinstance(libsbml.parseL3Formula("x + 1").getType(), int)


def test_setting_a_species_keeps_its_initial_assignment():
    # an `init(S)` selection would drop S's initial assignment (S = 2 Nt) for good
    m = load_model(IA_MODEL)
    assert simulate(m, times=[0, 1], outputs=["S"], parameters={"S": 5.0}).S.iloc[0] == 5.0
    assert simulate(m, times=[0, 1], outputs=["S"], parameters={"Nt": 10.0}).S.iloc[0] == 20.0
    assert simulate(m, times=[0, 1], outputs=["S"]).S.iloc[0] == 8.0


def test_species_concentration_and_compartment_set_together():
    m = load_model("model v\n compartment c = 2\n species S in c = 1\n J: S -> ; 0\nend")
    for params in ({"S": 0.5, "c": 3.0}, {"c": 3.0, "S": 0.5}):
        df = simulate(m, times=[0, 1], outputs=["S", "amount(S)"], parameters=params)
        assert df.S.iloc[0] == pytest.approx(0.5) and df["amount(S)"].iloc[0] == pytest.approx(1.5)


def test_math_walks_survive_a_libsedml_import():
    # importing libsedml (or tellurium) breaks ASTNode.getType() in the whole process; the
    # engine's math walks must not depend on it. Run in a child to keep this process clean.
    import subprocess
    import sys

    code = ("import libsedml, libsbml\n"
            "from workbench.core._sbmlmath import has_delay, is_discontinuous, names\n"
            "a = libsbml.parseL3Formula('piecewise(1, x > 2, floor(y))')\n"
            "d = libsbml.parseL3Formula('delay(x, 2) + k')\n"
            "assert is_discontinuous([a]) and not is_discontinuous([d])\n"
            "assert has_delay([d]) and not has_delay([a])\n"
            "assert names([d]) == {'x', 'k'}, names([d])\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-1500:]
