"""All 21 published models of ../shared/models-external/published load, validate and simulate;
BIOMD0000000490 (fast reactions) is refused with a clear message.

The expected libSBML finding counts come from the shared CHECKS_published.tsv
(computed there with python-libsbml 5.21.2, independently of this code).
"""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import PUBLISHED, require

from workbench import load_model, simulate, validate
from workbench.errors import UnsupportedFeatureError

FILES = sorted(p.name for p in PUBLISHED.glob("*.xml")) if PUBLISHED.exists() else []


def _checks() -> dict[str, dict]:
    with open(require(PUBLISHED / "CHECKS_published.tsv")) as fh:
        return {r["file"]: r for r in csv.DictReader(fh, delimiter="\t")}


def test_there_are_21_models():
    require(PUBLISHED)
    assert len(FILES) == 21


@pytest.mark.parametrize("name", FILES)
def test_load_validate_simulate(name):
    checks = _checks()[name]
    m = load_model(PUBLISHED / name)
    assert len(m.species) == int(checks["species"])
    assert len(m.reactions) == int(checks["reactions"])
    assert len(m.events) == int(checks["events"])
    findings = validate(m)
    counts = findings.groupby("severity")["count"].sum()
    assert counts.get("error", 0) + counts.get("fatal", 0) == int(checks["cc_errors"])
    assert counts.get("warning", 0) == int(checks["cc_warnings"])
    if name == "BIOMD0000000490.xml":
        with pytest.raises(UnsupportedFeatureError, match="fast reactions are not supported"):
            simulate(m, end=100, points=11)
        return
    outputs = list(m.species.id) or list(m.parameters.query("scope == 'global'").id)[:5]
    df = simulate(m, end=100, points=11, outputs=outputs)
    assert df.shape == (11, 1 + len(outputs))
    assert np.all(np.isfinite(df.to_numpy()))
