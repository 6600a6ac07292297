"""Dose-exposure-response across regimens in a virtual population.

:func:`compare_regimens` runs every subject of a :class:`~workbench.analysis.population.Population`
under every regimen (dose level, interval, infusion duration, loading then
maintenance, step-up) through :func:`workbench.run_ensemble`, and returns per
subject the exposure metrics the NMPA guidance asks for (first-dose Cmax,
steady-state Cmax, Ctrough and AUC over the dosing interval) and any effect
metrics (occupancy at trough, peak cytokine, ...), then

* summaries per regimen and subgroup (mean, geometric CV, median and a central
  interval; prevalence-weighted, Hazen quantiles);
* the overlap of exposure between dose levels (overlap of the central intervals,
  and the probability that a subject on the lower regimen exceeds the median of
  the higher one);
* probabilities of target attainment (efficacy) and of exceeding safety limits,
  with Wilson 95 % intervals (Wilson 1927, JASA 22:209);
* the share of subjects outside an exposure window (flat vs body-size dosing,
  :func:`outside_window`).

Steady state is read on the last dosing interval of the regimen: give enough
doses for the drug to accumulate (about 4-5 half-lives); the ``accumulation(X)``
column is the ratio of the last trough to the one before (1 at steady state).
For a one-compartment model with bolus doses Cmax,ss = Cmax,1 / (1 - exp(-k tau))
(Gibaldi & Perrier 1982, Pharmacokinetics, ch. 3).

Per-subject body-size doses (mg/kg, mg/m2): every dose of such a regimen is
converted for 1 kg (1 m2) and multiplied per subject by weight (BSA) through the
``dose_scale`` column of :func:`workbench.run_ensemble`; a regimen mixing flat
and body-size doses is refused.

Effect metrics are metric texts of :func:`workbench.parse_metric` in which
``{first_start}``, ``{first_end}``, ``{ss_start}`` and ``{end}`` stand for the
bounds of the first and the last dosing interval (model time units), e.g.
``"value(RO_CD3, {end})"`` (occupancy at the last trough) or ``"max(IL6, {first_start},
{first_end})"``.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.analysis.plots import plot_all as _plot_all
from workbench.analysis.population import Population
from workbench.core import units as U
from workbench.core.dosing import Regimen, Subject, _dose_unit_kind, parse_regimen
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.core.stats import weighted_quantile
from workbench.errors import SpecError
from workbench.sim._timegrid import TimeGrid, resolve_time
from workbench.sim.ensemble import run_ensemble
from workbench.sim.options import RunOptions, bundles

__all__ = ["Criterion", "RegimenResult", "compare_regimens", "exposure_overlap",
           "outside_window", "parse_subgroups", "subgroup_masks", "summarize", "target_attainment",
           "weighted_quantile", "write_regimens"]

log = logging.getLogger(__name__)

#: the exposure metrics computed for each exposure output X
EXPOSURE_METRICS = ("cmax_first", "cmax_ss", "ctrough_ss", "auc_tau")


# ---------------------------------------------------------------------------
# statistics (weighted; hand-checkable)
# ---------------------------------------------------------------------------

def _wilson(p: float, n_eff: float, z: float = 1.959963984540054) -> tuple[float, float]:
    if not n_eff > 0 or not np.isfinite(p):
        return math.nan, math.nan
    d = 1 + z * z / n_eff
    c = (p + z * z / (2 * n_eff)) / d
    h = z * math.sqrt(p * (1 - p) / n_eff + z * z / (4 * n_eff * n_eff)) / d
    return (0.0 if p == 0 else max(0.0, c - h)), (1.0 if p == 1 else min(1.0, c + h))


def _ok(df: pd.DataFrame) -> pd.DataFrame:
    return df[df[C.STATUS] == C.STATUS_OK] if C.STATUS in df.columns else df


def _w(df: pd.DataFrame) -> np.ndarray:
    return (df[C.PREVALENCE_WEIGHT].to_numpy(float) if C.PREVALENCE_WEIGHT in df.columns
            else np.ones(len(df)))


def subgroup_masks(df: pd.DataFrame, subgroups: Mapping[str, Sequence | None] | None
                   ) -> dict[str, np.ndarray]:
    """Rows of each subgroup: ``{"weight": [60, 90], "sex": None}`` gives ``all``,
    ``weight < 60``, ``60 <= weight < 90``, ``weight >= 90``, ``sex = F``, ``sex = M``."""
    out = {"all": np.ones(len(df), bool)}
    for col, cuts in (subgroups or {}).items():
        if col not in df.columns:
            raise SpecError(f"no column {col!r} to form subgroups", element=col)
        v = df[col]
        if cuts is None:
            for lev in sorted(v.astype(str).unique()):
                out[f"{col} = {lev}"] = (v.astype(str) == lev).to_numpy()
            continue
        x = v.to_numpy(float)
        edges = sorted(float(c) for c in cuts)
        out[f"{col} < {edges[0]:g}"] = x < edges[0]
        for a, b in pairwise(edges):
            out[f"{a:g} <= {col} < {b:g}"] = (x >= a) & (x < b)
        out[f"{col} >= {edges[-1]:g}"] = x >= edges[-1]
    return out


def _regimen_order(df: pd.DataFrame, regimens: Sequence[str] | None) -> list[str]:
    return list(regimens) if regimens is not None else list(dict.fromkeys(df[C.REGIMEN]))


def summarize(subjects: pd.DataFrame, metrics: Sequence[str], *, units: Mapping[str, str] = {},
              subgroups=None, level: float = 0.9) -> pd.DataFrame:
    """Per regimen, subgroup and metric: n, mean, geometric CV, median and the central
    ``level`` interval (weighted). Columns :data:`workbench.columns.REGIMEN_SUMMARY_COLUMNS`."""
    rows = []
    q = [(1 - level) / 2, 0.5, (1 + level) / 2]
    for reg in _regimen_order(subjects, None):
        d = _ok(subjects[subjects[C.REGIMEN] == reg])
        for sg, mask in subgroup_masks(d, subgroups).items():
            dd, w = d[mask], _w(d)[mask]
            for mt in metrics:
                x = dd[mt].to_numpy(float)
                fin = np.isfinite(x) & (w > 0)
                lo, med, hi = weighted_quantile(x, q, w)
                pos = fin & (x > 0)
                gcv = (math.sqrt(math.expm1(np.cov(np.log(x[pos]), aweights=w[pos])))
                       if pos.sum() > 1 else math.nan)
                mean = float(np.average(x[fin], weights=w[fin])) if fin.any() else math.nan
                rows.append({C.REGIMEN: reg, C.SUBGROUP: sg, C.METRIC: mt,
                             C.UNIT: units.get(mt, ""), C.N_OK: int(fin.sum()), C.MEAN: mean,
                             C.GEO_CV: gcv, C.LOWER: lo, C.MEDIAN: med, C.UPPER: hi,
                             C.LEVEL: level})
    return pd.DataFrame(rows, columns=list(C.REGIMEN_SUMMARY_COLUMNS))


def exposure_overlap(subjects: pd.DataFrame, metric: str, *, regimens: Sequence[str] | None = None,
                     level: float = 0.9, unit: str = "") -> pd.DataFrame:
    """Overlap of ``metric`` between every pair of regimens (the first listed is the lower).

    ``interval_overlap`` = |I_low ∩ I_high| / |I_low ∪ I_high| of the central ``level``
    intervals; ``p_exceed_median`` = weighted share of subjects on the lower regimen
    whose value exceeds the median of the higher one. Columns
    :data:`workbench.columns.OVERLAP_COLUMNS`.
    """
    regs = _regimen_order(subjects, regimens)
    q = [(1 - level) / 2, 0.5, (1 + level) / 2]
    stats = {}
    for r in regs:
        d = _ok(subjects[subjects[C.REGIMEN] == r])
        x, w = d[metric].to_numpy(float), _w(d)
        stats[r] = (x, w, weighted_quantile(x, q, w))
    rows = []
    for i, a in enumerate(regs):
        for j in range(i + 1, len(regs)):
            b = regs[j]
            xa, wa, (la, _, ua) = stats[a]
            _, _, (lb, mb, ub) = stats[b]
            inter = max(0.0, min(ua, ub) - max(la, lb))
            union = max(ua, ub) - min(la, lb)
            fin = np.isfinite(xa) & (wa > 0)
            p = float(wa[fin][xa[fin] > mb].sum() / wa[fin].sum()) if fin.any() else math.nan
            rows.append({C.METRIC: metric, C.UNIT: unit, C.REGIMEN_LOW: a, C.REGIMEN_HIGH: b,
                         C.ADJACENT: j == i + 1, C.LEVEL: level, C.LOW_LOWER: la,
                         C.LOW_UPPER: ua, C.HIGH_LOWER: lb, C.HIGH_UPPER: ub,
                         C.INTERVAL_OVERLAP: inter / union if union > 0 else 1.0,
                         C.P_EXCEED_MEDIAN: p})
    return pd.DataFrame(rows, columns=list(C.OVERLAP_COLUMNS))


_OPS = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}


@dataclass(frozen=True)
class Criterion:
    """A threshold on a per-subject metric: ``"ctrough_ss(RO_CD3) >= 0.9"``.

    ``kind`` is ``"efficacy"`` (target attainment) or ``"safety"`` (a limit exceeded).
    """

    metric: str
    op: str
    threshold: float
    kind: str = "efficacy"

    @property
    def text(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g}"

    @classmethod
    def parse(cls, text: str, kind: str = "efficacy") -> Criterion:
        m = re.match(r"^\s*(.+?)\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*$", str(text))
        if not m:
            raise SpecError(f"cannot read the criterion {text!r}", element="criterion",
                            fix="write e.g. 'ctrough_ss(RO_CD3) >= 0.9' or 'max(IL6) > 100'")
        if kind not in ("efficacy", "safety"):
            raise SpecError(f"unknown criterion kind {kind!r}", element="criterion",
                            fix="use 'efficacy' or 'safety'")
        return cls(m.group(1).strip(), m.group(2), float(m.group(3)), kind)

    def met(self, x: np.ndarray) -> np.ndarray:
        return _OPS[self.op](np.asarray(x, float), self.threshold)


def target_attainment(subjects: pd.DataFrame, criteria: Sequence[Criterion | str], *,
                      subgroups=None, units: Mapping[str, str] = {}) -> pd.DataFrame:
    """Weighted share of subjects meeting each criterion, per regimen and subgroup, with
    a Wilson 95 % interval on the effective sample size (sum w)^2 / sum w^2.
    Columns :data:`workbench.columns.ATTAINMENT_COLUMNS`."""
    crits = [c if isinstance(c, Criterion) else Criterion.parse(c) for c in criteria]
    rows = []
    for reg in _regimen_order(subjects, None):
        d = _ok(subjects[subjects[C.REGIMEN] == reg])
        for sg, mask in subgroup_masks(d, subgroups).items():
            dd, w = d[mask], _w(d)[mask]
            for c in crits:
                if c.metric not in dd.columns:
                    raise SpecError(f"criterion {c.text!r}: no metric {c.metric!r}",
                                    element=c.metric, fix="metrics: " + ", ".join(
                                        x for x in dd.columns if "(" in x))
                x = dd[c.metric].to_numpy(float)
                fin = np.isfinite(x) & (w > 0)
                ws = w[fin]
                p = float(ws[c.met(x[fin])].sum() / ws.sum()) if fin.any() else math.nan
                n_eff = ws.sum() ** 2 / (ws ** 2).sum() if fin.any() else 0.0
                lo, hi = _wilson(p, n_eff)
                rows.append({C.REGIMEN: reg, C.SUBGROUP: sg, C.CRITERION: c.text,
                             C.KIND: c.kind, C.METRIC: c.metric, C.THRESHOLD: c.threshold,
                             C.UNIT: units.get(c.metric, ""), C.N_OK: int(fin.sum()),
                             C.PROBABILITY: p, C.CI_LOW: lo, C.CI_HIGH: hi})
    return pd.DataFrame(rows, columns=list(C.ATTAINMENT_COLUMNS))


def outside_window(subjects: pd.DataFrame, metric: str, low: float, high: float, *,
                   subgroups=None, unit: str = "") -> pd.DataFrame:
    """Weighted share of subjects below ``low``, above ``high`` and outside [low, high],
    per regimen and subgroup (flat vs mg/kg vs mg/m2 dosing). Columns
    :data:`workbench.columns.WINDOW_COLUMNS`."""
    rows = []
    for reg in _regimen_order(subjects, None):
        d = _ok(subjects[subjects[C.REGIMEN] == reg])
        for sg, mask in subgroup_masks(d, subgroups).items():
            x, w = d[metric].to_numpy(float)[mask], _w(d)[mask]
            fin = np.isfinite(x) & (w > 0)
            x, w = x[fin], w[fin]
            tot = w.sum()
            below = float(w[x < low].sum() / tot) if tot else math.nan
            above = float(w[x > high].sum() / tot) if tot else math.nan
            rows.append({C.REGIMEN: reg, C.SUBGROUP: sg, C.METRIC: metric, C.UNIT: unit,
                         C.LOW: low, C.HIGH: high, C.N_OK: int(fin.sum()), C.BELOW: below,
                         C.ABOVE: above, C.OUTSIDE: below + above})
    return pd.DataFrame(rows, columns=list(C.WINDOW_COLUMNS))


# ---------------------------------------------------------------------------
# running the regimens
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Plan:
    """Intervals of one regimen (model time units) and its ensemble metrics."""

    label_to_text: dict[str, str]
    times: np.ndarray
    first: tuple[float, float]
    last: tuple[float, float]
    scale_by: str  # "" | "weight" | "bsa"


def _plan(model: Model, regimen: Regimen, exposure: Sequence[str], effects: Mapping[str, str],
          tau: float | None, points: int) -> _Plan:
    f = U.factor(regimen.time_unit, model.time_unit) if model.time_unit else 1.0
    starts = sorted({d.time * f for d in regimen.doses})
    ends = sorted({(d.time + d.duration) * f for d in regimen.doses if d.route == "infusion"})
    if len(starts) >= 2:
        t_tau = starts[-1] - starts[-2]
    elif tau is not None:
        t_tau = tau
    else:
        raise SpecError(f"{regimen}: a single dose needs the length of its interval",
                        element="tau", fix="pass tau='168 h' (the observation window)")
    bounds = [*starts, starts[-1] + t_tau]
    first, last = (bounds[0], bounds[1]), (bounds[-2], bounds[-1])
    grid = np.unique(np.concatenate([np.linspace(a, b, points) for a, b in pairwise(bounds)]
                                    + [np.array(ends)]))
    txt = {}
    for x in exposure:
        txt[f"cmax_first({x})"] = f"max({x}, {first[0]:.10g}, {first[1]:.10g})"
        txt[f"cmax_ss({x})"] = f"max({x}, {last[0]:.10g}, {last[1]:.10g})"
        txt[f"ctrough_ss({x})"] = f"value({x}, {last[1]:.10g})"
        txt[f"auc_tau({x})"] = f"auc({x}, {last[0]:.10g}, {last[1]:.10g})"
        if len(starts) >= 2:
            txt[f"_pre({x})"] = f"ctrough({x}, {len(starts) - 2})"
    sub = {"first_start": f"{first[0]:.10g}", "first_end": f"{first[1]:.10g}",
           "ss_start": f"{last[0]:.10g}", "end": f"{last[1]:.10g}"}
    for label, t in effects.items():
        try:
            txt[label] = t.format(**sub)
        except (KeyError, IndexError, ValueError) as exc:
            raise SpecError(f"effect metric {t!r}: unknown placeholder {exc}", element=label,
                            fix="use {first_start}, {first_end}, {ss_start}, {end}") from None
    kinds = {_dose_unit_kind(d.unit)[1] for d in regimen.doses}
    if len(kinds) > 1:
        raise SpecError(f"{regimen}: flat and body-size doses in one regimen", element="regimen",
                        fix="give all doses of a regimen per kg, per m2, or flat")
    kind = kinds.pop() if kinds else ""
    return _Plan(txt, grid, first, last, {"kg": C.WEIGHT, "m2": C.BSA}.get(kind, ""))


@dataclass(frozen=True)
class RegimenResult:
    """Result of :func:`compare_regimens`.

    Attributes
    ----------
    subjects
        One row per (regimen, subject): covariates, prevalence weight, metrics, status.
    summary, overlap, attainment
        Tables (:data:`~workbench.columns.REGIMEN_SUMMARY_COLUMNS`,
        :data:`~workbench.columns.OVERLAP_COLUMNS`, :data:`~workbench.columns.ATTAINMENT_COLUMNS`).
    metrics
        The metric columns; ``units`` their units.
    """

    subjects: pd.DataFrame
    summary: pd.DataFrame
    overlap: pd.DataFrame
    attainment: pd.DataFrame
    metrics: tuple[str, ...]
    regimens: tuple[str, ...]
    exposure: tuple[str, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    units: Mapping[str, str] = field(default_factory=dict)
    seconds: float = math.nan

    def to_frame(self) -> pd.DataFrame:
        """The per-subject table."""
        return self.subjects


def compare_regimens(model: Model | str | os.PathLike[str], population: Population,
                     regimens: Sequence[Regimen | str], *, exposure: Sequence[str] = (),
                     effects: Mapping[str, str] | Sequence[str] = (),
                     criteria: Sequence[Criterion | str] = (), tau: float | str | None = None,
                     points: int = 25, subgroups=None, level: float = 0.9,
                     overlap_metrics: Sequence[str] | None = None, plausible_only: bool = True,
                     dosing: Dosing | None = None, run: RunOptions | None = None,
                     **legacy) -> RegimenResult:
    """Simulate every subject under every regimen and summarise exposure and response.

    Parameters
    ----------
    population
        The virtual population (its parameter columns are set per subject; its
        weight and BSA scale per-kg and per-m2 doses).
    regimens
        Regimen texts (:func:`workbench.parse_regimen`) or :class:`Regimen` objects,
        lowest dose level first (the order of the overlap table).
    exposure
        Outputs whose first-dose Cmax, steady-state Cmax, Ctrough and AUC over the
        last dosing interval are computed.
    effects
        Effect metrics (module docstring); a mapping label -> text, or texts.
    criteria
        Efficacy or safety criteria (:class:`Criterion` or text; text defaults to efficacy).
    tau
        Length of the interval of single-dose regimens (e.g. ``"504 h"``).
    points
        Output points per dosing interval (dose and infusion-end times added).
    subgroups
        As for :func:`subgroup_masks`, e.g. ``{"weight": [60, 90], "sex": None}``.
    level
        Coverage of the central interval of summaries and overlap (0.9: 5th-95th).
    plausible_only
        Drop subjects not marked plausible.
    dosing
        :class:`~workbench.core.options.Dosing`: dosed species (``target``) and molecular
        weight (``mw``); the body size is each subject's (the population's covariates),
        so ``dosing.subject`` must stay the default.
    run
        :class:`~workbench.sim.options.RunOptions` (integrator, workers, progress), as for
        :func:`workbench.run_ensemble`.
    **legacy
        The older keywords ``target``, ``mw`` (``dosing``) and ``integrator``,
        ``workers``, ``progress`` (``run``); giving a bundle and one of its keywords is a
        :class:`SpecError`.

    Returns
    -------
    RegimenResult
    """
    import time

    t_start = time.perf_counter()
    dosing, _, run = bundles("compare_regimens", legacy, dosing=dosing, run=run,
                             allowed=("target", "mw", "integrator", "workers", "progress"))
    if dosing.subject != Subject():
        raise SpecError("compare_regimens doses each subject of the population by its own "
                        "body size, not by Dosing.subject", element="Dosing.subject",
                        fix="leave Dosing.subject at its default (use the population's "
                            "weight and BSA covariates)")
    target = dosing.target
    m = model if isinstance(model, Model) else load_model(model)
    pop = population.plausible() if plausible_only else population
    if not len(pop):
        raise SpecError("the population has no (plausible) subject", element="population")
    regs = [parse_regimen(r, target=target) if isinstance(r, str) else r for r in regimens]
    if not regs:
        raise SpecError("no regimen given", element="regimens")
    labels = [str(r) for r in regs]
    if len(set(labels)) != len(labels):
        raise SpecError("a regimen is listed twice", element="regimens")
    eff = dict(effects) if isinstance(effects, Mapping) else {t: t for t in effects}
    t_tau = resolve_time(tau, m, "tau") if tau is not None else None
    base = pop.samples()
    keep = [c for c in (C.SUBJECT, *pop.covariates, C.PREVALENCE_WEIGHT) if c in pop.table]
    frames, units, metric_labels = [], {}, []
    for reg, label in zip(regs, labels, strict=True):
        plan = _plan(m, reg, exposure, eff, t_tau, points)
        samples = base.copy()
        subject = Subject()
        if plan.scale_by:
            if plan.scale_by not in pop.table.columns:
                raise SpecError(f"{label}: per-subject doses need the {plan.scale_by} "
                                "covariate", element=plan.scale_by)
            samples[C.DOSE_SCALE] = pop.table[plan.scale_by].to_numpy(float)
            subject = Subject(weight=1.0, bsa=1.0)
        texts = list(dict.fromkeys(plan.label_to_text.values()))
        log.info("regimen %s: %d subjects", label, len(samples))
        res = run_ensemble(m, samples, reg, metrics=texts, dosing=replace(dosing, subject=subject),
                           grid=TimeGrid(start=0.0, times=tuple(float(t) for t in plan.times)),
                           run=run)
        out = pop.table[keep].reset_index(drop=True).copy()
        out.insert(0, C.REGIMEN, label)
        for lab, t in plan.label_to_text.items():
            if not lab.startswith("_"):
                out[lab] = res[t].to_numpy()
                units[lab] = res.attrs["units"].get(t, "")
        for x in exposure:
            pre = plan.label_to_text.get(f"_pre({x})")
            out[f"accumulation({x})"] = (res[plan.label_to_text[f"ctrough_ss({x})"]].to_numpy()
                                         / res[pre].to_numpy() if pre else np.nan)
            units[f"accumulation({x})"] = ""
        out[C.STATUS] = res[C.STATUS].to_numpy()
        frames.append(out)
        metric_labels = [c for c in out.columns if c in units]
    subjects = pd.concat(frames, ignore_index=True)
    subjects.attrs["units"] = units
    crits = tuple(c if isinstance(c, Criterion) else Criterion.parse(c) for c in criteria)
    summary = summarize(subjects, metric_labels, units=units, subgroups=subgroups, level=level)
    ov_metrics = list(overlap_metrics) if overlap_metrics is not None else [
        f"{k}({x})" for x in exposure for k in ("cmax_ss", "ctrough_ss", "auc_tau")]
    overlap = pd.concat([exposure_overlap(subjects, mt, regimens=labels, level=level,
                                          unit=units.get(mt, "")) for mt in ov_metrics]
                        or [pd.DataFrame(columns=list(C.OVERLAP_COLUMNS))], ignore_index=True)
    attain = (target_attainment(subjects, crits, subgroups=subgroups, units=units) if crits
              else pd.DataFrame(columns=list(C.ATTAINMENT_COLUMNS)))
    secs = time.perf_counter() - t_start
    log.info("%d subjects x %d regimens in %.1f s", len(pop), len(regs), secs)
    return RegimenResult(subjects, summary, overlap, attain, tuple(metric_labels), tuple(labels),
                         tuple(exposure), crits, units, secs)


def write_regimens(result: RegimenResult, outdir: str | os.PathLike[str], *,
                   plots: bool = True, window: tuple[str, float, float] | None = None,
                   subgroups=None) -> list[Path]:
    """Write the tables (CSV; units in a ``unit`` column, and in the header of the
    per-subject table) and figures into ``outdir``; returns the paths written.

    ``window``: ``(metric, low, high)`` adds ``window.csv`` (share outside) and the
    exposure-vs-body-weight figure marks the window.
    """
    from workbench.core._io import atomic_write_text

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    def put(name: str, df: pd.DataFrame) -> None:
        atomic_write_text(out / name, df.to_csv(index=False))
        paths.append(out / name)

    units = result.units
    subj = result.subjects.rename(columns={c: f"{c} [{u}]" for c, u in units.items() if u})
    put("subjects.csv", subj)
    put("summary.csv", result.summary)
    put("overlap.csv", result.overlap)
    if len(result.attainment):
        put("attainment.csv", result.attainment)
    if window is not None:
        mt, lo, hi = window
        put("window.csv", outside_window(result.subjects, mt, lo, hi, subgroups=subgroups,
                                         unit=units.get(mt, "")))
    if plots:
        paths += _plot_all(result, out, window=window)
    return paths


def parse_subgroups(items: Sequence[str]) -> dict[str, list[float] | None]:
    """``["weight=60,90", "sex"]`` -> ``{"weight": [60, 90], "sex": None}``."""
    out: dict[str, list[float] | None] = {}
    for t in items:
        k, sep, v = str(t).partition("=")
        try:
            out[k.strip()] = [float(x) for x in v.split(",")] if sep else None
        except ValueError:
            raise SpecError(f"cannot read the subgroup {t!r}", element="--subgroup",
                            fix="write 'weight=60,90' (band edges) or 'sex' (categories)") from None
    return out
