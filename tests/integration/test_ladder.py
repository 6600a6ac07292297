"""The safe escalation ladder and the guarded minimal active dose against closed forms.

tests/data/hook_bell.ant: C = D / V (V = 1 L, no elimination), a bell-shaped effect
E = 100 C/(1 + C) 100/(100 + C), largest at C = 10 nM (the bispecific hook).
tests/data/onecomp_binding.ant: RO = C0 / (C0 + Kd) at the peak, C0 = D / 5 L.
"""

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.analysis.uncertainty import build_uncertainty
from workbench.core.model import load_model
from workbench.mabel.decision import DecisionSettings, decide
from workbench.mabel.ladder import (
    escalation_ladder,
    patients_below_active,
    risk_profile,
    tolerable_dose,
)
from workbench.mabel.qsp import qsp_mabel

RUN = dict(route="iv", target="Drug", end="2 h", points=5)


def e_closed(d):
    c = np.asarray(d, float)
    return 100 * c / (1 + c) * 100 / (100 + c)


@pytest.fixture(scope="module")
def hook():
    return load_model("tests/data/hook_bell.ant")


def test_hook_never_widens_a_step_and_the_ladder_stays_in_range(hook):
    """A falling effect (the hook) never widens a step: no step past the peak is larger
    than the steps on the rising side; the running maximum's rise per step stays within
    the limit (closed form); no level exceeds the study's dose range."""
    s = DecisionSettings(escalation="model-guided", guide="nominal", steps=14,
                         max_increase=0.1, min_fold=1.5, max_fold=math.sqrt(10),
                         steepness_steps=False)
    cap = 300.0
    lad = escalation_ladder(hook, 0.02, "nmol", effect="max(E)", exposure="max(Drug)",
                            settings=s, effect_span=float(e_closed(10.0)), dose_cap=cap,
                            per_decade=20, **RUN)
    d = lad[C.DOSE].to_numpy(float)
    assert d.max() <= cap and len(d) >= 8
    np.testing.assert_allclose(lad[C.EFFECT], e_closed(d), rtol=1e-4)   # the model is C = D/V
    folds = d[1:] / d[:-1]
    rising = folds[d[1:] <= 10.0]
    past = folds[d[:-1] >= 10.0]
    assert len(rising) and len(past), "the ladder must cross the peak for the test to bite"
    assert past.max() <= rising.max() * (1 + 1e-9)
    run_max = np.maximum.accumulate(e_closed(np.geomspace(0.02, cap, 4000)))
    grid = np.geomspace(0.02, cap, 4000)
    m_at = lambda x: np.interp(np.log(x), np.log(grid), run_max)  # noqa: E731
    limit = 0.1 * float(e_closed(10.0))
    for (a, b), rule in zip(itertools.pairwise(d), lad[C.RULE].iloc[1:], strict=True):
        if not rule.startswith("step floor"):    # the rise rule (or the ceiling) set it
            assert m_at(b) - m_at(a) <= limit * 1.05, (a, b)
        assert b / a >= 1.5 - 1e-9               # never below the floor
    # without the rule, the falling side would take ceiling steps: the flat running
    # maximum allows x3.16 there, larger than any rising-side step
    assert rising.max() < math.sqrt(10) - 1e-6
    # a dose cap below the peak cuts the ladder at the cap
    low = escalation_ladder(hook, 0.02, "nmol", effect="max(E)", exposure="max(Drug)",
                            settings=s, effect_span=float(e_closed(10.0)), dose_cap=0.5,
                            max_dose=0.4, **RUN)
    assert low[C.DOSE].max() <= 0.4


def test_absolute_risk_limit_and_patients_below_active():
    """P(RO > 0.2) over Kd samples at dose D is the share of Kd < 4 D / V = 0.8 D; the ladder
    never passes the highest dose where it stays below 10 %."""
    m = load_model("tests/data/onecomp_binding.ant")
    samples = build_uncertainty(m, params=["Kd=lognormal,cv=0.5"]).with_model(m).sample(
        200, seed=4)
    kd = samples["Kd"].to_numpy()
    s = DecisionSettings(escalation="model-guided", guide="upper", steps=10, max_increase=0.2,
                         risk_metric="max(RO)", risk_threshold=0.2, risk_probability=0.1)
    lad = escalation_ladder(m, 0.05, "nmol", effect="max(RO)", exposure="max(Drug)",
                            settings=s, samples=samples, effect_span=1.0, dose_cap=1000.0,
                            route="iv", target="Drug", end="24 h", points=20)
    p_closed = [float(np.mean(kd < 0.8 * d)) for d in lad[C.DOSE]]
    np.testing.assert_allclose(lad[C.P_RISK], p_closed, atol=1e-12)
    assert max(p_closed) < 0.1
    assert "tolerability limit" in lad[C.RULE].iloc[-1]
    # closed-form tolerable dose: the 10th percentile of Kd / 0.8
    assert lad[C.DOSE].iloc[-1] <= np.percentile(kd / 0.8, 10) * 1.05
    # expected patients below their own active dose: 3 per level x P(active dose > level)
    active = np.array([1.0, 2.0, 4.0, np.inf])
    ladder = pd.DataFrame({C.DOSE: [0.5, 1.5, 3.0]})
    exp_, below = patients_below_active(ladder, active, "3+3")
    assert exp_ == pytest.approx(3 * (1 + 0.75 + 0.5)) and below == 1
    exp_a, _ = patients_below_active(ladder, active, "accelerated titration")
    assert exp_a == pytest.approx(1 + 3 * 0.75 * 0 + 0.75 + 3 * 0.5)


def test_life_threatening_start_is_capped_by_tolerability():
    """The minimal active dose (RO >= 0.5 in half the patients: D = 5 L x median Kd) lies
    above the tolerability limit (P(RO > 0.2) < 5 %): the proposed start is the limit
    divided by the safety factors, and its risk is below the limit (closed form)."""
    m = load_model("tests/data/onecomp_binding.ant")
    samples = build_uncertainty(m, params=["Kd=lognormal,cv=0.5"]).with_model(m).sample(
        64, seed=5)
    kd = samples["Kd"].to_numpy()
    q = qsp_mabel(m, ["max(RO) >= 0.02"], target="Drug", dose_range=("0.001 nmol", "1000 nmol"),
                  grid_points=13, end="24 h", points=20, samples=samples)
    ma = qsp_mabel(m, ["max(RO) >= 0.5"], target="Drug", dose_range=("0.001 nmol", "1000 nmol"),
                   grid_points=13, end="24 h", points=20, samples=samples).estimates[0]
    s = DecisionSettings(severity="severe", reversibility="reversible", novelty="established",
                         statistic="median", life_threatening=True, justification="no therapy",
                         risk_metric="max(RO)", risk_threshold=0.2, risk_probability=0.05)
    prof = risk_profile(m, np.geomspace(0.01, 100, 61), "nmol", effect="max(RO)",
                        exposure="max(Drug)", settings=s, samples=samples, route="iv",
                        target="Drug", end="24 h", points=20)
    tol = tolerable_dose(prof, s)
    assert np.mean(kd < 0.8 * tol) < 0.05                       # closed form at the limit
    trad = pd.DataFrame(columns=list(C.TRADITIONAL_COLUMNS))
    d = decide(q, trad, s, minimal_active=ma, tolerable_dose=tol)
    mad = float(np.percentile(5.0 * kd, 50, method="nearest"))
    assert mad > tol                                  # uncapped, it would exceed the limit
    assert d.start_dose <= tol / 3.0 * (1 + 1e-9)     # bound = limit / safety factor 3
    assert np.mean(kd < 0.8 * d.start_dose) < 0.05
    assert d.basis.startswith("tolerability bound")
    assert d.minimal_active is not None and "tolerability limit" in set(d.minimal_active[C.ITEM])
    # without a tolerability limit the override is not applied
    d2 = decide(q, trad, s, minimal_active=ma, tolerable_dose=None)
    assert "not applied" in " ".join(d2.table[C.RULE])
    assert d2.start_dose < d.start_dose


def test_levels_with_overlapping_exposures_are_merged():
    """Exposure max(Drug) = D / V: with V lognormal (cv 0.5) the 5-95 % intervals are wide,
    so 1.5-fold steps would overlap; each step is widened until the overlap (closed form
    from the sampled V) is at most the set share."""
    m = load_model("tests/data/onecomp_binding.ant")
    samples = build_uncertainty(m, params=["central=lognormal,cv=0.5"]).with_model(m).sample(
        100, seed=6)
    v = samples["central"].to_numpy()
    s = DecisionSettings(escalation="model-guided", guide="nominal", steps=5, max_increase=0.01,
                         max_overlap=0.3)
    lad = escalation_ladder(m, 0.05, "nmol", effect="max(RO)", exposure="max(Drug)",
                            settings=s, samples=samples, effect_span=1.0, dose_cap=1e4,
                            route="iv", target="Drug", end="24 h", points=20)

    def interval(d):
        return np.percentile(d / v, [5, 95])

    d = lad[C.DOSE].to_numpy(float)
    assert len(d) == 5 and "merged" in " ".join(lad[C.RULE])
    for a, b in itertools.pairwise(d):
        (l1, h1), (l2, h2) = interval(a), interval(b)
        ov = max(0.0, min(h1, h2) - max(l1, l2)) / (max(h1, h2) - min(l1, l2))
        assert ov <= 0.3 + 0.02, (a, b, ov)
        assert b / a > 1.5                          # wider than the floor
