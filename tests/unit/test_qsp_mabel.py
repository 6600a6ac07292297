"""QSP MABEL against a closed form: one-compartment drug with simple binding.

Peak occupancy RO = C0 / (C0 + Kd) with C0 = D / V at t = 0, so the dose giving
10 % occupancy is D = V Kd / 9 (V = 5 L, Kd = 2 nM: 10/9 nmol).
"""

import math

import pytest

from workbench.errors import SpecError
from workbench.mabel.qsp import parse_effect, qsp_mabel

MODEL = "tests/data/onecomp_binding.ant"


def test_dose_for_10_percent_occupancy_equals_closed_form():
    r = qsp_mabel(MODEL, ["max(RO) >= 0.10"], target="Drug", dose_range=("0.001 nmol", "1000 nmol"),
                  grid_points=13, end="24 h", points=50)
    e = r.estimates[0]
    assert e.status == "reached"
    assert e.dose == pytest.approx(5 * 2 / 9, rel=1e-4)
    # simple binding is a Hill curve with n = 1: D50/D10 = 9 relative to an Emax of 1; here
    # Emax is the occupancy at the top of the grid, RO(1000 nmol) = 200 / 202
    emax = 200 / 202
    x10, x50 = 0.1 * emax, 0.5 * emax
    assert e.steepness.ratio == pytest.approx(x50 / (1 - x50) / (x10 / (1 - x10)), rel=1e-3)
    assert e.steepness.classification == "shallow"
    assert e.steepness.slope == pytest.approx(0.9, abs=0.02)   # d ln RO / d ln D = 1 - RO


def test_unreachable_threshold_says_not_reached():
    r = qsp_mabel(MODEL, ["max(RO) >= 0.999999"], target="Drug",
                  dose_range=("0.001 nmol", "100 nmol"), grid_points=7, end="24 h", points=20)
    e = r.estimates[0]
    assert e.status == "not reached" and math.isnan(e.dose)
    assert e.dose_text() == "not reached up to 100 nmol"
    assert r.lowest() is None


def test_relative_threshold_and_bad_text():
    eff = parse_effect("max(IL6) >= 1.2 x baseline")
    assert eff.relative and eff.threshold == 1.2 and eff.metric == "max(IL6)"
    with pytest.raises(SpecError):
        parse_effect("max(RO) is big")


def test_per_sample_mabel_equals_closed_form_with_edge_cases():
    """Each sample's dose for 10 % occupancy is V Kd / 9; a Kd so small that the lowest
    dose already reaches it gives the lowest dose, one so large that the highest dose does
    not gives NaN (counted as not reached, above every percentile)."""
    import numpy as np
    import pandas as pd

    kd = np.array([0.5, 1.0, 2.0, 3.7, 8.0, 1e-6, 1e6])
    r = qsp_mabel(MODEL, ["max(RO) >= 0.10"], target="Drug",
                  dose_range=("0.001 nmol", "1000 nmol"), grid_points=13, end="24 h", points=20,
                  samples=pd.DataFrame({"Kd": kd}))
    e = r.estimates[0]
    d = e.per_sample["dose"].to_numpy()
    np.testing.assert_allclose(d[:5], 5 * kd[:5] / 9, rtol=1e-3)
    assert d[5] == pytest.approx(0.001) and math.isnan(d[6])
    assert e.n_samples == 7 and e.n_not_reached == 1 and math.isinf(e.upper)
    assert e.median == pytest.approx(5 * 2.0 / 9, rel=1e-3)
    with pytest.raises(SpecError, match="either"):
        qsp_mabel(MODEL, ["max(RO) >= 0.10"], target="Drug", samples=pd.DataFrame({"Kd": kd}),
                  uncertainty=object())
