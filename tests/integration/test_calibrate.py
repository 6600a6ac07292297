"""Calibration: known parameters recovered, profiles, the record, the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from petab_factory import decay_problem

from workbench import calibrate, write_calibration
from workbench import columns as C
from workbench.calibrate.fit import PROFILE_THRESHOLD, latin_hypercube
from workbench.cli import main

TRUE = {"a0": 10.0, "k": 0.3, "sigma": 0.3}


@pytest.fixture(scope="module")
def decay_fit(tmp_path_factory):
    yaml = decay_problem(tmp_path_factory.mktemp("decay"), seed=2)
    return calibrate(yaml, starts=4, seed=0, profile=["k", "a0"])


def test_parameters_recovered_within_their_confidence_intervals(decay_fit):
    p = decay_fit.parameters.set_index(C.PARAMETER)
    for pid, v in TRUE.items():
        assert p.at[pid, C.CI_LOW] < v < p.at[pid, C.CI_HIGH], pid
        assert p.at[pid, C.ESTIMATED]
    assert p.at["k", C.CI_METHOD] == "profile" and p.at["sigma", C.CI_METHOD] == "wald"
    assert not p.at["scale", C.ESTIMATED] and p.at["scale", C.FINAL_VALUE] == 1.0
    # the fit is at least as good as the truth (the data were simulated from it)
    assert decay_fit.nllh_best <= decay_fit.nllh_nominal + 1e-6


def test_profile_of_identifiable_parameter_is_bounded(decay_fit):
    p = decay_fit.parameters.set_index(C.PARAMETER)
    assert p.at["k", C.IDENTIFIABLE] is True or p.at["k", C.IDENTIFIABLE] == True  # noqa: E712
    prof = decay_fit.profiles[decay_fit.profiles[C.PARAMETER] == "k"]
    best = p.at["k", C.FINAL_VALUE]
    assert prof[C.DELTA_OBJECTIVE].min() == pytest.approx(0.0, abs=1e-6)
    below, above = prof[prof[C.VALUE] < best], prof[prof[C.VALUE] > best]
    assert below[C.DELTA_OBJECTIVE].max() > PROFILE_THRESHOLD
    assert above[C.DELTA_OBJECTIVE].max() > PROFILE_THRESHOLD
    # Wald and profile intervals of a well-determined parameter nearly agree
    se = p.at["k", C.SE_SCALED]
    wald = (best * 10 ** (-1.96 * se), best * 10 ** (1.96 * se))
    assert p.at["k", C.CI_LOW] == pytest.approx(wald[0], rel=0.05)
    assert p.at["k", C.CI_HIGH] == pytest.approx(wald[1], rel=0.05)


def test_fitted_curves_are_the_closed_form_at_the_best_fit(decay_fit):
    """The fit figure's dense curve is a0 exp(-k t) at the fitted a0, k (scale 1), from 0 to
    the last measurement, and passes through the fit table's simulations at the data."""
    p = decay_fit.parameters.set_index(C.PARAMETER)[C.FINAL_VALUE]
    dense = decay_fit.fitted_curves(points=50)
    t = dense["time"].to_numpy(float)
    assert t.min() == 0.0 and t.max() == pytest.approx(10.0)
    assert len(dense) == len(np.unique(np.r_[np.linspace(0, 10, 50),
                                              decay_fit.fit[C.TIME].to_numpy(float)]))
    np.testing.assert_allclose(dense["simulation"], p["a0"] * np.exp(-p["k"] * t), rtol=1e-6)
    at = dense.set_index("time")["simulation"]
    fit = decay_fit.fit
    np.testing.assert_allclose(at.loc[fit[C.TIME]].to_numpy(), fit[C.SIMULATION], rtol=1e-9)


def test_profile_of_non_identifiable_parameter_is_flat(tmp_path):
    """observed = scale * A with A(0) = a0: only scale * a0 is determined."""
    yaml = decay_problem(tmp_path, seed=1, scale_estimated=True)
    r = calibrate(yaml, starts=3, seed=0, profile=["scale"])
    prof = r.profiles[r.profiles[C.PARAMETER] == "scale"]
    assert prof[C.DELTA_OBJECTIVE].max() < PROFILE_THRESHOLD  # flat: never leaves the 95 % region
    assert prof[C.VALUE].max() / prof[C.VALUE].min() > 100  # across most of the range
    p = r.parameters.set_index(C.PARAMETER)
    assert not p.at["scale", C.IDENTIFIABLE]
    # the Fisher information says the same: infinite standard error
    assert not math.isfinite(p.at["a0", C.SE_SCALED]) or p.at["a0", C.SE_SCALED] > 10


def test_standard_errors_match_the_closed_form_fisher_information(decay_fit):
    """m(t) = a0 exp(-k t), normal noise sigma, all in log10: the expected Fisher
    information is J^T J / sigma^2 for (a0, k) and 2 n ln(10)^2 for sigma."""
    a0, k, s = 10 ** decay_fit.x_best
    t = np.linspace(0.25, 10.0, 16)
    m = a0 * np.exp(-k * t)
    ln10 = math.log(10)
    J = np.column_stack([ln10 * m, -ln10 * k * t * m])
    F = np.zeros((3, 3))
    F[:2, :2] = J.T @ J / s**2
    F[2, 2] = 2 * len(t) * ln10**2
    se = decay_fit.parameters.set_index(C.PARAMETER).loc[["a0", "k", "sigma"], C.SE_SCALED]
    assert se.to_numpy() == pytest.approx(np.sqrt(np.diag(np.linalg.inv(F))), rel=1e-4)


def test_standard_errors_use_the_polished_tolerances(tmp_path, monkeypatch):
    """The Fisher information is evaluated with the objective f_best and the fit use."""
    from workbench.calibrate.fit import _polish_settings
    from workbench.calibrate.petab_objective import Objective

    seen = []
    orig = Objective.fisher_information

    def spy(self, x, *a, **kw):
        seen.append(self.settings.relative_tolerance)
        return orig(self, x, *a, **kw)

    monkeypatch.setattr(Objective, "fisher_information", spy)
    r = calibrate(decay_problem(tmp_path, seed=2), starts=1, seed=0, polish=1)
    assert seen == [_polish_settings(r.settings).relative_tolerance]
    assert seen[0] < r.settings.relative_tolerance


def test_terminate_ends_busy_workers_at_once():
    """The Ctrl-C path of the pool: workers in the middle of a task are ended (Python 3.11
    forgets the worker processes on shutdown(), so they must be collected first)."""
    import multiprocessing as mp
    import time
    from concurrent.futures import ProcessPoolExecutor

    from workbench.calibrate.fit import _terminate

    ex = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
    fut = ex.submit(time.sleep, 120)
    procs = list(ex._processes.values())
    assert procs
    deadline = time.time() + 30
    while not fut.running() and time.time() < deadline:
        time.sleep(0.05)
    t0 = time.time()
    _terminate(ex)
    # exited when _terminate returns: each sentinel is ready at once. (Not is_alive(): the
    # pool's thread reaps the workers too, and is_alive() then reports a dead one alive.)
    from multiprocessing.connection import wait
    assert len(wait([p.sentinel for p in procs], timeout=0)) == len(procs)
    assert time.time() - t0 < 10


def test_time_label_read_from_the_problem_not_the_file(decay_fit, tmp_path):
    from dataclasses import replace
    from types import SimpleNamespace

    from petab_factory import DECAY_ANTIMONY

    from workbench import load_model
    from workbench.calibrate.plots import _time_label

    hours = DECAY_ANTIMONY.replace("model decay", "model decay\n  unit time_unit = 3600 second")
    pr = replace(decay_fit.problem, sbml=load_model(hours).sbml,
                 model_source=str(tmp_path / "moved_away.xml"))
    assert _time_label(SimpleNamespace(problem=pr)) == "time [h]"


def test_starts_are_seeded_latin_hypercube():
    lb, ub = np.array([-1.0, 0.0]), np.array([1.0, 5.0])
    a = latin_hypercube(lb, ub, 10, 3)
    assert np.array_equal(a, latin_hypercube(lb, ub, 10, 3))
    assert not np.array_equal(a, latin_hypercube(lb, ub, 10, 4))
    for j in range(2):  # one point per stratum in every dimension
        strata = np.floor((a[:, j] - lb[j]) / (ub[j] - lb[j]) * 10).astype(int)
        assert sorted(strata) == list(range(10))


def test_record_written(decay_fit, tmp_path):
    files = write_calibration(decay_fit, tmp_path / "rec")
    names = {f.name for f in files}
    assert {"parameters.csv", "starts.csv", "fit.csv", "goodness_of_fit.csv", "profiles.csv",
            "parameters_fitted.tsv", "calibration.json", "waterfall.png", "fit.png",
            "observed_vs_predicted.png", "residuals.png", "profiles.png"} <= names
    g = pd.read_csv(tmp_path / "rec" / "goodness_of_fit.csv").set_index(C.WHAT)[C.VALUE]
    n, k, nllh = g["n_measurements"], g["n_estimated"], g["nllh"]
    assert g["aic"] == pytest.approx(2 * k + 2 * nllh)
    assert g["bic"] == pytest.approx(k * math.log(n) + 2 * nllh)
    fitted = pd.read_csv(tmp_path / "rec" / "parameters_fitted.tsv", sep="\t")
    assert fitted.set_index("parameterId").at["k", "nominalValue"] == pytest.approx(
        decay_fit.parameters.set_index(C.PARAMETER).at["k", C.FINAL_VALUE])
    summary = json.loads((tmp_path / "rec" / "calibration.json").read_text())
    assert summary["nllh_best"] <= summary["nllh_nominal"] + 1e-6 and "libroadrunner" in \
        summary["versions"]


def test_same_seed_same_tables(tmp_path):
    yaml = decay_problem(tmp_path, seed=2)
    a = calibrate(yaml, starts=2, seed=5)
    b = calibrate(yaml, starts=2, seed=5)
    cols = [C.START, C.STATUS, C.OBJECTIVE_START, C.OBJECTIVE]
    pd.testing.assert_frame_equal(a.starts[cols], b.starts[cols])
    pd.testing.assert_frame_equal(a.parameters, b.parameters)


def test_provenance_updated(decay_fit):
    from workbench import load_model, update_provenance
    from workbench.core.provenance import provenance_template

    table = provenance_template(load_model(decay_fit.problem.model_source))
    out = update_provenance(table, decay_fit, "no direct measurement of k")
    row = out[(out[C.ID] == "k") & out[C.CHOSEN].astype(bool)].iloc[0]
    k = decay_fit.parameters.set_index(C.PARAMETER).at["k", C.FINAL_VALUE]
    assert row[C.SOURCE_TYPE] == "calibrated" and row[C.CALIBRATED_VALUE] == pytest.approx(k)
    assert row[C.VALUE] == pytest.approx(k) and row[C.INITIAL_VALUE] == pytest.approx(0.3)
    assert "Latin-hypercube" in row[C.CALIBRATION_METHOD]
    assert row[C.CALIBRATION_JUSTIFICATION] == "no direct measurement of k"


def test_cli_calibrate_and_check(tmp_path, capsys):
    yaml = decay_problem(tmp_path / "p", seed=1)
    out = tmp_path / "out"
    assert main(["calibrate", str(yaml), "--out", str(out), "--starts", "2", "--no-plots"]) == 0
    assert (out / "parameters.csv").exists() and (out / "calibration.json").exists()
    assert main(["calibrate", str(yaml), "--check"]) == 0
    (yaml.parent / "measurements.tsv").unlink()
    assert main(["calibrate", str(yaml), "--out", str(tmp_path / "o2")]) == 1
    assert "measurement" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()


@pytest.mark.slow
def test_boehm_fit_reaches_nominal_likelihood():
    """Done-when of the calibration issue: 30 seeded starts reach the published optimum."""
    from conftest import PETAB_BENCH, require

    d = require(PETAB_BENCH / "Boehm_JProteomeRes2014")
    r = calibrate(d / "Boehm_JProteomeRes2014.yaml", starts=30, seed=0, workers=2)
    assert r.nllh_nominal == pytest.approx(138.22199693517703, rel=1e-6)  # AMICI reference
    assert r.nllh_best <= r.nllh_nominal + 1e-6
