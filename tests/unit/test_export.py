"""export_sbml on the one-compartment fixture: Level 3 Version 2, provenance embedded,
history, and regimens as SBML events checked against the closed-form solution

    C(t) = sum_i D_i / V exp(-k (t - t_i)),  k = CL / V = 0.1 / h, V = 5 L
    infusion at rate R over [0, T]: C(t) = R / CL (1 - exp(-k t)) for t <= T.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, SBML_SUITE, require

from workbench import (
    Creator,
    export_sbml,
    load_model,
    provenance_template,
    simulate,
)
from workbench import columns as C
from workbench.errors import DoseError, ProvenanceError, UnsupportedFeatureError

V, CL = 5.0, 0.5
K = CL / V


@pytest.fixture()
def onecomp():
    return load_model(DATA / "onecomp.ant")


def _table(model) -> pd.DataFrame:
    t = provenance_template(model)
    i = t.index[t[C.ID] == "CL"][0]
    t.loc[i, [C.SOURCE_TYPE, C.REFERENCE, C.ORGANISM, C.RATIONALE]] = [
        "clinical", "pmid:12345678", "human", "the only human value"]
    cand = t.loc[[i]].assign(**{C.CHOSEN: False, C.VALUE: 24.0, C.UNIT: "L/day",
                                C.SOURCE_TYPE: "in vivo animal", C.REFERENCE: "doi:10.1000/abc",
                                C.ORGANISM: "cynomolgus monkey", C.RATIONALE: ""})
    return pd.concat([t, cand], ignore_index=True)


def test_level3v2_with_provenance_history_and_no_errors(tmp_path, onecomp):
    out = tmp_path / "m.xml"
    table = _table(onecomp)
    rep = export_sbml(onecomp, out, provenance=table,
                      creators=[Creator("Doe", "Jane", "jane@example.org", "ACME")],
                      date=dt.datetime(2025, 1, 2, 3, 4, 5))
    text = out.read_text()
    assert 'level="3" version="2"' in text
    assert rep.errors == () and rep.unit_warnings == () and rep.lost == ()
    assert rep.missing_units == () and rep.provenance_entries == 3
    assert "http://identifiers.org/pubmed/12345678" in text          # bqbiol:isDescribedBy
    assert "urn:x-workbench:provenance:1" in text and "cynomolgus monkey" in text
    assert "<vCard4:family-name>Doe</vCard4:family-name>" in text
    assert "2025-01-02T03:04:05Z" in text
    counts = rep.to_frame().set_index(C.WHAT)
    assert counts.loc["creators", C.AFTER] == 1 and counts.loc["cv_terms", C.AFTER] >= 1
    # the SBML alone carries the table: seeding from it gives the table back
    back = provenance_template(load_model(out))
    pd.testing.assert_frame_equal(back, read_provenance_frame(table))


def read_provenance_frame(table: pd.DataFrame) -> pd.DataFrame:
    from workbench.core.provenance import _typed

    return _typed(table[list(C.PROVENANCE_COLUMNS)])


def test_reexport_is_idempotent(tmp_path, onecomp):
    table = _table(onecomp)
    export_sbml(onecomp, tmp_path / "a.xml", provenance=table)
    rep = export_sbml(load_model(tmp_path / "a.xml"), tmp_path / "b.xml", provenance=table)
    text = (tmp_path / "b.xml").read_text()
    assert text.count('class="workbench-provenance"') == 3
    assert text.count("<wbp:provenance") == 3
    assert text.count("http://identifiers.org/pubmed/12345678") == 1
    assert rep.lost == ()


def test_bad_provenance_writes_nothing(tmp_path, onecomp):
    table = _table(onecomp)
    table.loc[table[C.ID] == "central", C.VALUE] = 7.0
    with pytest.raises(ProvenanceError, match="differs from the model's value 5 L"):
        export_sbml(onecomp, tmp_path / "m.xml", provenance=table)
    assert list(tmp_path.iterdir()) == []


def test_bolus_regimen_as_events_matches_closed_form(tmp_path, onecomp):
    out = tmp_path / "m.xml"
    rep = export_sbml(onecomp, out, regimen="100 nmol iv q24h x2", target="Drug")
    assert rep.events == ("wb_dose_r1_1", "wb_dose_r1_2") and rep.unit_warnings == ()
    t = np.linspace(0, 48, 97)
    df = simulate(load_model(out), times=t, outputs=["Drug"])
    exact = 100 / V * np.exp(-K * t) + (t >= 24) * 100 / V * np.exp(-K * (t - 24))
    assert np.allclose(df["Drug"], exact, rtol=1e-6, atol=1e-9)


def test_mass_dose_and_infusion_match_closed_form(tmp_path, onecomp):
    out = tmp_path / "m.xml"
    regs = ["1 mg iv", "50 nmol iv infusion 5 h"]
    export_sbml(onecomp, out, regimen=regs, target="Drug", mw="150 kDa")
    m = load_model(out)
    t = np.linspace(0, 12, 49)
    bolus = simulate(m, times=t, outputs=["Drug"])                 # wb_regimen = 1 (default)
    c0 = 1e-3 / 150e3 * 1e9 / V                                    # 1 mg at 150 kDa in 5 L, nM
    assert np.allclose(bolus["Drug"], c0 * np.exp(-K * t), rtol=1e-6)
    inf = simulate(m, times=t, outputs=["Drug"], parameters={"wb_regimen": 2})
    rate = 50 / 5                                                  # nmol/h
    during = rate / CL * (1 - np.exp(-K * t))
    after = rate / CL * (1 - math.exp(-K * 5)) * np.exp(-K * (t - 5))
    assert np.allclose(inf["Drug"], np.where(t <= 5, during, after), rtol=1e-6, atol=1e-12)


def test_undosable_target_is_refused(tmp_path, onecomp):
    with pytest.raises(DoseError, match="no such species"):
        export_sbml(onecomp, tmp_path / "m.xml", regimen="1 nmol iv", target="Nope")
    assert list(tmp_path.iterdir()) == []


def test_fast_reactions_refused_unless_lossy(tmp_path):
    case = require(SBML_SUITE / "00986" / "00986-sbml-l3v1.xml")
    m = load_model(case)
    with pytest.raises(UnsupportedFeatureError, match="fast reactions"):
        export_sbml(m, tmp_path / "m.xml")
    rep = export_sbml(m, tmp_path / "m.xml", lossy=True)
    assert any("fast reaction" in s for s in rep.not_converted)


def test_level2_types_become_groups(tmp_path):
    from conftest import PUBLISHED

    src = require(PUBLISHED / "BIOMD0000000619.xml")
    rep = export_sbml(load_model(src), tmp_path / "m.xml", infer_units=False)
    text = (tmp_path / "m.xml").read_text()
    assert rep.lost == ()
    assert len(re.findall(r"<groups:group ", text)) == 5          # 3 compartment + 2 species types
    assert 'groups:kind="classification"' in text
