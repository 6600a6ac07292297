"""PEtab v2 problems: the shipped v2 twin gives its v1 problem's objective and
simulation; placeholders, pre-equilibration and priors against closed forms; what
cannot be simulated is refused with findings; on petab < 0.10 (Python 3.11) a clear
refusal that names Python >= 3.12."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench import lint_petab, read_petab
from workbench.calibrate.petab_objective import Objective
from workbench.calibrate.petab_v2 import petab_v2_support
from workbench.errors import PetabVersionError

ROOT = Path(__file__).resolve().parents[2]
V1 = ROOT / "tests" / "data" / "study_with_data" / "petab" / "problem.yaml"
V2 = ROOT / "examples" / "data" / "petab_v2" / "problem.yaml"

needs_v2 = pytest.mark.skipif(petab_v2_support() is not None,
                              reason=f"no PEtab v2 reader here: {petab_v2_support()}")

_YAML = """format_version: 2.0.0
parameter_files: [parameters.tsv]
model_files:
  model: {location: model.xml, language: sbml}
measurement_files: [measurements.tsv]
condition_files: [conditions.tsv]
experiment_files: [experiments.tsv]
observable_files: [observables.tsv]
"""


def _write_v2(d: Path, antimony: str, **tables: list[dict]) -> Path:
    """A PEtab v2 problem from row lists (keys: observables, measurements, parameters,
    conditions, experiments)."""
    from workbench import load_model

    d.mkdir(parents=True, exist_ok=True)
    (d / "model.xml").write_text(load_model(antimony).sbml)
    columns = {"conditions": ["conditionId", "targetId", "targetValue"],
               "experiments": ["experimentId", "time", "conditionId"]}
    for name in ("observables", "measurements", "parameters", "conditions", "experiments"):
        pd.DataFrame(tables.get(name, []), columns=columns.get(name)).to_csv(
            d / f"{name}.tsv", sep="\t", index=False)
    (d / "problem.yaml").write_text(_YAML)
    return d / "problem.yaml"


@needs_v2
def test_v2_twin_gives_the_v1_objective_and_simulation():
    """Same model, data and noise model: same likelihood at the same parameter values
    (v1 estimates CL and Kd on log10, v2 on the linear scale)."""
    p1, p2 = read_petab(V1), read_petab(V2)
    assert p2.format_version.startswith("2") and p2.free_ids == p1.free_ids == ["CL", "Kd"]
    o1, o2 = Objective(p1), Objective(p2)
    for values in ([0.3, 5.0], [0.8, 1.5]):
        x1 = np.log10(values)
        x2 = np.array(values)
        assert o2(x2) == pytest.approx(o1(x1), rel=1e-9)
        f1, f2 = o1.fit_table(x1), o2.fit_table(x2)
        assert len(f1) == len(f2) == 24
        # the experiments exp_low / exp_high are the v1 conditions low / high
        assert list(f2["condition"].str.replace("exp_", "")) == list(f1["condition"])
        np.testing.assert_allclose(f2["simulation"], f1["simulation"], rtol=1e-8)
        np.testing.assert_allclose(f2["nllh"], f1["nllh"], rtol=1e-8)
    assert lint_petab(V2).empty


@needs_v2
def test_v2_twin_fits_to_the_v1_maximum_likelihood():
    """The estimation scale differs (v1 log10, v2 linear) but the maximum of the same
    likelihood does not: same best objective and estimates."""
    from workbench import calibrate

    r1 = calibrate(V1, starts=4, seed=0, progress=False)
    r2 = calibrate(V2, starts=4, seed=0, progress=False)
    assert r2.objective_best == pytest.approx(r1.objective_best, abs=1e-6)
    np.testing.assert_allclose(r2.x_best, 10.0 ** r1.x_best, rtol=1e-4)


@needs_v2
def test_v2_placeholders_priors_and_preequilibration_match_closed_forms(tmp_path):
    """Turnover A' = p - k A, k = 0.5. Experiment 'step': pre-equilibrate under p = 2
    (A_ss = 4), then p = 0 from t = 0: A = 4 exp(-k t). Measurements without an
    experiment: the model as is at steady state, A = p / k = 2. Experiment 'hold':
    pre-equilibrate under p = 2, then no change: p keeps its value (v2), A stays 4
    (were p reset to the model's 1, A would fall to 2 + 2 exp(-k t)). Observable
    scale * A with named placeholders; sigma from a noise placeholder; a normal
    prior on k's linear value."""
    from petab_factory import TURNOVER_ANTIMONY

    obs = [{"observableId": "y", "observableFormula": "gain * A", "noiseFormula": "sd",
            "noiseDistribution": "normal", "observablePlaceholders": "gain",
            "noisePlaceholders": "sd"}]
    times = [0.0, 1.0, 3.0]
    meas = [{"observableId": "y", "experimentId": "step", "time": t, "measurement": 1.0,
             "observableParameters": "scale", "noiseParameters": 0.5} for t in times]
    meas.append({"observableId": "y", "experimentId": "", "time": math.inf,
                 "measurement": 1.0, "observableParameters": "scale", "noiseParameters": 0.5})
    meas += [{"observableId": "y", "experimentId": "hold", "time": t, "measurement": 1.0,
              "observableParameters": "scale", "noiseParameters": 0.5} for t in (0.0, 2.0)]
    pars = [{"parameterId": "k", "lowerBound": 0.01, "upperBound": 10, "nominalValue": 0.5,
             "estimate": "true", "priorDistribution": "normal", "priorParameters": "0.4;0.2"},
            {"parameterId": "scale", "lowerBound": 0.1, "upperBound": 10, "nominalValue": 1.5,
             "estimate": "false"}]
    conds = [{"conditionId": "high", "targetId": "p", "targetValue": 2.0},
             {"conditionId": "off", "targetId": "p", "targetValue": 0.0}]
    exps = [{"experimentId": "step", "time": "-inf", "conditionId": "high"},
            {"experimentId": "step", "time": 0.0, "conditionId": "off"},
            {"experimentId": "hold", "time": "-inf", "conditionId": "high"},
            {"experimentId": "hold", "time": 0.0, "conditionId": ""}]
    yaml = _write_v2(tmp_path / "v2", TURNOVER_ANTIMONY, observables=obs, measurements=meas,
                     parameters=pars, conditions=conds, experiments=exps)
    obj = Objective(read_petab(yaml))
    fit = obj.fit_table(np.array([0.5]))
    sim = 1.5 * np.array([4.0, 4.0 * math.exp(-0.5), 4.0 * math.exp(-1.5), 2.0, 4.0, 4.0])
    np.testing.assert_allclose(fit["simulation"], sim, rtol=1e-6)
    assert list(fit["preequilibration"]) == (["step__preequilibration"] * 3 + [""]
                                             + ["hold__preequilibration"] * 2)
    nllh = -float(np.sum(stats.norm(sim, 0.5).logpdf(np.ones(6))))
    assert obj.nllh(np.array([0.5])) == pytest.approx(nllh, rel=1e-6)
    assert obj.neglogprior(np.array([0.5])) == pytest.approx(
        -stats.norm(0.4, 0.2).logpdf(0.5), rel=1e-12)


@needs_v2
def test_v2_features_not_simulated_are_refused_together(tmp_path):
    """A dosing schedule (two periods after t = 0), an expression as target value and
    an unsupported prior: three findings at once, no objective."""
    from petab_factory import TURNOVER_ANTIMONY

    obs = [{"observableId": "y", "observableFormula": "A", "noiseFormula": "1"}]
    meas = [{"observableId": "y", "experimentId": e, "time": 1.0, "measurement": 1.0}
            for e in ("doses", "expr")]
    pars = [{"parameterId": "k", "lowerBound": 0.01, "upperBound": 10, "nominalValue": 0.5,
             "estimate": "true", "priorDistribution": "gamma", "priorParameters": "2;1"}]
    conds = [{"conditionId": "on", "targetId": "p", "targetValue": 1.0},
             {"conditionId": "off", "targetId": "p", "targetValue": 0.0},
             {"conditionId": "twice", "targetId": "p", "targetValue": "2 * k"}]
    exps = [{"experimentId": "doses", "time": 0.0, "conditionId": "on"},
            {"experimentId": "doses", "time": 5.0, "conditionId": "off"},
            {"experimentId": "expr", "time": 0.0, "conditionId": "twice"}]
    yaml = _write_v2(tmp_path / "bad", TURNOVER_ANTIMONY, observables=obs, measurements=meas,
                     parameters=pars, conditions=conds, experiments=exps)
    found = lint_petab(yaml)
    assert {"experiment-periods", "condition-expression", "bad-prior"} <= set(found["code"])
    row = found[found["code"] == "experiment-periods"].iloc[0]
    assert row["element"] == "doses" and "one period" in row["message"]
    with pytest.raises(Exception, match="3 error"):
        read_petab(yaml)


def test_v2_on_old_petab_is_refused_naming_python_312(monkeypatch):
    """petab 0.8 (the last release for Python 3.11) has no usable v2 reader: a
    PetabVersionError (exit code 2) that says to use Python >= 3.12; the v1 twin
    still reads."""
    import importlib.metadata

    if petab_v2_support() is None:  # simulate the 3.11 stack on 3.12+
        real = importlib.metadata.version
        monkeypatch.setattr(importlib.metadata, "version",
                            lambda name: "0.8.2" if name == "petab" else real(name))
    with pytest.raises(PetabVersionError) as err:
        read_petab(V2)
    text = str(err.value)
    assert "PEtab v2" in text and "Python >= 3.12" in text and "petab 0.8" in text
    assert "VENV=.venv313" in text and err.value.exit_code == 2
    assert "Traceback" not in text
    found = lint_petab(V2)
    assert list(found["code"]) == ["petab-v2-unsupported"]
    assert read_petab(V1).format_version == "1"


def test_v2_refusal_from_the_cli_has_exit_2_and_no_traceback(tmp_path):
    """The command line, as a user on Python 3.11 runs it (on 3.12+ the v2 problem is
    checked instead, exit 0)."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "workbench.cli", "calibrate", str(V2), "--out",
                        str(tmp_path / "out")] if petab_v2_support() else
                       [sys.executable, "-m", "workbench.cli", "calibrate", "--check", str(V2)],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert "Traceback" not in r.stderr
    if petab_v2_support():
        assert r.returncode == 2, r.stderr
        assert "Python >= 3.12" in r.stderr
        assert not (tmp_path / "out").exists()
    else:
        assert r.returncode == 0, r.stdout + r.stderr
