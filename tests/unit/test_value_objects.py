"""The bundles every analysis repeats (Dosing, TimeGrid, RunOptions): checked when built,
taken by the analyses as dosing=/grid=/run=, the older keywords giving identical tables,
doses travelling as numbers, and the CLI options declared once from the same fields.

Model: one compartment (V = 5 L, CL = 0.5 L/h) with rapid-equilibrium binding
(tests/data/onecomp_binding.ant), so a bolus D nmol gives Drug(0) = D / 5 nM.
"""

import argparse
import math

import numpy as np
import pandas as pd
import pytest

from workbench.core.dosing import Dose, Regimen, Subject, parse_regimen
from workbench.core.options import Dosing, add_options, cli_flags
from workbench.errors import DoseError, SpecError
from workbench.sim._engine import IntegratorSettings
from workbench.sim.options import RunOptions, TimeGrid

MODEL = "tests/data/onecomp_binding.ant"


@pytest.fixture(scope="module")
def model():
    from workbench.core.model import load_model

    return load_model(MODEL)


# ---------------------------------------------------------------------------
# construction checks: the bad field is named, with the fix
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("kw, err, field", [
    ({"mw": "150 kDa/h"}, DoseError, "Dosing.mw"),
    ({"mw": -5}, DoseError, "Dosing.mw"),
    ({"mw": [1]}, DoseError, "Dosing.mw"),
    ({"mw": True}, DoseError, "Dosing.mw"),  # it read as 1 g/mol
    ({"mw": float("inf")}, DoseError, "Dosing.mw"),  # every mass dose became 0 moles
    ({"mw": "inf g/mol"}, DoseError, "Dosing.mw"),
    ({"target": "1 Drug"}, SpecError, "Dosing.target"),
    ({"subject": 70}, DoseError, "Dosing.subject"),
    ({"route": ""}, DoseError, "Dosing.route"),
    ({"dose_unit": "furlong"}, DoseError, "Dosing.dose_unit"),
    ({"dose_unit": "ug/kg", "route": "orally"}, DoseError, "Dosing.route"),
])
def test_dosing_names_the_bad_field(kw, err, field):
    with pytest.raises(err) as e:
        Dosing(**kw)
    assert e.value.element == field and e.value.fix


def test_dosing_converts_the_molecular_weight_to_g_per_mol():
    assert Dosing(mw="150 kDa").mw == 150000.0
    assert Dosing(mw="54000 g/mol").mw == 54000.0
    assert Dosing(mw=1234).mw == 1234.0
    assert Dosing(subject=None).subject == Subject()


def test_dosing_constructor_takes_what_its_fields_name():
    """The written-out constructor (typed for text and None) keeps the dataclass contract:
    parameters in field order, replace() keeps the converted values, equal objects hash
    alike, and the object stays frozen."""
    import dataclasses
    import inspect

    params = list(inspect.signature(Dosing).parameters)
    assert params == [f.name for f in dataclasses.fields(Dosing)]
    d = Dosing("Drug", "150 kDa", None, "iv", "ug/kg")
    assert (d.target, d.mw, d.subject, d.dose_unit) == ("Drug", 150000.0, Subject(), "ug/kg")
    e = dataclasses.replace(d, target="Drug2")
    assert e.mw == 150000.0 and e.subject == Subject() and e.target == "Drug2"
    assert dataclasses.replace(e, target="Drug") == d and hash(dataclasses.replace(d)) == hash(d)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.mw = 1.0  # type: ignore[misc]
    with pytest.raises(DoseError) as err:
        dataclasses.replace(d, mw="fast")
    assert err.value.element == "Dosing.mw"


@pytest.mark.parametrize("kw, field", [
    ({"points": 1}, "TimeGrid.points"),
    ({"points": 2.5}, "TimeGrid.points"),
    ({"points": True}, "TimeGrid.points"),
    ({"end": 0.0}, "TimeGrid.end"),
    ({"start": 10, "end": 5}, "TimeGrid.end"),
    ({"end": "a week"}, "TimeGrid.end"),
    ({"end": float("nan")}, "TimeGrid.end"),
    ({"start": float("inf"), "end": 5}, "TimeGrid.start"),
    ({"times": []}, "TimeGrid.times"),
    ({"times": [0, float("nan")]}, "TimeGrid.times"),
    ({"times": ["x"]}, "TimeGrid.times"),
    ({"start": 5, "times": [1, 6]}, "TimeGrid.times"),
])
def test_time_grid_names_the_bad_field(kw, field):
    with pytest.raises(SpecError) as e:
        TimeGrid(**kw)
    assert e.value.element == field and e.value.fix


@pytest.mark.parametrize("kw, field", [
    ({"workers": 0}, "RunOptions.workers"),
    ({"workers": 1.5}, "RunOptions.workers"),
    ({"chunk_size": 0}, "RunOptions.chunk_size"),
    ({"backend": "threads"}, "RunOptions.backend"),
    ({"progress": "yes"}, "RunOptions.progress"),
    ({"integrator": {"rtol": 1e-6}}, "RunOptions.integrator"),
    ({"integrator": IntegratorSettings(relative_tolerance=2.0)},
     "--rtol / IntegratorSettings.relative_tolerance"),
])
def test_run_options_name_the_bad_field(kw, field):
    with pytest.raises(SpecError) as e:
        RunOptions(**kw)
    assert e.value.element == field and e.value.fix


def test_time_grid_is_the_input_of_the_grid_builder(model):
    from workbench.sim._timegrid import time_grid

    g = TimeGrid(start="1 h", end="2 h", points=3)
    assert np.array_equal(time_grid(g, model=model), [1.0, 1.5, 2.0])
    assert np.array_equal(g.build(model, include=[1.25]), [1.0, 1.25, 1.5, 2.0])
    # explicit times replace end/points (as in simulate)
    assert np.array_equal(TimeGrid(end=100, times=(3, 1)).build(model), [0.0, 1.0, 3.0])
    assert len(TimeGrid(end=10).build(model)) == 101
    assert len(TimeGrid(end=10).build(model, default_points=201)) == 201


# ---------------------------------------------------------------------------
# both ways of calling give identical tables
# ---------------------------------------------------------------------------

def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert a.attrs.get("units") == b.attrs.get("units")


def test_simulate_both_ways(model):
    from workbench.sim.simulate import simulate

    old = simulate(model, "10 ug/kg iv q12h x2", target="Drug", mw="150 kDa",
                   subject=Subject(weight=80), start="0 h", end="36 h", points=37,
                   integrator=IntegratorSettings(relative_tolerance=1e-10))
    new = simulate(model, "10 ug/kg iv q12h x2",
                   dosing=Dosing(target="Drug", mw=150000, subject=Subject(weight=80)),
                   grid=TimeGrid(start="0 h", end="36 h", points=37),
                   run=RunOptions(integrator=IntegratorSettings(relative_tolerance=1e-10)))
    _same(old, new)
    # closed form: Drug(1 h) = 10 ug/kg * 80 kg / 150 kDa / 5 L * exp(-0.1 h^-1 * 1 h)
    d0 = 10e-6 * 80 / 150000 * 1e9 / 5
    assert new["Drug"].iloc[1] == pytest.approx(d0 * math.exp(-0.1), rel=1e-8)


def test_run_ensemble_both_ways(model):
    from workbench.sim.ensemble import run_ensemble

    s = pd.DataFrame({"CL": [0.4, 0.5, 0.7]})
    old = run_ensemble(model, s, "2 nmol iv", metrics=["max(RO)", "auc(Drug)"], target="Drug",
                       end="48 h", points=60, workers=1, progress=False,
                       convergence_check=False)
    new = run_ensemble(model, s, "2 nmol iv", metrics=["max(RO)", "auc(Drug)"],
                       dosing=Dosing(target="Drug"), grid=TimeGrid(end="48 h", points=60),
                       run=RunOptions(workers=1, progress=False), convergence_check=False)
    _same(old, new)
    # AUC of a bolus D into V with clearance CL: D / CL (nmol h / L = nM h), to the grid's
    # trapezoid error over 48 h (most of the area)
    auc = new["auc(Drug)"].to_numpy()
    assert np.all(auc < 2 / s["CL"].to_numpy()) and np.all(auc > 0.8 * 2 / s["CL"].to_numpy())


@pytest.fixture(scope="module")
def space(model):
    from workbench.core.parameter_space import ParameterRange, ParameterSpace

    return ParameterSpace((ParameterRange("CL", "uniform", 0.3, 0.8),
                           ParameterRange("Kd", "uniform", 1.0, 3.0)))


OLD = dict(target="Drug", end="24 h", points=25, workers=1, progress=False)
NEW = dict(dosing=Dosing(target="Drug"), grid=TimeGrid(end="24 h", points=25),
           run=RunOptions(workers=1, progress=False))


@pytest.mark.parametrize("name, extra", [
    ("sobol", {"n": 8, "seed": 3}),
    ("morris", {"trajectories": 4, "seed": 3}),
    ("local_sensitivity", {}),
])
def test_sensitivity_both_ways(model, space, name, extra):
    from workbench.analysis import sensitivity

    f = getattr(sensitivity, name)
    metrics = ["max(RO)", "auc(Drug)"]
    old = f(model, space, "2 nmol iv", metrics=metrics, **extra, **OLD)
    new = f(model, space, "2 nmol iv", metrics=metrics, **extra, **NEW)
    _same(old.indices, new.indices)
    _same(old.samples, new.samples)


def test_sensitivity_at_levels_both_ways(model, space):
    from workbench.mabel.decision_analyses import sensitivity_at_levels

    kw = dict(metrics=["max(RO)"], n_start=4, n_max=8, seed=2)
    old = sensitivity_at_levels(model, space, [("a", 0.1 + 0.2), ("b", 3.0)], "nmol", **kw,
                                target="Drug", route="iv", workers=1, times=[0, 1, 4, 24])
    new = sensitivity_at_levels(model, space, [("a", 0.1 + 0.2), ("b", 3.0)], **kw,
                                dosing=Dosing(target="Drug", dose_unit="nmol"),
                                grid=TimeGrid(times=(0, 1, 4, 24)),
                                run=RunOptions(workers=1, progress=False))
    for x, y in ((old.local, new.local), (old.sobol, new.sobol), (old.doses, new.doses)):
        _same(x, y)
    # the dose is the number given, and RO = C / (C + Kd) at the nominal Kd = 2 nM
    assert new.doses["dose"].iloc[0] == 0.1 + 0.2
    v = new.local[new.local["where"] == "a"]["value"].iloc[0]
    assert v == pytest.approx(0.3 / 5 / (0.3 / 5 + 2), rel=1e-6)


def test_compare_variants_both_ways(model):
    from workbench.analysis.variants import Variant, compare_variants

    vs = [Variant("base"), Variant("slow", set={"CL": 0.25})]
    kw = dict(regimens=["2 nmol iv"], metrics=["max(RO)"], dose_for={"max(RO)": 0.1},
              dose_range=("0.01 nmol", "100 nmol"), grid_points=7)
    old = compare_variants(model, vs, **kw, target="Drug", route="iv", end="24 h", points=30)
    new = compare_variants(model, vs, **kw, dosing=Dosing(target="Drug"),
                           grid=TimeGrid(end="24 h", points=30))
    _same(old.table, new.table)
    # the dose for 10 % peak occupancy does not depend on clearance: V Kd / 9
    d = new.table[new.table["quantity"] == "dose for max(RO) = 0.1"]["value"].to_numpy()
    assert d == pytest.approx([5 * 2 / 9] * 2, rel=1e-4)


def test_propagate_both_ways(model):
    from workbench.analysis.uncertainty import build_uncertainty, propagate

    unc = build_uncertainty(model, params=["CL=lognormal,cv=0.3"])
    kw = dict(outputs=["Drug"], metrics=["max(RO)"], n=8, seed=1)
    old = propagate(model, unc, "2 nmol iv", **kw, **OLD)
    new = propagate(model, unc, "2 nmol iv", **kw, **NEW)
    _same(old.bands, new.bands)
    _same(old.runs, new.runs)


def test_qsp_mabel_and_dose_response_both_ways(model):
    from workbench.mabel.qsp import dose_response, qsp_mabel

    kw = dict(dose_range=("0.01 nmol", "100 nmol"), grid_points=9)
    old = qsp_mabel(model, ["max(RO) >= 0.10"], **kw, target="Drug", route="iv", end="24 h",
                    points=30, workers=1)
    new = qsp_mabel(model, ["max(RO) >= 0.10"], **kw,
                    dosing=Dosing(target="Drug", route="iv"),
                    grid=TimeGrid(end="24 h", points=30), run=RunOptions(workers=1))
    _same(old.to_frame(), new.to_frame())
    _same(old.dose_response, new.dose_response)
    # closed form: 10 % occupancy at D = V Kd / 9
    assert new.estimates[0].dose == pytest.approx(5 * 2 / 9, rel=1e-4)
    a = dose_response(model, ["max(RO)"], [0.5, 2.0], "nmol", target="Drug", end="24 h",
                      points=30)
    b = dose_response(model, ["max(RO)"], [0.5, 2.0], dosing=Dosing(target="Drug",
                      dose_unit="nmol"), grid=TimeGrid(end="24 h", points=30),
                      run=RunOptions(workers=1))
    _same(a, b)
    c0 = np.array([0.5, 2.0]) / 5
    assert a["max(RO)"].to_numpy() == pytest.approx(c0 / (c0 + 2), rel=1e-6)


def test_compare_regimens_and_population_mabel_both_ways(model):
    from workbench.analysis.population import sample_population
    from workbench.analysis.regimens import compare_regimens
    from workbench.mabel.population import PopulationSpec, population_mabel

    pop = sample_population(model, 6, seed=2)
    regs = ["1 nmol iv q24h x2", "3 nmol iv q24h x2"]
    kw = dict(exposure=["Drug"], points=10)
    old = compare_regimens(model, pop, regs, **kw, target="Drug", workers=1, progress=False)
    new = compare_regimens(model, pop, regs, **kw, dosing=Dosing(target="Drug"),
                           run=RunOptions(workers=1, progress=False))
    _same(old.subjects, new.subjects)
    with pytest.raises(SpecError, match="own body size"):
        compare_regimens(model, pop, regs, **kw, dosing=Dosing(subject=Subject(weight=50)))

    spec = PopulationSpec(n=4, seed=5, bsv={"CL": 0.3})
    mk = dict(dose_range=("0.01 nmol", "100 nmol"), grid_points=7)
    old = population_mabel(model, ["max(RO) >= 0.10"], spec, dose_unit="nmol",
                           subject=Subject(), target="Drug", end="24 h", points=20, **mk)
    new = population_mabel(model, ["max(RO) >= 0.10"], spec,
                           dosing=Dosing(target="Drug", dose_unit="nmol"),
                           grid=TimeGrid(end="24 h", points=20), run=RunOptions(workers=1), **mk)
    _same(old.variability.to_frame(), new.variability.to_frame())


# ---------------------------------------------------------------------------
# a bundle and one of its keywords: a clear error; unknown keywords: TypeError
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("call", ["simulate", "run_ensemble", "sobol", "qsp_mabel"])
def test_bundle_and_its_keyword_is_a_spec_error(model, space, call):
    from workbench.analysis.sensitivity import sobol
    from workbench.mabel.qsp import qsp_mabel
    from workbench.sim.ensemble import run_ensemble
    from workbench.sim.simulate import simulate

    fn = {"simulate": lambda **k: simulate(model, "1 nmol iv", **k),
          "run_ensemble": lambda **k: run_ensemble(model, {"CL": [0.5]}, "1 nmol iv",
                                                   metrics=["max(RO)"], **k),
          "sobol": lambda **k: sobol(model, space, "1 nmol iv", metrics=["max(RO)"], n=4, **k),
          "qsp_mabel": lambda **k: qsp_mabel(model, ["max(RO) >= 0.1"], **k)}[call]
    for kw, key in ((dict(dosing=Dosing(target="Drug"), target="Drug", end=10), "dosing"),
                    (dict(grid=TimeGrid(end=10), end=5, target="Drug"), "grid"),
                    (dict(run=RunOptions(), integrator=None, target="Drug", end=10), "run")):
        with pytest.raises(SpecError, match="not both") as e:
            fn(**kw)
        assert e.value.element == key
    with pytest.raises(TypeError, match="unexpected keyword argument 'wrokers'"):
        fn(wrokers=2)
    with pytest.raises(SpecError, match="must be a TimeGrid"):
        fn(grid={"end": 10}, target="Drug")


# ---------------------------------------------------------------------------
# doses travel as numbers
# ---------------------------------------------------------------------------

def test_a_dose_survives_exactly_without_a_text_round_trip(model, monkeypatch):
    dose = 0.1 + 0.2          # 0.30000000000000004: "0.3" after any .12g formatting
    assert f"{dose:.12g}" == "0.3" and float(f"{dose:.12g}") != dose
    reg = Dosing(target="Drug", dose_unit="ug/kg", route="iv").regimen(dose, "q1w x3")
    assert [d.amount for d in reg.doses] == [dose] * 3
    assert [d.time for d in reg.doses] == [0.0, 168.0, 336.0]
    assert reg == parse_regimen("1 ug/kg iv q1w x3", target="Drug").scaled(dose)
    assert str(reg) == "0.3 ug/kg iv q1w x3"   # the label only; the amount is the number
    # a plain amount in the species' own unit (unit-free models), as in "5 model units iv"
    for u in ("model units", "model_units", "Model Units"):
        assert Dosing(dose_unit=u).regimen(dose).doses == parse_regimen("1 model units iv").scaled(
            dose).doses
    # an infusion keeps its duration
    inf = Dosing(dose_unit="nmol", route="iv infusion 2 h").regimen(dose)
    assert inf.doses[0] == Dose(time=0.0, amount=dose, unit="nmol", route="infusion",
                                duration=2.0)

    # the QSP pipeline (grid, bisection, ladder, slider: dose_response) hands the number on
    import workbench.sim.ensemble as ens
    from workbench.mabel.qsp import dose_response

    seen: list[Regimen] = []
    real = ens.run_ensemble

    def spy(m, samples, regimen=None, **kw):
        seen.append(regimen)
        return real(m, samples, regimen, **kw)

    monkeypatch.setattr(ens, "run_ensemble", spy)
    tab = dose_response(model, ["max(Drug)"], [dose], "nmol", target="Drug", end="24 h",
                        points=20)
    assert isinstance(seen[0], Regimen) and seen[0].doses[0].amount == dose
    # and into the model: Drug(0) = D / V exactly as the engine computes it
    assert tab["max(Drug)"].iloc[0] == pytest.approx(dose / 5, rel=1e-12)


def test_dosing_regimen_checks_its_inputs():
    with pytest.raises(SpecError, match="needs its unit"):
        Dosing().regimen(1.0)
    with pytest.raises(SpecError, match="non-negative"):
        Dosing(dose_unit="mg").regimen(-1.0)
    with pytest.raises(SpecError, match="non-negative"):
        Dosing(dose_unit="mg").regimen(math.inf)
    with pytest.raises(DoseError):
        Dosing(dose_unit="mg").regimen(1.0, "every week")


# ---------------------------------------------------------------------------
# CLI options declared once, in the fields
# ---------------------------------------------------------------------------

def test_cli_options_come_from_the_fields():
    assert set(cli_flags(Dosing)) == {"into", "mw", "weight", "route", "dose_unit"}
    assert set(cli_flags(TimeGrid)) == {"start", "end", "points", "times"}
    assert set(cli_flags(RunOptions)) == {"rtol", "atol", "workers", "backend", "scheduler",
                                          "chunk_size", "progress"}
    p = argparse.ArgumentParser()
    add_options(p, Dosing, ["into", "mw", "weight"])
    add_options(p, TimeGrid, ["end", "points", "times"], defaults={"points": 201},
                required=["end"])
    add_options(p, RunOptions, ["workers", "backend", "rtol"], defaults={"workers": 1})
    a = p.parse_args(["--end", "672 h", "--into", "Drug", "--times", "1, 2.5"])
    assert (a.into, a.mw, a.weight, a.end, a.points, a.times) == ("Drug", None, 70.0, "672 h",
                                                                  201, "1, 2.5")
    assert (a.workers, a.backend, a.rtol) == (1, "processes", 1e-11)
    with pytest.raises(SystemExit):
        p.parse_args(["--into", "Drug"])          # --end is required here
    with pytest.raises(KeyError, match="no command-line option"):
        add_options(argparse.ArgumentParser(), Dosing, ["workers"])
    # the help states each verb's default, or what no default means
    text = p.format_help()
    assert "--points POINTS       evenly spaced output points (default 201)" in text
    assert "--workers WORKERS     processes (default 1)" in text


def test_the_cli_declares_the_bundle_options_through_the_fields():
    """Every --into, --mw, --weight, --end, --points, --times, --rtol, --atol, --workers,
    --backend, --scheduler of the CLI comes from the fields (one exception: the regimens
    verb's --points, output points per dosing interval, a different quantity)."""
    import inspect
    import re

    import workbench.cli as cli

    src = inspect.getsource(cli)
    hand = re.findall(r'add_argument\("--(into|mw|weight|end|points|times|rtol|atol|workers|'
                      r'backend|scheduler)"', src)
    assert hand == ["points"]
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    sim = sub.choices["simulate"].parse_args(["m.xml", "--end", "24 h"])
    assert (sim.points, sim.rtol, sim.atol, sim.weight) == (101, 1e-11, 1e-12, 70.0)
    sens = sub.choices["sensitivity"].parse_args(["m.xml", "--params", "p.csv", "--out", "o"])
    assert (sens.points, sens.rtol, sens.workers, sens.backend) == (201, None, None, "processes")
    assert sub.choices["calibrate"].parse_args(["p.yaml"]).workers == 1
