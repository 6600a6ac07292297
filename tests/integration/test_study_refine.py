"""`workbench refine STUDY --data first_cohort.csv`: the bundled study, its synthetic first
cohort (examples/first_cohort.csv) and the next ladder level re-predicted with its interval."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.cli import main
from workbench.study.pipeline import BUNDLED_STUDY
from workbench.study.refine import refine_study

ROOT = Path(__file__).resolve().parents[2]
COHORT = ROOT / "examples" / "first_cohort.csv"


def _ladder(path: Path, doses) -> Path:
    pd.DataFrame({C.LADDER_LEVEL: range(1, len(doses) + 1), C.DOSE: doses,
                  C.DOSE_UNIT: "ug/kg"}).to_csv(path, index=False)
    return path


def test_example_cohort_is_labelled_synthetic_and_has_blq_values():
    d = pd.read_csv(COHORT, keep_default_na=False)
    assert d[C.SUBJECT].str.startswith("synthetic-").all()
    assert (d[C.VALUE] == "").sum() > 0 and (d.loc[d[C.VALUE] == "", C.LLOQ] != "").all()


def test_refine_cli_prints_the_next_level_with_its_interval(tmp_path, capsys):
    lad = _ladder(tmp_path / "ladder.csv", [0.001, 0.01, 0.03, 0.1, 0.3])
    out = tmp_path / "refine"
    assert main(["refine", str(BUNDLED_STUDY), "--data", str(COHORT), "--ladder", str(lad),
                 "--n", "48", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "refined prediction at the next level, 0.1 ug/kg iv (90% interval)" in printed
    assert "below the limit of quantification (handled by the M3 likelihood)" in printed
    nxt = pd.read_csv(out / "next_level.csv")
    assert set(nxt[C.METRIC]) >= {"max(IL6)", "max(Cfree)", "max(RO_CD3)"}
    assert (nxt[C.POSTERIOR_LOWER] <= nxt[C.POSTERIOR_MEDIAN]).all()
    assert (nxt[C.POSTERIOR_MEDIAN] <= nxt[C.POSTERIOR_UPPER]).all()
    assert (out / "refined_parameters.csv").is_file()


def test_refine_study_python_twin_counts_blq_and_uses_given_dose():
    r = refine_study(BUNDLED_STUDY, COHORT, next_dose="0.3 ug/kg", n=24)
    assert r.next_dose == pytest.approx(0.3) and r.basis == "given"
    assert r.highest_dose == pytest.approx(0.03)
    assert r.refinement.n_below == (pd.read_csv(COHORT)[C.VALUE].isna()).sum() > 0


def test_refine_errors_name_the_fix(tmp_path, capsys):
    # no ladder file: exit 2, naming how to make one
    assert main(["refine", str(BUNDLED_STUDY), "--data", str(COHORT), "--ladder",
                 str(tmp_path / "none.csv"), "--n", "8"]) == 2
    assert "workbench mabel" in capsys.readouterr().err
    # the data already at the top of the ladder: exit 1
    lad = _ladder(tmp_path / "low.csv", [0.001, 0.01, 0.03])
    assert main(["refine", str(BUNDLED_STUDY), "--data", str(COHORT), "--ladder", str(lad),
                 "--n", "8"]) == 1
    assert "top of the ladder" in capsys.readouterr().err


def test_refine_study_uses_the_study_model_values(tmp_path):
    """A platform study's ``model.set`` values are the model the refinement re-predicts
    with: the study with set values predicts exactly what the same model file with the
    values written into it predicts, and not what the file as given predicts."""
    from workbench.study.schema import Study, read_study

    st = read_study(BUNDLED_STUDY)
    changes = {"f_TAA_blood": 1.0, "f_TAA_tumour": 0.0}  # target cells in blood

    def with_model(file: str, set_values: dict) -> Study:
        d = dict(st.data)
        d["model"] = {**st.data["model"], "file": file, "set": set_values}
        return Study(st.path, st.name, st.question, st.context_of_use, st.influence,
                     st.consequence, file, d)

    text = Path(st.sections.model.file).read_text(encoding="utf-8")
    for pid, v in changes.items():
        assert f"  {pid} = " in text
        text = text.replace(f"  {pid} = ", f"  {pid} = {v}; // was ", 1)
    baked = tmp_path / "baked.ant"
    baked.write_text(text, encoding="utf-8")

    def predicted(study: Study) -> pd.Series:
        r = refine_study(study, COHORT, next_dose="0.3 ug/kg", n=8)
        return r.prediction.set_index(C.METRIC)[C.PRIOR_MEDIAN]

    with_set = predicted(with_model(str(st.sections.model.file), changes))
    written = predicted(with_model(str(baked), {}))
    as_given = predicted(with_model(str(st.sections.model.file), {}))
    pd.testing.assert_series_equal(with_set, written, rtol=1e-9)
    # TAA occupancy: target cells in blood (set) vs in the tumour only (file as given)
    assert not np.allclose(with_set["max(RO_TAA)"], as_given["max(RO_TAA)"], rtol=0.1)
