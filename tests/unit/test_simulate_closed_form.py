"""One-compartment IV model vs its closed-form solution (relative error < 1e-6).

C(t) = sum over doses of the single-dose response shifted to the dose time:
bolus D/V exp(-k t); zero-order infusion of rate R over T:
R/(k V) (1 - exp(-k min(t, T))) exp(-k max(t - T, 0)).
"""

from __future__ import annotations

import numpy as np
import pytest

from workbench import compute_metrics, load_model, simulate

V, CL = 5.0, 0.5
K = CL / V


def bolus(t, t0, dose):
    return np.where(t >= t0, dose / V * np.exp(-K * (t - t0)), 0.0)


def infusion(t, t0, dose, dur):
    r = dose / dur
    tau = np.clip(t - t0, 0.0, dur)
    after = np.maximum(t - t0 - dur, 0.0)
    return np.where(t > t0, r / (K * V) * (1 - np.exp(-K * tau)) * np.exp(-K * after), 0.0)


@pytest.fixture(scope="module")
def model(onecomp_text):
    return load_model(onecomp_text)


def rel_err(got, exact):
    # below 1e-4 of the peak the absolute tolerance (1e-12), not the dosing, sets the error
    mask = exact > 1e-4 * exact.max()
    return float(np.max(np.abs(got[mask] - exact[mask]) / exact[mask]))


def test_single_bolus(model):
    df = simulate(model, "100 nmol iv", target="Drug", end="48 h", points=97, outputs=["Drug"])
    assert rel_err(df.Drug.to_numpy(), bolus(df.time.to_numpy(), 0, 100)) < 1e-6
    assert df.attrs["units"] == {"time": "h", "Drug": "nmol/L"}


def test_infusion(model):
    df = simulate(model, "100 nmol iv infusion 2 h", target="Drug", end="24 h", points=241,
                  outputs=["Drug"])
    assert rel_err(df.Drug.to_numpy(), infusion(df.time.to_numpy(), 0, 100, 2)) < 1e-6


def test_repeated_bolus_and_infusion(model):
    t_doses = [0, 24, 48, 72]
    df = simulate(model, "100 nmol iv q24h x4", target="Drug", end="120 h", points=241,
                  outputs=["Drug"])
    t = df.time.to_numpy()
    assert rel_err(df.Drug.to_numpy(), sum(bolus(t, s, 100) for s in t_doses)) < 1e-6
    df = simulate(model, "100 nmol iv infusion 90 min q12h x3", target="Drug", end="48 h",
                  points=193, outputs=["Drug"])
    t = df.time.to_numpy()
    assert rel_err(df.Drug.to_numpy(), sum(infusion(t, s, 100, 1.5) for s in (0, 12, 24))) < 1e-6


def test_loading_then_maintenance_mg_per_kg(model):
    # 10 ug/kg then 30 ug/kg weekly: 70 kg, MW 150 kDa -> nmol = ug * 70 / 150000 * 1e3
    df = simulate(model, "10 ug/kg iv then 30 ug/kg iv q1w x2", target="Drug", end="400 h",
                  points=401, outputs=["Drug"], mw="150 kDa")
    t = df.time.to_numpy()
    nmol = lambda ug_per_kg: ug_per_kg * 70 / 150_000 * 1e3  # noqa: E731
    exact = bolus(t, 0, nmol(10)) + bolus(t, 168, nmol(30)) + bolus(t, 336, nmol(30))
    assert rel_err(df.Drug.to_numpy(), exact) < 1e-6


def test_dose_at_output_time_is_post_dose_and_predose_row(model):
    df = simulate(model, "100 nmol iv q24h x2", target="Drug", times=[0, 12, 24, 36],
                  outputs=["Drug"], predose=True)
    rows = df[df.time == 24].Drug.to_numpy()
    assert rows.shape == (2,)
    assert rows[0] == pytest.approx(20 * np.exp(-K * 24), rel=1e-6)  # just before
    assert rows[1] == pytest.approx(20 * np.exp(-K * 24) + 20, rel=1e-6)  # just after


def test_parameters_override_and_restore(model):
    a = simulate(model, "100 nmol iv", target="Drug", end=10, points=11, outputs=["Drug"],
                 parameters={"CL": 1.0})
    assert a.Drug.iloc[-1] == pytest.approx(20 * np.exp(-0.2 * 10), rel=1e-6)
    b = simulate(model, "100 nmol iv", target="Drug", end=10, points=11, outputs=["Drug"])
    assert b.Drug.iloc[-1] == pytest.approx(20 * np.exp(-K * 10), rel=1e-6)
    c = simulate(model, None, end=10, points=11, outputs=["Drug"], parameters={"Drug": 4.0})
    assert c.Drug.iloc[-1] == pytest.approx(4 * np.exp(-K * 10), rel=1e-6)
    d = simulate(model, None, end=10, points=11, outputs=["Drug"])
    assert d.Drug.iloc[-1] == 0.0


def test_amount_and_concentration_outputs(model):
    df = simulate(model, "100 nmol iv", target="Drug", end=1, points=2,
                  outputs=["Drug", "[Drug]", "amount(Drug)", "central"])
    assert df["amount(Drug)"].iloc[0] == pytest.approx(100)
    assert df["[Drug]"].iloc[0] == pytest.approx(20)
    assert df.attrs["units"]["amount(Drug)"] == "nmol"
    assert df.attrs["units"]["central"] == "L"


def test_metrics_against_closed_form(model):
    df = simulate(model, "100 nmol iv", target="Drug", end="72 h", points=721, outputs=["Drug"])
    m = compute_metrics(df, "Drug", dose_times=[0], threshold=5.0).query("interval == -1")
    v = m.set_index("metric")["value"]
    assert v["cmax"] == pytest.approx(20)
    assert v["tmax"] == 0
    assert v["auc_inf"] == pytest.approx(100 / CL, rel=1e-6)          # AUCinf = D / CL
    assert v["lambda_z"] == pytest.approx(K, rel=1e-6)
    assert v["half_life"] == pytest.approx(np.log(2) / K, rel=1e-6)
    assert v["time_above"] == pytest.approx(np.log(20 / 5) / K, rel=1e-4)  # C0 e^-kt = 5
    assert m.set_index("metric").loc["auc_inf", "unit"] == "nmol/L*h"


def test_trough_per_interval(model):
    tau = 24
    df = simulate(model, "100 nmol iv q24h x4", target="Drug", end="96 h", points=97,
                  outputs=["Drug"], predose=True)
    m = compute_metrics(df, "Drug", dose_times=[0, 24, 48, 72])
    troughs = m.query("metric == 'ctrough'").sort_values("interval")["value"].to_numpy()
    # accumulation: Ctrough_n = C0 e^{-k tau} (1 - e^{-n k tau}) / (1 - e^{-k tau})
    r = np.exp(-K * tau)
    exact = [20 * r * (1 - r**n) / (1 - r) for n in (1, 2, 3, 4)]
    assert troughs == pytest.approx(exact, rel=1e-6)
    cmax = m.query("metric == 'cmax' and interval >= 0").sort_values("interval")["value"].to_numpy()
    assert cmax == pytest.approx([20 * (1 - r**n) / (1 - r) for n in (1, 2, 3, 4)], rel=1e-6)
