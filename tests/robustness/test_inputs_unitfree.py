"""Unit-free models (no time or substance units, like many published models):
plain numbers mean model units; unit-carrying defaults give way to model-unit
defaults, stated once. ``verify``, ``simulate`` and ``sensitivity`` run."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import workbench as wb

from .inputs_support import run_cli

pytestmark = pytest.mark.robust("unit-free models")

# drug D (one compartment, first-order loss kel) binding receptor R (turnover ksyn/kdeg)
UNIT_FREE = """model uf
  compartment c = 1;
  species D in c = 0; species R in c = 10; species DR in c = 0;
  kon = 0.1; koff = 0.01; kel = 0.05; ksyn = 1; kdeg = 0.1;
  J1: D + R -> DR; kon*D*R - koff*DR;
  J2: D -> ; kel*D;
  J3: -> R; ksyn;
  J4: R -> ; kdeg*R;
  J5: DR -> ; kdeg*DR;
  RO := DR/(R+DR);
end
"""
PK = "model pk\n  compartment c = 1; species D in c = 0; kel = 0.1\n  J: D -> ; kel*D\nend\n"


@pytest.fixture
def uf(tmp_path):
    f = tmp_path / "uf.ant"
    f.write_text(UNIT_FREE)
    return f


@pytest.mark.parametrize("dose", ["5", "5 model units", "5 iv", "5 model units iv"])
def test_plain_number_dose_closed_form(dose):
    m = wb.load_model(PK)
    assert not m.time_unit
    df = wb.simulate(m, dose, target="D", end=10, points=3, outputs=["D"])
    # D(t) = 5 exp(-kel t), model units throughout
    assert df["D"].iloc[-1] == pytest.approx(5 * math.exp(-1.0), rel=1e-6)
    df = wb.simulate(m, "5 q5h x2", target="D", end=10, points=3, outputs=["D"])
    assert df["D"].iloc[-1] == pytest.approx(5 * math.exp(-1.0) + 5 * math.exp(-0.5), rel=1e-6)


def test_simulate_cli(uf, tmp_path):
    out = tmp_path / "o.csv"
    rc, _, err, _ = run_cli(["simulate", uf, "--end", "100", "--dose", "5", "--into", "D",
                             "--points", "5", "-o", out], tmp_path)
    assert rc == 0, err
    df = pd.read_csv(out)
    assert df.shape == (5, 4) and df.iloc[0, 1] == 5
    # bound + free receptor never exceeds its turnover steady state ksyn/kdeg = 10
    assert (df["R"] + df["DR"] <= 10 + 1e-6).all()


def test_verify_cli_default_end_in_model_units(uf, tmp_path):
    rc, out, err, _ = run_cli(["verify", uf, "--drug", "D", "--effect", "RO", "--occupancy",
                               "RO"], tmp_path, timeout=300)
    assert rc in (0, 1), err  # 1: a check failed (a finding, not an error)
    assert "error:" not in err and "Traceback" not in err
    assert err.count("does not apply") == 2  # end and dose range, each stated once
    assert "672 model time units" in err
    assert "baseline" in out and "steady_state" in out
    assert err.count("regimen times are taken as model times") <= 1


def test_sensitivity_cli(uf, tmp_path):
    ps = tmp_path / "ps.csv"
    ps.write_text("id,distribution,low,high\nkon,loguniform,0.01,1\nkel,loguniform,0.01,0.1\n")
    rc, _out, err, _ = run_cli(["sensitivity", uf, "--params", ps, "--method", "morris", "--n",
                               "4", "--metric", "max(RO)", "--dose", "5", "--into", "D", "--end",
                               "100", "--out", tmp_path / "s", "--workers", "1", "--seed", "1"],
                              tmp_path, timeout=300)
    assert rc == 0, err
    idx = pd.read_csv(tmp_path / "s" / "morris_indices.csv")
    # a faster binding raises the peak occupancy: kon ranks first, with mu > 0
    top = idx.sort_values("mu_star", ascending=False).iloc[0]
    assert top["parameter"] == "kon" and top["mu"] > 0


def test_unit_with_unit_free_model_is_explained(uf, tmp_path):
    rc, _, err, _ = run_cli(["simulate", uf, "--end", "100 h", "--dose", "5", "--into", "D"],
                            tmp_path)
    assert rc == 1 and "time unit is undeclared" in err and "plain number" in err
