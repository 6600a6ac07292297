"""A safe escalation ladder, the tolerability limit and the patients dosed below the active range.

The ladder starts at the proposed first dose and has a fixed number of levels
(``steps`` of :class:`workbench.mabel.decision.DecisionSettings`). Every rule is
evaluated on one *risk profile* (:func:`risk_profile`): the guide effect, the
exposure interval, the probability of the risk event and the share of
patients reaching the active effect at log-spaced doses (``per_decade``) over
the study's samples (parameter uncertainty and population variability).

Steps, from each level ``d0`` (model-guided):

1. *Running maximum.* The rise of the guide effect (its nominal value, or its
   95th percentile over the samples) is measured on its running maximum over
   dose, ``M(d) = max_{x <= d} E(x)``; the largest step whose rise
   ``M(d) - M(d0)`` stays within ``max_increase`` x the effect's largest change
   is taken. Past the peak of the effect (the bispecific hook: trimer and IL-6
   fall at high doses because each arm saturates separately) a step is never
   larger than the step before it: a falling effect never widens a step.
2. *Floor and ceiling.* A step is at least ``min_fold`` (1.5) and at most
   ``max_fold`` (half-log); with ``steepness_steps`` the ceiling is at most
   ``sqrt(D50/D10)`` of the selected effect (at least two steps between 10 %
   and 50 % of its largest change: a steep dose-response gets smaller steps).
3. *Distinct exposures.* A step is widened until the 5-95 % exposure intervals
   of the two levels overlap at most ``max_overlap`` (|intersection| / |union|):
   levels closer than that are merged into one.
4. *Absolute risk limit.* No level may exceed the tolerability limit
   (:func:`tolerable_dose`): the highest dose below which P(``risk_metric`` >
   ``risk_threshold``) stays under ``risk_probability`` at every dose. A step
   that would cross it is cut to it, and the ladder stops there.
5. *Dose cap.* No level exceeds the study's highest dose (``dose_range``) or
   ``max_dose``; the ladder stops at the cap.

Doses are rounded down to two significant figures (never up past a limit),
except a floor step, rounded up so that it stays at least ``min_fold``.

:func:`patients_below_active` gives the expected number of patients dosed
below their own minimal active dose under a named design: 3+3 (three patients
per level) or accelerated titration (one patient per level while the typical
patient is below the active dose, then three; Simon et al. 1997, J Natl
Cancer Inst 89:1138, design 2).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core.model import Model, load_model
from workbench.errors import SpecError
from workbench.mabel.decision import HALF_LOG, DecisionSettings, _empty_ladder, _round_down

if TYPE_CHECKING:
    from workbench.mabel.qsp import EffectDefinition

__all__ = ["escalation_ladder", "patients_below_active", "risk_profile", "start_tradeoff",
           "tolerable_dose"]

log = logging.getLogger(__name__)

_REL = 1e-9


def _ok(tab: pd.DataFrame, metric: str) -> np.ndarray:
    return tab.loc[tab[C.STATUS] == C.STATUS_OK, metric].to_numpy(float)


def risk_profile(model: Model, doses: Sequence[float] | np.ndarray, dose_unit: str, *,
                 effect: str, exposure: str, settings: DecisionSettings,
                 samples: pd.DataFrame | None = None,
                 active: tuple[str, EffectDefinition] | None = None, percentiles=(5, 95), **run
                 ) -> pd.DataFrame:
    """The quantities the ladder rules need at each dose (module docstring).

    Parameters
    ----------
    doses
        Increasing doses (``dose_unit``).
    effect, exposure
        Metric texts of the guide effect and of the exposure.
    active
        ``(metric, EffectDefinition)`` of the minimal active effect, for the share
        of samples reaching it (baseline-relative thresholds use each sample's baseline).
    run
        As for :func:`workbench.mabel.qsp.dose_response`.

    Returns
    -------
    pandas.DataFrame
        ``dose``, ``guide`` (nominal or upper percentile of the effect), ``running_max``,
        ``exposure_lower``/``exposure_upper``, ``p_risk`` (NaN without a risk metric),
        ``p_active`` (NaN without ``active``), ``n`` (samples that ran).
    """
    from workbench.mabel.qsp import dose_response

    s = settings
    metrics = list(dict.fromkeys([effect, exposure, *([s.risk_metric] if s.risk_metric else []),
                                  *([active[0]] if active else [])]))
    tab = dose_response(model, metrics, list(doses), dose_unit, samples=samples, **run)
    nom = dose_response(model, [effect], list(doses), dose_unit, **run) \
        if s.guide == "nominal" or samples is None else None
    base = None
    if active is not None and active[1].relative:
        base = dose_response(model, [active[0]], [0.0], dose_unit, samples=samples, **run)
    units = tab.attrs.get("units", {})
    rows = []
    for k, d in enumerate(doses):
        g = tab[tab[C.DOSE] == float(d)]
        e = _ok(g, effect)
        guide = float(nom[effect].iloc[k]) if nom is not None else \
            (float(np.percentile(e, percentiles[1])) if len(e) else math.nan)
        x = _ok(g, exposure)
        lo, hi = (np.percentile(x, percentiles) if len(x) else (math.nan, math.nan))
        p_risk = float(np.mean(_ok(g, s.risk_metric) > s.risk_threshold)) \
            if s.risk_metric and len(e) else math.nan
        p_act = math.nan
        if active is not None:
            okm = (g[C.STATUS] == C.STATUS_OK).to_numpy()
            v = g[active[0]].to_numpy(float)
            b = base[active[0]].to_numpy(float) if base is not None else np.zeros(len(v))
            thr = active[1].absolute(b, units.get(active[0], "")) if active[1].relative else \
                np.full(len(v), active[1].threshold)
            hit = np.array([active[1].reached(a, t) for a, t in zip(v, thr, strict=True)])
            p_act = float(hit[okm].mean()) if okm.any() else math.nan
        rows.append({C.DOSE: float(d), "guide": guide, C.EXPOSURE_LOWER: float(lo),
                     C.EXPOSURE_UPPER: float(hi), "p_risk": p_risk, "p_active": p_act,
                     "n": len(e)})
    df = pd.DataFrame(rows)
    df["running_max"] = np.fmax.accumulate(df["guide"].to_numpy(float)) if len(df) else []
    df.attrs["units"] = units
    return df


def tolerable_dose(profile: pd.DataFrame, settings: DecisionSettings) -> float:
    """The highest profile dose below which the risk limit holds at every dose (NaN without a
    risk metric; the lowest dose when it already fails there; the last dose when it never fails)."""
    p = profile["p_risk"].to_numpy(float)
    if not settings.risk_metric or not len(p) or np.isnan(p).all():
        return math.nan
    bad = np.flatnonzero(~(p < settings.risk_probability))
    d = profile[C.DOSE].to_numpy(float)
    if not len(bad):
        return float(d[-1])
    i = int(bad[0])
    return float(d[max(i - 1, 0)])


def _round_up(x: float, sig: int = 2) -> float:
    e = math.floor(math.log10(x)) - sig + 1
    return float(f"{math.ceil(x / 10 ** e * (1 - 1e-12)) * 10 ** e:.{sig}g}")


def _interp(profile: pd.DataFrame, col: str, d: float) -> float:
    x = np.log(profile[C.DOSE].to_numpy(float))
    return float(np.interp(math.log(d), x, profile[col].to_numpy(float)))


def _overlap(profile: pd.DataFrame, a: float, b: float) -> float:
    lo1, hi1 = _interp(profile, C.EXPOSURE_LOWER, a), _interp(profile, C.EXPOSURE_UPPER, a)
    lo2, hi2 = _interp(profile, C.EXPOSURE_LOWER, b), _interp(profile, C.EXPOSURE_UPPER, b)
    inter = max(0.0, min(hi1, hi2) - max(lo1, lo2))
    union = max(hi1, hi2) - min(lo1, lo2)
    return inter / union if union > 0 else 1.0


def _largest(f, lo: float, hi: float) -> float:
    """Largest x in [lo, hi] with f(x) true, f monotone (true then false); bisection on log."""
    if f(hi):
        return hi
    a, b = math.log(lo), math.log(hi)
    for _ in range(50):
        m = 0.5 * (a + b)
        if f(math.exp(m)):
            a = m
        else:
            b = m
    return math.exp(a)


def plan_doses(profile: pd.DataFrame, start: float, settings: DecisionSettings, *,
               effect_span: float, cap: float, steepness_ratio: float = math.nan
               ) -> tuple[list[float], list[str]]:
    """The ladder's doses and the rule that set each (module docstring, steps 1-5)."""
    s = settings
    if s.escalation not in ("half-log", "model-guided"):
        raise SpecError(f"unknown escalation {s.escalation!r}", element="decision.escalation",
                        fix="use half-log or model-guided")
    ceiling = HALF_LOG if s.escalation == "half-log" else s.max_fold
    steep_note = ""
    if s.escalation == "model-guided" and s.steepness_steps and math.isfinite(steepness_ratio) \
            and steepness_ratio > 1 and math.sqrt(steepness_ratio) < ceiling:
        ceiling = max(s.min_fold, math.sqrt(steepness_ratio))
        steep_note = f"; ceiling x{ceiling:.3g} = sqrt(D50/D10)"
    limit = s.max_increase * (effect_span if effect_span and math.isfinite(effect_span) else 1.0)
    tol = tolerable_dose(profile, s)
    guide = profile["guide"].to_numpy(float)
    peak = float(profile[C.DOSE].iloc[int(np.nanargmax(guide))]) if np.isfinite(guide).any() \
        else math.inf
    falls = bool(np.isfinite(guide).any() and guide[-1] < np.nanmax(guide) * (1 - 1e-6))
    doses, rules = [start], ["starting dose"]
    prev_fold = ceiling
    while len(doses) < s.steps:
        d0 = doses[-1]
        hi = d0 * ceiling
        if s.escalation == "model-guided":
            m0 = _interp(profile, "running_max", d0)
            nxt = _largest(lambda d, m0=m0: _interp(profile, "running_max", d) - m0
                           <= limit * (1 + _REL), d0 * s.min_fold, hi)
            if _interp(profile, "running_max", d0 * s.min_fold) - m0 > limit:
                why = f"step floor (x{s.min_fold:g}); the effect rise exceeds the limit"
            elif nxt >= hi * (1 - 1e-9):
                why = f"step ceiling (x{ceiling:.3g}){steep_note}"
            else:
                why = (f"running maximum of the effect rises {s.max_increase:g} x its range "
                       f"({limit:.3g})")
            if falls and nxt > peak and nxt / d0 > prev_fold * (1 + 1e-9):
                nxt, why = d0 * prev_fold, ("past the effect's peak: no larger than the previous "
                                            f"step (x{prev_fold:.3g})")
        else:
            nxt, why = hi, "half-log step (x3.16)"
        need = _largest(lambda d, d0=d0: _overlap(profile, d0, d) > s.max_overlap, d0 * 1.0001,
                        d0 * ceiling * 10) if _overlap(profile, d0, d0 * 1.0001) > s.max_overlap \
            else d0
        if need > nxt * (1 + 1e-9):
            nxt = need * 1.0001
            why += (f"; widened so that exposures overlap at most {s.max_overlap:g} "
                    "(closer levels merged)")
        stop = ""
        if math.isfinite(tol) and nxt > tol * (1 + 1e-9):
            nxt, why, stop = tol, (f"cut to the tolerability limit P({s.risk_metric} > "
                                   f"{s.risk_threshold:g}) < {s.risk_probability:g}"), "risk"
        if nxt > cap * (1 + 1e-9):
            nxt, why, stop = cap, "cut to the dose cap (study dose range / max_dose)", "cap"
        rounded = _round_down(nxt)
        if not stop and rounded < d0 * s.min_fold * (1 - 1e-9):
            rounded = _round_up(nxt)  # the floor is a floor: never below it after rounding
        nxt = rounded
        if not nxt > d0 * (1 + 1e-9):
            log.info("ladder stops at %.4g: %s", d0, stop or "no further step")
            break
        prev_fold = nxt / d0 if not (falls and nxt > peak) else min(prev_fold, nxt / d0)
        doses.append(nxt)
        rules.append(why)
        if stop:
            break
    return doses, rules


def escalation_ladder(model: Model | str, start: float, dose_unit: str, *, effect: str,
                      exposure: str, occupancy: str | None = None,
                      settings: DecisionSettings | None = None,
                      samples: pd.DataFrame | None = None, max_dose: float | None = None,
                      dose_cap: float | None = None, percentiles: tuple[float, float] = (5, 95),
                      effect_span: float | None = None, steepness_ratio: float = math.nan,
                      profile: pd.DataFrame | None = None, per_decade: int = 10,
                      active: tuple[str, EffectDefinition] | None = None, **run) -> pd.DataFrame:
    """Dose levels from ``start`` (module docstring) with predicted exposure, occupancy,
    effect, risk and their 5-95 % intervals over ``samples``.

    Parameters
    ----------
    effect, exposure, occupancy
        Metric texts (``"max(IL6)"``, ``"max(Cfree)"``, ``"max(RO_CD3)"``).
    max_dose, dose_cap
        No level above either (``dose_cap``: the study's highest dose).
    effect_span
        The effect's largest change (the step limit is ``max_increase`` x it);
        None: the profile's range.
    steepness_ratio
        D50/D10 of the selected effect (``steepness_steps``).
    profile
        A :func:`risk_profile` covering ``start`` to the cap; None: computed here
        (``per_decade`` doses per decade).
    run
        ``route``, ``schedule``, ``target``, ``mw``, ``subject``, ``end``,
        ``points``, ``integrator``, ``workers`` for :func:`workbench.mabel.qsp.dose_response`.

    Returns
    -------
    pandas.DataFrame
        :data:`workbench.columns.LADDER_COLUMNS`; ``attrs["profile"]`` the risk profile.
    """
    from workbench.mabel.qsp import dose_response

    s = settings or DecisionSettings()
    if s.guide not in ("nominal", "upper"):
        raise SpecError(f"unknown guide {s.guide!r}", element="decision.guide",
                        fix="use nominal or upper")
    m = model if isinstance(model, Model) else load_model(model)
    if not (math.isfinite(start) and start > 0):
        return _empty_ladder()
    cap = min(x for x in (max_dose, dose_cap, math.inf) if x is not None)
    if profile is None:
        top = min(cap, start * (HALF_LOG if s.escalation == "half-log" else s.max_fold)
                  ** max(s.steps - 1, 1) * 1.01)
        top = max(top, start * 1.5)
        n = max(3, math.ceil(per_decade * math.log10(top / start)) + 1)
        profile = risk_profile(m, np.geomspace(start, top, n), dose_unit, effect=effect,
                               exposure=exposure, settings=s, samples=samples, active=active,
                               percentiles=percentiles, **run)
    span = effect_span if effect_span else float(np.nanmax(profile["guide"])
                                                 - np.nanmin(profile["guide"])) or 1.0
    doses, rules = plan_doses(profile, start, s, effect_span=span, cap=cap,
                              steepness_ratio=steepness_ratio)
    metrics = list(dict.fromkeys([exposure, *([occupancy] if occupancy else []), effect,
                                  *([s.risk_metric] if s.risk_metric else [])]))
    nom = dose_response(m, metrics, doses, dose_unit, **run)
    band = dose_response(m, metrics, doses, dose_unit, samples=samples, **run) \
        if samples is not None else None
    units = nom.attrs.get("units", {})
    rows = []
    for k, d in enumerate(doses):
        row = {C.LADDER_LEVEL: k + 1, C.DOSE: d, C.DOSE_UNIT: dose_unit,
               C.FOLD_FROM_PREVIOUS: d / doses[k - 1] if k else math.nan, C.RULE: rules[k]}
        for mt, col, lo, hi, ucol in ((exposure, C.EXPOSURE, C.EXPOSURE_LOWER, C.EXPOSURE_UPPER,
                                       C.EXPOSURE_UNIT),
                                      (occupancy, C.OCCUPANCY, C.OCCUPANCY_LOWER,
                                       C.OCCUPANCY_UPPER, None),
                                      (effect, C.EFFECT, C.EFFECT_LOWER, C.EFFECT_UPPER,
                                       C.EFFECT_UNIT)):
            if mt is None:
                row.update({col: math.nan, lo: math.nan, hi: math.nan})
                continue
            row[col] = float(nom[nom[C.DOSE] == d][mt].iloc[0])
            if band is not None:
                v = _ok(band[band[C.DOSE] == d], mt)
                q = np.percentile(v, percentiles) if len(v) else [math.nan] * 2
                row.update({lo: float(q[0]), hi: float(q[1])})
            else:
                row.update({lo: math.nan, hi: math.nan})
            if ucol:
                row[ucol] = f"{units.get(mt, '')} ({mt})"
        g = band[band[C.DOSE] == d] if band is not None else nom[nom[C.DOSE] == d]
        row[C.P_RISK] = float(np.mean(_ok(g, s.risk_metric) > s.risk_threshold)) \
            if s.risk_metric else math.nan
        row[C.EXPOSURE_OVERLAP] = _overlap(profile, doses[k - 1], d) if k else math.nan
        row[C.P_ACTIVE] = _interp(profile, "p_active", d) if active is not None else math.nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(C.LADDER_COLUMNS))
    out.attrs["profile"] = profile
    return out


def patients_below_active(ladder: pd.DataFrame, active_doses: np.ndarray, design: str
                          ) -> tuple[float, int]:
    """Expected patients dosed below their own minimal active dose, and the number of levels
    entirely below the active range (below the lowest active dose of the samples).

    ``active_doses``: one minimal active dose per sample (NaN/inf: never active). Each
    level's cohort (3+3: 3; accelerated titration: 1 while more than half the samples are
    below their active dose, else 3) contributes cohort x P(active dose > level dose).
    """
    a = np.where(np.isfinite(active_doses), active_doses, np.inf)
    if not len(a):
        return math.nan, 0
    expected, below = 0.0, 0
    for d in ladder[C.DOSE].to_numpy(float):
        p = float(np.mean(a > d * (1 + 1e-12)))
        cohort = 3 if design == "3+3" or p <= 0.5 else 1
        expected += cohort * p
        below += int(d < a.min())
    return expected, below


def start_tradeoff(profile: pd.DataFrame, starts: dict[str, float], settings: DecisionSettings,
                   active_doses: np.ndarray | None, *, effect_span: float, cap: float,
                   steepness_ratio: float = math.nan) -> pd.DataFrame:
    """For each candidate start: the risk at the first level and the expected patients below
    the active range over the ladder from it (the life-threatening trade-off)."""
    rows = []
    for name, st in starts.items():
        if not (math.isfinite(st) and st > 0):
            continue
        doses, _ = plan_doses(profile, st, settings, effect_span=effect_span, cap=cap,
                              steepness_ratio=steepness_ratio)
        lad = pd.DataFrame({C.DOSE: doses})
        exp_, below = (patients_below_active(lad, active_doses, settings.design)
                       if active_doses is not None else (math.nan, 0))
        rows.append({C.NAME: name, C.DOSE: st, C.P_RISK: _interp(profile, "p_risk", st)
                     if settings.risk_metric else math.nan,
                     C.EXPECTED_BELOW_ACTIVE: exp_, C.LEVELS_BELOW_ACTIVE: below,
                     C.N_LEVELS: len(doses), C.DESIGN: settings.design})
    return pd.DataFrame(rows, columns=list(C.TRADEOFF_COLUMNS))
