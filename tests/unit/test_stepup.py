"""Step-up (priming) regimens: a model with T-cell tolerance ranks the schedules, a model
without it says priming is not modelled; per-administration peaks against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.core.model import load_model
from workbench.errors import SpecError
from workbench.mabel.plots import stepup_blocks as report_blocks
from workbench.mabel.stepup import (
    StepUpSchedule,
    StepUpSettings,
    evaluate_stepup,
    lint_stepup,
    parse_stepup,
    search_schedules,
)

_UNITS = """
  unit time_unit = 3600 second
  unit substance = 1e-9 mole
  unit extent = 1e-9 mole
  unit volume = litre
  compartment central = 3
  species Drug in central = 0
  CL = 0.1
  R1: Drug -> ; CL * Drug
  EC50 = 1
  IL6_0 = 5
  Emax = 3000
"""

#: activation with a refractory (tolerant) state: a first activation lowers later ones
TOLERANCE = "model tol()\n" + _UNITS + """
  Stim := Drug^2 / (EC50^2 + Drug^2)
  A = 0
  Tol = 0
  kA = 0.5
  kexh = 0.1
  krec = 0.005
  A' = kA * (Stim * (1 - Tol) - A) - kexh * A
  Tol' = kexh * A - krec * Tol
  IL6 := IL6_0 + Emax * A
end"""

#: IL-6 follows the drug concentration directly: no memory of earlier doses
DIRECT = "model direct()\n" + _UNITS + """
  IL6 := IL6_0 + Emax * Drug / (EC50 + Drug)
end"""

SCHEDULES = (StepUpSchedule("no priming", "30 nmol iv q1w x2"),
             StepUpSchedule("1:5:25 every 3 d",
                            "1.2 nmol iv then 6 nmol after 3 d then 30 nmol after 3 d q1w x2"),
             StepUpSchedule("one step 1:5", "6 nmol iv then 30 nmol after 3 d q1w x2"))


def _settings(**kw) -> StepUpSettings:
    base = dict(target_dose=30.0, dose_unit="nmol", risk="IL6", exposure="Drug",
                schedules=SCHEDULES, limit=1000.0)
    return StepUpSettings(**{**base, **kw})


def test_tolerance_model_priming_lowers_the_first_full_dose_peak_and_ranks():
    m = load_model(TOLERANCE)
    samples = pd.DataFrame({"CL": np.geomspace(0.05, 0.2, 12), "kA": np.linspace(0.3, 0.8, 12)})
    r = evaluate_stepup(m, _settings(limit=1500.0), samples=samples, spread="test draws",
                        target="Drug")
    t = r.summary.set_index(C.SCHEDULE)
    assert r.priming_modelled
    # the unprimed schedule's first dose is the reference itself
    assert t.loc["no priming", C.REDUCTION] == pytest.approx(0.0, abs=1e-9)
    for name in ("1:5:25 every 3 d", "one step 1:5"):
        assert t.loc[name, C.FIRST_FULL_NOMINAL] < 0.8 * t.loc[name, C.NAIVE_NOMINAL]
        assert t.loc[name, C.FIRST_FULL_UPPER] < t.loc[name, C.NAIVE_UPPER]
    # every schedule is ranked; the unprimed one last (its first dose is the riskiest)
    assert sorted(t[C.RANK]) == [1.0, 2.0, 3.0]
    assert t.loc["no priming", C.RANK] == 3
    assert r.best in ("1:5:25 every 3 d", "one step 1:5")
    assert t.loc[r.best, C.WORST_PROBABILITY] < t.loc["no priming", C.WORST_PROBABILITY]
    a = r.administrations
    assert (a[C.N_OK] == len(samples)).all() and a[C.PROBABILITY].between(0, 1).all()
    assert (a[C.CI_LOW] <= a[C.PROBABILITY]).all() and (a[C.PROBABILITY] <= a[C.CI_HIGH]).all()
    assert "Priming is modelled" in r.verdict() and r.best in r.verdict()
    kinds = [k for k, _ in report_blocks(r)]
    assert kinds.count("table") == 2 and "fig" in kinds
    import matplotlib.pyplot as plt

    plt.close("all")


def test_direct_model_reports_that_priming_is_not_modelled():
    m = load_model(DIRECT)
    r = evaluate_stepup(m, _settings(), target="Drug")
    assert not r.priming_modelled and r.best is None
    assert r.summary[C.RANK].isna().all()
    assert r.verdict().startswith("Priming is not modelled")
    assert "fig" not in [k for k, _ in report_blocks(r)]


def test_direct_model_peaks_equal_the_closed_form():
    """Linear one-compartment PK and a direct Emax effect: the peak after dose i is at its
    time, C = sum_j D_j exp(-k (t_i - t_j)) / V, IL6 = IL6_0 + Emax C / (EC50 + C)."""
    m = load_model(DIRECT)
    r = evaluate_stepup(m, _settings(), target="Drug")
    k, v = 0.1 / 3.0, 3.0
    for sch in SCHEDULES[1:]:
        from workbench.core.dosing import parse_regimen

        doses = [(d.time, d.amount) for d in parse_regimen(sch.regimen).doses]
        g = r.administrations[r.administrations[C.SCHEDULE] == sch.name]
        for (ti, _), got in zip(doses, g[C.NOMINAL], strict=True):
            c = sum(dj * math.exp(-k * (ti - tj)) for tj, dj in doses if tj <= ti) / v
            assert got == pytest.approx(5 + 3000 * c / (1 + c), rel=1e-5)


def test_search_schedules_and_study_block():
    s = search_schedules(10.0, "ug/kg", fractions=[0.04], steps=[2], intervals=["3 d"])
    assert len(s) == 1
    assert s[0].regimen == "0.4 ug/kg iv then 2 ug/kg after 3 d then 10 ug/kg after 3 d q1w x2"
    d = {"target_dose": "0.01 mg/kg", "limit": 1000, "schedules": [
        {"name": "tec", "regimen": s[0].regimen}],
        "search": {"fractions": [0.04, 0.01], "steps": [2], "intervals": ["3 d"]}}
    st = parse_stepup(d, dose_unit="ug/kg", risk="IL6", exposure="Cfree")
    assert st.target_dose == pytest.approx(10.0)   # 0.01 mg/kg in the study's ug/kg
    # the searched 1:5:25 schedule equals the named one: kept once, under its name
    assert st.schedules[0].name == "tec" and len(st.schedules) == 2


@pytest.mark.parametrize("block, words", [
    ({"limit": 1000, "schedules": [{"regimen": "1 ug/kg iv"}]}, "target_dose"),
    ({"target_dose": "1 ug/kg", "schedules": [{"regimen": "1 mg iv"}]}, "per body size"),
    ({"target_dose": "1 ug/kg", "schedules": [{"regimen": "1 ug/kg"}]}, "route"),
    ({"target_dose": "1 ug/kg", "limit": -3, "schedules": [{"regimen": "1 ug/kg iv"}]}, "limit"),
    ({"target_dose": "1 ug/kg", "search": {"fractions": [2]}}, "fractions"),
    ({"target_dose": "1 ug/kg"}, "give schedules or a search"),
    ({"target_dose": "1 ug/kg", "schedules": [{"regimen": "1 ug/kg iv"}], "colour": 1},
     "unknown field"),
])
def test_bad_stepup_blocks_are_named(block, words):
    errs = lint_stepup(block, "ug/kg")
    assert any(words in e for e in errs), errs
    with pytest.raises(SpecError):
        parse_stepup(block, dose_unit="ug/kg", risk="IL6", exposure="Cfree")
