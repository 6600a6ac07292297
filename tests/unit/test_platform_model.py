"""models/cd3_platform.ant against independent answers.

Each test compares the engine with something it did not compute: conservation laws
(drug and CD3 amounts summed over every compartment with the losses written out here
from the states, not taken from the engine's reaction rates), the analytic two-compartment
solution and a matrix exponential of the linear PK, the AUC identity of linear PK
(AUC = F x dose / CL), the published fraction of lymphocytes in blood, and switches
that must silence a mechanism (no activation, no killing).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from conftest import MODELS
from scipy.linalg import expm

from workbench import load_model

roadrunner = pytest.importorskip("roadrunner")

PLATFORM = MODELS / "cd3_platform.ant"
NMOL_PER_UGKG = 70 * 1000 / 150000  # 1 ug/kg, 70 kg, 150 kDa -> nmol

DRUG_SPECIES = ["Drug", "Drug_p", "Drug_t", "Drug_sc", "Drug_CD3_b", "Drug_TAA_b", "Trimer_b",
                "Drug_CD3_l", "Drug_CD3_t", "Drug_TAA_t", "Trimer_t"]
CD3_SPECIES = ["CD3_b", "Drug_CD3_b", "Trimer_b", "CD3_l", "Drug_CD3_l", "CD3_t", "Drug_CD3_t",
               "Trimer_t"]
HAEM = {"f_TAA_blood": 1.0, "f_TAA_tumour": 0.0}  # the default is a solid-tumour target


@functools.lru_cache(maxsize=1)
def _sbml() -> str:
    return load_model(PLATFORM).sbml


def _runner(**values) -> roadrunner.RoadRunner:
    """A fresh RoadRunner of the platform model with `values` set, initial assignments
    re-evaluated (reset) and tight tolerances (the tests compare to 1e-6 or better)."""
    rr = roadrunner.RoadRunner(_sbml())
    for k, v in values.items():
        rr.setValue(k, v)
    rr.reset()
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-16
    rr.integrator.maximum_num_steps = 200000
    return rr


def _amount(rr, species) -> float:
    return sum(rr.getValue(s) for s in species)  # a species id without brackets: amount (nmol)


def _losses(rr) -> float:
    """Drug leaving the body (nmol/h), written out from the model's equations."""
    g = rr.getValue
    v = {c: g(c) for c in ("central", "peripheral", "tumour", "depot")}
    c = {s: g(f"[{s}]") for s in DRUG_SPECIES}
    kill_b = g("k_tgt") + g("kkill_b")
    kill_t = g("k_tgt") + g("kkill_t")
    return (g("CL") * c["Drug"]
            + (1 - g("F_sc")) * g("ka") * v["depot"] * c["Drug_sc"]
            + g("kint_CD3") * (v["central"] * c["Drug_CD3_b"] + v["peripheral"] * c["Drug_CD3_l"]
                               + v["tumour"] * c["Drug_CD3_t"])
            + (g("kint_TAA") + kill_b) * v["central"] * c["Drug_TAA_b"]
            + (g("kint_TAA") + kill_t) * v["tumour"] * c["Drug_TAA_t"]
            + g("kint_TRI") * (v["central"] * c["Trimer_b"] + v["tumour"] * c["Trimer_t"]))


def _state_rates(rr) -> dict[str, float]:
    """d/dt of every state (species amounts in nmol/h, rate-rule variables), by id."""
    a = rr.getRatesOfChangeNamedArray()
    return {k.rstrip("'"): float(v) for k, v in zip(a.colnames, a[0], strict=True)}


@pytest.mark.parametrize("setting", [HAEM, {}], ids=["haematological", "solid"])
def test_drug_free_state_is_a_steady_state(setting):
    """Without drug every state (species amounts, T-cell pools, target fractions) is at rest
    at t = 0 and stays there for four weeks."""
    rr = _runner(**setting)
    r = _state_rates(rr)
    ids = list(r)
    start = np.array([rr.getValue(i) for i in ids])
    rates = np.array([r[i] for i in ids])
    scale = np.maximum(np.abs(start), 1e-12)
    assert np.max(np.abs(rates) / scale) < 1e-12
    rr.simulate(0, 672, 50)
    end = np.array([rr.getValue(i) for i in ids])
    assert np.max(np.abs(end - start) / scale) < 1e-8
    assert rr.getValue("IL6") == pytest.approx(rr.getValue("IL6_0"), rel=1e-9)
    assert rr.getValue("Tact") == 0 and rr.getValue("Tgt_frac") == 1


@pytest.mark.parametrize("setting", [HAEM, {}], ids=["haematological", "solid"])
@pytest.mark.parametrize("dose_ugkg", [0.1, 10.0, 1000.0])
def test_drug_mass_balance_with_every_loss(setting, dose_ugkg):
    """d(total drug in every compartment and complex)/dt equals minus the losses written out
    here (clearance, internalisation, death of target cells carrying drug, presystemic SC
    loss), along IV and SC courses (relative 1e-6 of the loss or of CL x Cfree)."""
    for target in ("Drug", "Drug_sc"):
        rr = _runner(**setting)
        rr.setValue(target, dose_ugkg * NMOL_PER_UGKG)
        for t0, t1 in [(0, 0.5), (0.5, 6), (6, 48), (48, 300)]:
            rr.simulate(t0, t1, 3)
            r = _state_rates(rr)
            d_total = sum(r[s] for s in DRUG_SPECIES)
            loss = _losses(rr)
            assert d_total == pytest.approx(-loss, rel=1e-6, abs=1e-12 * dose_ugkg)


def test_total_drug_is_conserved_when_nothing_removes_it():
    """With clearance, internalisation, target-cell death and presystemic loss switched off,
    the total amount of drug (free and bound, all compartments, depot) stays the dose."""
    rr = _runner(CL=0, kint_CD3=0, kint_TAA=0, kint_TRI=0, k_tgt=0, kmax_kill=0, F_sc=1,
                 f_TAA_blood=1.0)  # targets in blood and tumour
    dose = 3.0
    rr.setValue("Drug_sc", dose / 2)
    rr.setValue("Drug", dose / 2)
    for t0, t1 in [(0, 1), (1, 24), (24, 168), (168, 672)]:
        rr.simulate(t0, t1, 5)
        assert _amount(rr, DRUG_SPECIES) == pytest.approx(dose, rel=1e-7)
    assert rr.getValue("Trimer_t") > 0 and rr.getValue("Trimer_b") > 0  # binding did happen


def test_total_cd3_is_conserved_while_t_cells_redistribute():
    """No drug, no CD3 turnover: put every T cell (and its CD3) in blood; trafficking
    redistributes them, total CD3 stays constant, and CD3 per T cell ends equal in every
    compartment."""
    rr = _runner(kdeg_CD3=0, kint_CD3=0)
    total_t = rr.getValue("TB") + rr.getValue("TL") + rr.getValue("TT")
    total_cd3 = _amount(rr, CD3_SPECIES)
    rr.setValue("TB", total_t * (1 - 2e-9))  # a trace left in each tissue pool: ratios stay defined
    rr.setValue("TL", total_t * 1e-9)
    rr.setValue("TT", total_t * 1e-9)
    rr.setValue("CD3_b", total_cd3)
    rr.setValue("CD3_l", 0)
    rr.setValue("CD3_t", 0)
    rr.simulate(0, 24 * 30, 100)
    assert _amount(rr, CD3_SPECIES) == pytest.approx(total_cd3, rel=1e-8)
    per_cell = [rr.getValue(c) / rr.getValue(t) for c, t in
                (("CD3_b", "TB"), ("CD3_l", "TL"), ("CD3_t", "TT"))]
    assert per_cell == pytest.approx([per_cell[0]] * 3, rel=1e-4)
    assert per_cell[0] == pytest.approx(total_cd3 / total_t, rel=1e-4)


def test_t_cell_trafficking_gives_the_published_blood_fraction():
    """The trafficking rates (blood transit 25 min, Pabst 1988; one exit from lymphoid tissue
    per day, Westermann & Pabst 1992) put about 2 % of T cells in blood, the fraction the
    same review reports (1.5-2.5 % accepted). A run started with every T cell in blood
    relaxes to the analytic steady state of the three-pool system."""
    rr = _runner()
    k_bl, k_lb, k_tb, k_bt = (rr.getValue(k) for k in ("k_BL", "k_LB", "k_TB", "k_BT"))
    f_blood = 1 / (1 + k_bl / k_lb + k_bt / k_tb)
    assert 0.015 <= rr.getValue("f_Tblood") <= 0.025
    assert rr.getValue("f_Tblood") == pytest.approx(f_blood, rel=1e-9)
    total = rr.getValue("TB") + rr.getValue("TL") + rr.getValue("TT")
    rr.setValue("TB", total * (1 - 2e-9))  # a trace left in each tissue pool: ratios stay defined
    rr.setValue("TL", total * 1e-9)
    rr.setValue("TT", total * 1e-9)
    rr.simulate(0, 24 * 30, 100)
    assert rr.getValue("f_Tblood") == pytest.approx(f_blood, rel=1e-5)
    assert rr.getValue("TB") + rr.getValue("TL") + rr.getValue("TT") == pytest.approx(total,
                                                                                     rel=1e-9)


NO_TARGETS = {"n_CD3": 0.0, "f_TAA_blood": 0.0, "f_TAA_tumour": 0.0}


def test_linear_pk_matches_the_two_compartment_closed_form():
    """No targets and no tumour exchange: an IV bolus follows the bi-exponential solution of
    the two-compartment model (relative 1e-6)."""
    rr = _runner(P_tum=0, D_tum=0, **NO_TARGETS)
    dose = 10 * NMOL_PER_UGKG
    rr.setValue("Drug", dose)
    s = rr.simulate(0, 672, 97, ["time", "[Drug]"])
    v1, v2, cl, q = (rr.getValue(k) for k in ("central", "peripheral", "CL", "Q"))
    k10, k12, k21 = cl / v1, q / v1, q / v2
    a = k10 + k12 + k21
    alpha = (a + math.sqrt(a * a - 4 * k10 * k21)) / 2
    beta = (a - math.sqrt(a * a - 4 * k10 * k21)) / 2
    t = s[:, 0]
    exact = dose / v1 * ((alpha - k21) / (alpha - beta) * np.exp(-alpha * t)
                         + (k21 - beta) / (alpha - beta) * np.exp(-beta * t))
    assert s[:, 1] == pytest.approx(exact, rel=1e-6)


def test_linear_pk_with_tumour_and_depot_matches_the_matrix_exponential():
    """No targets, tumour exchange and SC depot on: the four amounts (depot, central,
    peripheral, tumour) equal expm(A t) x0 of the linear system built here from the
    parameters (relative 1e-6)."""
    rr = _runner(**NO_TARGETS)
    g = rr.getValue
    v1, v2, vt = g("central"), g("peripheral"), g("tumour")
    cl, q, ka, f = g("CL"), g("Q"), g("ka"), g("F_sc")
    kex = 2 * g("P_tum") * g("Rcap") / g("Rkrogh") ** 2 + 6 * g("D_tum") / g("R_tum") ** 2
    pstum = g("V_tumour") * kex  # L/h
    a = np.array([[-ka, 0, 0, 0],
                  [f * ka, -(cl + q + pstum) / v1, q / v2, pstum / vt],
                  [0, q / v1, -q / v2, 0],
                  [0, pstum / v1, 0, -pstum / vt]])
    x0 = np.array([5.0, 2.0, 0.0, 0.0])
    rr.setValue("Drug_sc", x0[0])
    rr.setValue("Drug", x0[1])
    s = rr.simulate(0, 1000, 51, ["time", "Drug_sc", "Drug", "Drug_p", "Drug_t"])
    for row in s:
        exact = expm(a * row[0]) @ x0
        assert row[1:] == pytest.approx(exact, rel=1e-6, abs=1e-12)
    assert s[:, 4].max() > 1e-3 * x0.sum()  # the tumour did take up drug


def test_sc_depot_auc_ratio_is_the_bioavailability():
    """Linear PK (no targets): AUC(SC) / AUC(IV) = F and AUC(IV) = dose / CL."""
    aucs = {}
    for target in ("Drug", "Drug_sc"):
        rr = _runner(**NO_TARGETS)
        rr.setValue(target, 1.0)
        s = rr.simulate(0, 40000, 40001, ["time", "[Drug]"])
        aucs[target] = np.trapezoid(s[:, 1], s[:, 0])
        cl = rr.getValue("CL")
        f = rr.getValue("F_sc")
    assert aucs["Drug"] == pytest.approx(1.0 / cl, rel=1e-3)
    assert aucs["Drug_sc"] / aucs["Drug"] == pytest.approx(f, rel=1e-3)


def test_target_placement_switches():
    """The TAA sits where the target cells live: haematological default only in blood, the
    solid-tumour setting only in the tumour; Tgt_frac and RO_TAA follow."""
    hem = _runner(**HAEM)
    assert hem.getValue("[TAA_b]") > 0 and hem.getValue("[TAA_t]") == 0
    solid = _runner()
    assert solid.getValue("[TAA_b]") == 0 and solid.getValue("[TAA_t]") > 0
    n = solid.getValue("NtgtT0")
    assert n == pytest.approx(solid.getValue("Tum_density") * solid.getValue("V_tumour"))
    assert solid.getValue("[TAA_t]") * solid.getValue("tumour") * solid.getValue("NA") == \
        pytest.approx(n * solid.getValue("n_TAA"), rel=1e-12)
    solid.setValue("Drug", 10 * NMOL_PER_UGKG)
    solid.simulate(0, 72, 10)
    assert solid.getValue("Trimer_b") == 0 and solid.getValue("Trimer_t") > 0
    assert solid.getValue("RO_TAA") > 0


@pytest.mark.parametrize("setting", [HAEM, {}], ids=["haematological", "solid"])
def test_killing_and_il6_need_activated_t_cells(setting):
    """Activation-dependent killing: with activation switched off (kTact = 0) trimers still
    form but no target cell is killed and IL-6 stays at baseline; with it on, both respond."""
    off = _runner(kTact=0, **setting)
    off.setValue("Drug", 10 * NMOL_PER_UGKG)
    s = off.simulate(0, 336, 50, ["time", "Trimer_pM", "Tgt_frac", "IL6"])
    assert s[:, 1].max() > 0
    assert s[:, 2].min() == pytest.approx(1.0, abs=1e-12)
    assert s[:, 3].max() == pytest.approx(off.getValue("IL6_0"), rel=1e-9)
    on = _runner(**setting)
    on.setValue("Drug", 10 * NMOL_PER_UGKG)
    s = on.simulate(0, 336, 50, ["time", "Trimer_pM", "Tgt_frac", "IL6"])
    assert s[:, 2].min() < 0.99 and s[:, 3].max() > 2 * on.getValue("IL6_0")


def test_activation_is_driven_by_synapses_per_t_cell():
    """Stim is the Hill function of trimers per T cell (Syn_b = trimer amount x NA / blood
    T cells), not of the trimer concentration."""
    rr = _runner(**HAEM)
    rr.setValue("Drug", 1 * NMOL_PER_UGKG)
    rr.simulate(0, 2, 3)
    syn = rr.getValue("Syn_b")
    expected = rr.getValue("[Trimer_b]") * rr.getValue("central") * rr.getValue("NA") \
        / (rr.getValue("TB") * rr.getValue("Tunit"))
    assert syn == pytest.approx(expected, rel=1e-12)
    x = syn / rr.getValue("EC50_syn")
    n = rr.getValue("n_act")
    assert rr.getValue("Stim_b") == pytest.approx(x ** n / (1 + x ** n), rel=1e-12)


def test_tumour_radius_is_that_of_the_tumour_volume():
    rr = _runner()
    r_dm = rr.getValue("R_tum") * 1e-5  # um -> dm (1 L = 1 dm3)
    assert 4 / 3 * math.pi * r_dm ** 3 == pytest.approx(rr.getValue("V_tumour"), rel=1e-3)
