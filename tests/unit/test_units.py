"""Unit strings and conversions."""

from __future__ import annotations

import pytest

from workbench import load_model
from workbench.core import units as U
from workbench.errors import UnitError


def test_conversions():
    assert U.factor("mg/kg", "ug/kg") == pytest.approx(1000)
    assert U.factor("nM", "nmol/L") == pytest.approx(1)
    assert U.factor("1/h", "1/day") == pytest.approx(24)
    assert U.factor("L/nmol/h", "1/nM/h") == pytest.approx(1)
    assert U.factor("m2", "cm2") == pytest.approx(1e4)
    assert U.factor("w", "d") == pytest.approx(7)
    # one item is 1/N_A mol (N_A = 6.02214076e23 /mol, SI 2019 exact)
    assert U.factor("item", "mol") == pytest.approx(1 / 6.02214076e23, rel=1e-12)


def test_incompatible_and_unreadable():
    with pytest.raises(UnitError, match="dimensions differ"):
        U.factor("mg", "h")
    with pytest.raises(UnitError, match="cannot read"):
        U.factor("mg/", "mg")


def test_readable_sbml_units():
    m = load_model("""
    model u
      unit time_unit = 3600 second
      unit substance = 1e-9 mole
      unit per_nM_per_h = litre / (1e-9 mole * 3600 second)
      unit per_h = 1 / 3600 second
      compartment c = 3 litre
      species S in c = 1
      kon = 0.1 per_nM_per_h
      k = 1 per_h
      S -> ; k*S
    end
    """)
    p = m.parameters.set_index("id")["unit"]
    assert m.time_unit == "h"
    assert m.species.set_index("id").loc["S", "unit"] == "nmol/L"
    assert p["k"] == "1/h"
    assert U.factor(p["kon"], "L/nmol/h") == pytest.approx(1.0)
