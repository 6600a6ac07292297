"""Validation against independent data, and refinement with early clinical data.

:func:`check_data` compares model predictions with observations not used in
calibration (FDA draft guidance: "validation against independent clinical or
nonclinical data"): per observation the prediction (the median over a
parameter sample, or the nominal model), its prediction interval, and the fold
error; overall the fraction within 2-fold and 3-fold, the geometric mean fold
error GMFE = 10^mean|log10(pred/obs)| (Obach et al. 1997,
doi:10.1016/S0022-3565(24)36845-4; its use as a PK acceptance statistic), and
the coverage of the prediction intervals.

:func:`refine` updates the parameter uncertainty with the first participants'
PK/PD (same table layout) by importance reweighting of the Monte Carlo sample
(sampling-importance-resampling, Smith & Gelfand 1992,
doi:10.1080/00031305.1992.10475856): each sample's weight is its likelihood
under a log-normal residual error, the effective sample size is Kish's
1 / sum w^2, and the posterior sample is a seeded weighted resample. The
dose-response of the next cohort is re-predicted with the weights;
observations outside the prior prediction band are flagged as a trigger for
model revision before escalating.

Observed-data table (CSV; columns :data:`workbench.columns.OBSERVED_DATA_COLUMNS`):
``subject`` (label), ``regimen`` (dose text as for ``workbench simulate``, empty:
no dose), ``output`` (a model output: species, ``[S]``, parameter, ...),
``time`` and ``time_unit`` (empty: the model's time unit), ``value`` and
``unit`` (empty: the output's model unit), and optionally ``lloq``, the assay's
lower limit of quantification in the unit of ``value``. An observation is below
the limit (BLQ) when its value is below ``lloq`` or left empty (or ``BLQ``) with
an ``lloq``. :func:`refine` keeps BLQ observations through the M3 likelihood
(Beal 2001, J Pharmacokinet Pharmacodyn 28:481, doi:10.1023/A:1012299115260):
each contributes the probability of a value below the limit under the residual
model, ``Phi((ln LLOQ - ln pred) / sd_log)``, instead of being dropped (dropping
keeps only the high values near the limit, which biases the fit).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.analysis.regimens import weighted_quantile
from workbench.calibrate.plots import plot_data_check
from workbench.core import units as U
from workbench.core.dosing import Regimen, Subject
from workbench.core.model import Model, load_model
from workbench.errors import CalibrationError, InputFileError, UnitError, WorkbenchError
from workbench.sim._engine import IntegratorSettings

__all__ = ["DataCheck", "Refinement", "check_data", "m3_loglik", "read_observed", "refine",
           "write_data_check", "write_refinement"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# the observed-data table
# ---------------------------------------------------------------------------

def read_observed(data: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check an observed-data table; every problem reported at once.

    Raises
    ------
    InputFileError
        The file is missing or unreadable.
    CalibrationError
        Missing columns, non-numeric or negative times, non-numeric values.
    """
    src = "<table>"
    if not isinstance(data, pd.DataFrame):
        src = str(data)
        p = Path(data)
        if not p.is_file():
            raise InputFileError("observed-data file not found", source=src)
        from workbench.core.textin import read_table

        data = read_table(p, "observed-data table", sep=None, engine="python", dtype=str,
                          keep_default_na=False)
    df = data.copy()
    problems = []
    missing = [c for c in (C.OUTPUT, C.TIME, C.VALUE) if c not in df.columns]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    for c in (C.SUBJECT, C.REGIMEN, C.TIME_UNIT, C.UNIT):
        if c not in df.columns:
            df[c] = ""
    raw_lloq = (df[C.LLOQ] if C.LLOQ in df.columns else pd.Series("", index=df.index))
    raw_lloq = raw_lloq.astype(object).where(raw_lloq.notna(), "").astype(str).str.strip()
    raw_lloq = raw_lloq.replace({"nan": "", "None": ""})
    lloq = pd.to_numeric(raw_lloq, errors="coerce")
    for i in np.flatnonzero(((raw_lloq != "") & ~(lloq > 0)).to_numpy())[:20]:
        problems.append(f"line {i + 2}: lloq {raw_lloq.iloc[i]!r} is not a positive number")
    df[C.LLOQ] = lloq
    if not missing:
        # a value left empty (or "BLQ") with an LLOQ is below the limit: kept as NaN
        raw = df[C.VALUE].astype(object)
        unreported = ((raw.isna() | raw.astype(str).str.strip().str.upper()
                       .isin(["", "BLQ", "<LLOQ", "NAN"])) & lloq.notna())
        for c in (C.TIME, C.VALUE):
            v = pd.to_numeric(df[c], errors="coerce")
            bad = v.isna().to_numpy() | ~np.isfinite(v.to_numpy(dtype=float))
            if c == C.VALUE:
                bad &= ~unreported.to_numpy()
            for i in np.flatnonzero(bad)[:20]:
                problems.append(f"line {i + 2}: {c} {df[c].iloc[i]!r} is not a number"
                                + (" (an empty or BLQ value needs an lloq)" if c == C.VALUE
                                   else ""))
            df[c] = v
        for i in np.flatnonzero((df[C.TIME] < 0).to_numpy())[:20]:
            problems.append(f"line {i + 2}: time {df[C.TIME].iloc[i]:g} is negative")
        for i in np.flatnonzero((df[C.OUTPUT].astype(str).str.strip() == "").to_numpy())[:20]:
            problems.append(f"line {i + 2}: no output")
    if problems:
        raise CalibrationError(f"the observed-data table has {len(problems)} problem(s): "
                               + "; ".join(problems), source=src,
                               fix="columns: " + ", ".join(C.OBSERVED_DATA_COLUMNS))
    for c in (C.SUBJECT, C.REGIMEN, C.OUTPUT, C.TIME_UNIT, C.UNIT):
        df[c] = df[c].fillna("").astype(str).str.strip()
    return df[list(C.OBSERVED_DATA_COLUMNS)].reset_index(drop=True)


def _to_model_units(m: Model, obs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Times in model time units and values in each output's unit; errors all at once."""
    from workbench.sim.ensemble import _check_output
    from workbench.sim.simulate import output_units

    outs = sorted(set(obs[C.OUTPUT]))
    units = output_units(m, outs)
    problems = []
    for o in outs:
        try:
            _check_output(m, o)
        except WorkbenchError as exc:
            problems.append(str(exc))
    t = obs[C.TIME].to_numpy(dtype=float).copy()
    v = obs[C.VALUE].to_numpy(dtype=float).copy()
    lq = obs[C.LLOQ].to_numpy(dtype=float).copy()
    for (tu, o, u), g in obs.groupby([C.TIME_UNIT, C.OUTPUT, C.UNIT], sort=False):
        idx = g.index.to_numpy()
        try:
            if tu and m.time_unit and tu != m.time_unit:
                t[idx] = t[idx] * U.factor(tu, m.time_unit)
            elif tu and not m.time_unit:
                problems.append(f"time unit {tu!r} given but the model's time unit is undeclared")
            mu = units.get(o, "")
            if u and mu and u != mu:
                v[idx] = v[idx] * U.factor(u, mu)
                lq[idx] = lq[idx] * U.factor(u, mu)
        except UnitError as exc:
            problems.append(f"{o}: {exc.message}")
    if problems:
        raise CalibrationError("the observed data do not fit the model: " + "; ".join(problems),
                               source=m.source)
    out = obs.copy()
    out[C.TIME] = t
    out[C.VALUE] = v
    out[C.LLOQ] = lq
    out[C.UNIT] = [units.get(o, "") for o in out[C.OUTPUT]]
    return out, units


# ---------------------------------------------------------------------------
# predictions at the observations
# ---------------------------------------------------------------------------

def _sample_table(samples, parameters) -> pd.DataFrame:
    if samples is None:
        return pd.DataFrame([dict(parameters or {})]) if parameters else pd.DataFrame(index=[0])
    if not isinstance(samples, pd.DataFrame):
        p = Path(samples)
        if not p.is_file():
            raise InputFileError("sample file not found", source=str(p))
        from workbench.core.textin import read_table

        samples = read_table(p, "sample table")
    drop = [c for c in samples.columns if c in (C.SAMPLE, C.STATUS, C.REGIMEN)
            or not pd.api.types.is_numeric_dtype(samples[c])]
    s = samples.drop(columns=drop).reset_index(drop=True)
    for k, v in (parameters or {}).items():
        s[k] = float(v)
    return s


def _predict(m: Model, obs: pd.DataFrame, samples: pd.DataFrame, *, target, mw, subject,
             integrator, workers, progress) -> np.ndarray:
    """Predictions (n_samples, n_observations), NaN where a sample failed."""
    from workbench.sim.ensemble import run_ensemble

    pred = np.full((len(samples), len(obs)), np.nan)
    for reg, g in obs.groupby(C.REGIMEN, sort=False):
        outs = sorted(set(g[C.OUTPUT]))
        times = sorted(set(g[C.TIME].tolist()) | {0.0})
        res = run_ensemble(m, samples, reg or None, outputs=outs, times=times, target=target,
                           mw=mw, subject=subject, integrator=integrator, workers=workers,
                           progress=progress)
        ok = (res[C.STATUS] == C.STATUS_OK).to_numpy()
        for i, (o, t) in zip(g.index, zip(g[C.OUTPUT], g[C.TIME], strict=True), strict=True):
            col = f"value({o}, {float(t):.10g})"
            pred[:, i] = np.where(ok, res[col].to_numpy(dtype=float), np.nan)
    return pred


def _quantiles(values, q: list[float], weights: np.ndarray | None = None) -> np.ndarray:
    """Inverted-CDF quantiles: no interpolation, so bands commute with monotone maps."""
    return weighted_quantile(values, q, weights, method="inverted_cdf")


# ---------------------------------------------------------------------------
# check-data
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DataCheck:
    """Predictions against observed data (:func:`check_data`).

    Attributes
    ----------
    table
        One row per observation, :data:`~workbench.columns.CHECK_COLUMNS`.
    summary
        :data:`~workbench.columns.SUMMARY_COLUMNS`: n, within_2fold, within_3fold, gmfe,
        coverage (NaN without a sample), level, n_outside_band.
    predictions
        (n_samples, n_observations) predictions, model units.
    level
        Nominal coverage of the prediction intervals.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    predictions: np.ndarray = field(repr=False)
    level: float = 0.9
    source: str = ""
    time_unit: str = ""

    def to_frame(self) -> pd.DataFrame:
        return self.table

    @property
    def outside(self) -> pd.DataFrame:
        """Observations outside the prediction band (the trigger for model revision)."""
        return self.table[self.table[C.INSIDE_BAND] == False]  # noqa: E712


def _below(y: np.ndarray, lloq: np.ndarray) -> np.ndarray:
    """Observations below their limit of quantification (value below it or not reported)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(lloq) & ~(y >= lloq)


def m3_loglik(y: np.ndarray, pred: np.ndarray, lloq: np.ndarray, sd_log: float, *,
              censored: bool = True) -> np.ndarray:
    """Log-likelihood of each sample's predictions ``pred`` (n_samples, n_obs) under a
    log-normal residual error with sd ``sd_log`` of ln(y / pred), constants left out.

    Quantified observations contribute ``-((ln y - ln pred) / sd)^2 / 2``; an observation
    below its limit ``lloq`` contributes ``ln Phi((ln lloq - ln pred) / sd)``, the
    probability of a value below the limit (M3, Beal 2001, J Pharmacokinet Pharmacodyn
    28:481). ``censored=False`` leaves them out instead (the biased M1 method, for
    comparison).
    """
    from scipy.special import log_ndtr

    below = _below(y, lloq)
    q = ~below
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (np.log(y[q])[None, :] - np.log(pred[:, q])) / sd_log
        ll = -0.5 * np.sum(r ** 2, axis=1)
        if censored and below.any():
            z = (np.log(lloq[below])[None, :] - np.log(pred[:, below])) / sd_log
            ll = ll + np.sum(log_ndtr(np.nan_to_num(z, nan=-np.inf)), axis=1)
    return np.where(np.isfinite(ll), ll, -np.inf)


def _check_table(obs: pd.DataFrame, pred: np.ndarray, level: float,
                 weights: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    n_s = pred.shape[0]
    if n_s > 1:
        qs = np.array([_quantiles(pred[:, i], [lo_q, 0.5, hi_q], weights)
                       for i in range(pred.shape[1])]).reshape(-1, 3)
        lower, median, upper = qs[:, 0], qs[:, 1], qs[:, 2]
    else:
        median = pred[0]
        lower = upper = np.full(pred.shape[1], np.nan)
    y = obs[C.VALUE].to_numpy(dtype=float)
    lq = obs[C.LLOQ].to_numpy(dtype=float) if C.LLOQ in obs.columns else np.full(len(y), np.nan)
    below = _below(y, lq)
    with np.errstate(divide="ignore", invalid="ignore"):
        fe = np.where((y > 0) & (median > 0) & ~below, median / y, np.nan)
    lfe = np.abs(np.log10(fe))
    # a value below the limit lies in the band when the band reaches below the limit
    inside = pd.array([pd.NA if not (np.isfinite(a) and np.isfinite(b)) else
                       bool(a <= q) if bl else bool(a <= yy <= b)
                       for a, b, yy, q, bl in zip(lower, upper, y, lq, below, strict=True)],
                      dtype="boolean")
    table = pd.DataFrame({
        C.SUBJECT: obs[C.SUBJECT].to_numpy(), C.REGIMEN: obs[C.REGIMEN].to_numpy(),
        C.OUTPUT: obs[C.OUTPUT].to_numpy(), C.TIME: obs[C.TIME].to_numpy(dtype=float),
        C.UNIT: obs[C.UNIT].to_numpy(), C.OBSERVED: y, C.PREDICTED: median, C.LOWER: lower,
        C.UPPER: upper, C.FOLD_ERROR: fe,
        C.WITHIN_2FOLD: pd.array([pd.NA if not np.isfinite(v) else bool(v <= math.log10(2))
                                  for v in lfe], dtype="boolean"),
        C.WITHIN_3FOLD: pd.array([pd.NA if not np.isfinite(v) else bool(v <= math.log10(3))
                                  for v in lfe], dtype="boolean"),
        C.INSIDE_BAND: inside}, columns=list(C.CHECK_COLUMNS))
    ok = np.isfinite(lfe)
    n_band = int((~inside.isna()).sum())
    summary = pd.DataFrame([
        ("n_observations", len(table)), ("n_fold_error", int(ok.sum())),
        ("within_2fold", float(np.mean(lfe[ok] <= math.log10(2))) if ok.any() else math.nan),
        ("within_3fold", float(np.mean(lfe[ok] <= math.log10(3))) if ok.any() else math.nan),
        ("gmfe", float(10 ** np.mean(lfe[ok])) if ok.any() else math.nan),
        ("level", level),
        ("coverage", float(inside.sum(skipna=True)) / n_band if n_band else math.nan),
        ("n_outside_band", int(n_band - int(inside.sum(skipna=True))) if n_band else 0),
        ("n_samples", n_s)], columns=list(C.SUMMARY_COLUMNS))
    return table, summary


def check_data(model: Model | str | os.PathLike[str], data: pd.DataFrame | str | os.PathLike[str],
               *, samples: pd.DataFrame | str | os.PathLike[str] | None = None,
               parameters: dict[str, float] | None = None, level: float = 0.9,
               target: str | None = None, mw: float | str | None = None,
               subject: Subject | None = None, integrator: IntegratorSettings | None = None,
               workers: int | None = 1, progress: bool | None = None) -> DataCheck:
    """Compare predictions with observed data not used in calibration.

    Parameters
    ----------
    model
        The model (calibrated values in it, or given by ``parameters``).
    data
        Observed-data table or its CSV (:func:`read_observed`).
    samples
        Parameter sample (one column per id, one row per sample; a CSV, e.g.
        the ``samples`` of :func:`workbench.propagate`): predictions become the
        median and the ``level`` prediction interval over the sample.
    parameters
        Values set on top of the model (and of every sample).
    level
        Nominal coverage of the prediction intervals (default 0.9: 5th-95th percentile).
    target, mw, subject, integrator, workers, progress
        As for :func:`workbench.run_ensemble`.

    Returns
    -------
    DataCheck
    """
    m = model if isinstance(model, Model) else load_model(model)
    if not 0 < level < 1:
        raise CalibrationError(f"level {level} must be in (0, 1)", element="level")
    obs, _ = _to_model_units(m, read_observed(data))
    s = _sample_table(samples, parameters)
    pred = _predict(m, obs, s, target=target, mw=mw, subject=subject, integrator=integrator,
                    workers=workers, progress=progress)
    table, summary = _check_table(obs, pred, level)
    return DataCheck(table, summary, pred, level, m.source, m.time_unit)


# ---------------------------------------------------------------------------
# refinement
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Refinement:
    """Parameter uncertainty updated with early clinical data (:func:`refine`).

    Attributes
    ----------
    prior_check, posterior_check
        The data against the prior and the reweighted prediction bands.
    weights
        Normalised importance weight of each prior sample.
    ess
        Effective sample size, 1 / sum w^2.
    parameters
        Prior vs posterior quantiles, :data:`~workbench.columns.REFINED_PARAMETER_COLUMNS`.
    posterior_samples
        A seeded weighted resample of the prior sample (same columns).
    dose_response
        The next cohort(s): :data:`~workbench.columns.DOSE_RESPONSE_UPDATE_COLUMNS`.
    revision_needed
        True when an observation lies outside the prior prediction band.
    """

    prior_check: DataCheck
    posterior_check: DataCheck
    weights: np.ndarray = field(repr=False)
    ess: float = 0.0
    parameters: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    posterior_samples: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    dose_response: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    sd_log: float = 0.3
    seed: int = 0
    n_below: int = 0
    blq: str = "m3"

    @property
    def revision_needed(self) -> bool:
        return bool(len(self.prior_check.outside))

    def to_frame(self) -> pd.DataFrame:
        return self.parameters


def refine(model: Model | str | os.PathLike[str], data: pd.DataFrame | str | os.PathLike[str],
           samples: pd.DataFrame | str | os.PathLike[str], *,
           next_regimens: Sequence[Regimen | str] = (), metrics: Sequence[str] = (),
           sd_log: float = 0.3, level: float = 0.9, n_posterior: int | None = None,
           seed: int = 0, parameters: dict[str, float] | None = None,
           end: float | str | None = None, points: int = 201, blq: str = "m3",
           target: str | None = None, mw: float | str | None = None,
           subject: Subject | None = None, integrator: IntegratorSettings | None = None,
           workers: int | None = 1, progress: bool | None = None) -> Refinement:
    """Update a Monte Carlo parameter sample with early clinical data and re-predict.

    Parameters
    ----------
    model, data, samples, parameters, level
        As for :func:`check_data` (``samples`` required: the prior sample).
    next_regimens
        Regimens of the next cohort(s): :class:`~workbench.core.dosing.Regimen` objects
        (from a dose as a number, :meth:`workbench.Dosing.regimen`) or texts
        (``"1 mg/kg iv"``); the table's regimen column holds their text.
    metrics
        Metric texts to re-predict at each next regimen (``"max(RO)"``).
    sd_log
        Residual error: sd of ln(observed / predicted) (log-normal, a proportional
        error of about ``sd_log`` x 100 %).
    blq
        Observations below their ``lloq``: ``"m3"`` (default) keeps them through the
        probability of a value below the limit (:func:`m3_loglik`); ``"drop"`` leaves
        them out (biased; for comparison). A value at or below zero without an
        ``lloq`` is an error.
    n_posterior
        Size of the resampled posterior sample (default: the prior's).
    seed
        Seed of the resampling.
    end, points
        Time grid of the re-predicted metrics (default end: the last observation).

    Returns
    -------
    Refinement
    """
    from scipy.special import logsumexp

    m = model if isinstance(model, Model) else load_model(model)
    if sd_log <= 0:
        raise CalibrationError(f"sd_log {sd_log} must be > 0", element="sd_log")
    obs, _ = _to_model_units(m, read_observed(data))
    s = _sample_table(samples, parameters)
    if len(s) < 2:
        raise CalibrationError("refinement needs a prior sample of several parameter sets",
                               element="samples", fix="pass the samples of `workbench "
                               "uncertainty` (or any table with one column per parameter)")
    kw = dict(target=target, mw=mw, subject=subject, integrator=integrator, workers=workers,
              progress=progress)
    y = obs[C.VALUE].to_numpy(dtype=float)
    lq = obs[C.LLOQ].to_numpy(dtype=float)
    below = _below(y, lq)
    nonpos = np.flatnonzero(~below & ~(y > 0))
    if len(nonpos):
        raise CalibrationError(
            f"{len(nonpos)} observation(s) at or below zero without a limit of quantification "
            "(rows " + ", ".join(str(i + 2) for i in nonpos[:10]) + "): a log-normal residual "
            "cannot use them", element="value", fix="give the assay's limit in an lloq column "
            "(the rows are then handled as below the limit by the M3 likelihood)")
    if blq not in ("m3", "drop"):
        raise CalibrationError(f"unknown BLQ method {blq!r}", element="blq",
                               fix="use 'm3' (Beal 2001) or 'drop' (for comparison only)")
    pred = _predict(m, obs, s, **kw)
    loglik = m3_loglik(y, pred, lq, sd_log, censored=blq == "m3")
    if not np.isfinite(loglik).any():
        raise CalibrationError("no prior sample predicts the data (every likelihood is zero)",
                               source=m.source)
    w = np.exp(loglik - logsumexp(loglik))
    ess = float(1.0 / np.sum(w ** 2))
    if ess < max(10.0, 0.01 * len(s)):
        log.warning("effective sample size %.1f of %d: the data move the parameters far; the "
                    "reweighted sample is thin (draw a larger or wider prior sample)", ess, len(s))
    prior_table, prior_summary = _check_table(obs, pred, level)
    post_table, post_summary = _check_table(obs, pred, level, w)
    rng = np.random.default_rng(seed)
    n_post = int(n_posterior or len(s))
    post = s.iloc[rng.choice(len(s), size=n_post, replace=True, p=w)].reset_index(drop=True)
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    prows = []
    for c in s.columns:
        a = _quantiles(s[c].to_numpy(), [lo_q, 0.5, hi_q])
        b = _quantiles(s[c].to_numpy(), [lo_q, 0.5, hi_q], w)
        prows.append({C.PARAMETER: c, C.PRIOR_LOWER: a[0], C.PRIOR_MEDIAN: a[1],
                      C.PRIOR_UPPER: a[2], C.POSTERIOR_LOWER: b[0], C.POSTERIOR_MEDIAN: b[1],
                      C.POSTERIOR_UPPER: b[2]})
    horizon = end if end is not None else float(obs[C.TIME].max())
    dr = _dose_response(m, s, w, next_regimens, metrics, lo_q, hi_q,
                        {**kw, "end": horizon, "points": points})
    return Refinement(DataCheck(prior_table, prior_summary, pred, level, m.source, m.time_unit),
                      DataCheck(post_table, post_summary, pred, level, m.source, m.time_unit),
                      w, ess, pd.DataFrame(prows, columns=list(C.REFINED_PARAMETER_COLUMNS)),
                      post, dr, sd_log, seed, int(below.sum()), blq)


def _dose_response(m, s, w, regimens, metrics, lo_q, hi_q, kw) -> pd.DataFrame:
    from workbench.sim.ensemble import parse_metric, run_ensemble

    rows = []
    if regimens and not metrics:
        raise CalibrationError("give the metrics to re-predict (e.g. 'max(RO)') with the next "
                               "regimens", element="metrics")
    texts = [parse_metric(mt, m).text for mt in metrics]
    for reg in regimens:
        res = run_ensemble(m, s, reg, metrics=texts, **kw)
        ok = (res[C.STATUS] == C.STATUS_OK).to_numpy()
        for col in texts:
            v = np.where(ok, res[col].to_numpy(dtype=float), np.nan)
            a = _quantiles(v, [lo_q, 0.5, hi_q])
            b = _quantiles(v, [lo_q, 0.5, hi_q], w)
            rows.append({C.REGIMEN: str(reg), C.METRIC: col,
                         C.UNIT: res.attrs.get("units", {}).get(col, ""),
                         C.PRIOR_LOWER: a[0], C.PRIOR_MEDIAN: a[1], C.PRIOR_UPPER: a[2],
                         C.POSTERIOR_LOWER: b[0], C.POSTERIOR_MEDIAN: b[1],
                         C.POSTERIOR_UPPER: b[2]})
    return pd.DataFrame(rows, columns=list(C.DOSE_RESPONSE_UPDATE_COLUMNS))


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------


def write_data_check(check: DataCheck, out: str | os.PathLike[str], prefix: str = "") -> list[Path]:
    """``check.csv``, ``check_summary.csv`` and ``observed_vs_predicted.png`` into ``out``."""
    from workbench.core._io import atomic_write_text

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    files = [d / f"{prefix}check.csv", d / f"{prefix}check_summary.csv"]
    atomic_write_text(files[0], check.table.to_csv(index=False, float_format="%.10g"))
    atomic_write_text(files[1], check.summary.to_csv(index=False, float_format="%.10g"))
    files.append(plot_data_check(check.table, check.summary, check.level,
                                 d / f"{prefix}observed_vs_predicted.png",
                                 Path(check.source).name))
    return files


def write_refinement(ref: Refinement, out: str | os.PathLike[str]) -> list[Path]:
    """Prior and posterior checks, parameters, posterior sample, weights, dose-response."""
    from workbench.core._io import atomic_write_text

    d = Path(out)
    files = write_data_check(ref.prior_check, d, "prior_")
    files += write_data_check(ref.posterior_check, d, "posterior_")
    for name, df in (("refined_parameters.csv", ref.parameters),
                     ("posterior_samples.csv", ref.posterior_samples),
                     ("dose_response_next.csv", ref.dose_response),
                     ("weights.csv", pd.DataFrame({C.SAMPLE: np.arange(len(ref.weights)),
                                                   "weight": ref.weights}))):
        atomic_write_text(d / name, df.to_csv(index=False, float_format="%.10g"))
        files.append(d / name)
    return files
