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
from pathlib import Path

import pandas as pd
import pytest
import yaml
from matplotlib import image as plt_image

import workbench as wb
from workbench import columns as C
from workbench.analysis.variants import Variant, build_variant
from workbench.cli import main
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
from workbench.study.benchmark_leaks import check_no_undeclared_leak, outcome_leaks

STUDIES = reference_studies()
NAMES = [p.parent.name for p in STUDIES]


def _year(text: str) -> int | None:
    ys = [int(y) for y in re.findall(r"\b(19[5-9]\d|20[0-4]\d)\b", str(text))]
    return max(ys) if ys else None


def test_library_has_seven_molecules_with_the_negative_control():
    assert NAMES == sorted(["blinatumomab", "epcoritamab", "glofitamab", "mosunetuzumab",
                            "pf06671008", "teclistamab", "tgn1412"])
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
    # every [after FIH: ...] marker sits on a row that really cites a later paper (the marker
    # is not a blanket excuse): recount the late rows independently from the citations
    marked = chosen[chosen["notes"].str.contains(r"\[after FIH:", regex=True)]
    really_late = [r["id"] for _, r in marked.iterrows()
                   if _year(r["citation"]) is not None and _year(r["citation"]) > fih]
    assert sorted(really_late) == sorted(marked["id"]), (
        f"{path.parent.name}: [after FIH] on rows citing no later paper: "
        f"{sorted(set(marked['id']) - set(really_late))}")
    assert late == len(marked)
    # the clinical outcome is never a parameter source, except a declared leak
    leaks = outcome_leaks(st.data["provenance"], out)
    assert leaks["known"].all(), leaks.to_string()


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
        # every row names its source ids, and the first author and year of its source text
        # (or a pmid/doi) is among them
        for _, r in df.iterrows():
            ids = [t.strip().lower() for t in str(r[C.OUTCOME_SOURCE_ID]).split(";")]
            first = re.match(r"\s*([A-Z][A-Za-z'-]+)", str(r[C.OUTCOME_SOURCE]))
            assert any(t.startswith(("pmid:", "doi:")) for t in ids) or (
                first and any(t.startswith(first.group(1).lower()) for t in ids)) or (
                    "blood 2007" in ids[0] or "workbench" in ids[0]), (p.parent.name, ids)
    bad = tmp_path / "outcomes.csv"
    bad.write_text("item,dose,dose_unit,value,unit,detail,source,source_id,year\n"
                   "fih_start,,,1,ug/kg,x,,,\n")
    with pytest.raises(SpecError, match="no source"):
        read_outcomes(bad)
    bad.write_text("item,dose,dose_unit,value,unit,detail,source,source_id,year\n"
                   "fih_start,,,1,ug/kg,x,Someone 2020,,2020\n")
    with pytest.raises(SpecError, match="no source_id"):
        read_outcomes(bad)
    bad.write_text("item,dose,dose_unit,value,unit,detail,source,year\n"
                   "fih_start,,,1,ug/kg,x,Someone 2020,2020\n")
    with pytest.raises(SpecError, match="missing columns source_id"):
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
    img = plt_image.imread(tmp_path / "benchmark.png")
    # figsize (7.5, 0.55 n + 1.4) inches at 130 dpi, n = 2 molecules
    assert img.shape[:2] == (int((0.55 * 2 + 1.4) * 130), round(7.5 * 130))
    md = (tmp_path / "benchmark.md").read_text()
    assert md.count("| tgn1412 |") == 1
    for crit in (C.SAFE, C.NOT_WASTEFUL, C.INFORMATIVE):  # counts recomputed from the table
        v = t[crit]
        assert (f"| {crit} | {(v == 'yes').sum()} | {(v == 'no').sum()} | "
                f"{(v == 'n/a').sum()} |") in md
    tgn = t.set_index(C.MOLECULE).loc["tgn1412"]
    assert tgn[C.FIRST_TOXIC_DOSE] == pytest.approx(100.0)  # 0.1 mg/kg in ug/kg
    assert tgn[C.MARGIN] == pytest.approx(100.0 / tgn[C.PROPOSED_START])
    assert tgn[C.MARGIN] >= 50 and tgn[C.SAFE] == "yes"
    assert tgn[C.NOT_WASTEFUL] == "n/a"  # the historical start itself harmed
    pf = t.set_index(C.MOLECULE).loc["pf06671008"]
    assert pf[C.HISTORICAL_START] == pytest.approx(0.0015)  # 1.5 ng/kg
    assert pf[C.RATIO] == pytest.approx(pf[C.PROPOSED_START] / 0.0015)
    counts = pd.read_csv(tmp_path / "benchmark_counts.csv").set_index(C.CRITERION)
    for crit in (C.SAFE, C.NOT_WASTEFUL, C.INFORMATIVE):
        assert counts.loc[crit, C.N_MET] == (t[crit] == "yes").sum()
        assert counts.loc[crit, C.N_FAILED] == (t[crit] == "no").sum()
        assert counts.loc[crit, C.N_NOT_APPLICABLE] == (t[crit] == "n/a").sum()
    # safe recomputed from the margin and the required margin of the outcomes file (50)
    assert (tgn[C.SAFE] == "yes") == (100.0 / tgn[C.PROPOSED_START] >= 50)
    assert (pf[C.SAFE] == "yes") == (0.4 / pf[C.PROPOSED_START] >= 10)
    assert (pf[C.NOT_WASTEFUL] == "yes") == (0.0015 / pf[C.PROPOSED_START] <= 10)


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
    # the bundled study names its references, and its dossier section shows exactly those rows
    bundled = wb.read_study(REFERENCE_DIR.parent / "cd3_bispecific.yaml")
    raw = yaml.safe_load((REFERENCE_DIR.parent / "cd3_bispecific.yaml").read_text())
    assert list(bundled.data["references"]) == raw["references"] == ["pf06671008", "mosunetuzumab"]
    two = pd.concat([t, t.assign(**{C.MOLECULE: "mosunetuzumab"}),
                     t.assign(**{C.MOLECULE: "tgn1412"})], ignore_index=True)
    sec = references_section(bundled, two)
    assert sec.count("</tr>") == 1 + 2 and "tgn1412" not in sec  # header + the two named
    plot_benchmark(t.assign(**{C.PROPOSED_START: 0.1, C.FIRST_TOXIC_DOSE: 10.0}),
                   tmp_path / "b.png")
    assert plt_image.imread(tmp_path / "b.png").shape[:2] == (int((0.55 + 1.4) * 130),
                                                              round(7.5 * 130))


def _per_kg(value, unit, weight=70.0):
    """Independent conversion for the checks: ug/kg, or ug/kg/day for rates; per m2 with the
    Mosteller BSA of 70 kg and 170 cm."""
    u = str(unit)[:-4] if str(unit).endswith("/day") else str(unit)
    base, _, per = u.partition("/")
    v = float(value) * {"ng": 1e-3, "ug": 1.0, "mg": 1e3}[base]
    if per == "kg":
        return v
    if per == "m2":
        return v * math.sqrt(weight * 170 / 3600) / weight
    return v / weight


def _check_row(name, r, run):
    """One benchmark row against the outcomes file and the run, recomputed independently."""
    o = read_outcomes(REFERENCE_DIR / name / "outcomes.csv")
    item = o.set_index(C.ITEM)
    hist = item.loc["fih_start"]
    assert r[C.HISTORICAL_START] == pytest.approx(_per_kg(hist[C.VALUE], hist[C.UNIT]))
    dec = run.decision
    assert r[C.PROPOSED_START] == pytest.approx(_per_kg(dec.start_dose, dec.dose_unit))
    assert r[C.BENCH_DOSE_UNIT] == ("ug/kg/day" if "/day" in dec.dose_unit else "ug/kg")
    tox = item.loc["first_toxic_dose"] if "first_toxic_dose" in item.index else (
        item.loc["max_first_dose"] if "max_first_dose" in item.index else item.loc["rp2d"])
    assert r[C.FIRST_TOXIC_DOSE] == pytest.approx(_per_kg(tox[C.VALUE], tox[C.UNIT]))
    assert r[C.RATIO] == pytest.approx(r[C.PROPOSED_START] / r[C.HISTORICAL_START])
    assert r[C.MARGIN] == pytest.approx(r[C.FIRST_TOXIC_DOSE] / r[C.PROPOSED_START])
    req = 50 if name == "tgn1412" else 10
    assert (r[C.SAFE] == "yes") == (r[C.MARGIN] >= req)
    if r[C.HISTORICAL_START] >= r[C.FIRST_TOXIC_DOSE]:
        assert r[C.NOT_WASTEFUL] == "n/a"
    else:
        assert (r[C.NOT_WASTEFUL] == "yes") == (r[C.HISTORICAL_START] / r[C.PROPOSED_START] <= 10)
    folds = [f for f in (r[C.PK_FOLD_ERROR], r[C.IL6_FOLD_ERROR]) if math.isfinite(f)]
    assert (r[C.INFORMATIVE] == "n/a") == (not folds)
    if folds:
        assert (r[C.INFORMATIVE] == "yes") == all(1 / 3 <= f <= 3 for f in folds)
    # a failing criterion names a model parameter (the assumption behind it) in the reason
    ids = set(run.model.parameters["id"]) | {"central", "peripheral"}
    for crit, word in ((C.SAFE, "unsafe"), (C.NOT_WASTEFUL, "wasteful"),
                       (C.INFORMATIVE, "not informative")):
        if r[crit] == "no":
            part = [p for p in str(r[C.WHY]).split("; ") if p.startswith(word)] or [r[C.WHY]]
            seg = str(r[C.WHY])[str(r[C.WHY]).index(part[0]):]
            assert any(re.search(rf"\b{re.escape(i)}\b", seg) for i in ids), (name, crit, seg)


@pytest.mark.slow
def test_full_benchmark_against_outcomes(tmp_path):
    """Every reference molecule through the full pipeline: columns, one row per molecule, and
    every dose, ratio, margin, criterion and count recomputed from the outcomes files and the
    runs' decisions; failing criteria name a parameter; epcoritamab's IL-6 fold error
    recomputed by simulating its 0.16 mg dose."""
    res = retrospective()
    paths = write_benchmark(res, tmp_path)
    t = pd.read_csv(paths["benchmark.csv"], keep_default_na=False,
                    na_values=[""]).set_index(C.MOLECULE)
    assert tuple(res.table.columns) == C.BENCHMARK_COLUMNS and sorted(t.index) == NAMES
    for name in NAMES:
        _check_row(name, t.loc[name], res.runs[name])
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
    # epcoritamab: max IL-6 after 0.16 mg SC (a bolus into the platform's SC depot Drug_sc, the
    # study's route) / the published 2.47 pg/mL
    run = res.runs["epcoritamab"]
    assert run.study.data["drug"]["species"] == "Drug_sc"
    # the dose as a number, as the benchmark passes it (160 ug / 70 kg, every digit)
    reg = wb.Dosing(route="bolus", dose_unit="ug/kg").regimen(160 / 70)
    sim = wb.simulate(run.model, reg, target="Drug_sc", mw="150 kDa",
                      subject=wb.Subject(weight=70), end="672 h", points=200, outputs=["IL6"])
    assert t.loc["epcoritamab", C.IL6_FOLD_ERROR] == pytest.approx(
        sim["IL6"].max() / 2.47, rel=1e-6)


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


BUNDLED = yaml.safe_load((REFERENCE_DIR.parent / "cd3_bispecific.yaml").read_text())
PRIOR_CODES = {"no-prior", "bad-prior", "chosen-outside-candidates", "scaled-without-how",
               "bad-candidate-use"}


@pytest.mark.parametrize("path", STUDIES, ids=NAMES)
def test_influential_parameters_have_priors(path, capsys):
    """Every drug-specific parameter the study sets (model.set: binding, copy numbers) and the
    PK, potency and IL-6 scale are in the study's influential set (sensitivity.parameters), and
    `workbench provenance lint STUDY TABLE` (the CLI; the set is the default influential list)
    reports nothing: each has a prior with a rationale, so the QSP MABEL uncertainty is drawn
    from priors as in the bundled study. A parameter without a prior would be reported."""
    st = wb.read_study(path)
    infl = set(st.data["sensitivity"]["parameters"])
    # the antigen placement switches of models/cd3_platform.ant (f_TAA_blood / f_TAA_tumour)
    # are structural choices, not uncertain drug values: fixed, not influential
    placement = {"f_TAA_blood", "f_TAA_tumour"}
    assert set(st.data["model"].get("set") or {}) - placement <= infl
    pk = {"CL", "Q", "central", "peripheral"}
    assert pk <= infl
    if path.parent.name != "tgn1412":
        assert {"koff_CD3", "koff_TAA", "n_TAA", "EC50_syn", "IL6_Emax"} <= infl
    prov = pd.read_csv(st.data["provenance"], dtype=str, keep_default_na=False)
    chosen = prov[prov["chosen"] == "True"].set_index("id")
    for pid in infl:
        assert chosen.loc[pid, "prior"] in ("lognormal", "normal", "uniform", "loguniform"), pid
        assert len(chosen.loc[pid, "prior_rationale"]) > 40, pid
    prov_path = str(st.data["provenance"])
    assert main(["provenance", "lint", str(path), prov_path]) == 0
    assert "0 error(s), 0 warning(s)" in capsys.readouterr().out
    # the check can fail: a parameter without a prior in the influential set is reported
    main(["provenance", "lint", str(path), prov_path, "--influential", "NA" if
          path.parent.name != "tgn1412" else "R"])
    assert "no-prior" in capsys.readouterr().out


@pytest.mark.parametrize("path", [p for p in STUDIES if p.parent.name != "tgn1412"],
                         ids=[n for n in NAMES if n != "tgn1412"])
def test_cd3_studies_use_the_bundled_il6_effect_and_decision(path):
    """The IL-6 effect and the decision settings are the bundled study's (read from
    studies/cd3_bispecific.yaml, not restated here); blinatumomab's one deviation (no
    traditional estimate for an infusion rate, so compete: [qsp]) is stated in its README."""
    y = yaml.safe_load(path.read_text())
    il6 = next(e for e in BUNDLED["effects"] if "IL6" in e["definition"])
    mine = [e for e in y["effects"] if "IL6" in e["definition"]]
    assert len(mine) == 1 and mine[0]["definition"] == il6["definition"]
    assert mine[0]["lloq"] == il6["lloq"] and "Prieto" in mine[0]["lloq_source"]
    assert not any("1.2 x baseline" in e["definition"] for e in y["effects"])
    assert y["minimal_active_effect"] == BUNDLED["minimal_active_effect"]
    skip = {"compete"} if path.parent.name == "blinatumomab" else set()
    for k in ("statistic", "primary_effect", "agreement_fold", "escalation", "guide", "steps",
              "max_increase", "min_fold", "max_fold", "steepness_steps", "max_overlap",
              "risk_metric", "risk_threshold", "risk_probability", "design", "compete"):
        if k not in skip:
            assert y["decision"][k] == BUNDLED["decision"][k], (path.parent.name, k)
    if skip:
        assert "compete: [qsp]" in (path.parent / "README.md").read_text()


def _copy(tmp_path, molecule):
    dst = tmp_path / molecule
    shutil.copytree(REFERENCE_DIR / molecule, dst)
    y = yaml.safe_load((dst / "study.yaml").read_text())
    y["model"]["file"] = str(REFERENCE_DIR.parent.parent / "models" / Path(y["model"]["file"]).name)
    (dst / "study.yaml").write_text(yaml.safe_dump(y, sort_keys=False))
    return dst


def test_a_planted_outcome_leak_is_refused(tmp_path):
    """An outcome source cited by a parameter row is an error before any run, whether found by
    its pmid/doi or by first author and year, unless declared: (a) removing the declaration
    of mosunetuzumab's IL6_Emax (calibrated on its own first-dose IL-6, Hosseini 2020) fails;
    (b) naming Betts 2019 (PF-06671008's parameter source) as a source of its outcome fails."""
    mos = _copy(tmp_path, "mosunetuzumab")
    check_no_undeclared_leak(mos / "provenance.csv", read_outcomes(mos / "outcomes.csv"))
    prov = pd.read_csv(mos / "provenance.csv", dtype=str, keep_default_na=False)
    prov["notes"] = prov["notes"].str.replace("[KNOWN LEAK (first_dose_il6):", "[declared:",
                                              regex=False)
    prov.to_csv(mos / "provenance.csv", index=False)
    with pytest.raises(SpecError, match=r"IL6_Emax.*|cites .*hosseini 2020") as err:
        retrospective([mos / "study.yaml"], quick=True)
    assert "IL6_Emax" in str(err.value) and "KNOWN LEAK" in err.value.fix
    pf = _copy(tmp_path, "pf06671008")
    out = pd.read_csv(pf / "outcomes.csv", dtype=str, keep_default_na=False)
    assert not outcome_leaks(pf / "provenance.csv", read_outcomes(pf / "outcomes.csv")).shape[0]
    out.loc[out["item"] == "first_toxic_dose", "source_id"] += "; Betts 2019"
    out.to_csv(pf / "outcomes.csv", index=False)
    leaks = outcome_leaks(pf / "provenance.csv", read_outcomes(pf / "outcomes.csv"))
    assert len(leaks) >= 10 and not leaks["known"].any()  # every Betts 2019 row
    assert set(leaks["outcome_items"]) == {"first_toxic_dose"}
    with pytest.raises(SpecError, match="betts 2019"):
        retrospective([pf / "study.yaml"], quick=True)
    # a marker naming an unknown criterion is refused too
    prov = pd.read_csv(mos / "provenance.csv", dtype=str, keep_default_na=False)
    prov["notes"] = prov["notes"].str.replace("[declared:", "[KNOWN LEAK (everything):",
                                              regex=False)
    prov.to_csv(mos / "provenance.csv", index=False)
    with pytest.raises(SpecError, match="everything"):
        outcome_leaks(mos / "provenance.csv", read_outcomes(mos / "outcomes.csv"))


def test_a_declared_leak_is_not_scored(tmp_path):
    """With a published first-dose IL-6 planted into mosunetuzumab's outcomes, the IL-6
    comparison is not scored (informative n/a, the reason names the leak) because IL6_Emax
    was calibrated on it; the same row scored without the declared leaks is evaluated."""
    from workbench.study.benchmark import _evaluate

    path = REFERENCE_DIR / "mosunetuzumab" / "study.yaml"
    res = retrospective([path], quick=True)
    run = res.runs["mosunetuzumab"]
    out = read_outcomes(path.parent / "outcomes.csv")
    leaks = outcome_leaks(wb.read_study(path).data["provenance"], out)
    assert set(leaks[C.ID]) == {"IL6_Emax", "kTact", "kdeg_IL6", "k_tgt"}
    assert set(leaks["criteria"]) == {"first_dose_il6"}
    row = {C.ITEM: "first_dose_il6", C.DOSE: 2.8, "dose_unit": "mg", C.VALUE: 50.0,
           C.UNIT: "pg/mL", C.OUTCOME_DETAIL: "planted", C.OUTCOME_SOURCE: "Hosseini 2020",
           C.OUTCOME_SOURCE_ID: "Hosseini 2020", C.OUTCOME_YEAR: 2020}
    planted = pd.concat([out, pd.DataFrame([row])], ignore_index=True)
    scored = _evaluate("mosunetuzumab", run, planted, 2015)
    assert scored[C.INFORMATIVE] in ("yes", "no") and math.isfinite(scored[C.IL6_FOLD_ERROR])
    kept = _evaluate("mosunetuzumab", run, planted, 2015, leaks)
    assert kept[C.INFORMATIVE] == "n/a" and math.isnan(kept[C.IL6_FOLD_ERROR])
    assert "not scored: first_dose_il6 (known outcome leak: " in kept[C.WHY]
    assert "IL6_Emax" in kept[C.WHY] and "hosseini 2020" in kept[C.WHY]
    assert "not scored: first_dose_il6" in res.table.iloc[0][C.WHY]


def test_rates_per_m2_convert_with_the_pipeline_bsa():
    """0.5 ug/m2/day for 70 kg, 170 cm: Mosteller BSA sqrt(70 x 170 / 3600) = 1.8181 m2, so
    0.5 x 1.8181 / 70 = 0.012987 ug/kg/day; 1 ug/h = 24 ug/day = 0.34286 ug/kg/day."""
    from workbench.study.benchmark import _to_ug_per_kg

    bsa = math.sqrt(70 * 170 / 3600)
    assert _to_ug_per_kg(0.5, "ug/m2/day", 70) == pytest.approx(0.5 * bsa / 70, rel=1e-12)
    assert _to_ug_per_kg(1, "ug/h", 70) == pytest.approx(24 / 70, rel=1e-12)
    assert _to_ug_per_kg(1.5, "ng/kg", 70) == pytest.approx(0.0015, rel=1e-12)
    assert _to_ug_per_kg(0.05, "mg", 70) == pytest.approx(50 / 70, rel=1e-12)


PLATFORM_PROV = REFERENCE_DIR.parent.parent / "models" / "cd3_platform.provenance.csv"


@pytest.mark.parametrize("path", [p for p in STUDIES if p.parent.name != "tgn1412"],
                         ids=[n for n in NAMES if n != "tgn1412"])
def test_platform_leaks_are_declared_in_the_molecule(path):
    """How the platform table's leaks reach the molecules that run on it: every row of
    models/cd3_platform.provenance.csv that cites a source of this molecule's outcomes is
    declared with criteria in the molecule's own table. The platform's IL6_Emax marker
    (`[KNOWN LEAK: ...]`, no criteria) is not a declaration for the checker, so the platform
    table itself is refused for mosunetuzumab (the only molecule whose outcomes cite Hosseini
    2020) and is no leak at all for the others."""
    st = wb.read_study(path)
    assert Path(st.model).name == "cd3_platform.ant"
    out = read_outcomes(path.parent / "outcomes.csv")
    plat = outcome_leaks(PLATFORM_PROV, out)
    mine = outcome_leaks(st.data["provenance"], out)
    assert mine["known"].all()
    assert set(plat[C.ID]) <= set(mine.loc[mine["known"].astype(bool), C.ID])
    if path.parent.name == "mosunetuzumab":
        assert "IL6_Emax" in set(plat[C.ID]) and not plat["known"].any()
        with pytest.raises(SpecError, match=r"IL6_Emax|hosseini 2020"):
            check_no_undeclared_leak(PLATFORM_PROV, out)
    else:
        assert plat.empty
