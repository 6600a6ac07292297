"""Calibration and validation inside the MABEL study (workbench.study_data, report section 7).

Test study: tests/data/study_with_data (data made once by its make_data.py from the closed
form of tests/data/onecomp_binding.ant: C(t) = D/V exp(-CL/V t), RO = C/(C + Kd),
V = 5 L). Independent answers: the parameter values the calibration data were generated
with (CL 0.5 L/h, Kd 2 nM); the prediction band of the validation data recomputed from the
closed form at the same parameter sample; the nominal coverage of the band, since the
validation subjects were drawn from the distribution the band describes.
"""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import DATA

from workbench import build_uncertainty, load_model, read_study, run_mabel, write_report
from workbench import columns as C
from workbench.calibrate.petab_objective import Objective
from workbench.cli import main
from workbench.errors import CalibrationError, SpecError
from workbench.study.data import run_study_data
from workbench.study.schema import Study, lint_study

STUDY_DIR = DATA / "study_with_data"
STUDY = STUDY_DIR / "study.yaml"
TRUE = {"CL": 0.5, "Kd": 2.0}
V = 5.0
D_NMOL = 100.0 * 70.0 * 1000.0 / 150000.0  # 100 ug/kg, 70 kg, 150 kDa
N_SAMPLES = 200


def _study_yaml(tmp_path, **changes) -> str:
    """The test study with absolute paths and ``changes`` (None: key removed)."""
    d = yaml.safe_load(STUDY.read_text())
    d["model"]["file"] = str(DATA / "onecomp_binding.ant")
    d["calibration"]["petab"] = str(STUDY_DIR / "petab" / "problem.yaml")
    d["validation"]["data"] = str(STUDY_DIR / "observed.csv")
    for k, v in changes.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    p = tmp_path / "study.yaml"
    p.write_text(yaml.safe_dump(d))
    return str(p)


@pytest.fixture(scope="module")
def validation(tmp_path_factory):
    """Validation only (no calibration), with a 200-member sample of CL (CV 30 %)."""
    st = read_study(_study_yaml(tmp_path_factory.mktemp("val"), calibration=None))
    m = load_model(st.model)
    samples = build_uncertainty(m, params=["CL=lognormal,cv=0.3"]).with_model(m).sample(
        N_SAMPLES, seed=1)
    return run_study_data(st, m, uncertainty_samples=samples, progress=False), samples


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The whole study, reduced, and its report."""
    out = tmp_path_factory.mktemp("report")
    run = run_mabel(STUDY, reduced=True, progress=False)
    write_report(run, out)
    return run, out


def test_validation_band_and_coverage(validation):
    sd, samples = validation
    assert sd.calibration is None and sd.validation is not None
    obs = pd.read_csv(STUDY_DIR / "observed.csv", keep_default_na=False)
    cl = samples["CL"].to_numpy()
    # band from the closed form at the same CL sample (inverted-CDF quantiles)
    c = D_NMOL / V * np.exp(-cl[:, None] / V * obs["time"].to_numpy()[None, :])
    pred = np.where(obs["output"].to_numpy() == "RO", c / (c + 2.0), c)
    lo, hi = np.quantile(pred, [0.05, 0.95], axis=0, method="inverted_cdf")
    t = sd.validation.table
    assert t[C.LOWER].to_numpy() == pytest.approx(lo, rel=1e-5)
    assert t[C.UPPER].to_numpy() == pytest.approx(hi, rel=1e-5)
    inside = (obs["value"].to_numpy() >= lo) & (obs["value"].to_numpy() <= hi)
    s = sd.validation_summary.set_index(C.OUTPUT)
    assert list(sd.validation_summary.columns) == list(C.VALIDATION_SUMMARY_COLUMNS)
    for out in ("Drug", "RO"):
        assert s.at[out, C.N_INSIDE_BAND] == inside[obs["output"] == out].sum()
    n_in, n = int(inside.sum()), len(obs)
    assert s.at[C.ALL_OUTPUTS, C.N_INSIDE_BAND] == n_in
    assert s.at[C.ALL_OUTPUTS, C.COVERAGE] == pytest.approx(n_in / n)
    # 30 subjects drawn from the band's own distribution: coverage near 90 %
    # (0.1 % quantile of Binomial(30, 0.9) / 30 = 0.7)
    assert s.at[C.ALL_OUTPUTS, C.COVERAGE] >= 0.7
    assert (f"{n_in} of {n} observations ({100 * n_in / n:.0f} %) inside the 90 % prediction "
            f"band" in sd.validation_verdict)
    assert "consistent with the nominal 90 %" in sd.validation_verdict


def test_validation_detects_a_wrong_model(tmp_path):
    """The same data against a model whose clearance is 3-fold too high: most observations
    fall outside the band, and the verdict says so."""
    st = read_study(_study_yaml(tmp_path, calibration=None))
    m = load_model(st.model)
    samples = build_uncertainty(m, params=["CL=lognormal,cv=0.3,median=1.5"]).with_model(
        m).sample(64, seed=1)
    sd = run_study_data(st, m, uncertainty_samples=samples, progress=False)
    assert sd.validation_summary.iloc[-1][C.COVERAGE] < 0.5
    assert "fewer than the nominal 90 %" in sd.validation_verdict


def test_calibration_recovers_the_true_values(report):
    run, _ = report
    sd = run.data
    r = sd.calibration
    assert sd.settings["starts"] == 3 and len(r.starts) == 3  # reduced: at most 3 starts
    assert sd.settings["seed"] == run.seeds.calibration  # the stage's seed reached the fit
    s = sd.calibration_summary.set_index(C.PARAMETER)
    assert list(sd.calibration_summary.columns) == list(C.CALIBRATION_SUMMARY_COLUMNS)
    for pid, v in TRUE.items():
        assert s.at[pid, C.CI_LOW] < v < s.at[pid, C.CI_HIGH], pid
        assert s.at[pid, C.NOMINAL] != pytest.approx(v)  # started away from the truth
    assert s.at["CL", C.UNIT] == "L/h" and s.at["Kd", C.UNIT] in ("nM", "nmol/L")
    # the fit is at least as good as the values the data were generated with
    obj = Objective(r.problem, r.settings.tightened(1e4))
    nllh_true = obj.nllh(np.log10([TRUE[p] for p in r.problem.free_ids]))
    assert r.nllh_best <= nllh_true + 1e-6
    assert f"Best fit -log-likelihood {r.nllh_best:.4g} from 3 starts" in sd.calibration_verdict
    assert re.search(r"\d starts? within 0.1 of the best", sd.calibration_verdict)


class _Section(HTMLParser):
    """Paragraphs, table headers, cells and images of one report section."""

    def __init__(self, sid: str):
        super().__init__()
        self.sid, self.depth, self.tag = sid, 0, ""
        self.p, self.th, self.td, self.imgs = [], [], [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.depth = 1 if a.get("id") == self.sid else 0
        if self.depth:
            self.tag = tag
            if tag == "p":
                self.p.append("")
            if tag == "img" and a.get("src", "").startswith("data:image/png;base64,"):
                self.imgs += 1

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth = 0
        self.tag = ""

    def handle_data(self, data):
        if not self.depth:
            return
        if self.tag == "p":
            self.p[-1] += data
        elif self.tag == "th":
            self.th.append(data.strip())
        elif self.tag == "td":
            self.td.append(data.strip())


def test_report_section_shows_verdicts_tables_and_figures(report):
    run, out = report
    html = (out / "report.html").read_text(encoding="utf-8")
    sec = _Section("calibration")
    sec.feed(html)
    text = " ".join(sec.p)
    assert run.data.validation_verdict in text and run.data.calibration_verdict in text
    assert re.search(r"\d+ of 60 observations \(\d+ %\) inside the 90 % prediction band", text)
    # report headers: the column names with spaces (they wrap) and units in brackets
    assert {C.COVERAGE, C.GMFE, C.FINAL_VALUE, C.CI_LOW} <= {
        h.split(" [")[0].replace(" ", "_") for h in sec.th}
    assert {"CL", "Kd", "Drug", "RO", C.ALL_OUTPUTS} <= set(sec.td)
    assert sec.imgs >= 3  # calibration fit, observed vs predicted, waterfall, validation
    ctx = _Section("context")
    ctx.feed(html)
    k = ctx.td.index("validation data")
    assert ctx.td[k + 1] == "yes"
    for name, cols in (("validation_summary.csv", C.VALIDATION_SUMMARY_COLUMNS),
                       ("calibration_summary.csv", C.CALIBRATION_SUMMARY_COLUMNS),
                       ("validation_check.csv", C.CHECK_COLUMNS),
                       ("calibration_parameters.csv", C.CALIBRATION_PARAMETER_COLUMNS)):
        assert list(pd.read_csv(out / name).columns) == list(cols), name
    assert (out / "validation_observed_vs_predicted.png").stat().st_size > 1000
    assert (out / "calibration_fit.png").stat().st_size > 1000


def test_study_without_data_keeps_the_old_paragraph(report):
    from workbench.core.plots import pyplot
    from workbench.report.render import _sections

    run, _ = report
    d = {k: v for k, v in run.study.data.items() if k not in ("calibration", "validation")}
    st = Study(run.study.path, run.study.name, run.study.question, run.study.context_of_use,
               run.study.influence, run.study.consequence, run.study.model, d)
    assert not run_study_data(st, None).ran
    S = _sections(dataclasses.replace(run, study=st, data=None))
    try:
        assert S["calibration"][0][1].startswith("No calibration or validation data are given")
        ctx = next(b for kind, b in S["context"] if kind == "table")
        assert ctx.set_index("analysis").at["validation data", "done"] == "NO"
    finally:
        pyplot().close("all")


def test_broken_data_file_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "observed.csv"
    obs = pd.read_csv(STUDY_DIR / "observed.csv", dtype=str, keep_default_na=False)
    obs.loc[0, "time"] = "-1"
    obs.loc[3, "value"] = "n/a"
    obs.to_csv(bad, index=False)
    study = _study_yaml(tmp_path, calibration=None,
                        validation={"data": str(bad)})
    with pytest.raises(CalibrationError) as exc:
        run_mabel(study, reduced=True, progress=False)
    msg = str(exc.value)
    assert exc.value.source == str(bad) and msg.startswith(str(bad))
    assert "line 2: time -1 is negative" in msg and "line 5: value 'n/a'" in msg
    # an output the model lacks: the error names the data file (and the model)
    obs = pd.read_csv(STUDY_DIR / "observed.csv", dtype=str, keep_default_na=False)
    obs.loc[obs["output"] == "RO", "output"] = "Nope"
    obs.to_csv(bad, index=False)
    with pytest.raises(CalibrationError) as exc:
        run_study_data(read_study(study), load_model(DATA / "onecomp_binding.ant"))
    assert exc.value.source == str(bad) and "Nope" in str(exc.value)
    assert "onecomp_binding.ant" in str(exc.value)
    # through the CLI: one paragraph, exit code 1, no report
    assert main(["mabel", study, "--quick", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    err = "".join(ln for ln in err.splitlines(True)  # stage progress lines come first
                  if not re.match(r"workbench: \[\d+/\d+\] ", ln))
    # one error paragraph (a convergence warning may come before it: libRoadRunner 2.11
    # differs by 1.3e-4 between rtol 1e-11 and 1e-13 on this model)
    errors = [ln for ln in err.splitlines() if ln.startswith("workbench: error:")]
    assert len(errors) == 1 and errors[0].startswith(f"workbench: error: {bad}")
    assert "Traceback" not in err
    assert not (tmp_path / "out" / "report.html").exists()


def test_broken_petab_problem_names_its_file(tmp_path):
    import shutil

    pdir = tmp_path / "petab"
    shutil.copytree(STUDY_DIR / "petab", pdir)
    m = (pdir / "measurements.tsv").read_text().replace("obs_Drug", "obs_X", 1)
    (pdir / "measurements.tsv").write_text(m)
    study = _study_yaml(tmp_path, validation=None,
                        calibration={"petab": str(pdir / "problem.yaml"), "starts": 2})
    with pytest.raises(CalibrationError, match="obs_X") as exc:
        run_study_data(read_study(study), load_model(DATA / "onecomp_binding.ant"))
    assert exc.value.source == str(pdir / "problem.yaml")


def test_study_keys_are_checked_all_at_once(tmp_path):
    d = yaml.safe_load(STUDY.read_text())
    d["calibration"].update(petab=str(STUDY_DIR / "petab" / "problem.yaml"), starts=0,
                            seed="one", profiles="yes", method="x")
    d["validation"] = {"level": 1.5}
    errs = lint_study(d, STUDY_DIR)
    for key in ("calibration.starts", "calibration.seed", "calibration.profiles",
                "calibration.method", "validation.data", "validation.level"):
        assert any(e.startswith(key) for e in errs), key
    with pytest.raises(SpecError, match="6 problem"):
        read_study(_study_yaml(tmp_path, calibration=d["calibration"],
                               validation=d["validation"]))


def test_apply_carries_the_calibrated_values_into_every_later_stage(tmp_path):
    """calibration.apply: the fitted CL and Kd replace the model's; the validation's nominal
    prediction and the QSP MABEL then follow the closed form at the fitted values
    (10 % peak occupancy at D = V Kd / 9 nmol, i.e. 5 Kd / 9 * 150 / 70 ug/kg)."""
    d = yaml.safe_load(open(_study_yaml(tmp_path)).read())
    d["calibration"]["apply"] = True
    d["uncertainty"] = {"from_provenance": False}   # nominal predictions only
    p = tmp_path / "apply.yaml"
    p.write_text(yaml.safe_dump(d))
    run = run_mabel(str(p), reduced=True, progress=False)
    sd = run.data
    fit = sd.calibration.parameters.set_index(C.PARAMETER)[C.FINAL_VALUE]
    assert sd.applied == pytest.approx({"CL": fit["CL"], "Kd": fit["Kd"]})
    values = sd.model.parameters.set_index(C.ID)[C.VALUE]
    assert values["CL"] == pytest.approx(fit["CL"]) and values["Kd"] == pytest.approx(fit["Kd"])
    assert "calibration" in run.notes and run.model is sd.model
    obs = sd.validation.table
    c = D_NMOL / V * np.exp(-fit["CL"] / V * obs[C.TIME].to_numpy())
    expected = np.where(obs[C.OUTPUT].to_numpy() == "RO", c / (c + fit["Kd"]), c)
    assert obs[C.PREDICTED].to_numpy() == pytest.approx(expected, rel=1e-5)
    e = run.qsp.estimates[0]
    assert e.dose == pytest.approx(5 * fit["Kd"] / 9 * 150 / 70, rel=1e-3)
    from workbench.study.plots import study_data_blocks

    assert "replace the model's" in " ".join(b for k, b in study_data_blocks(sd) if k == "p")


def test_population_study_validates_against_the_band_of_individual_patients(tmp_path,
                                                                           monkeypatch):
    """With a population block the validation band spans virtual patients paired with
    uncertainty draws (weight-scaled dose, their own V and CL): recomputed here from the
    closed form at exactly those samples."""
    from workbench.core.dosing import Subject
    from workbench.mabel.population import PopulationSpec, study_samples

    d = yaml.safe_load(open(_study_yaml(tmp_path, calibration=None)).read())
    d["population"] = {"n": 40, "seed": 3, "bsv": {"CL": 0.3, "central": 0.2},
                       "clearances": ["CL"], "volumes": ["central"]}
    d["uncertainty"]["n"] = 40
    p = tmp_path / "pop.yaml"
    p.write_text(yaml.safe_dump(d))
    st = read_study(str(p))
    m = load_model(st.model)
    unc = build_uncertainty(m, params=["CL=lognormal,cv=0.3"])
    spec = PopulationSpec.from_dict(st.data["population"])
    _, _, s = study_samples(m, spec, unc, dose_unit="ug/kg", subject=Subject(weight=70.0))
    sd = run_study_data(st, m, samples_for=lambda model: study_samples(
        model, spec, unc, dose_unit="ug/kg", subject=Subject(weight=70.0))[2],
        spread="parameter uncertainty and population variability", progress=False)
    obs = pd.read_csv(STUDY_DIR / "observed.csv", keep_default_na=False)
    v, cl, dose = (s["central"].to_numpy()[:, None], s["CL"].to_numpy()[:, None],
                   D_NMOL * s["dose_scale"].to_numpy()[:, None])
    c = dose / v * np.exp(-cl / v * obs["time"].to_numpy()[None, :])
    pred = np.where(obs["output"].to_numpy() == "RO", c / (c + 2.0), c)
    lo, hi = np.quantile(pred, [0.05, 0.95], axis=0, method="inverted_cdf")
    t = sd.validation.table
    assert t[C.LOWER].to_numpy() == pytest.approx(lo, rel=1e-5)
    assert t[C.UPPER].to_numpy() == pytest.approx(hi, rel=1e-5)
    assert "(parameter uncertainty and population variability, 40 samples)" in \
        sd.validation_verdict
    # and run_mabel wires it the same way, drawing the patients once for the validation
    # band and the population MABEL
    import workbench.mabel.population as MP

    drawn = []
    monkeypatch.setattr(MP, "study_samples", lambda *a, **k: drawn.append(1) or
                        study_samples(*a, **k))
    run = run_mabel(str(p), reduced=True, progress=False)
    assert "population variability" in run.data.validation_verdict
    assert len(drawn) == 1
    s = run.population.joint_samples
    c = (D_NMOL * s["dose_scale"].to_numpy()[:, None] / s["central"].to_numpy()[:, None]
         * np.exp(-s["CL"].to_numpy()[:, None] / s["central"].to_numpy()[:, None]
                  * obs["time"].to_numpy()[None, :]))
    pred = np.where(obs["output"].to_numpy() == "RO", c / (c + 2.0), c)
    assert run.data.validation.predictions == pytest.approx(pred, rel=1e-5)


def test_one_uncertainty_draw_for_the_mabel_the_ladder_and_the_validation(tmp_path):
    """With the study's sampling method (here random, not the default Latin hypercube) the
    QSP MABEL, the escalation ladder's band and the validation band use the same parameter
    sets: both bands recomputed from the closed form (C0 = D / V) at the MABEL's samples."""
    d = yaml.safe_load(open(_study_yaml(tmp_path, calibration=None)).read())
    d["uncertainty"] = {"n": 8, "seed": 4, "method": "random", "from_provenance": False,
                        "params": ["central=lognormal,cv=0.4"]}
    p = tmp_path / "random.yaml"
    p.write_text(yaml.safe_dump(d))
    run = run_mabel(str(p), reduced=True, progress=False)
    v = run.qsp.estimates[0].per_sample["central"].to_numpy()
    assert len(v) == 8 and run.qsp.settings["method"] == "random"
    obs = pd.read_csv(STUDY_DIR / "observed.csv", keep_default_na=False)
    c = D_NMOL / v[:, None] * np.exp(-0.5 / v[:, None] * obs["time"].to_numpy()[None, :])
    pred = np.where(obs["output"].to_numpy() == "RO", c / (c + 2.0), c)
    assert run.data.validation.predictions == pytest.approx(pred, rel=1e-5)
    lad = run.decision.ladder
    c0 = lad[C.DOSE].to_numpy()[:, None] * 70 * 1000 / 150000 / v[None, :]
    lo, hi = np.percentile(c0, [5, 95], axis=1)
    assert lad[C.EXPOSURE_LOWER].to_numpy() == pytest.approx(lo, rel=1e-5)
    assert lad[C.EXPOSURE_UPPER].to_numpy() == pytest.approx(hi, rel=1e-5)


def test_calibration_takes_the_seed_the_study_runner_passes(tmp_path):
    """The stage seed (StageSeeds.calibration) sets the start points; the same seed gives
    the same starts, another seed other starts."""
    st = read_study(_study_yaml(tmp_path, validation=None))
    m = load_model(st.model)

    def starts(seed):
        sd = run_study_data(st, m, reduced=True, progress=False, calibration_seed=seed)
        assert sd.settings["seed"] == seed
        return sd.calibration.starts[C.OBJECTIVE_START].to_numpy(float)

    a, b, c = starts(3), starts(3), starts(4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(np.sort(a), np.sort(c))
