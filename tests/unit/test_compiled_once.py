"""Work done once per ensemble or per assignment, not once per sample or twice per run
(review findings): the convergence check reuses the ensemble's built spec, the step-up
analysis simulates each nominal schedule once, and the parameter initial assignments
that read the set ids are compiled per Assignment. Numbers are unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench import columns as C
from workbench.sim._initial_assignments import ParameterInitialAssignments

sys.path.insert(0, str(Path(__file__).parent))
from test_stepup import _UNITS, SCHEDULES, TOLERANCE, _settings


def test_convergence_check_reuses_the_built_ensemble(monkeypatch):
    """Before: the check called run_ensemble again, converting the regimen and building
    the spec a second time. The re-run rows equal a direct run at the tighter settings."""
    import workbench.sim.ensemble as ens
    from workbench.sim.convergence import ConvergenceOptions, resolve_options

    m = wb.load_model("model d()\n" + _UNITS + "end")
    calls = []
    real = ens.doses_to_events
    monkeypatch.setattr(ens, "doses_to_events", lambda *a, **k: calls.append(1) or real(*a, **k))
    opts = resolve_options(True)
    assert isinstance(opts, ConvergenceOptions) and opts.enabled
    cl = np.array([0.05, 0.1, 0.2])
    res = wb.run_ensemble(m, {"CL": cl}, "30 nmol iv", target="Drug",
                          metrics=["max(Drug)", "value(Drug, 5)"], end=10, workers=1,
                          progress=False, convergence_check=opts)
    assert len(calls) == 1
    assert res.attrs["convergence"]  # the check ran and reported
    # closed form: C(5 h) = 30 nmol / 3 L * exp(-CL / V * 5 h)
    assert res["value(Drug, 5)"].to_numpy() == pytest.approx(10 * np.exp(-cl / 3 * 5), rel=1e-5)


def test_stepup_simulates_each_nominal_schedule_once(monkeypatch):
    """Before: evaluate_stepup ran the nominal ensemble and then simulate() on the same
    regimen for the figure. The time course is now read from the one nominal run and
    equals simulate() exactly."""
    import workbench.sim.ensemble as ens
    import workbench.sim.simulate as sim
    from workbench.core.dosing import parse_regimen
    from workbench.mabel.stepup import _grid, _windows, evaluate_stepup

    m = wb.load_model(TOLERANCE)
    nominal_runs = []
    real = ens.run_ensemble

    def spy(model, samples, *a, **k):
        if len(samples) == 1:
            nominal_runs.append(1)
        return real(model, samples, *a, **k)

    monkeypatch.setattr(ens, "run_ensemble", spy)
    real_sim = sim.simulate
    monkeypatch.setattr(sim, "simulate", lambda *a, **k: pytest.fail("simulated twice"))
    r = evaluate_stepup(m, _settings(), target="Drug")
    assert len(nominal_runs) == len(SCHEDULES) + 1  # the reference and each schedule once
    monkeypatch.undo()
    for sch in SCHEDULES:
        reg = parse_regimen(sch.regimen, target="Drug", time_unit="h")
        times = sorted({float(d.time) for d in reg.doses})
        grid = _grid(_windows(times, r.settings.horizon), 1.0)
        tc = real_sim(m, reg, times=grid, outputs=["IL6"], target="Drug")
        got = r.profiles[r.profiles[C.SCHEDULE] == sch.name]
        np.testing.assert_array_equal(got[C.TIME].to_numpy(), tc[C.TIME].to_numpy())
        np.testing.assert_array_equal(got[C.VALUE].to_numpy(), tc["IL6"].to_numpy())


CHAIN = ("model ia\n  S' = beta - g * S\n  S = 0\n  g = 0.5\n  k = 2\n  N = 3\n"
         "  beta := k * N\n  beta = k * N\n  c = beta / N + k\n  d = c * 2\n  u = 7\n"
         "  w = u + 1\nend")


def test_initial_assignments_are_compiled_per_assignment(monkeypatch):
    """Before: every sample walked every parameter initial assignment with a copy of every
    loaded value (dependent_values). The compiled plan gives the same values, and the
    ensemble equals the closed form S(t) = k N (1 - exp(-g t)) / g."""
    m = wb.load_model(CHAIN.replace("  beta := k * N\n", ""))
    pias = ParameterInitialAssignments(m.sbml)
    base = {"g": 0.5, "k": 2.0, "N": 3.0, "beta": 6.0, "c": 4.0, "d": 8.0, "u": 7.0, "w": 8.0}
    rng = np.random.default_rng(3)
    for ids in (("N",), ("k", "u"), ("c",), ("g",), ("N", "beta")):
        plan = pias.plan(ids, base)
        for _ in range(5):
            v = rng.uniform(0.5, 4.0, len(ids)).tolist()
            assert plan.evaluate(v) == pias.dependent_values(dict(zip(ids, v, strict=True)), base)
    assert pias.plan(("g",), base).steps == ()
    assert [p for p, _, _ in pias.plan(("N",), base).steps] == ["beta", "c", "d"]

    monkeypatch.setattr(ParameterInitialAssignments, "dependent_values",
                        lambda *a, **k: pytest.fail("walked per sample"))
    samples = pd.DataFrame({"N": [1.0, 3.0, 5.0], "k": [2.0, 1.0, 0.5]})
    res = wb.run_ensemble(m, samples, None, metrics=["value(S, 4)"], end=4, points=5,
                          workers=1, progress=False)
    kn = (samples["N"] * samples["k"]).to_numpy()
    assert res["value(S, 4)"].to_numpy() == pytest.approx(kn * (1 - np.exp(-2.0)) / 0.5,
                                                          rel=1e-6)
