"""Provenance table: template, CSV/XLSX round trip, lint (every finding at once), ranges.

Independent answers: unit conversions written out by hand (0.2 L/day = 0.2/24 L/h),
fold ranges computed from the candidate values, and the element lists of the
fixture models.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import DATA, MODELS

from workbench import (
    candidate_ranges,
    check_provenance,
    lint_provenance,
    load_model,
    provenance_template,
    read_provenance,
    write_provenance,
)
from workbench import columns as C
from workbench.errors import InputFileError, ProvenanceError

ANNOTATED = """
model annotated_fixture
  unit time_unit = 3600 second
  unit substance = 1e-9 mole
  unit volume = litre
  unit extent = 1e-9 mole
  unit per_h = 1 / 3600 second
  unit nM = 1e-9 mole / litre
  compartment V = 2
  V has litre
  species A in V = 1
  A has nM
  k = 0.3
  k has per_h
  kb = 0.1
  kb has per_h
  r1: A -> ; k * A * V
  k isDescribedBy "http://identifiers.org/pubmed/12345678"
end
annotated_fixture isDescribedBy "http://identifiers.org/doi/10.1000/xyz123"
"""


def _codes(df: pd.DataFrame) -> list[str]:
    """Codes of the error findings."""
    return sorted(df.loc[df[C.SEVERITY] == "error", C.CODE])


@pytest.fixture()
def onecomp():
    return load_model(DATA / "onecomp.ant")


def test_template_has_one_chosen_row_per_valued_quantity(onecomp):
    t = provenance_template(onecomp)
    assert list(t.columns) == list(C.PROVENANCE_COLUMNS)
    assert sorted(t[C.ID]) == ["CL", "Drug", "central"]
    assert t[C.CHOSEN].all()
    row = t.set_index(C.ID).loc["CL"]
    assert (row[C.VALUE], row[C.UNIT], row[C.KIND]) == (0.5, "L/h", "parameter")
    f = lint_provenance(onecomp, t)
    assert _codes(f) == []
    assert set(f[C.CODE]) == {"no-source-type"}  # an unannotated model: sources to fill in


def test_template_is_seeded_from_annotations():
    m = load_model(ANNOTATED)
    t = provenance_template(m).set_index(C.ID)
    assert t.loc["k", C.REFERENCE] == "pmid:12345678"      # the element's own citation
    assert t.loc["kb", C.REFERENCE] == "doi:10.1000/xyz123"  # the model's citation
    assert "model's citation" in t.loc["kb", C.NOTES]
    assert t.loc["k", C.SOURCE_TYPE] == "literature"


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_write_read_gives_an_identical_table(tmp_path, suffix):
    t = read_provenance(MODELS / "cd3_bispecific.provenance.csv")
    path = tmp_path / f"prov{suffix}"
    write_provenance(t, path)
    back = read_provenance(path)
    pd.testing.assert_frame_equal(back, t)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_bundled_cd3_table_is_complete_and_clean():
    m = load_model(MODELS / "cd3_bispecific.ant")
    t = read_provenance(MODELS / "cd3_bispecific.provenance.csv")
    findings = lint_provenance(m, t)
    assert not (findings[C.SEVERITY] == "error").any(), findings.to_string()
    # every quantity the model states a value for has a chosen row with a source
    from workbench.core.provenance import valued_quantities

    q = valued_quantities(m)
    need = set(q.loc[q["derived"] == "", C.ID])
    chosen = t[t[C.CHOSEN]].set_index(C.ID)
    assert need <= set(chosen.index)
    assert (chosen[C.SOURCE_TYPE] != "").all()
    # references are DOIs or PMIDs (or the UniProt entry), never free text
    refs = {r for cell in t[C.REFERENCE] for r in cell.split("; ") if r}
    assert all(r.startswith(("doi:10.", "pmid:", "http://identifiers.org/uniprot/")) for r in refs)
    # comparison-only candidates (mouse tumour-stasis concentrations, mouse DART CL) do not
    # count as spread; the stated priors do
    flagged = set(findings.loc[findings[C.CODE] == "high-uncertainty", C.ELEMENT])
    assert "EC50_trimer" not in flagged and "CL" not in flagged
    from workbench.core.priors import prior_table

    p = prior_table(t, m).set_index(C.ID)
    assert p.loc["EC50_trimer", C.N_COMPARISON] == 2 and p.loc["EC50_trimer", C.FOLD95] == 10
    assert p.loc["CL", C.N_INFORMING] == 0 and p.loc["CL", C.FOLD95] == 2
    assert p.loc["central", C.N_INFORMING] == 4                    # three human + mouse scaled


def test_lint_converts_units_and_reports_everything_at_once(onecomp):
    t = provenance_template(onecomp)
    cl = t.index[t[C.ID] == "CL"][0]
    # 12 L/day = 12/24 L/h = 0.5 L/h: the model's value
    t.loc[cl, [C.VALUE, C.UNIT]] = [12.0, "L/day"]
    assert _codes(lint_provenance(onecomp, t)) == []
    t.loc[cl, C.VALUE] = 24.0                                     # 1 L/h, not 0.5
    t.loc[t[C.ID] == "central", C.UNIT] = "mg"                    # not a volume
    t = t[t[C.ID] != "Drug"]                                      # missing entry
    extra = t.iloc[[0]].assign(**{C.ID: "Vc"})                    # unknown id
    t = pd.concat([t, extra], ignore_index=True)
    f = lint_provenance(onecomp, t)
    assert _codes(f) == ["missing-entry", "unit-mismatch", "unknown-id", "value-mismatch"]
    msg = " ".join(f.loc[f[C.SEVERITY] == "error", C.MESSAGE])
    assert "'mg'" in msg and "'L'" in msg                         # a mismatch names both units
    assert "24 L/day = 1 L/h" in msg and "0.5 L/h" in msg
    with pytest.raises(ProvenanceError) as err:
        check_provenance(onecomp, t)
    assert "4 error(s)" in str(err.value)
    assert (err.value.findings[C.SEVERITY] == "error").sum() == 4


def test_high_uncertainty_fold(onecomp):
    t = provenance_template(onecomp)
    cand = t[t[C.ID] == "CL"].assign(**{C.CHOSEN: False, C.VALUE: 6.0, C.UNIT: "L/h"})
    low = cand.assign(**{C.VALUE: 1.0, C.UNIT: "L/day"})          # 1/24 L/h
    t = pd.concat([t, cand, low], ignore_index=True)
    f = lint_provenance(onecomp, t)
    hu = f[f[C.CODE] == "high-uncertainty"]
    assert list(hu[C.ELEMENT]) == ["CL"]
    assert "144-fold" in hu[C.MESSAGE].iloc[0]                    # 6 / (1/24) = 144
    r = candidate_ranges(t, onecomp).set_index(C.ID).loc["CL"]
    assert math.isclose(r[C.FOLD], 144.0)
    assert math.isclose(r[C.LOW], 1 / 24) and r[C.HIGH] == 6.0 and r[C.HIGH_UNCERTAINTY]
    assert r[C.N_CANDIDATES] == 3


BAD_CSV = """kind,id,scope,name,chosen,value,unit,source_type,reference
parameter,CL,,,true,abc,L/h,clinical,
parameter,CL,,,false,0.4,blorps,clinical,
parameter,nope,,,true,1,L,assumed,
compartment,central,,,true,5,L,made up,
"""


def test_bad_csv_lists_every_finding(tmp_path, onecomp):
    p = tmp_path / "bad.csv"
    p.write_text(BAD_CSV)
    with pytest.raises(ProvenanceError) as err:
        read_provenance(p)
    text = str(err.value)
    for words in ("'abc' is not a number", "blorps", "made up"):
        assert words in text
    f = lint_provenance(onecomp, p)
    assert {"not-a-number", "bad-unit", "bad-source-type", "unknown-id",
            "missing-entry"} <= set(f[C.CODE])
    missing_cols = tmp_path / "cols.csv"
    missing_cols.write_text("id,value\nCL,0.5\n")
    with pytest.raises(ProvenanceError, match=r"no column 'chosen'.*no column 'unit'"):
        read_provenance(missing_cols)
    with pytest.raises(InputFileError):
        read_provenance(tmp_path / "absent.csv")


def test_no_and_several_chosen_rows(onecomp):
    t = provenance_template(onecomp)
    t.loc[t[C.ID] == "CL", C.CHOSEN] = False
    t = pd.concat([t, t[t[C.ID] == "Drug"]], ignore_index=True)
    assert _codes(lint_provenance(onecomp, t)) == ["no-chosen", "several-chosen"]
