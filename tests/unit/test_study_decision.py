"""Study-file validation (every error at once) and the dose-decision rules."""

import math

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.errors import SpecError
from workbench.mabel.decision import DecisionSettings, decide
from workbench.mabel.qsp import qsp_mabel
from workbench.study.schema import lint_study, read_study, risk_level


def test_study_lists_every_error(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text(
        "name: x\n"
        "model_risk: {influence: huge}\n"
        "model: {file: missing.ant}\n"
        "drug: {species: Drug, mw: heavy}\n"
        "effects: ['max(RO) is big']\n"
        "decision: {severity: awful, escalation: sideways, colour: red, guide: top,\n"
        "           statistic: mean, design: 2+2, min_fold: 4, max_fold: 3,\n"
        "           risk_metric: max(IL6)}\n"
        "minimal_active_effect: {definition: 'min(T) is low'}\n"
        "population: {n: 1, bsv: {CL: -1}, correlations: [[CL, V, 2]], volumes: [3],\n"
        "             plausible: {'value(R, 0)': [5, 1]}, covariates: nobody.csv, size: 2}\n"
        "banana: 1\n")
    errs = lint_study(p)
    text = "\n".join(errs)
    for expected in ("question: required", "context_of_use: required",
                     "model_risk.influence: 'huge'", "model_risk.consequence: required",
                     "model.file: file 'missing.ant' not found", "drug.mw:", "outputs: required",
                     "effects[0]:", "decision.severity: 'awful'", "decision.escalation",
                     "decision.colour: unknown", "decision.guide: 'top'", "banana: unknown",
                     "decision.statistic: 'mean'", "decision.design: '2+2'",
                     "decision.min_fold/max_fold", "decision.risk_threshold: required",
                     "minimal_active_effect:",
                     "population.n: 1 subjects", "population.bsv.CL: CV -1",
                     "population.correlations[0]:", "population.volumes:",
                     "population.plausible.value(R, 0):", "population.covariates: file",
                     "population.size: unknown"):
        assert expected in text, expected
    with pytest.raises(SpecError) as exc:
        read_study(p)
    assert f"{len(errs)} problem(s)" in str(exc.value)


def test_bundled_study_is_valid_and_high_risk():
    s = read_study("studies/cd3_bispecific.yaml")
    assert s.risk == "high" and "uncertainty" in s.required_analyses
    assert risk_level("low", "low") == "low"


def _qsp():
    return qsp_mabel("tests/data/onecomp_binding.ant", ["max(RO) >= 0.10"], target="Drug",
                     dose_range=("0.001 nmol", "1000 nmol"), grid_points=7, end="24 h", points=20)


def test_novel_target_lowest_wins_and_safety_factors():
    q = _qsp()
    # the QSP MABEL itself: 10 % peak occupancy at D = V Kd / 9 (onecomp_binding.ant)
    assert q.estimates[0].dose == pytest.approx(5 * 2 / 9, rel=1e-3)
    trad = pd.DataFrame([{C.NAME: "RO", C.METHOD: "occupancy", C.DOSE: 0.5, C.DOSE_UNIT: "nmol",
                          C.INPUTS: ""}], columns=list(C.TRADITIONAL_COLUMNS))
    d = decide(q, trad, DecisionSettings(severity="severe", reversibility="irreversible",
                                         novelty="novel", statistic="nominal"))
    assert d.basis == "RO"                       # lowest wins for a novel target
    assert d.start_dose == pytest.approx(0.027)  # 0.5 / (3 x 3 x 2) = 0.0278, rounded down
    d2 = decide(q, trad, DecisionSettings(severity="mild", reversibility="reversible",
                                          novelty="established", statistic="nominal"))
    assert d2.basis == "QSP MABEL"               # within 3-fold and established: QSP kept
    assert d2.start_dose == pytest.approx(1.1, rel=1e-9)      # 1.111 rounded down to 2 digits
    assert set(d.table.columns) == set(C.DECISION_COLUMNS)


def test_no_estimate_no_dose():
    q = qsp_mabel("tests/data/onecomp_binding.ant", ["max(RO) >= 0.9999999"], target="Drug",
                  dose_range=("0.001 nmol", "10 nmol"), grid_points=5, end="24 h", points=20)
    d = decide(q, pd.DataFrame(columns=list(C.TRADITIONAL_COLUMNS)))
    assert math.isnan(d.start_dose)
    assert "not reached up to 10 nmol" in " ".join(d.table[C.SENTENCE])


def test_effect_floor_and_assay_limit():
    from workbench.mabel.qsp import parse_effect

    e = parse_effect("max(IL6) >= max(2 x baseline, 10 pg/mL)", lloq="5 pg/mL")
    assert e.relative and e.threshold == 2 and e.floor == 10
    assert e.absolute(4.0, "pg/mL") == pytest.approx(10.0)          # the floor wins
    assert e.absolute(7.0, "pg/mL") == pytest.approx(14.0)          # twice baseline wins
    assert e.absolute(7.0, "ng/L") == pytest.approx(14.0)           # same unit, other name
    assert e.measurable(5.186, "pg/mL")[0] is True
    old = parse_effect("max(IL6) >= 1.2 x baseline", lloq="5 pg/mL")
    ok, why = old.measurable(5.186, "pg/mL")                        # +1 pg/mL: assay noise
    assert ok is False and "within assay noise" in why
    assert parse_effect("max(RO) >= 0.1").measurable(0.0)[0] is None
    with pytest.raises(SpecError):
        parse_effect("max(IL6) >= min(2 x baseline, 10)")           # min with >=
    with pytest.raises(SpecError):
        parse_effect("max(IL6) >= 2 x baseline", lloq="lots")


def test_statistic_compete_and_cumulative_margin():
    """The decision statistic is any percentile of the MABEL distribution; the cumulative
    margin is the product of the cautionary steps and equals nominal MABEL / start."""
    from workbench.analysis.uncertainty import build_uncertainty
    from workbench.mabel.decision import statistic_value

    m = "tests/data/onecomp_binding.ant"
    from workbench.core.model import load_model

    mm = load_model(m)
    samples = build_uncertainty(mm, params=["Kd=lognormal,cv=0.5"]).with_model(mm).sample(
        40, seed=3)
    q = qsp_mabel(m, ["max(RO) >= 0.10", "max(RO) >= 0.05"], target="Drug",
                  dose_range=("0.001 nmol", "1000 nmol"), grid_points=9, end="24 h", points=20,
                  samples=samples)
    best = q.lowest()
    per = best.per_sample[C.DOSE].to_numpy()
    assert statistic_value(best, 25) == pytest.approx(np.percentile(per, 25, method="nearest"))
    assert statistic_value(best, "nominal") == best.dose
    trad = pd.DataFrame([{C.NAME: "RO", C.METHOD: "occupancy", C.DOSE: 0.01, C.DOSE_UNIT: "nmol",
                          C.INPUTS: ""}], columns=list(C.TRADITIONAL_COLUMNS))
    s = DecisionSettings(statistic=25, compete=("qsp",), novelty="novel")
    d = decide(q, trad, s)
    assert d.basis == "QSP MABEL"                  # the traditional estimate does not compete
    assert d.qsp_mabel == pytest.approx(statistic_value(best, 25))
    assert d.cumulative_margin == pytest.approx(q.estimates[0].dose / d.start_dose, rel=1e-9)
    assert d.cumulative_margin == pytest.approx(float(np.prod(d.margin[C.VALUE])), rel=1e-12)
    assert "Cumulative margin:" in d.table[C.SENTENCE].iloc[-1]
    d2 = decide(q, trad, DecisionSettings(statistic="nominal", novelty="novel"))
    assert d2.basis == "RO"                        # both compete: the lowest wins
    with pytest.raises(SpecError):
        DecisionSettings(statistic="mean")
    with pytest.raises(SpecError):
        DecisionSettings(min_fold=4, max_fold=3)
