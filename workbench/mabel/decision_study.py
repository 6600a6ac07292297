"""The dose decision of a study file: QSP MABEL -> start -> risk profile -> ladder.

Glue between :func:`workbench.study.pipeline.run_mabel` and the decision rules
(:mod:`workbench.decision`, :mod:`workbench.ladder`), so that the study run
stays short: the traditional estimates, the minimal active dose over the
study's samples (when the study names a ``minimal_active_effect``), the risk
profile from the start to the cap (the tolerability limit of the
life-threatening override comes from it), the decision, the ladder, the
expected patients below the active range and the start trade-off.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core import units as U

__all__ = ["decision_settings", "study_decision"]

log = logging.getLogger(__name__)


def decision_settings(study):
    """:class:`workbench.mabel.decision.DecisionSettings` of a study's ``decision`` block."""
    from workbench.mabel.decision import DecisionSettings

    ds = study.sections.decision.keywords()
    if isinstance(ds.get("compete"), list):
        ds["compete"] = tuple(ds["compete"])
    return DecisionSettings(**ds)


def _active_effect(study):
    from workbench.mabel.qsp import parse_effect

    ma = study.sections.minimal_active_effect
    if ma is None:
        return None
    return parse_effect(ma.definition, name=ma.name, lloq=ma.lloq)


def study_decision(study, model, qsp_dec, *, samples: pd.DataFrame | None, run: dict,
                   subject, grid_points: int, workers: int | None = 1, progress=None):
    """The decision with its ladder (module docstring).

    Parameters
    ----------
    qsp_dec
        The QSP MABEL result the decision uses (population joint result when there
        is a population).
    samples
        The samples of that result (the ladder's bands and the risk over patients).
    run
        ``route``, ``schedule``, ``end``, ``points``, ``target``, ``mw``, ``subject``.

    Returns
    -------
    (Decision, MabelEstimate | None, pandas.DataFrame)
        The decision (ladder set), the minimal active estimate and the traditional table.
    """
    from workbench.mabel.decision import (
        _round_down,
        active_share_dose,
        decide,
        traditional_estimates,
    )
    from workbench.mabel.ladder import (
        escalation_ladder,
        patients_below_active,
        risk_profile,
        start_tradeoff,
        tolerable_dose,
    )
    from workbench.mabel.qsp import qsp_mabel

    st = study
    sec = st.sections
    drug, out = sec.drug, sec.outputs
    unit = drug.dose_unit
    settings = decision_settings(st)
    trad = traditional_estimates([dict(t) for t in sec.traditional], dose_unit=unit,
                                 mw=drug.mw, subject=subject)
    act = _active_effect(st)
    minimal = None
    if act is not None:
        minimal = qsp_mabel(model, [act], dose_range=tuple(sec.dose_search.dose_range),
                            grid_points=grid_points, samples=samples, workers=workers,
                            progress=progress, **run).estimates[0]
    dec0 = decide(qsp_dec, trad, replace(settings, life_threatening=False))
    best = qsp_dec.lowest() or qsp_dec.estimates[0]
    (hi, hu) = U.parse_quantity(sec.dose_search.dose_range[1])
    cap = hi * U.factor(hu, unit)
    if sec.decision.max_dose:
        v, u = U.parse_quantity(sec.decision.max_dose)
        cap = min(cap, v * U.factor(u, unit))
    occ = f"max({out.occupancy})" if out.occupancy else None
    exposure = f"max({out.exposure})"
    start0 = dec0.start_dose
    if not (math.isfinite(start0) and start0 > 0):
        return dec0, minimal, trad
    ceiling = settings.max_fold if settings.escalation == "model-guided" else math.sqrt(10)
    top = start0 * ceiling ** max(settings.steps - 1, 1) * 1.01
    mad = active_share_dose(minimal, settings.active_share) if minimal is not None else math.nan
    if settings.life_threatening and math.isfinite(mad):
        top = max(top, mad * ceiling ** max(settings.steps - 1, 1) * 1.01)
    top = max(min(top, cap), start0 * 1.5)
    n = max(3, math.ceil(10 * math.log10(top / start0)) + 1)
    active = (act.metric, act) if act is not None else None
    profile = risk_profile(model, np.geomspace(start0, top, n), unit, effect=best.effect.metric,
                           exposure=exposure, settings=settings, samples=samples, active=active,
                           **run, workers=workers)
    tol = tolerable_dose(profile, settings)
    dec = decide(qsp_dec, trad, settings, minimal_active=minimal, tolerable_dose=tol) \
        if settings.life_threatening else dec0
    span = best.steepness.emax if math.isfinite(best.steepness.emax) else None
    ladder = escalation_ladder(model, dec.start_dose, unit, effect=best.effect.metric,
                               exposure=exposure, occupancy=occ, settings=settings,
                               samples=samples, dose_cap=cap, effect_span=span,
                               steepness_ratio=best.steepness.ratio, profile=profile,
                               active=active, workers=workers, **run)
    extra = []
    below, tradeoff = math.nan, None
    if minimal is not None:
        ad = (minimal.per_sample[C.DOSE].to_numpy(float) if minimal.per_sample is not None
              else np.array([minimal.dose]))
        below, nlev = patients_below_active(ladder, ad, settings.design)
        extra.append(("patients below the active range", below,
                      f"{settings.design}; {len(ladder)} levels",
                      f"Under a {settings.design} design over the {len(ladder)} ladder levels, "
                      f"{below:.3g} patients are expected to be dosed below their own minimal "
                      f"active dose ('{minimal.effect.text}'); {nlev} levels lie below the lowest "
                      "active dose of every sample."))
        starts = {"MABEL-based start": dec0.start_dose, "proposed start": dec.start_dose}
        if math.isfinite(mad) and start0 <= mad <= float(profile[C.DOSE].iloc[-1]):
            starts[f"minimal active dose ({100 * settings.active_share:g} % of patients)"] = mad
        if math.isfinite(tol):
            starts["tolerability limit"] = tol
            mg = dec.margin
            if mg is not None and (mg[C.ITEM] == "safety factors").any():
                total = float(mg.loc[mg[C.ITEM] == "safety factors", C.VALUE].iloc[0])
                starts["tolerability limit / safety factors"] = _round_down(tol / total)
        tradeoff = start_tradeoff(profile, starts, settings, ad, effect_span=span or 1.0,
                                  cap=cap, steepness_ratio=best.steepness.ratio)
    tab = dec.table
    for item, value, rule, sentence in extra:
        tab = pd.concat([tab, pd.DataFrame([{C.STEP: len(tab) + 1, C.ITEM: item, C.VALUE: value,
                                             C.UNIT: "patients", C.RULE: rule,
                                             C.SENTENCE: sentence}])], ignore_index=True)
    dec = replace(dec, table=tab, ladder=ladder, tradeoff=tradeoff, patients_below_active=below,
                  design=settings.design)
    return dec, minimal, trad
