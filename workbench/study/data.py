"""A study's calibration and validation data: run them, summarise them, say what they show.

The FDA draft guidance on QSP-based MABEL asks for the calibration (method,
initial and final values, fit to the data) and the validation against
independent data (observed vs predicted, statistics) in the dossier. When the
study file (:mod:`workbench.study`) names them, :func:`run_study_data` runs

* the validation: :func:`workbench.check_data` of the study's model against
  ``validation.data`` (the observed-data table of :mod:`workbench.validation_data`),
  with the study's drug (dose target, molecular weight, body weight) and, when
  given, the parameter-uncertainty sample, so that the coverage of the
  ``validation.level`` (default 90 %) prediction band is reported. Whether the
  coverage is consistent with the nominal level is judged by a one-sided
  binomial test (observations counted as independent, which repeated
  observations of one subject are not: the test is then too strict);
* the calibration: :func:`workbench.calibrate` of the PEtab problem
  ``calibration.petab`` (multi-start fit; ``starts``, default 10, 3 when
  reduced; ``seed``, default 0; ``profiles``: profile-likelihood intervals of
  every estimated parameter, default false: Wald intervals). With
  ``calibration.apply: true`` the estimates of the estimated parameters that are
  global parameters of the study's model replace the model's values
  (:attr:`StudyData.model`); the validation then checks the calibrated model,
  and :func:`workbench.study.pipeline.run_mabel` uses it in every later stage.

Each result comes with a summary table (columns
:data:`~workbench.columns.VALIDATION_SUMMARY_COLUMNS`,
:data:`~workbench.columns.CALIBRATION_SUMMARY_COLUMNS`), its figures (PNG) and a
one-paragraph plain-language verdict. Errors in the data files are raised as
the usual one-paragraph errors naming the file (never turned into a note).
:func:`write_study_data` writes the tables (CSV) and figures (PNG) into a
directory; :func:`workbench.study.plots.study_data_blocks` gives the report's section.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core._moved import moved_names
from workbench.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.calibrate.fit import CalibrationResult
    from workbench.calibrate.observations import DataCheck
    from workbench.core.model import Model

__all__ = ["StudyData", "apply_calibration", "run_study_data", "write_study_data"]

log = logging.getLogger(__name__)

__getattr__ = moved_names(__name__, {"png_figure": "workbench.study.plots.png_figure",
                                     "report_blocks": "workbench.study.plots.study_data_blocks"})

#: calibration starts when the study does not say (``reduced``: at most REDUCED_STARTS)
DEFAULT_STARTS = 10
REDUCED_STARTS = 3
#: objective distance to the best within which a start counts as having found the optimum
NEAR_BEST = 0.1


@dataclass(frozen=True, eq=False)
class StudyData:
    """What :func:`run_study_data` found (each part None when the study has no such data).

    Attributes
    ----------
    validation
        The :class:`~workbench.calibrate.observations.DataCheck` of the study's model.
    validation_summary
        :data:`~workbench.columns.VALIDATION_SUMMARY_COLUMNS`.
    validation_verdict
        One paragraph: coverage of the prediction band, fold errors, what it means.
    calibration
        The :class:`~workbench.calibrate.fit.CalibrationResult`.
    calibration_summary
        :data:`~workbench.columns.CALIBRATION_SUMMARY_COLUMNS`.
    calibration_verdict
        One paragraph: best fit, starts that found it, estimates and intervals.
    figures
        File name -> PNG bytes (``validation_observed_vs_predicted.png``,
        ``calibration_fit.png``, ...).
    data_file, petab_file
        The study's files.
    model, applied
        With ``calibration.apply``: the study's model with the estimates set, and
        id -> estimate (model units) of what was set; else None and empty.
    settings
        What was run: starts, seed, profiles, level, n_samples.
    """

    validation: DataCheck | None = None
    validation_summary: pd.DataFrame | None = field(default=None, repr=False)
    validation_verdict: str = ""
    calibration: CalibrationResult | None = None
    calibration_summary: pd.DataFrame | None = field(default=None, repr=False)
    calibration_verdict: str = ""
    figures: dict = field(default_factory=dict, repr=False)
    data_file: str = ""
    petab_file: str = ""
    settings: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    model: Model | None = field(default=None, repr=False)
    applied: dict = field(default_factory=dict)

    @property
    def ran(self) -> bool:
        """True when calibration or validation was run."""
        return self.validation is not None or self.calibration is not None

    def to_frame(self) -> pd.DataFrame:
        """One row per analysis run, :data:`~workbench.columns.STUDY_DATA_COLUMNS`."""
        rows = []
        if self.calibration is not None:
            rows.append({C.ANALYSIS: "calibration", C.FILE: self.petab_file,
                         C.VERDICT: self.calibration_verdict})
        if self.validation is not None:
            rows.append({C.ANALYSIS: "validation", C.FILE: self.data_file,
                         C.VERDICT: self.validation_verdict})
        return pd.DataFrame(rows, columns=list(C.STUDY_DATA_COLUMNS))

    def tables(self) -> dict[str, pd.DataFrame]:
        """CSV file name -> table, as :func:`write_study_data` writes them."""
        t: dict[str, pd.DataFrame] = {}
        if self.validation is not None:
            t["validation_summary.csv"] = self.validation_summary
            t["validation_check.csv"] = self.validation.table
            t["validation_statistics.csv"] = self.validation.summary
        if self.calibration is not None:
            r = self.calibration
            t["calibration_summary.csv"] = self.calibration_summary
            t["calibration_parameters.csv"] = r.parameters
            t["calibration_starts.csv"] = r.starts
            t["calibration_fit.csv"] = r.fit
            t["calibration_goodness_of_fit.csv"] = r.goodness
            if r.profiles is not None:
                t["calibration_profiles.csv"] = r.profiles
        if self.ran:
            t["study_data.csv"] = self.to_frame()
        return t


# ---------------------------------------------------------------------------
# the verb
# ---------------------------------------------------------------------------

def run_study_data(study, model, *, uncertainty_samples: pd.DataFrame | None = None,
                   samples_for=None, spread: str = "parameter uncertainty",
                   reduced: bool = False, workers: int | None = 1,
                   progress: bool | None = None,
                   calibration_seed: int | None = None) -> StudyData:
    """Run the calibration and the validation a study file names (module docstring).

    Parameters
    ----------
    study
        A :class:`workbench.study.schema.Study` (or the path of its YAML file).
    model
        The study's :class:`~workbench.core.model.Model` (validated against the data).
    uncertainty_samples
        Parameter sample (one column per id, e.g. ``Uncertainty.sample``): the
        validation then reports the prediction band and its coverage; None:
        the nominal prediction only.
    samples_for, spread
        Instead of ``uncertainty_samples``: a function of the model giving the sample
        table, called with the model the validation checks (the calibrated one with
        ``calibration.apply``, so that distributions centred on the model's values
        follow the calibrated values), e.g. the study's uncertainty draws or the
        virtual patients paired with them (whose band is the one individual
        observations should fall in); and what the samples vary (named in the verdict).
    reduced
        At most 3 calibration starts (tests, quick looks).
    workers
        Processes for the calibration starts and the validation ensemble.
    progress
        Progress bars (default: when stderr is a terminal).
    calibration_seed
        Seed of the calibration's start points (the study runner passes
        :attr:`workbench.study.stages.StageSeeds.calibration`); None: the section's
        ``seed``, else 0.

    Returns
    -------
    StudyData
        With both parts None when the study names no data.

    Raises
    ------
    InputFileError
        A data file is missing or unreadable (the message names it).
    CalibrationError
        A data table or the PEtab problem is invalid (every finding at once, naming
        the file), or every calibration start failed.
    SimulationError
        The model cannot be simulated at the data's doses.
    """
    from workbench.study.schema import Study, read_study

    st = study if isinstance(study, Study) else read_study(study)
    val = st.data.get("validation") or {}
    cal = st.data.get("calibration") or {}
    out: dict = {"figures": {}, "settings": {}, "seconds": {}}
    if cal.get("petab"):
        t0 = time.perf_counter()
        seed = calibration_seed if calibration_seed is not None else int(cal.get("seed") or 0)
        out.update(_calibration(cal, seed, reduced, workers, progress, out))
        out["seconds"]["calibration"] = time.perf_counter() - t0
        if cal.get("apply"):
            model, out["applied"] = apply_calibration(model, out["calibration"])
            out["model"] = model
    if val.get("data"):
        samples = samples_for(model) if samples_for is not None else uncertainty_samples
        t0 = time.perf_counter()
        out.update(_validation(st, model, val, samples, workers, progress, out, spread))
        out["seconds"]["validation"] = time.perf_counter() - t0
    return StudyData(**out)


def apply_calibration(model, result):
    """The model with the estimates of ``result`` set (estimated parameters that are
    global parameters of the model; the others, e.g. noise parameters, are left out).

    Returns
    -------
    (Model, dict)
        The calibrated model and id -> value set (model units).
    """
    from workbench.analysis.variants import Variant, build_variant

    ids = set(model.parameters[C.ID])
    p = result.parameters
    est = p[p[C.ESTIMATED].astype(bool)]
    values = {str(r[C.PARAMETER]): float(r[C.FINAL_VALUE]) for _, r in est.iterrows()
              if str(r[C.PARAMETER]) in ids}
    if not values:
        return model, {}
    m = build_variant(model, Variant("calibrated", set=values,
                                     description="calibrated estimates"))
    log.info("calibrated values applied: %s", values)
    return m, values


def _naming(exc: WorkbenchError, path: str, key: str) -> WorkbenchError:
    """``exc``, or the same error naming the data file ``path`` (and the study key) when it
    names another file (e.g. the model, for an output the data name but the model lacks)."""
    if exc.source == path or type(exc).__init__ is not WorkbenchError.__init__:
        return exc
    msg = exc.message + (f" (model {exc.source})" if exc.source else "")
    new = type(exc)(msg, source=path, element=exc.element or key, fix=exc.fix)
    findings = getattr(exc, "findings", None)
    if findings is not None:
        # new is type(exc)(...): the subclasses with findings (ModelCheckError,
        # ProvenanceError, CalibrationError) declare the attribute, WorkbenchError does not
        new.findings = findings  # type: ignore[attr-defined]
    return new


def _validation(st, model, val: dict, samples, workers, progress, out: dict,
                spread: str = "parameter uncertainty") -> dict:
    from workbench.calibrate.observations import check_data
    from workbench.calibrate.plots import plot_data_check
    from workbench.core.dosing import Subject

    path = str(val["data"])
    level = float(val.get("level", 0.9))
    drug = st.data["drug"]
    try:
        chk = check_data(model, path, samples=samples, level=level, target=drug["species"],
                         mw=drug["mw"], subject=Subject(weight=float(drug["body_weight"])),
                         workers=workers, progress=progress)
    except WorkbenchError as exc:
        raise _naming(exc, path, "validation.data") from None
    summary = validation_summary(chk)
    n_s = int(chk.predictions.shape[0]) if samples is not None else 0
    verdict = validation_verdict(summary, n_s, Path(path).name, spread)
    with tempfile.TemporaryDirectory(prefix="wb-validation-") as tmp:
        png = plot_data_check(chk.table, chk.summary, chk.level, Path(tmp) / "ovp.png",
                              Path(path).name)
        out["figures"]["validation_observed_vs_predicted.png"] = png.read_bytes()
    out["settings"].update(level=level, n_samples=n_s, spread=spread)
    log.info("validation: %s", verdict)
    return {"validation": chk, "validation_summary": summary, "validation_verdict": verdict,
            "data_file": path}


def _calibration(cal: dict, seed: int, reduced: bool, workers, progress, out: dict) -> dict:
    from workbench.calibrate.fit import calibrate
    from workbench.calibrate.plots import plot_calibration

    path = str(cal["petab"])
    starts = int(cal.get("starts", DEFAULT_STARTS))
    if reduced:
        starts = min(starts, REDUCED_STARTS)
    profiles = bool(cal.get("profiles", False))
    try:
        res = calibrate(path, starts=starts, seed=seed, workers=int(workers or 1),
                        profile="all" if profiles else None, progress=progress)
    except WorkbenchError as exc:
        raise _naming(exc, path, "calibration.petab") from None
    summary = calibration_summary(res)
    verdict = calibration_verdict(res, summary, Path(path).name)
    with tempfile.TemporaryDirectory(prefix="wb-calibration-") as tmp:
        for p in plot_calibration(res, tmp):
            out["figures"][f"calibration_{p.name}"] = p.read_bytes()
    out["settings"].update(starts=starts, seed=seed, profiles=profiles)
    log.info("calibration: %s", verdict)
    return {"calibration": res, "calibration_summary": summary,
            "calibration_verdict": verdict, "petab_file": path}


# ---------------------------------------------------------------------------
# summaries and verdicts
# ---------------------------------------------------------------------------

def validation_summary(check) -> pd.DataFrame:
    """Per output and overall: counts, band coverage, fold-error statistics
    (:data:`~workbench.columns.VALIDATION_SUMMARY_COLUMNS`)."""
    t = check.table
    groups = [(o, g) for o, g in t.groupby(C.OUTPUT, sort=False)]
    if len(groups) != 1:
        groups.append((C.ALL_OUTPUTS, t))
    rows = []
    for o, g in groups:
        fe = g[C.FOLD_ERROR].to_numpy(dtype=float)
        ok = np.isfinite(fe) & (fe > 0)
        lfe = np.abs(np.log10(fe[ok]))
        band = g[C.INSIDE_BAND]
        n_band = int(band.notna().sum())
        n_in = int(band.sum(skipna=True)) if n_band else 0
        units = set(g[C.UNIT])
        rows.append({C.OUTPUT: o, C.UNIT: units.pop() if len(units) == 1 else "",
                     C.N_OBSERVATIONS: len(g), C.N_WITH_BAND: n_band, C.N_INSIDE_BAND: n_in,
                     C.LEVEL: check.level,
                     C.COVERAGE: n_in / n_band if n_band else math.nan,
                     C.WITHIN_2FOLD: float(np.mean(lfe <= math.log10(2))) if ok.any() else math.nan,
                     C.WITHIN_3FOLD: float(np.mean(lfe <= math.log10(3))) if ok.any() else math.nan,
                     C.GMFE: float(10 ** np.mean(lfe)) if ok.any() else math.nan})
    return pd.DataFrame(rows, columns=list(C.VALIDATION_SUMMARY_COLUMNS))


def coverage_p_value(n_inside: int, n: int, level: float) -> float:
    """One-sided binomial p-value of at most ``n_inside`` of ``n`` inside a band of
    nominal coverage ``level``: small values say the band covers too little."""
    from scipy.stats import binom

    return float(binom.cdf(n_inside, n, level)) if n else math.nan


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def validation_verdict(summary: pd.DataFrame, n_samples: int, name: str,
                       spread: str = "parameter uncertainty") -> str:
    """The plain-language paragraph of a validation summary."""
    a = summary.iloc[-1]
    n, n_band, n_in, level = (int(a[C.N_OBSERVATIONS]), int(a[C.N_WITH_BAND]),
                              int(a[C.N_INSIDE_BAND]), float(a[C.LEVEL]))
    pred = "median" if n_samples > 1 else "nominal"
    fold = (f"{_pct(a[C.WITHIN_2FOLD])} of the observations are within 2-fold and "
            f"{_pct(a[C.WITHIN_3FOLD])} within 3-fold of the {pred} prediction (geometric mean "
            f"fold error {a[C.GMFE]:.2f})" if np.isfinite(a[C.GMFE])
            else "no fold error can be computed (no positive observation and prediction)")
    if not n_band:
        why = ("the study gives no parameter uncertainty" if not n_samples
               else "every sampled simulation failed")
        return (f"Validation against {name} ({n} observations, not used in calibration): no "
                f"prediction band, because {why}; {fold}. "
                "Without a band the data cannot confirm the model's uncertainty; give the "
                "uncertain parameters (uncertainty section of the study).")
    p = coverage_p_value(n_in, n_band, level)
    text = (f"Validation against {name} (not used in calibration): {n_in} of {n_band} "
            f"observations ({_pct(n_in / n_band)}) inside the {_pct(level)} prediction band "
            f"({spread}, {n_samples} samples); {fold}. ")
    if p >= 0.05:
        text += (f"This is consistent with the nominal {_pct(level)} (one-sided binomial test, "
                 f"p = {p:.2g}): the model and its uncertainty describe these data.")
    else:
        text += (f"This is fewer than the nominal {_pct(level)} (one-sided binomial test, "
                 f"p = {p:.2g}): the model or its uncertainty does not describe these data. "
                 f"The {n_band - n_in} observations outside the band (validation_check.csv, "
                 "inside_band false) call for revising the model before its prediction is "
                 "relied on.")
    if n_samples and n_samples < 20:
        text += (f" With only {n_samples} samples the band's limits are the extremes of the "
                 "sample, so it covers less than its nominal level.")
    return text


def calibration_summary(result) -> pd.DataFrame:
    """Estimated parameters with units, values before and after, and 95 % intervals
    (:data:`~workbench.columns.CALIBRATION_SUMMARY_COLUMNS`)."""
    from workbench.core.model import load_model

    units: dict[str, str] = {}
    try:
        m = load_model(result.problem.model_source)
        for pid in result.problem.free_ids:
            try:
                if m.kind_of(pid) in ("parameter", "compartment", "species"):
                    units[pid] = m.unit_of(pid) or ""
            except WorkbenchError:
                pass
    except WorkbenchError as exc:  # the problem was read from this model: not expected
        log.warning("no units for the calibration summary: %s", exc)
    p = result.parameters[result.parameters[C.ESTIMATED].astype(bool)].copy()
    p[C.UNIT] = [units.get(pid, "") for pid in p[C.PARAMETER]]
    return p[list(C.CALIBRATION_SUMMARY_COLUMNS)].reset_index(drop=True)


def calibration_verdict(result, summary: pd.DataFrame, name: str) -> str:
    """The plain-language paragraph of a calibration."""
    st = result.starts
    ok = st[st[C.STATUS] == C.STATUS_OK]
    f = ok[C.OBJECTIVE].to_numpy(dtype=float)
    near = int(np.sum(f - np.nanmin(f) <= NEAR_BEST)) if len(f) else 0
    text = (f"Calibration with {name}, {result.method_text}. Best fit -log-likelihood "
            f"{result.nllh_best:.4g} from "
            f"{len(st)} starts (at the parameter table's nominal values: "
            f"{result.nllh_nominal:.4g}); {near} start{'s' if near != 1 else ''} within "
            f"{NEAR_BEST:g} of the best")
    text += (", so the optimum was found repeatedly. " if near >= 2 else
             ": the optimum was found once only, more starts are needed to trust it. ")
    est = []
    for _, r in summary.iterrows():
        u = f" {r[C.UNIT]}" if r[C.UNIT] else ""
        est.append(f"{r[C.PARAMETER]} {r[C.FINAL_VALUE]:.3g}{u} (95 % CI {r[C.CI_LOW]:.3g}-"
                   f"{r[C.CI_HIGH]:.3g}, {r[C.CI_METHOD]}; before {r[C.NOMINAL]:.3g})")
    if est:
        text += "Estimates: " + "; ".join(est) + ". "
    bad = [str(r[C.PARAMETER]) for _, r in summary.iterrows()
           if not (pd.notna(r[C.IDENTIFIABLE]) and bool(r[C.IDENTIFIABLE]))]
    at_b = [str(r[C.PARAMETER]) for _, r in summary.iterrows() if bool(r[C.AT_BOUND])]
    if bad:
        text += ("Not identifiable from these data (interval reaches a bound or is undefined): "
                 + ", ".join(bad) + "; fix them or add data before relying on them. ")
    elif len(summary):
        text += "Every estimated parameter is identifiable (bounded 95 % interval). "
    if at_b:
        text += "At a bound: " + ", ".join(at_b) + " (widen the bounds or question the model). "
    g = result.goodness.set_index(C.WHAT)[C.VALUE]
    pv = float(g.get("chi2_p_value", math.nan))
    if np.isfinite(pv):
        text += (f"Chi-square of the weighted residuals {float(g['chi2']):.3g} on "
                 f"{int(g['chi2_dof'])} degrees of freedom (p = {pv:.2g}"
                 + ("; the residuals are larger than the noise model allows)." if pv < 0.05
                    else ")."))
    return text.strip()


# ---------------------------------------------------------------------------
# output and report
# ---------------------------------------------------------------------------

def write_study_data(data: StudyData, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the tables (CSV) and figures (PNG) of ``data`` into ``out`` (atomically);
    returns the paths by file name."""
    from workbench.core._io import atomic_write_bytes, atomic_write_text

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, df in data.tables().items():
        atomic_write_text(d / name, df.to_csv(index=False, float_format="%.10g"))
        paths[name] = d / name
    for name, png in data.figures.items():
        atomic_write_bytes(d / name, png)
        paths[name] = d / name
    return paths
