"""Regimen grammar and dose conversions, checked against hand arithmetic."""

from __future__ import annotations

import math

import pytest

from workbench import Subject, body_surface_area, dose_in_model_units, parse_regimen
from workbench.core.dosing import Dose, molecular_weight
from workbench.errors import DoseError


def test_single_bolus():
    r = parse_regimen("0.1 mg/kg iv")
    assert [(d.time, d.amount, d.unit, d.route) for d in r.doses] == [(0.0, 0.1, "mg/kg", "bolus")]


def test_repeated_infusion():
    r = parse_regimen("1 mg iv infusion 2 h q1w x4")
    assert [d.time for d in r.doses] == [0.0, 168.0, 336.0, 504.0]
    assert all(d.route == "infusion" and d.duration == 2.0 and d.amount == 1.0 for d in r.doses)


def test_loading_then_maintenance():
    r = parse_regimen("10 ug/kg iv then 30 ug/kg iv q1w x3")
    assert [(d.time, d.amount) for d in r.doses] == [(0, 10), (168, 30), (336, 30), (504, 30)]


def test_step_up_sequence():
    r = parse_regimen("1 ug/kg iv q1d x1 then 3 ug/kg iv q1d x1 then 10 ug/kg iv q1w x2")
    assert [(d.time, d.amount) for d in r.doses] == [(0, 1), (24, 3), (48, 10), (216, 10)]


def test_step_up_with_after_and_inherited_route():
    # teclistamab pattern, days 1, 4, 7 then weekly (Moreau 2022): 0, 72, 144, 312 h
    r = parse_regimen("0.06 mg/kg iv then 0.3 mg/kg after 3 d then 1.5 mg/kg after 3 d q1w x2")
    assert [(d.time, d.amount, d.route) for d in r.doses] == [
        (0, 0.06, "bolus"), (72, 0.3, "bolus"), (144, 1.5, "bolus"), (312, 1.5, "bolus")]
    # "after" may also follow the schedule; an infusion route is kept with its duration
    r = parse_regimen("1 mg iv infusion 2 h then 3 mg q1d x2 after 1 d")
    assert [(d.time, d.amount, d.duration) for d in r.doses] == [(0, 1, 2), (24, 3, 2),
                                                                  (48, 3, 2)]


def test_step_up_chain_takes_the_interval_of_the_part_that_ends_it():
    r = parse_regimen("60 ug/kg iv then 300 ug/kg then 1500 ug/kg q1w x2")
    assert [(d.time, d.amount) for d in r.doses] == [(0, 60), (168, 300), (336, 1500),
                                                     (504, 1500)]


def test_rate_infusion_and_start_time_and_target():
    r = parse_regimen("5 ug/kg/day iv infusion 28 d at 2 d into Drug")
    (d,) = r.doses
    assert d.time == 48.0 and d.duration == 672.0 and d.target == "Drug"
    assert d.amount == pytest.approx(140.0) and d.unit == "ug/kg"


def test_time_unit_of_regimen():
    r = parse_regimen("1 mg iv q1w x2", time_unit="day")
    assert [d.time for d in r.doses] == [0.0, 7.0]


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("-1 mg iv", "non-negative"),
    ("abc mg iv", "not a number"),
    ("1 mg", "route"),
    ("1 parsec iv", "neither a mass nor an amount"),
    ("1 mg iv infusion", "duration"),
    ("1 mg iv q1w", "number of doses"),
    ("1 mg iv q1w x0", "positive"),
    ("1 mg iv infusion 2 h q1h x3", "longer than"),
    ("1 mg iv then 2 mg iv", "when does"),
    ("1 mg iv then 2 mg", "when does"),
    ("1 mg iv after 2 d", "earlier part"),
    ("1 mg iv then 2 mg iv at 1 d after 2 d", "not both"),
    ("1 mg/h iv", "needs an infusion"),
    ("1 mg iv q1 fortnight x2", "time unit"),
])
def test_bad_regimen_text(text, words):
    with pytest.raises(DoseError) as e:
        parse_regimen(text)
    assert words in str(e.value)
    assert "\n" not in str(e.value)


def test_dose_rejects_negative_and_nan():
    with pytest.raises(DoseError):
        Dose(time=0, amount=-1, unit="mg")
    with pytest.raises(DoseError):
        Dose(time=0, amount=float("nan"), unit="mg")


def test_mg_per_kg_to_nmol_for_150_kda_70_kg():
    # 0.1 mg/kg x 70 kg = 7 mg; 7e-3 g / 150000 g/mol = 4.6667e-8 mol = 46.667 nmol
    d = parse_regimen("0.1 mg/kg iv").doses[0]
    got = dose_in_model_units(d, "nmol", mw="150 kDa", subject=Subject(weight=70))
    assert got == pytest.approx(7e-3 / 150_000 * 1e9, rel=1e-12)


def test_mass_model_and_amount_dose():
    # 10 nmol of a 150 kDa antibody = 1.5 mg
    d = parse_regimen("10 nmol iv").doses[0]
    assert dose_in_model_units(d, "mg", mw=150_000) == pytest.approx(1.5)


def test_mg_per_m2_via_mosteller():
    # Mosteller (1987): BSA = sqrt(H[cm] W[kg] / 3600); 180 cm, 80 kg -> exactly 2.0 m2
    subj = Subject(weight=80, height=180, bsa_formula="mosteller")
    assert subj.body_surface_area == pytest.approx(2.0, rel=1e-12)
    d = parse_regimen("375 mg/m2 iv").doses[0]
    assert dose_in_model_units(d, "mg", subject=subj) == pytest.approx(750.0)


def test_du_bois_original_form():
    # Du Bois & Du Bois (1916): A[cm2] = 71.84 W^0.425 H^0.725
    expected = 71.84 * 70**0.425 * 175**0.725 / 1e4
    assert body_surface_area(70, 175, "du_bois") == pytest.approx(expected, rel=1e-12)
    assert body_surface_area(70, 175, "Du Bois") == pytest.approx(expected, rel=1e-12)


def test_molecular_weight_forms():
    assert molecular_weight("150 kDa") == 150_000
    assert molecular_weight("54 kDa") == 54_000
    assert molecular_weight("150000 g/mol") == 150_000
    assert molecular_weight(1.5e5) == 150_000
    with pytest.raises(DoseError):
        molecular_weight("150 kg")


def test_mass_dose_needs_mw():
    d = parse_regimen("1 mg iv").doses[0]
    with pytest.raises(DoseError, match="molecular weight"):
        dose_in_model_units(d, "nmol")


def test_scaled_regimen():
    r = parse_regimen("1 mg iv q1w x2").scaled(3)
    assert [d.amount for d in r.doses] == [3, 3] and math.isclose(r.doses[1].time, 168)
