"""One engine core: a simulation and an ensemble row set every kind of id the same way.

``simulate`` is a batch of one row and each ensemble sample a row of a batch
(workbench.sim._batch.BatchRunner), so the trajectories must be *identical*; the
values they start from are checked against the model's own arithmetic (closed
forms), and a shared engine must give, after any sequence of runs with other
ids, exactly what a new engine gives.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.errors import SpecError, UnknownIdError
from workbench.sim._engine import Engine, engine_for
from workbench.sim._outputs import parse_output
from workbench.sim._timegrid import DEFAULT_POINTS, METRIC_POINTS, time_grid

# A (concentration species) and B (amount species) decay at k; S = 2 Nt is a species
# with an initial assignment, bet = 2 / Nt a parameter with one (read by S's decay);
# c2 = Nt / 2 a compartment with one; the compartment c holds A, B and S.
BASE = """model allkinds
  compartment c = 2
  compartment c2
  c2 = Nt / 2
  species A in c = 1
  substanceOnly species B in c = 3
  species S in c
  species P in c2 = 1
  S = 2 * Nt
  Nt = 4
  bet = 2 / Nt
  k = 0.3
  J1: A -> ; k * A * c
  J2: S -> ; bet * S * c
  J3: B -> ; k * B
  J4: P -> ; k * P * c2
  {events}
end"""
MODELS = {
    "plain": BASE.format(events=""),
    "event": BASE.format(events="E: at time > 2: k = k / 2"),
    "delayed event": BASE.format(events="E: at 1 after time > 2: k = k / 2"),
}
SETTINGS = [
    {"k": 0.5},                       # parameter
    {"A": 2.5},                       # species (concentration)
    {"B": 7.0},                       # species (amount: hasOnlySubstanceUnits)
    {"S": 10.0},                      # species with an initial assignment
    {"c": 3.0},                       # compartment
    {"c2": 5.0},                      # compartment with an initial assignment
    {"Nt": 8.0},                      # parameter read by initial assignments
    {"bet": 1.0},                     # parameter with an initial assignment
    {"c": 3.0, "A": 0.5, "Nt": 8.0, "S": 1.0, "k": 0.1, "B": 2.0},  # all at once
]
OUTPUTS = ["A", "amount(A)", "B", "[B]", "S", "bet", "k", "c", "c2", "P"]
TIMES = [0.0, 1.0, 2.5, 4.0]


def _ensemble_row(m, params: dict) -> np.ndarray:
    res = wb.run_ensemble(m, pd.DataFrame({k: [v] for k, v in params.items()}), None,
                          outputs=OUTPUTS, times=TIMES, workers=1, progress=False)
    assert (res["status"] == "ok").all(), res["status"].tolist()
    return np.array([[res[f"value({o}, {t:.10g})"].iloc[0] for o in OUTPUTS] for t in TIMES])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_simulate_and_ensemble_set_every_kind_of_id_alike(name):
    m = wb.load_model(MODELS[name])
    for params in SETTINGS:
        single = wb.simulate(m, times=TIMES, outputs=OUTPUTS, parameters=params)
        np.testing.assert_array_equal(_ensemble_row(m, params), single[OUTPUTS].to_numpy(),
                                      err_msg=f"{name}: {params}")
        # the start is what the model's arithmetic says (user values win over assignments)
        nt = params.get("Nt", 4.0)
        c = params.get("c", 2.0)
        t0 = single.iloc[0]
        assert t0["k"] == params.get("k", 0.3)
        assert t0["c"] == pytest.approx(c)
        if "Nt" not in params:  # libRoadRunner 2.10 does not re-evaluate c2 = Nt / 2 on reset
            assert t0["c2"] == pytest.approx(params.get("c2", nt / 2))
        # a set compartment size keeps the loaded amounts of species not set (libRoadRunner's
        # resetAll; the engine's semantics on every path)
        amount_a = params["A"] * c if "A" in params else 1.0 * 2.0
        assert t0["amount(A)"] == pytest.approx(amount_a)
        assert t0["A"] == pytest.approx(amount_a / c)
        assert t0["B"] == pytest.approx(params.get("B", 3.0))
        assert t0["[B]"] == pytest.approx(params.get("B", 3.0) / c)
        assert t0["S"] == pytest.approx(params.get("S", 2 * nt))
        assert t0["bet"] == pytest.approx(params.get("bet", 2 / nt))
        # before the event (t <= 2): first-order decay, dA/dt = -k A
        kk = params.get("k", 0.3)
        assert single["A"].iloc[1] == pytest.approx(amount_a / c * math.exp(-kk), rel=1e-6)
        assert single["S"].iloc[1] == pytest.approx(t0["S"] * math.exp(-t0["bet"]), rel=1e-6)


def test_the_known_disagreement_is_gone():
    """simulate(parameters={"S": 10}) on a species with an initial assignment used to
    return 10 while run_ensemble({"S": [10]}) raised SpecError."""
    m = wb.load_model(MODELS["plain"])
    single = wb.simulate(m, times=[0, 1], outputs=["S"], parameters={"S": 10})
    row = wb.run_ensemble(m, {"S": [10]}, None, outputs=["S"], times=[0, 1], workers=1)
    assert single["S"].iloc[0] == 10.0 == row["value(S, 0)"].iloc[0]
    assert single["S"].iloc[1] == row["value(S, 1)"].iloc[0]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_shared_engine_equals_a_new_engine_after_any_sequence(name):
    """The one restore ledger: runs with other ids on the cached engine leave nothing
    behind. Each run equals the same run on a new private engine, exactly."""
    m = wb.load_model(MODELS[name])
    shared = engine_for(m.sbml, (), m.source)
    times = np.array(TIMES)
    rng = np.random.default_rng(3)
    for _ in range(2):
        for i in rng.permutation(len(SETTINGS)):
            params = SETTINGS[i]
            got = shared.run(times, OUTPUTS, parameters=params)
            want = Engine(m.sbml, (), m.source).run(times, OUTPUTS, parameters=params)
            np.testing.assert_array_equal(got, want, err_msg=f"{name}: {params}")
    np.testing.assert_array_equal(shared.run(times, OUTPUTS),
                                  Engine(m.sbml, (), m.source).run(times, OUTPUTS))


def test_assignment_is_compiled_once_per_tuple_of_ids():
    m = wb.load_model(MODELS["plain"])
    eng = engine_for(m.sbml, (), m.source)
    a = eng.assignment(("k", "S", "c"))
    assert eng.assignment(("k", "S", "c")) is a
    assert a.ids == ("k", "S", "c")
    assert [eng.index.setters[s][0] for s in a.ids] == ["global", "float_conc", "compartment"]
    assert [p for p, _ in a.after] == [1]            # S has an initial assignment: after reset
    assert a.reset_all                                # a compartment is set
    assert set(eng.assignment(("Nt",)).dependents) == {"bet"}
    assert not eng.assignment(("k",)).reset_all       # nothing a run changes


def test_ids_that_cannot_be_set_fail_alike_in_both_paths():
    m = wb.load_model("model r\n compartment c = 1\n species S in c = 1\n k = 1\n"
                      " v := 2 * k\n J: S -> ; v * S\nend")
    for bad, err in (("v", SpecError), ("J", UnknownIdError), ("kk", UnknownIdError)):
        with pytest.raises(err):
            wb.simulate(m, times=[0, 1], outputs=["S"], parameters={bad: 1.0})
        with pytest.raises(err):
            wb.run_ensemble(m, {bad: [1.0]}, None, outputs=["S"], times=[0, 1], workers=1)


def test_output_names_have_one_reader():
    assert parse_output("[S]") == ("concentration", "S")
    assert parse_output(" amount( S ) ") == ("amount", "S")
    assert parse_output("S") == ("symbol", "S")
    assert parse_output("[]") == ("symbol", "[]")
    m = wb.load_model(MODELS["plain"])
    eng = engine_for(m.sbml, (), m.source)
    assert [eng.selection(o) for o in ("A", "[A]", "amount(A)", "B", "[B]", "k", "time")] == \
        ["[A]", "[A]", "A", "B", "[B]", "k", "time"]
    with pytest.raises(UnknownIdError, match="did you mean 'A'"):
        eng.selection("[AA]")
    assert wb.simulate(m, times=[0, 1], outputs=["amount(A)"]).attrs["units"]["amount(A)"] == \
        wb.simulate(m, times=[0, 1], outputs=["amount(B)"]).attrs["units"]["amount(B)"]


def test_one_time_grid_builder():
    assert len(time_grid(0, 10)) == DEFAULT_POINTS == 101
    assert len(time_grid(0, 10, default_points=METRIC_POINTS)) == 201
    np.testing.assert_array_equal(time_grid(0, 4, 3, [1.5], include=[9]), [0, 1.5, 2, 4, 9])
    np.testing.assert_array_equal(time_grid(1, times=[3, 2, 3]), [1, 2, 3])
    for kw, match in ((dict(end=0), "must come after"), (dict(end=1, points=1), "2 output"),
                      (dict(times=[]), "empty"), (dict(times=[-1]), "before the start"),
                      ({}, "give the end time")):
        with pytest.raises(SpecError, match=match):
            time_grid(0, **kw)
    m = wb.load_model(MODELS["plain"])
    assert len(wb.simulate(m, end=1, outputs=["A"])) == 101
    with pytest.raises(SpecError, match="give the end time"):
        wb.simulate(m, outputs=["A"])


# immigration-death in molecule counts: X ~ Poisson(k / d) = Poisson(100) at stationarity;
# the delayed event never fires, but it sends every run through a new RoadRunner instance
BIRTH_DEATH_DELAYED = """model bd
  compartment c = 1
  substanceOnly species X in c = 100
  k = 20
  d = 0.2
  birth: => X; k
  death: X => ; d * X
  E: at 1 after X > 1e9: k = 0
end"""


def test_gillespie_replicates_of_a_model_with_delayed_events():
    # prepare() gives models with delayed events a new RoadRunner per run; run_gillespie
    # set the Gillespie integrator and the output selections on the old one only, so the
    # replicates were CVODE runs of the default selections (time, X: here X sat at 100 in
    # every replicate and the columns were the model's species, not the outputs)
    m = wb.load_model(BIRTH_DEATH_DELAYED)
    eng = Engine(m.sbml, (), m.source)
    assert eng.index.delayed_events
    res = eng.run_gillespie(np.linspace(0, 50, 6), ["d", "X"], list(range(1, 41)))
    assert res.shape == (40, 6, 3)
    assert np.all(res[:, :, 1] == 0.2)  # the outputs asked for, in their order
    x = res[:, -1, 2]
    assert len(np.unique(x)) > 5  # stochastic, not one deterministic run repeated
    assert abs(x.mean() - 100) < 4 * 10 / math.sqrt(len(x))
    again = eng.run_gillespie(np.linspace(0, 50, 6), ["d", "X"], [1, 2])
    assert np.array_equal(again, res[:2])
    assert eng.rr.getIntegrator().getName() == "cvode"  # restored on the current instance


def test_species_initial_assignment_through_an_assignment_rule_with_delayed_events():
    # X = X0 with X0 := k / d: setting k changes X(0). The new-instance path of models with
    # delayed events re-evaluated initial assignments only when one read a set id directly,
    # so X started at its loaded 100 there and at 200 without the delayed event
    model = """model m
  compartment c = 1
  species X in c
  k = 20
  d = 0.2
  X0 := k / d
  X = X0
  J: X -> ; d * X
%s
end"""
    for event in ("", "  E: at 1 after X > 1e9: k = 0"):
        df = wb.simulate(wb.load_model(model % event), times=[0, 1], outputs=["X"],
                         parameters={"k": 40.0})
        assert df.X.iloc[0] == pytest.approx(200.0), event
        assert df.X.iloc[1] == pytest.approx(200.0 * math.exp(-0.2), rel=1e-6), event
