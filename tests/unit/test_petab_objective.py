"""The PEtab objective against closed forms; bad input reported all at once, no fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from petab_factory import CONSTANT_ANTIMONY, decay_problem, write_problem
from scipy import stats

from workbench import calibrate, lint_petab, read_petab
from workbench.calibrate.petab_objective import Objective
from workbench.errors import CalibrationError


def _constant_problem(tmp_path, transformation: str, noise: str):
    """A = a0 = 5 for all t; sigma = 0.4; measurements 4.2, 5.5, 6.1 at t = 0, 1, 2."""
    obs = [{"observableId": "y", "observableFormula": "A", "noiseFormula": "0.4",
            "observableTransformation": transformation, "noiseDistribution": noise}]
    meas = [{"observableId": "y", "simulationConditionId": "c0", "time": t, "measurement": m}
            for t, m in ((0.0, 4.2), (1.0, 5.5), (2.0, 6.1))]
    pars = [{"parameterId": "a0", "parameterScale": "log10", "lowerBound": 0.1,
             "upperBound": 100, "nominalValue": 5.0, "estimate": 1}]
    return write_problem(tmp_path / f"{transformation}_{noise}", CONSTANT_ANTIMONY,
                         observables=obs, measurements=meas, parameters=pars)


def _reference_nllh(transformation: str, noise: str, m: np.ndarray, s: float, sd: float) -> float:
    """Negative log density of the measurements, from scipy.stats (change of variables)."""
    h = {"lin": lambda v: v, "log": np.log, "log10": np.log10}[transformation]
    dist = stats.norm(loc=h(s), scale=sd) if noise == "normal" else stats.laplace(loc=h(s), scale=sd)
    jac = {"lin": np.ones_like(m), "log": 1 / m, "log10": 1 / (m * math.log(10))}[transformation]
    return float(-np.sum(dist.logpdf(h(m)) + np.log(jac)))


@pytest.mark.parametrize("noise", ["normal", "laplace"])
@pytest.mark.parametrize("transformation", ["lin", "log", "log10"])
def test_noise_models_match_closed_form(tmp_path, transformation, noise):
    obj = Objective(read_petab(_constant_problem(tmp_path, transformation, noise)))
    m = np.array([4.2, 5.5, 6.1])
    ref = _reference_nllh(transformation, noise, m, 5.0, 0.4)
    assert obj.nllh(obj.problem.x_nominal) == pytest.approx(ref, rel=1e-9)
    # a0 = 2: the simulation follows the parameter (initial assignment re-evaluated)
    assert obj.nllh(np.array([math.log10(2.0)])) == pytest.approx(
        _reference_nllh(transformation, noise, m, 2.0, 0.4), rel=1e-7)


def test_observable_and_noise_overrides_and_residuals(tmp_path):
    """0.5 |residuals|^2 + constant = objective, for parameter-dependent sigma."""
    obj = Objective(read_petab(decay_problem(tmp_path)))
    x1 = obj.problem.x_nominal
    x2 = x1 + np.array([0.1, -0.05, 0.2])
    r1, r2 = obj.residuals(x1), obj.residuals(x2)
    d_ls = 0.5 * (r2 @ r2 - r1 @ r1)
    assert d_ls == pytest.approx(obj(x2) - obj(x1), rel=1e-9)


def test_priors_follow_petab_v1(tmp_path):
    """parameterScaleNormal on log10(k); logNormal on a0 (density of the linear value)."""
    yaml = decay_problem(tmp_path)
    import pandas as pd

    p = pd.read_csv(yaml.parent / "parameters.tsv", sep="\t")
    p["objectivePriorType"] = ["logNormal", "parameterScaleNormal", "", ""]
    p["objectivePriorParameters"] = ["2.0;0.5", "-0.5;0.2", "", ""]
    p.to_csv(yaml.parent / "parameters.tsv", sep="\t", index=False)
    obj = Objective(read_petab(yaml))
    x = obj.problem.x_nominal
    ref = (-stats.lognorm(s=0.5, scale=math.exp(2.0)).logpdf(10.0)
           - stats.norm(-0.5, 0.2).logpdf(math.log10(0.3)))
    assert obj.neglogprior(x) == pytest.approx(ref, rel=1e-12)
    assert not obj.least_squares_ok  # a log-normal prior is not a sum of squares


def test_bad_input_reports_every_error_and_does_not_fit(tmp_path):
    obs = [{"observableId": "y", "observableFormula": "A * not_a_symbol", "noiseFormula": "1",
            "observableTransformation": "lin", "noiseDistribution": "normal"}]
    meas = [{"observableId": "y", "simulationConditionId": "c0", "time": -1.0, "measurement": 1.0},
            {"observableId": "y", "simulationConditionId": "c0", "time": 2.0, "measurement": 1.0}]
    pars = [{"parameterId": "a0", "parameterScale": "log10", "lowerBound": 0.1,
             "upperBound": 100, "nominalValue": 5.0, "estimate": 1}]
    yaml = write_problem(tmp_path / "bad", CONSTANT_ANTIMONY, observables=obs, measurements=meas,
                         parameters=pars, omit=("conditions.tsv",))
    findings = lint_petab(yaml)
    codes = set(findings["code"])
    assert {"missing-table", "unknown-symbol", "bad-time"} <= codes
    with pytest.raises(CalibrationError) as exc:
        calibrate(yaml, starts=2)
    msg = str(exc.value)
    assert "conditions.tsv" in msg and "not_a_symbol" in msg and "-1" in msg
    assert len(exc.value.findings) >= 3
    assert not (tmp_path / "bad" / "out").exists()


def test_missing_yaml_entry_and_bad_scale(tmp_path):
    yaml = decay_problem(tmp_path)
    import pandas as pd

    p = pd.read_csv(yaml.parent / "parameters.tsv", sep="\t")
    p.loc[0, "parameterScale"] = "ln"
    p.to_csv(yaml.parent / "parameters.tsv", sep="\t", index=False)
    yaml.write_text(yaml.read_text().replace("  observable_files: [observables.tsv]\n", ""))
    codes = set(lint_petab(yaml)["code"])
    assert {"missing-table", "bad-scale"} <= codes


def test_preequilibration_and_steady_state_measurements(tmp_path):
    """Pre-equilibrate with p = 2 (A_ss = p / k = 4), then p = 0: A(t) = 4 exp(-k t); a
    measurement at t = inf under p = 1 without pre-equilibration is A = 1 / k = 2."""
    from petab_factory import TURNOVER_ANTIMONY

    obs = [{"observableId": "y", "observableFormula": "A", "noiseFormula": "1",
            "observableTransformation": "lin", "noiseDistribution": "normal"}]
    meas = [{"observableId": "y", "preequilibrationConditionId": "high",
             "simulationConditionId": "off", "time": t, "measurement": 1.0}
            for t in (0.0, 1.0, 3.0)]
    meas.append({"observableId": "y", "preequilibrationConditionId": "",
                 "simulationConditionId": "one", "time": float("inf"), "measurement": 1.0})
    pars = [{"parameterId": "k", "parameterScale": "log10", "lowerBound": 0.01,
             "upperBound": 10, "nominalValue": 0.5, "estimate": 1}]
    conds = [{"conditionId": "high", "p": 2.0}, {"conditionId": "off", "p": 0.0},
             {"conditionId": "one", "p": 1.0}]
    yaml = write_problem(tmp_path / "ss", TURNOVER_ANTIMONY, observables=obs, measurements=meas,
                         parameters=pars, conditions=conds)
    fit = Objective(read_petab(yaml)).fit_table(np.array([math.log10(0.5)]))
    expected = [4.0, 4.0 * math.exp(-0.5), 4.0 * math.exp(-1.5), 2.0]
    assert fit["simulation"].to_numpy() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("formula", "env", "value"), [
    ("R0 * gamma / N", {"R0": 2.0, "gamma": 0.5, "N": 100.0}, 0.01),
    ("piecewise(1, x > 2, 3)", {"x": 3.0}, 1.0),
    ("piecewise(1, x > 2, 3)", {"x": 1.0}, 3.0),
    ("log(2, 8) + log10(100) + ln(exponentiale) + root(3, 27)", {}, 9.0),
    ("x^2 && !(y == 1)", {"x": 2.0, "y": 0.0}, 1.0),
])
def test_parameter_initial_assignment_formulas(formula, env, value):
    """libRoadRunner does not re-evaluate parameter initial assignments; we do."""
    from workbench.sim._initial_assignments import _compile_node, _parse

    assert _compile_node(_parse(formula))(env) == pytest.approx(value)
