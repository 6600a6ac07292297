"""`workbench refine STUDY --data first_cohort.csv`: the bundled study, its synthetic first
cohort (examples/first_cohort.csv) and the next ladder level re-predicted with its interval."""

from __future__ import annotations

from pathlib import Path

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
