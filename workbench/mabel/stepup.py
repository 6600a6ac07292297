"""Step-up (priming) regimens: the cytokine peak of every administration, under uncertainty.

Every approved CD3 T-cell engager starts with step-up doses: teclistamab 0.06 and
0.3 mg/kg before 1.5 mg/kg weekly, on days 1, 4 and 7 (Moreau et al. 2022, N Engl
J Med 387:495, doi:10.1056/NEJMoa2203478). The first exposure to a higher dose
carries the cytokine-release risk; priming lowers it when T cells become
refractory (tolerant) after a first activation, or when target cells are depleted.

:func:`evaluate_stepup` simulates each candidate schedule (regimen text of
:func:`workbench.parse_regimen`, e.g. ``"0.4 ug/kg iv then 2 ug/kg after 3 d then
10 ug/kg after 3 d q1w x2"``) nominally and for every sample (parameter
uncertainty, virtual patients, or both), and reads the peak of the risk output
(``max(IL6, t_i, t_i+1)``) after each administration ``i`` and before the next. Per
administration it reports the nominal, median and 95th-percentile peak and the
probability that the peak exceeds the study's limit (Wilson 95 % interval;
Wilson 1927, JASA 22:209). Per schedule: the peak after the first full (target)
dose against the same dose given without priming, the worst administration, and
whether the exposure after the first full dose reaches the target (a share of the
unprimed full dose's peak exposure).

Whether the model can show a benefit of priming at all is tested, not assumed:
priming is *modelled* when some schedule lowers the nominal peak after its first
full dose by more than ``tolerance`` (default 5 %) against the unprimed full dose.
A model without T-cell tolerance or target-cell depletion gives the same (or a
higher, accumulated) peak; the result then says "priming is not modelled" and no
schedule is ranked, because a flat comparison would suggest priming has no benefit
when the model simply cannot show one.

Schedules are ranked (among those reaching the target exposure) by the largest
probability over their administrations of exceeding the limit, then by the
largest 95th-percentile peak, then by the time of the first full dose.

Study block (``stepup:`` in the study file, :func:`parse_stepup`)::

    stepup:
      target_dose: 10 ug/kg          # the full dose every schedule must reach
      risk: IL6                      # output whose peak per administration is the risk
      limit: 1000                    # in the output's unit: P(peak > limit) per administration
      target_fraction: 0.8           # exposure after the first full dose vs unprimed
      horizon: 7 d                   # window after the last administration
      schedules:
        - {name: no priming, regimen: "10 ug/kg iv q1w x2"}
        - {name: 1:5:25 days 1/4/7, regimen: "0.4 ug/kg iv then 2 ug/kg after 3 d then 10 ug/kg after 3 d q1w x2"}
      search:                        # optional: generated schedules
        fractions: [0.01, 0.04]      # first dose as a fraction of the target dose
        steps: [1, 2]                # priming doses (geometric between first and target)
        intervals: [3 d, 7 d]        # between consecutive doses
        maintenance: q1w x2          # the full dose's schedule
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core import units as U
from workbench.core._moved import moved_names
from workbench.core.dosing import Subject, _dose_unit_kind, parse_regimen
from workbench.core.model import Model, load_model
from workbench.errors import SpecError
from workbench.sim._engine import IntegratorSettings

__all__ = ["StepUpResult", "StepUpSchedule", "StepUpSettings", "evaluate_stepup", "lint_stepup",
           "parse_stepup", "search_schedules"]

log = logging.getLogger(__name__)

__getattr__ = moved_names(__name__, {"plot_stepup": "workbench.mabel.plots.plot_stepup",
                                     "report_blocks": "workbench.mabel.plots.stepup_blocks"})

_KEYS = {"target_dose", "risk", "limit", "target_fraction", "horizon", "tolerance", "schedules",
         "search", "exposure"}
_SEARCH = {"fractions", "steps", "intervals", "maintenance"}


@dataclass(frozen=True)
class StepUpSchedule:
    """A named candidate regimen (text of :func:`workbench.parse_regimen`)."""

    name: str
    regimen: str


@dataclass(frozen=True)
class StepUpSettings:
    """What :func:`evaluate_stepup` compares (module docstring).

    Attributes
    ----------
    target_dose, dose_unit
        The full dose (e.g. 10, ``"ug/kg"``): an administration at it is a full dose.
    risk
        Output id whose peak per administration is the risk (``"IL6"``).
    limit
        Risk threshold in the output's unit; NaN: no probability is computed.
    exposure
        Output id of the exposure (``"Cfree"``): its peak after the first full dose.
    target_fraction
        The schedule reaches the target when that exposure (median over the samples)
        is at least this share of the unprimed full dose's.
    horizon
        Window after the last administration, in hours.
    tolerance
        Relative reduction of the first-full-dose peak above which priming is modelled.
    schedules
        The candidates (named and searched).
    """

    target_dose: float
    dose_unit: str
    risk: str
    exposure: str
    schedules: tuple[StepUpSchedule, ...]
    limit: float = math.nan
    target_fraction: float = 0.8
    horizon: float = 168.0
    tolerance: float = 0.05
    route: str = "iv"


def _hours(text, what: str) -> float:
    try:
        v, u = U.parse_quantity(str(text))
        return v * U.factor(u or "h", "h")
    except Exception:
        raise SpecError(f"stepup.{what}: {text!r} is not a time such as '3 d' or '72 h'",
                        element=f"stepup.{what}") from None


def lint_stepup(d, dose_unit: str = "ug/kg") -> list[str]:
    """Every problem of a ``stepup`` block (the study linter's messages)."""
    errs: list[str] = []
    if not isinstance(d, dict):
        return ["stepup: must be a mapping (target_dose, risk, limit, schedules, search)"]
    for k in sorted(set(d) - _KEYS):
        errs.append(f"stepup.{k}: unknown field (known: {', '.join(sorted(_KEYS))})")
    td = d.get("target_dose")
    try:
        v, u = U.parse_quantity(str(td))
        if not v > 0:
            raise ValueError
        _dose_unit_kind(u)
    except Exception:
        errs.append(f"stepup.target_dose: {td!r} is not a positive dose such as '10 ug/kg'")
    lim = d.get("limit")
    if lim is not None and (isinstance(lim, bool) or not isinstance(lim, int | float) or lim <= 0):
        errs.append(f"stepup.limit: {lim!r} must be a positive number (the risk output's unit)")
    tf = d.get("target_fraction")
    if tf is not None and not (isinstance(tf, int | float) and 0 < tf <= 1):
        errs.append(f"stepup.target_fraction: {tf!r} must be in (0, 1]")
    for k in ("horizon",):
        if d.get(k) is not None:
            try:
                _hours(d[k], k)
            except SpecError as exc:
                errs.append(exc.message)
    sch = d.get("schedules") or []
    if not isinstance(sch, list):
        errs.append("stepup.schedules: give a list of {name, regimen}")
        sch = []
    for i, s in enumerate(sch):
        if not isinstance(s, dict) or not s.get("regimen"):
            errs.append(f"stepup.schedules[{i}]: needs a regimen, e.g. {{name: no priming, "
                        "regimen: '10 ug/kg iv q1w x2'}")
            continue
        try:
            r = parse_regimen(str(s["regimen"]))
            kinds = {_dose_unit_kind(x.unit)[1] for x in r.doses}
            if kinds != {_dose_unit_kind(dose_unit)[1]}:
                errs.append(f"stepup.schedules[{i}]: doses must be per body size like the "
                            f"study's dose unit {dose_unit!r}")
        except Exception as exc:
            errs.append(f"stepup.schedules[{i}]: {getattr(exc, 'message', exc)}")
    se = d.get("search")
    if se is not None:
        if not isinstance(se, dict):
            errs.append("stepup.search: must be a mapping (fractions, steps, intervals)")
        else:
            for k in sorted(set(se) - _SEARCH):
                errs.append(f"stepup.search.{k}: unknown field (known: {', '.join(sorted(_SEARCH))})")
            if not all(isinstance(f, int | float) and 0 < f < 1 for f in se.get("fractions") or []):
                errs.append("stepup.search.fractions: give fractions of the target dose in (0, 1)")
            if not all(isinstance(n, int) and 1 <= n <= 5 for n in se.get("steps") or []):
                errs.append("stepup.search.steps: give numbers of priming doses from 1 to 5")
            for x in se.get("intervals") or []:
                try:
                    _hours(x, "search.intervals")
                except SpecError as exc:
                    errs.append(exc.message)
    if not sch and not se:
        errs.append("stepup: give schedules or a search")
    return errs


def search_schedules(target_dose: float, dose_unit: str, *, fractions: Sequence[float],
                     steps: Sequence[int], intervals: Sequence[str], route: str = "iv",
                     maintenance: str = "q1w x2") -> list[StepUpSchedule]:
    """Step-up schedules over a grid: ``n`` priming doses from ``f x target`` rising
    geometrically to the target (``f^(k/n)``, the ratios of teclistamab for ``f = 0.04``,
    ``n = 2``: 1:5:25), consecutive doses ``interval`` apart, then the full dose on
    ``maintenance``.

    Each schedule is written as regimen text, the form a study's named schedules take,
    so a searched schedule and a named one read, compare and report alike. Priming doses
    are rounded to 3 significant digits (a dose a pharmacy can prepare and a label a
    reader can check); the full dose keeps 12. The schedule is evaluated exactly as
    written, so the reported doses are the simulated ones."""
    out = []
    for n in steps:
        for f in fractions:
            for iv in intervals:
                doses = [target_dose * f ** ((n - k) / n) for k in range(n)]
                parts = [f"{doses[0]:.3g} {dose_unit} {route}"]
                parts += [f"{x:.3g} {dose_unit} after {iv}" for x in doses[1:]]
                parts.append(f"{target_dose:.12g} {dose_unit} after {iv} {maintenance}")
                ratio = ":".join(f"{x / doses[0]:.3g}" for x in [*doses, target_dose])
                out.append(StepUpSchedule(f"search: {n} step(s) {ratio}, every {iv}",
                                          " then ".join(parts)))
    return out


def parse_stepup(d: Mapping, *, dose_unit: str, risk: str, exposure: str,
                 route: str = "iv") -> StepUpSettings:
    """The settings of a study's ``stepup`` block (``risk``/``exposure``: the study's
    effect and exposure outputs, used unless the block names its own).

    Raises
    ------
    SpecError
        Listing every problem (:func:`lint_stepup`).
    """
    errs = lint_stepup(dict(d), dose_unit)
    if errs:
        raise SpecError("; ".join(errs), element="stepup",
                        fix="correct the stepup block (schema: workbench.stepup module docstring)")
    v, u = U.parse_quantity(str(d["target_dose"]))
    target = v * U.factor(u, dose_unit)
    sch = [StepUpSchedule(str(s.get("name") or s["regimen"]), str(s["regimen"]))
           for s in d.get("schedules") or []]
    se = d.get("search") or {}
    if se:
        sch += search_schedules(target, dose_unit, fractions=se.get("fractions") or [0.04],
                                steps=se.get("steps") or [2], intervals=se.get("intervals")
                                or ["3 d"], route=route,
                                maintenance=str(se.get("maintenance") or "q1w x2"))
    seen, unique = set(), []
    for x in sch:  # a searched schedule equal to a named one is dropped
        key = tuple((d.time, d.amount, d.unit) for d in parse_regimen(x.regimen).doses)
        if key not in seen:
            seen.add(key)
            unique.append(x)
    sch = unique
    return StepUpSettings(target_dose=target, dose_unit=dose_unit, risk=str(d.get("risk") or risk),
                          exposure=str(d.get("exposure") or exposure), schedules=tuple(sch),
                          limit=float(d["limit"]) if d.get("limit") is not None else math.nan,
                          target_fraction=float(d.get("target_fraction", 0.8)),
                          horizon=_hours(d.get("horizon", "7 d"), "horizon"),
                          tolerance=float(d.get("tolerance", 0.05)), route=route)


@dataclass(frozen=True, eq=False)
class StepUpResult:
    """Result of :func:`evaluate_stepup`.

    Attributes
    ----------
    administrations
        :data:`workbench.columns.STEPUP_ADMIN_COLUMNS`, one row per schedule x administration.
    summary
        :data:`workbench.columns.STEPUP_SUMMARY_COLUMNS`, one row per schedule.
    priming_modelled
        False when no schedule lowers the first-full-dose peak by more than the tolerance.
    best
        Name of the top-ranked schedule (None when priming is not modelled or none
        reaches the target exposure).
    profiles
        Nominal time course of the risk output per schedule (time, schedule, value).
    """

    settings: StepUpSettings
    administrations: pd.DataFrame
    summary: pd.DataFrame
    priming_modelled: bool
    best: str | None
    profiles: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    n_samples: int = 0
    spread: str = ""
    time_unit: str = "h"
    risk_unit: str = ""

    def verdict(self) -> str:
        """One paragraph for the report."""
        s = self.settings
        t = self.summary
        sampled = self.n_samples > 0 and math.isfinite(s.limit)
        if not self.priming_modelled:
            red = t[C.REDUCTION].max()
            return (f"Priming is not modelled: no schedule lowers the nominal {s.risk} peak after "
                    f"its first full dose ({s.target_dose:g} {s.dose_unit}) by more than "
                    f"{s.tolerance:.0%} against the same dose given without priming (largest "
                    f"reduction {red:.1%}). The model has no mechanism, such as T-cell "
                    "tolerance or target-cell depletion, through which earlier doses lower the "
                    "cytokine release of later ones, so the schedules are not ranked: the "
                    "model cannot support a step-up regimen either way.")
        if self.best is None:
            return ("Priming lowers the first-full-dose peak in this model, but no schedule "
                    f"reaches {s.target_fraction:.0%} of the unprimed full dose's exposure.")
        b = t[t[C.SCHEDULE] == self.best].iloc[0]
        naive = t[C.NAIVE_NOMINAL].iloc[0]
        return (f"Priming is modelled (the model's earlier doses lower later cytokine release). "
                f"Among the schedules reaching {s.target_fraction:.0%} of the unprimed full "
                f"dose's peak exposure, '{self.best}' has the lowest worst-administration risk, "
                + (f"P({s.risk} peak > {s.limit:g} {self.risk_unit}) = "
                   f"{b[C.WORST_PROBABILITY]:.0%} (95th percentile of the worst peak "
                   f"{b[C.WORST_UPPER]:.4g} {self.risk_unit})" if sampled else
                   f"a nominal worst peak of {b[C.WORST_UPPER]:.4g} {self.risk_unit}")
                + "; its first full dose "
                f"({s.target_dose:g} {s.dose_unit}, at {b[C.FIRST_FULL_TIME] / 24:g} d) peaks at "
                f"{b[C.FIRST_FULL_NOMINAL]:.4g} {self.risk_unit} nominally against {naive:.4g} "
                f"without priming ({b[C.REDUCTION]:.0%} lower). Spread: {self.spread}, "
                f"{self.n_samples} samples.")


def _windows(times: list[float], horizon: float) -> list[tuple[float, float]]:
    return [(a, b) for a, b in zip(times, [*times[1:], times[-1] + horizon], strict=True)]


def _grid(windows: list[tuple[float, float]], to_model: float) -> list[float]:
    """Output times: after each administration, 48 log-spaced points from 3 minutes to the
    next one (cytokine peaks come hours after a dose), plus each administration time."""
    out = {0.0}
    for a, b in windows:
        out.add(a)
        out.update((a + np.geomspace(0.05 * to_model, b - a, 48)).tolist())
    return sorted(out)


def evaluate_stepup(model: Model | str | os.PathLike[str], settings: StepUpSettings, *,
                    samples: pd.DataFrame | None = None, spread: str = "", target: str | None = None,
                    mw: float | str | None = None, subject: Subject | None = None,
                    integrator: IntegratorSettings | None = None, workers: int | None = 1,
                    progress: bool | None = False) -> StepUpResult:
    """Peak risk per administration of each schedule, nominal and over ``samples``.

    Parameters
    ----------
    model
        The study model.
    settings
        :class:`StepUpSettings` (:func:`parse_stepup` for a study block).
    samples
        Parameter sets (uncertainty draws, virtual patients with ``dose_scale``, or
        both); None: the nominal model only (no probabilities).
    spread
        What ``samples`` represent, for the report.
    target, mw, subject, integrator, workers, progress
        As for :func:`workbench.run_ensemble`.

    Returns
    -------
    StepUpResult
    """
    from workbench.analysis.regimens import _wilson
    from workbench.core.options import Dosing
    from workbench.sim.ensemble import run_ensemble
    from workbench.sim.options import RunOptions

    m = model if isinstance(model, Model) else load_model(model)
    s = settings
    if not s.schedules:
        raise SpecError("no step-up schedule to evaluate", element="stepup.schedules")
    tu = m.time_unit or "h"
    to_model = U.factor("h", tu)
    naive_text = f"{s.target_dose:.12g} {s.dose_unit} {s.route}"
    runs = [StepUpSchedule("full dose without priming (reference)", naive_text), *s.schedules]
    nominal = pd.DataFrame(index=[0])
    # the bundles of run_ensemble, built (and checked) once for every schedule
    dosing = Dosing(target=target, mw=mw, subject=subject)
    ropts = RunOptions(integrator=integrator, workers=workers, progress=progress)
    rows, prof = [], []
    naive: dict[str, float] = {}
    risk_unit = ""
    for k, sch in enumerate(runs):
        reg = parse_regimen(sch.regimen, target=target, time_unit=tu)
        times = sorted({float(d.time) for d in reg.doses})
        amount = {t: sum(U.convert(d.amount, d.unit, s.dose_unit) if d.unit != s.dose_unit
                         else d.amount for d in reg.doses if d.time == t) for t in times}
        win = _windows(times, s.horizon * to_model)
        risk_m = [f"max({s.risk}, {a:.10g}, {b:.10g})" for a, b in win]
        expo_m = [f"max({s.exposure}, {a:.10g}, {b:.10g})" for a, b in win]
        mets = list(dict.fromkeys([*risk_m, *expo_m]))
        grid = _grid(win, to_model)
        # one nominal run gives the peaks and (after the reference) the time course of the
        # figure: the risk output at every grid time, read as value metrics of the same run
        nom = run_ensemble(m, nominal, reg, metrics=mets, times=grid,
                           outputs=[s.risk] if k else None, dosing=dosing, run=ropts)
        risk_unit = nom.attrs.get("units", {}).get(risk_m[0], risk_unit)
        smp = (run_ensemble(m, samples, reg, metrics=mets, times=grid, dosing=dosing,
                            run=ropts)
               if samples is not None and len(samples) else None)
        ok = (smp[C.STATUS] == C.STATUS_OK).to_numpy() if smp is not None else None
        if k:
            course = nom.iloc[0][[f"value({s.risk}, {float(t):.10g})" for t in grid]]
            prof.append(pd.DataFrame({C.TIME: np.asarray(grid, dtype=float),
                                      C.SCHEDULE: sch.name,
                                      C.VALUE: course.to_numpy(dtype=float)}))
        for i, t in enumerate(times):
            full = amount[t] >= s.target_dose * (1 - 1e-9)
            row = {C.SCHEDULE: sch.name, C.ADMINISTRATION: i + 1, C.TIME: t,
                   C.DOSE: amount[t], C.DOSE_UNIT: s.dose_unit, C.FULL_DOSE: bool(full),
                   C.METRIC: risk_m[i], C.UNIT: risk_unit,
                   C.NOMINAL: float(nom[risk_m[i]].iloc[0]), C.LIMIT: s.limit,
                   "_exposure_nominal": float(nom[expo_m[i]].iloc[0])}
            if smp is not None:
                v = smp.loc[ok, risk_m[i]].to_numpy(float)
                e = smp.loc[ok, expo_m[i]].to_numpy(float)
                n_ok = len(v)
                p = float(np.mean(v > s.limit)) if n_ok and math.isfinite(s.limit) else math.nan
                lo, hi = _wilson(p, n_ok) if math.isfinite(p) else (math.nan, math.nan)
                row.update({C.MEDIAN: float(np.median(v)) if n_ok else math.nan,
                            C.UPPER: float(np.percentile(v, 95)) if n_ok else math.nan,
                            C.N_OK: n_ok, C.PROBABILITY: p, C.CI_LOW: lo, C.CI_HIGH: hi,
                            "_exposure_median": float(np.median(e)) if n_ok else math.nan})
            else:
                row.update({C.MEDIAN: math.nan, C.UPPER: math.nan, C.N_OK: 0,
                            C.PROBABILITY: math.nan, C.CI_LOW: math.nan, C.CI_HIGH: math.nan,
                            "_exposure_median": math.nan})
            if k == 0:
                naive = row
            else:
                rows.append(row)
    adm = pd.DataFrame(rows)
    summ = []
    for sch in s.schedules:
        g = adm[adm[C.SCHEDULE] == sch.name]
        f = g[g[C.FULL_DOSE]]
        first = f.iloc[0] if len(f) else None
        exp_key = "_exposure_median" if samples is not None and len(samples) else \
            "_exposure_nominal"
        ratio = (float(first[exp_key]) / naive[exp_key] if first is not None and naive[exp_key]
                 else math.nan)
        summ.append({
            C.SCHEDULE: sch.name, C.REGIMEN: sch.regimen, C.N_ADMINISTRATIONS: len(g),
            C.FIRST_FULL_TIME: float(first[C.TIME]) if first is not None else math.nan,
            C.FIRST_FULL_NOMINAL: float(first[C.NOMINAL]) if first is not None else math.nan,
            C.FIRST_FULL_UPPER: float(first[C.UPPER]) if first is not None else math.nan,
            C.NAIVE_NOMINAL: naive[C.NOMINAL], C.NAIVE_UPPER: naive[C.UPPER],
            C.REDUCTION: (1 - float(first[C.NOMINAL]) / naive[C.NOMINAL]
                          if first is not None and naive[C.NOMINAL] else math.nan),
            C.WORST_PROBABILITY: float(g[C.PROBABILITY].max()) if g[C.PROBABILITY].notna().any()
            else math.nan,
            C.WORST_UPPER: float(g[C.UPPER].max()) if g[C.UPPER].notna().any()
            else float(g[C.NOMINAL].max()),
            C.EXPOSURE_RATIO: ratio,
            C.REACHES_TARGET: bool(first is not None and ratio >= s.target_fraction)})
    summary = pd.DataFrame(summ, columns=list(C.STEPUP_SUMMARY_COLUMNS))
    primed = summary[summary[C.N_ADMINISTRATIONS] > 0]
    modelled = bool((primed[C.REDUCTION] > s.tolerance).any())
    best = None
    if modelled:
        cand = summary[summary[C.REACHES_TARGET]].copy()
        cand["_p"] = cand[C.WORST_PROBABILITY].fillna(0.0)
        cand = cand.sort_values(["_p", C.WORST_UPPER, C.FIRST_FULL_TIME])
        summary.loc[cand.index, C.RANK] = np.arange(1, len(cand) + 1)
        best = str(cand[C.SCHEDULE].iloc[0]) if len(cand) else None
    summary = summary.sort_values(C.RANK, na_position="last", kind="stable").reset_index(drop=True)
    adm = adm[list(C.STEPUP_ADMIN_COLUMNS)]
    log.info("step-up: %d schedules, priming %s, best %s", len(s.schedules),
             "modelled" if modelled else "not modelled", best)
    return StepUpResult(s, adm, summary, modelled, best,
                        pd.concat(prof, ignore_index=True) if prof else pd.DataFrame(),
                        0 if samples is None else len(samples),
                        spread or ("the given samples" if samples is not None else "none (nominal)"),
                        tu, risk_unit)
