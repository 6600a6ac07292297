"""The bundled models: valid with units, at rest without drug, saturable, and (the
one-compartment model) equal to its closed form."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MODELS

from workbench import load_model, simulate, validate

BUNDLED = {  # file: (dose species, occupancy output)
    "onecomp_iv.ant": ("Drug", None),
    "mab_tmdd.ant": ("L", "RO"),
    "mab_tmdd_qss.ant": ("Ltot", "RO"),
    "cd3_bispecific.ant": ("Drug", "RO_CD3"),
    "cd3_platform.ant": ("Drug", "RO_CD3"),
}


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_zero_libsbml_findings_and_units_everywhere(name):
    m = load_model(MODELS / name)
    findings = validate(m)
    assert findings.empty, findings[["severity", "code", "element", "message"]].to_string()
    for table in (m.compartments, m.species, m.parameters):
        missing = table.loc[table.unit == "", "id"].tolist()
        assert not missing, f"{name}: no unit on {missing}"


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_no_drug_means_no_change(name):
    m = load_model(MODELS / name)
    outputs = list(m.species.id)
    df = simulate(m, end="672 h", points=8, outputs=outputs)
    base = df.iloc[0, 1:].to_numpy()
    scale = np.maximum(np.abs(base), 1e-12)
    assert np.max(np.abs(df.iloc[:, 1:].to_numpy() - base) / scale) < 1e-6


@pytest.mark.parametrize("name", [n for n, (_, ro) in BUNDLED.items() if ro])
def test_high_dose_saturates_target(name):
    target, ro = BUNDLED[name]
    df = simulate(MODELS / name, "10 mg/kg iv", target=target, mw="150 kDa", end="24 h",
                  points=25, outputs=[ro])
    assert df[ro].max() > 0.95
    low = simulate(MODELS / name, "0.01 ug/kg iv", target=target, mw="150 kDa", end="24 h",
                   points=25, outputs=[ro])
    assert low[ro].max() < 0.05


def test_onecomp_bundled_closed_form():
    m = load_model(MODELS / "onecomp_iv.ant")
    p = m.parameters.set_index("id")["value"]
    v = m.compartments.set_index("id").loc["central", "value"]
    k = p["CL"] / v
    df = simulate(m, "100 nmol iv", target="Drug", end="240 h", points=241, outputs=["Drug"])
    exact = 100 / v * np.exp(-k * df.time.to_numpy())
    assert df.Drug.to_numpy() == pytest.approx(exact, rel=1e-6)


def test_cd3_trimer_is_bell_shaped_and_il6_rises():
    """Documented behaviour: RO rises monotonically, the trimer has a hook (Schropp 2019)."""
    m = load_model(MODELS / "cd3_bispecific.ant")
    peaks = []
    for d in (0.1, 10, 10_000):
        df = simulate(m, f"{d} ug/kg iv", target="Drug", mw="150 kDa", end="72 h", points=145,
                      outputs=["RO_CD3", "Trimer_pM", "IL6"])
        peaks.append(df[["RO_CD3", "Trimer_pM", "IL6"]].max().to_numpy())
    ro, tri, il6 = np.array(peaks).T
    assert ro[0] < ro[1] < ro[2]
    assert tri[1] > tri[0] and tri[1] > tri[2]
    base = simulate(m, end="72 h", points=2, outputs=["IL6"]).IL6.iloc[0]
    assert il6[1] > 10 * base
