"""Verification suite: each check passes on a sound model and fails on a model built to
break it; the bundled CD3 bispecific passes or warns with a stated reason (issue 5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import DATA, MODELS

from workbench import IntegratorSettings, VerifyOptions, load_model, verify, write_verification
from workbench.core.stoichiometry import conserved_moieties, stoichiometry
from workbench.errors import SpecError
from workbench.verify.suite import CHECKS

TOY = (DATA / "verify_toy.ant").read_text()
OPTS = VerifyOptions(dose_range=("0.01 nmol", "1e5 nmol"), n_doses=6, end="336 h", points=121)


def statuses(result) -> dict[str, str]:
    return {c.check: c.status for c in result.checks}


@pytest.fixture(scope="module")
def toy_result():
    return verify(TOY, "D", "E", "RO", options=OPTS)


def test_sound_model_passes_every_check(toy_result):
    assert statuses(toy_result) == dict.fromkeys(CHECKS, "pass")
    assert toy_result.passed
    # independent answers: linear PK at saturating doses (AUC = dose / CL, slope 1) and RO -> 1
    dr = toy_result.dose_response
    auc = dr[dr.metric == "auc"].sort_values("dose")
    top = auc.iloc[-1]
    assert top.value == pytest.approx(top.dose / 3.0 / 0.01 * (1 - math.exp(-0.01 * 336)),
                                      rel=2e-3)  # D/V/k (1 - e^{-kT}), k = CL/V = 0.01 /h
    assert toy_result.check("high_dose_occupancy").value > 0.999
    table = toy_result.to_frame()
    assert list(table.columns) == ["check", "status", "value", "limit", "unit", "evidence",
                                   "reason", "plot"]
    assert (table.evidence.str.len() > 20).all()


BREAKERS = {
    # name: (text transformation, check that must fail, integrator)
    "effect rises without drug": (lambda t: t.replace("  E = E0\n", "  E = 0\n"),
                                  ("baseline", "steady_state"), None),
    "unit error (dimension)": (lambda t: t.replace("effect_out: E => ; V * kout * E",
                                                   "effect_out: E => ; kout * E"),
                               ("units",), None),
    "unit error (scale nM vs pM)": (
        lambda t: t.replace("E0 = 2;  E0 has nM", "E0 = 2;  E0 has pM").replace(
            "  unit per_h", "  unit pM = 1e-12 mole / litre\n  unit per_h"),
        ("units",), None),
    "rate law drives a species negative": (
        lambda t: t.replace("  synthesis:", "  species A in V = 1;  A has nM\n"
                            "  kuse = 0.01;  kuse has nM_per_h\n  use: A => ; V * kuse\n"
                            "  synthesis:"),
        ("non_negative",), None),
    "leaking conserved moiety": (lambda t: t.replace("end\n", "  at (time > 50): DR = DR / 2\nend\n"),
                                 ("conservation",), None),
    "loose solver on a stiff model": (
        lambda t: t.replace("kon = 1;", "kon = 1e4;").replace("koff = 0.5;", "koff = 5e3;"),
        ("solver_convergence",), IntegratorSettings(1e-2, 1e-2)),
}


@pytest.mark.parametrize("name", sorted(BREAKERS))
def test_each_check_fails_on_a_model_built_to_break_it(name):
    transform, checks, integ = BREAKERS[name]
    text = transform(TOY)
    assert text != TOY
    opts = OPTS if integ is None else VerifyOptions(**{**OPTS.__dict__, "integrator": integ})
    st = statuses(verify(text, "D", "E", "RO", options=opts))
    for c in checks:
        assert st[c] == "fail", (name, st)


def test_scale_error_is_named_and_the_stiff_model_converges_with_sound_settings():
    scaled = BREAKERS["unit error (scale nM vs pM)"][0](TOY)
    r = verify(scaled, "D", "E", "RO", options=OPTS)
    assert "initial assignment E" in r.check("units").reason
    assert "factor of 0.001" in r.check("units").reason
    assert r.check("baseline").status == "pass"   # units are labels: the numbers are unchanged
    stiff = BREAKERS["loose solver on a stiff model"][0](TOY)
    r = verify(stiff, "D", "E", "RO", options=OPTS)
    assert r.check("solver_convergence").status == "pass"


def test_leak_names_its_cause():
    r = verify(BREAKERS["leaking conserved moiety"][0](TOY), "D", "E", "RO", options=OPTS)
    reason = r.check("conservation").reason
    assert "R + DR" in reason and "sets DR" in reason


def test_skips_record_their_reason():
    opts = VerifyOptions(**{**OPTS.__dict__, "skip": {"stochastic": "deterministic ODE model"}})
    r = verify(TOY, "D", "E", options=opts)
    assert r.check("stochastic").status == "skip"
    assert "deterministic ODE model" in r.check("stochastic").reason
    assert r.check("high_dose_occupancy").status == "skip"      # no occupancy output given
    assert "occupancy" in r.check("high_dose_occupancy").reason
    with pytest.raises(SpecError):
        VerifyOptions(skip={"units": ""})
    with pytest.raises(SpecError):
        VerifyOptions(skip={"nonsense": "x"})


def test_conserved_moieties_of_a_binding_network():
    # A + B <-> C (two reactions): the moieties are A + C and B + C (c @ N = 0, rank 2)
    n = np.array([[-1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    basis = conserved_moieties(n)
    assert basis.shape == (2, 3)
    assert np.allclose(basis @ n, 0)
    assert np.linalg.matrix_rank(basis) == 2
    assert (basis >= 0).all()
    assert {tuple(v) for v in basis} == {(1.0, 0.0, 1.0), (0.0, 1.0, 1.0)}


def test_stoichiometry_marks_sources_and_sinks():
    n, sp, rx, open_ = stoichiometry(load_model(TOY))
    assert dict(zip(rx, open_, strict=True)) == {
        "elimination": True, "binding": False, "internalisation": True, "synthesis": True,
        "degradation": True, "effect_in": True, "effect_out": True}
    assert n[sp.index("DR"), rx.index("binding")] == 1.0


def test_bundled_bispecific_passes_or_warns_with_a_reason(tmp_path):
    r = verify(MODELS / "cd3_bispecific.ant", "Drug", "IL6", "RO_CD3", mw="150 kDa")
    st = statuses(r)
    assert set(st.values()) <= {"pass", "warn"}, st
    assert st["monotone_dose_response"] == "warn"       # the hook effect of the trimer
    for c in r.checks:
        if c.status == "warn":
            assert "bell-shaped" in c.reason
    assert r.check("high_dose_occupancy").value > 0.99
    paths = write_verification(r, tmp_path)
    names = {p.rsplit("/", 1)[-1] for p in paths}
    assert {"verification.csv", "verification_dose_response.csv", "verification.png",
            "verify_baseline.png"} <= names


def test_stochastic_check_on_a_birth_death_process():
    from workbench.sim._engine import Engine

    m = load_model(DATA / "birth_death.ant")
    opts = VerifyOptions(doses=("10 item", "100 item", "1000 item"), end="50 h", replicates=100)
    r = verify(m, "D", "X", options=opts, seed=1)
    assert r.check("stochastic").status == "pass"
    assert "Gillespie" in r.check("stochastic").evidence
    assert verify(m, "D", "X", options=opts, seed=1).check("stochastic").evidence == \
        r.check("stochastic").evidence
    # stationary immigration-death: X ~ Poisson(k/d = 100), mean = variance = 100
    eng = Engine(m.sbml, (), m.source)
    res = eng.run_gillespie(np.linspace(0, 50, 6), ["X"], list(range(1, 401)))
    x = res[:, -1, 1]
    assert abs(x.mean() - 100) < 4 * 10 / math.sqrt(len(x))
    assert 70 < x.var(ddof=1) < 130
    again = eng.run_gillespie(np.linspace(0, 50, 6), ["X"], [1, 2])
    assert np.array_equal(again, res[:2])
    assert not np.array_equal(res[0], res[1])


def test_cli_verify(tmp_path, capsys):
    from workbench.cli import main

    toy = tmp_path / "toy.ant"
    toy.write_text(TOY)
    args = ["verify", str(toy), "--drug", "D", "--effect", "E", "--occupancy", "RO",
            "--dose-range", "0.01 nmol", "1e5 nmol", "--n-doses", "6", "--end", "336 h"]
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "solver_convergence" in out and "pass" in out
    assert (tmp_path / "out" / "verification.csv").exists()
    bad = tmp_path / "bad.ant"
    bad.write_text(BREAKERS["effect rises without drug"][0](TOY))
    assert main(["verify", str(bad), *args[2:]]) == 1
