"""Retrospective validation (workbench.benchmark, studies/reference).

The reference studies must use only data that existed before each molecule's
first-in-human trial, every parameter must have a source with a year and a unit,
the clinical outcomes must never be a source of a parameter, and the acceptance
criteria must be able to fail (a deliberately wrong study is reported unsafe).
"""

from __future__ import annotations

import math
import re
import shutil

import pandas as pd
import pytest
import yaml

import workbench as wb
from workbench import columns as C
from workbench.analysis.variants import Variant, build_variant
from workbench.cli import main
from workbench.core import units as U
from workbench.errors import InputFileError, SpecError
from workbench.study.benchmark import (
    REFERENCE_DIR,
    plot_benchmark,
    read_outcomes,
    reference_studies,
    references_section,
    retrospective,
    write_benchmark,
)

STUDIES = reference_studies()
NAMES = [p.parent.name for p in STUDIES]


def _year(text: str) -> int | None:
    ys = [int(y) for y in re.findall(r"\b(19[5-9]\d|20[0-4]\d)\b", str(text))]
    return max(ys) if ys else None


def test_library_has_six_molecules_with_the_negative_control():
    assert len(STUDIES) >= 6 and "tgn1412" in NAMES
    for p in STUDIES:
        for f in ("study.yaml", "provenance.csv", "outcomes.csv", "README.md"):
            assert (p.parent / f).is_file(), f"{p.parent.name} lacks {f}"
    assert (REFERENCE_DIR / "README.md").is_file()


@pytest.mark.parametrize("path", STUDIES, ids=NAMES)
def test_reference_study_validates(path):
    """Study reads; its provenance lints without errors against the study model (with the
    study's parameter values); every chosen parameter has a unit and, unless assumed or
    derived, a citation whose year is not later than the first-in-human year, or a stated
    reason in the notes ([after FIH: ...], [no year: ...], [defined constant ...])."""
    st = wb.read_study(path)
    out = read_outcomes(path.parent / "outcomes.csv")
    fih = int(out.loc[out[C.ITEM] == "fih_year", C.VALUE].iloc[0])
    m = wb.load_model(st.model)
    if st.data["model"].get("set"):
        m = build_variant(m, Variant("study", set=dict(st.data["model"]["set"])))
    findings = wb.lint_provenance(m, st.data["provenance"])
    assert not (findings["severity"] == "error").any(), findings.to_string()
    prov = pd.read_csv(st.data["provenance"], dtype=str, keep_default_na=False)
    chosen = prov[prov["chosen"] == "True"]
    late = 0
    for _, r in chosen.iterrows():
        assert r["unit"].strip(), f"{path.parent.name}: {r['id']} has no unit"
        if r["source_type"] in ("assumed", "derived") and not r["citation"].strip():
            continue  # an assumption with no paper has no year to check
        y = _year(r["citation"])
        if "[defined constant" in r["notes"]:  # exact SI constants: no data, no year to check
            continue
        if y is None:
            assert "[no year:" in r["notes"] or "[defined constant" in r["notes"], r["id"]
        elif y > fih:
            late += 1
            assert "[after FIH:" in r["notes"], (f"{path.parent.name}: {r['id']} cites {y} > "
                                                 f"FIH {fih} without a stated reason")
    # the clinical outcome is never a parameter source (except a declared, reported leak)
    outcome_sources = " ".join(out[C.OUTCOME_SOURCE].astype(str))
    for _, r in chosen.iterrows():
        for ref in filter(None, re.split(r";\s*", r["reference"])):
            key = ref.strip().split(":", 1)[-1] if ref.strip().startswith(("pmid", "doi")) \
                else ref.strip()
            if key and key in outcome_sources:
                assert "[KNOWN LEAK:" in r["notes"] or "[same paper as an outcome:" in r["notes"], \
                    f"{r['id']} uses the outcome source {ref} without saying why"
    assert late < len(chosen)


@pytest.mark.parametrize("molecule,arms", [("mosunetuzumab", {"CD3": 40.0, "TAA": 63.0}),
                                            ("epcoritamab", {"CD3": 4.73, "TAA": 2.47}),
                                            ("glofitamab", {"TAA": 4.3}),
                                            ("teclistamab", {"CD3": 28.03, "TAA": 0.18})])
def test_molecule_binding_replaces_the_platform(molecule, arms):
    """Where a molecule's own KD was found, its study runs with it: the study sets koff, the
    chosen provenance row carries the same value and says where it comes from (a secondary
    source is named as such), and koff / kon reproduces the stated KD - so these molecules no
    longer share PF-06671008's binding (koff 19.66 / 0.74 1/h)."""
    path = REFERENCE_DIR / molecule / "study.yaml"
    st = wb.read_study(path)
    prov = pd.read_csv(st.data["provenance"], dtype=str, keep_default_na=False)
    chosen = prov[(prov["chosen"] == "True") & (prov["kind"] == "parameter")].set_index("id")
    sets = st.data["model"]["set"]
    platform = {"CD3": 19.66, "TAA": 0.74}
    for arm, kd in arms.items():
        koff = float(chosen.loc[f"koff_{arm}", "value"])
        kon = float(chosen.loc[f"kon_{arm}", "value"])
        assert sets[f"koff_{arm}"] == pytest.approx(koff)
        assert koff / kon == pytest.approx(kd, rel=1e-6)
        assert koff != pytest.approx(platform[arm])
        notes = chosen.loc[f"koff_{arm}", "notes"]
        assert f"KD_{arm} = {kd:g} nM" in notes and "SECONDARY SOURCE" in notes


def test_outcome_rows_have_source_and_year(tmp_path):
    for p in STUDIES:
        df = read_outcomes(p.parent / "outcomes.csv")
        assert df[C.OUTCOME_SOURCE].str.len().min() > 3 and df[C.OUTCOME_YEAR].notna().all()
    bad = tmp_path / "outcomes.csv"
    bad.write_text("item,dose,dose_unit,value,unit,detail,source,year\nfih_start,,,1,ug/kg,x,,\n")
    with pytest.raises(SpecError, match="no source"):
        read_outcomes(bad)
    with pytest.raises(InputFileError):
        read_outcomes(tmp_path / "missing.csv")


def test_benchmark_quick_cli(tmp_path, capsys):
    """`workbench benchmark --quick` on two molecules: table, figure, counts; the negative
    control is proposed at least 50-fold below 0.1 mg/kg."""
    assert main(["benchmark", "--quick", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "tgn1412" in text and "pf06671008" in text and "criterion" in text
    t = pd.read_csv(tmp_path / "benchmark.csv", keep_default_na=False, na_values=[""])
    assert tuple(t.columns) == C.BENCHMARK_COLUMNS and len(t) == 2
    assert (tmp_path / "benchmark.png").stat().st_size > 5000
    md = (tmp_path / "benchmark.md").read_text()
    assert md.count("| tgn1412 |") == 1 and "| safe | 2 | 0 | 0 |" in md
    tgn = t.set_index(C.MOLECULE).loc["tgn1412"]
    assert tgn[C.FIRST_TOXIC_DOSE] == pytest.approx(100.0)  # 0.1 mg/kg in ug/kg
    assert tgn[C.MARGIN] == pytest.approx(100.0 / tgn[C.PROPOSED_START])
    assert tgn[C.MARGIN] >= 50 and tgn[C.SAFE] == "yes"
    assert tgn[C.NOT_WASTEFUL] == "n/a"  # the historical start itself harmed
    pf = t.set_index(C.MOLECULE).loc["pf06671008"]
    assert pf[C.HISTORICAL_START] == pytest.approx(0.0015)  # 1.5 ng/kg
    assert pf[C.RATIO] == pytest.approx(pf[C.PROPOSED_START] / 0.0015)
    counts = pd.read_csv(tmp_path / "benchmark_counts.csv")
    assert (counts[[C.N_MET, C.N_FAILED, C.N_NOT_APPLICABLE]].sum(axis=1) == 2).all()


def test_wrong_study_is_reported_unsafe(tmp_path):
    """Both binding arms 100-fold too weak (koff x 100, and the traditional Kd likewise): the
    pipeline proposes a start too close to the first toxic dose, and the table says unsafe."""
    src = REFERENCE_DIR / "pf06671008"
    dst = tmp_path / "pf06671008_wrong"
    shutil.copytree(src, dst)
    y = yaml.safe_load((dst / "study.yaml").read_text())
    y["model"]["file"] = str(REFERENCE_DIR.parent.parent / "models" / "cd3_bispecific.ant")
    y["model"]["set"] = {"koff_CD3": 1966.0, "koff_TAA": 74.0}
    for t in y["traditional"]:
        v = float(str(t["kd"]).split()[0])
        t["kd"] = f"{v * 100:g} nM"
    (dst / "study.yaml").write_text(yaml.safe_dump(y, sort_keys=False))
    prov = pd.read_csv(dst / "provenance.csv", dtype=str, keep_default_na=False)
    for pid, v in (("koff_CD3", "1966.0"), ("koff_TAA", "74.0")):
        prov = prov[(prov["id"] != pid) | (prov["chosen"] == "True")]
        prov.loc[prov["id"] == pid, "value"] = v
    prov.to_csv(dst / "provenance.csv", index=False)
    good = retrospective([src / "study.yaml"], quick=True).table.iloc[0]
    bad = retrospective([dst / "study.yaml"], quick=True).table.iloc[0]
    assert good[C.SAFE] == "yes"
    assert bad[C.PROPOSED_START] > 10 * good[C.PROPOSED_START]
    assert bad[C.SAFE] == "no" and bad[C.VERDICT] == "unsafe" and "unsafe" in bad[C.WHY]


def test_references_section_names_the_study_references(tmp_path):
    t = pd.DataFrame([{c: "" for c in C.BENCHMARK_COLUMNS}])
    t[C.MOLECULE] = "pf06671008"
    for c in (C.PROPOSED_START, C.HISTORICAL_START, C.FIRST_TOXIC_DOSE, C.MARGIN):
        t[c] = 1.0
    html = references_section({"references": ["pf06671008", "nothere"]}, t)
    assert "pf06671008" in html and "nothere" in html and "<table" in html
    assert references_section({"references": []}, t) == ""
    assert wb.read_study(REFERENCE_DIR / "tgn1412" / "study.yaml") is not None
    plot_benchmark(t.assign(**{C.PROPOSED_START: 0.1, C.FIRST_TOXIC_DOSE: 10.0}),
                   tmp_path / "b.png")
    assert (tmp_path / "b.png").is_file()


@pytest.mark.slow
def test_full_benchmark_against_outcomes(tmp_path):
    """Every reference molecule through the full pipeline: columns, one row per molecule,
    doses and margins recomputed from the outcomes files, and the counts of the table."""
    res = retrospective()
    paths = write_benchmark(res, tmp_path)
    t = pd.read_csv(paths["benchmark.csv"], keep_default_na=False,
                    na_values=[""]).set_index(C.MOLECULE)
    assert tuple(res.table.columns) == C.BENCHMARK_COLUMNS and set(t.index) == set(NAMES)
    for p in STUDIES:
        o = read_outcomes(p.parent / "outcomes.csv")
        r = t.loc[p.parent.name]
        s = o[o[C.ITEM] == "fih_start"].iloc[0]
        v = float(s[C.VALUE]) * U.factor(s[C.UNIT], "ug/kg" if "/kg" in s[C.UNIT] else "ug")
        assert r[C.HISTORICAL_START] == pytest.approx(v if "/kg" in s[C.UNIT] else v / 70)
        assert r[C.MARGIN] == pytest.approx(r[C.FIRST_TOXIC_DOSE] / r[C.PROPOSED_START])
        req = 50 if p.parent.name == "tgn1412" else 10
        assert (r[C.SAFE] == "yes") == (r[C.MARGIN] >= req)
        assert math.isfinite(r[C.PROPOSED_START]) and r[C.PROPOSED_START] > 0
    counts = res.counts.set_index(C.CRITERION)
    for crit in (C.SAFE, C.NOT_WASTEFUL, C.INFORMATIVE):
        assert counts.loc[crit, C.N_MET] == int((t[crit] == "yes").sum())
        assert counts.loc[crit, C.N_FAILED] == int((t[crit] == "no").sum())
    assert t.loc["tgn1412", C.MARGIN] >= 50
    # informative is evaluated exactly where the outcomes publish a first-dose Cmax or IL-6
    for p in STUDIES:
        o = read_outcomes(p.parent / "outcomes.csv")
        has = bool(o[C.ITEM].isin(["first_dose_cmax", "first_dose_il6"]).any())
        assert (t.loc[p.parent.name, C.INFORMATIVE] != "n/a") == has, p.parent.name
    assert math.isfinite(t.loc["epcoritamab", C.IL6_FOLD_ERROR])


def test_informative_fold_error_against_closed_form():
    """Right after an IV bolus the total drug in the central compartment is dose / V1
    whatever the binding (conservation): 1000 ug/kg x 70 kg / 150 kDa / 3.61 L = 129.28 nM
    = 19392 ng/mL. A published Cmax equal to it gives fold error 1 (informative); one 5-fold
    higher gives 0.2 and the criterion fails, naming Cmax."""
    from workbench.study.benchmark import _evaluate

    path = REFERENCE_DIR / "pf06671008" / "study.yaml"
    res = retrospective([path], quick=True)
    run = res.runs["pf06671008"]
    out = read_outcomes(path.parent / "outcomes.csv")
    cmax = 1000 * 70 / 150000 * 1e3 / 3.61 * 150  # nmol / L * kDa = ng/mL
    row = {C.ITEM: "first_dose_cmax", C.DOSE: 1.0, "dose_unit": "mg/kg", C.VALUE: cmax / 1000,
           C.UNIT: "ug/mL", C.OUTCOME_DETAIL: "closed form", C.OUTCOME_SOURCE: "test",
           C.OUTCOME_YEAR: 2026}
    good = _evaluate("pf", run, pd.concat([out, pd.DataFrame([row])], ignore_index=True), 2016)
    assert good[C.PK_FOLD_ERROR] == pytest.approx(1.0, rel=2e-3)
    assert good[C.INFORMATIVE] == "yes" and math.isnan(good[C.IL6_FOLD_ERROR])
    bad = _evaluate("pf", run, pd.concat([out, pd.DataFrame([{**row, C.VALUE: 5 * cmax / 1000}])],
                                         ignore_index=True), 2016)
    assert bad[C.PK_FOLD_ERROR] == pytest.approx(0.2, rel=2e-3)
    assert bad[C.INFORMATIVE] == "no" and "cmax fold error 0.2" in bad[C.WHY]


@pytest.mark.slow
@pytest.mark.parametrize("molecule", ["tgn1412", "glofitamab"])
def test_workbench_mabel_runs_a_reference_study(tmp_path, molecule):
    """A reference study is an ordinary study: `workbench mabel` writes the dossier and the
    exchange package (whose provenance check runs on the model with the study's values)."""
    assert main(["mabel", str(REFERENCE_DIR / molecule / "study.yaml"), "--quick", "--workers",
                 "1", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").stat().st_size > 10000
    assert (tmp_path / "package").is_dir()
