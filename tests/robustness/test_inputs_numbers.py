"""A bad number is named as such before any solver runs (exit 1), not blamed on CVODE."""

from __future__ import annotations

import pytest

import workbench as wb
from workbench.errors import DoseError, SpecError

from .inputs_support import ROOT, refused

pytestmark = pytest.mark.robust("bad numbers")

ONECOMP = ROOT / "models" / "onecomp_iv.ant"
BASE = ["simulate", ONECOMP, "--end", "10 h", "--into", "Drug", "--mw", "150 kDa"]

CASES = [
    ("negative-weight", ["--dose", "1 mg/kg iv", "--weight", "-70"], ["--weight", "-70"]),
    ("nan-weight", ["--dose", "1 mg/kg iv", "--weight", "nan"], ["--weight", "nan"]),
    ("negative-rtol", ["--dose", "1 mg iv", "--rtol", "-1"], ["--rtol", "-1"]),
    ("zero-atol", ["--dose", "1 mg iv", "--atol", "0"], ["--atol"]),
    ("nan-dose", ["--dose", "nan mg iv"], ["'nan mg iv'", "amount"]),
    ("inf-dose", ["--dose", "inf mg iv"], ["'inf mg iv'", "amount"]),
    ("1e308-mg-per-kg", ["--dose", "1e308 mg/kg iv"], ["1e+308 mg/kg", "not a finite amount"]),
    ("zero-volume", ["--dose", "1 mg iv", "--set", "central=0"], ["central", "positive"]),
    ("negative-volume", ["--dose", "1 mg iv", "--set", "central=-1"], ["central", "positive"]),
    ("nan-parameter", ["--dose", "1 mg iv", "--set", "CL=nan"], ["CL", "finite"]),
    ("inf-parameter", ["--dose", "1 mg iv", "--set", "CL=inf"], ["CL", "finite"]),
    ("zero-mw", ["--dose", "1 mg iv", "--mw", "0 kDa"], ["molecular weight"]),
    ("negative-end", ["--end", "-5 h"], ["end"]),
]


@pytest.mark.parametrize("name,extra,says", CASES, ids=[c[0] for c in CASES])
def test_bad_number_named(tmp_path, name, extra, says):
    out = tmp_path / "o.csv"
    err = refused("bad numbers", name, [*BASE, *extra, "-o", out], tmp_path, codes=(1,),
                  says=says, inputs=[ONECOMP], outputs=[out])
    assert "CVODE" not in err and "solver" not in err.lower()


def test_weight_heavy(tmp_path):
    out = tmp_path / "o.csv"
    refused("bad numbers", "weight-heavy-cli", [*BASE, "--dose", "1 mg/kg iv", "--weight",
                                                "heavy", "-o", out], tmp_path, codes=(2,),
            says=["--weight", "heavy"], outputs=[out])
    with pytest.raises(DoseError, match="weight"):
        wb.Subject(weight="heavy")
    with pytest.raises(DoseError, match="weight"):
        wb.Subject(weight=-1.0)


def test_api_checks_before_solver():
    m = wb.load_model(ONECOMP)
    with pytest.raises(SpecError, match="relative tolerance"):
        wb.simulate(m, "1 mg iv", target="Drug", mw="150 kDa", end=10,
                    integrator=wb.IntegratorSettings(relative_tolerance=-1))
    with pytest.raises(SpecError, match="central"):
        wb.simulate(m, end=10, parameters={"central": 0.0})


def test_parameter_space_unit_dimension(tmp_path):
    f = tmp_path / "ps.csv"
    f.write_text("id,distribution,low,high,unit\nCL,loguniform,0.001,0.01,kg\n")
    out = tmp_path / "sens"
    refused("bad numbers", "clearance-in-kg", ["sensitivity", ONECOMP, "--params", f, "--method",
                                               "local", "--metric", "max(Drug)", "--dose",
                                               "1 mg iv", "--into", "Drug", "--mw", "150 kDa",
                                               "--end", "100 h", "--out", out, "--workers", "1"],
            tmp_path, codes=(1,), says=["CL", "'kg'", "[mass]", "[length] ** 3 / [time]"],
            inputs=[f], outputs=[out])
    m = wb.load_model(ONECOMP)
    f.write_text("id,distribution,low,high,unit\nCL,loguniform,0.1,0.3,L/day\n")
    with pytest.raises(SpecError, match="off by that factor"):
        wb.read_parameter_space(f).with_model(m)
    f.write_text("id,distribution,low,high,unit\nCL,loguniform,0.001,0.01,L/h\n")
    assert wb.read_parameter_space(f).with_model(m).ranges[0].unit == "L/h"
