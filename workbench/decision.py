"""First-in-human dose decision: QSP MABEL beside traditional MABEL, safety factors, escalation.

The reasoning follows the FDA draft guidance on QSP-based MABEL (2026) and the
EMA first-in-human guideline (EMEA/CHMP/SWP/28367/07 Rev. 1, 2017, section
7.2): each step is one row of the decision table (columns
:data:`workbench.columns.DECISION_COLUMNS`) with the sentence the report prints.

1. *QSP MABEL*: the lowest dose over the minimal-effect definitions
   (:func:`workbench.qsp_mabel.qsp_mabel`), taken as the nominal value, the
   median or the lower percentile of its distribution under uncertainty
   (``statistic``; default ``"lower"``, the cautious choice).
2. *Traditional MABEL* estimates (:func:`traditional_estimates`: receptor
   occupancy, in vitro EC10-EC20 activity, animal NOAEL scaled by body-surface
   area, Muller & Brennan 2009, Clin Pharmacol Ther 85:247; FDA 2005).
3. *Comparison*: estimates agree when within ``agreement_fold`` of the QSP
   MABEL. For a novel target, or when they disagree, the lowest dose wins
   (the guidance: "take the lowest"); otherwise the QSP MABEL is kept.
4. *Safety factors* by severity, reversibility and novelty of the expected
   toxicity (:data:`DEFAULT_FACTORS`, configurable), multiplied, divide the dose.
5. Optionally, in life-threatening disease, a *minimal active dose* above the
   MABEL (a second effect definition) replaces it when a justification is given.
6. *Rounding*: the starting dose is rounded down to two significant figures.
7. *Escalation ladder* (:func:`escalation_ladder`): half-log steps (x3.16), or
   model-guided steps keeping the predicted rise of the effect per step below
   ``max_increase`` of its largest change; each level with predicted exposure,
   occupancy and effect and their uncertainty interval.

When neither the QSP MABEL nor any traditional estimate yields a dose, no dose
is proposed: the table says so and the starting dose is NaN.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import columns as C
from . import mabel as M
from .errors import SpecError
from .model import Model, load_model

__all__ = ["DEFAULT_FACTORS", "Decision", "DecisionSettings", "decide", "escalation_ladder",
           "traditional_estimates"]

log = logging.getLogger(__name__)

#: Safety factors (divisors of the dose) by category. Judgement values in the
#: range the EMA 2017 guideline and FDA 2005 (section VII: "increase the safety
#: factor" for steep dose-response, severe or irreversible toxicity, novel
#: targets) discuss; a study states its own.
DEFAULT_FACTORS: dict[str, dict[str, float]] = {
    "severity": {"mild": 1.0, "moderate": 1.0, "severe": 3.0},
    "reversibility": {"reversible": 1.0, "irreversible": 3.0},
    "novelty": {"established": 1.0, "novel": 2.0},
}
HALF_LOG = math.sqrt(10.0)


@dataclass(frozen=True)
class DecisionSettings:
    """How the starting dose and the ladder are chosen (module docstring).

    Attributes
    ----------
    severity, reversibility, novelty
        Categories of :data:`DEFAULT_FACTORS` (or of ``factors``).
    factors
        Category -> level -> divisor; merged over :data:`DEFAULT_FACTORS`.
    agreement_fold
        Estimates within this fold of the QSP MABEL agree with it.
    statistic
        ``"nominal"``, ``"median"`` or ``"lower"`` (lower percentile) of the QSP MABEL.
    life_threatening, justification
        A minimal active dose above the MABEL (``minimal_active`` of :func:`decide`)
        replaces the MABEL when the disease is life-threatening and a justification is given.
    escalation, steps, max_increase, max_fold, min_fold
        ``"half-log"`` or ``"model-guided"``; number of levels including the
        start; model-guided: largest rise of the effect per step as a fraction
        of its largest change, and the fold limits of a step.
    guide
        Model-guided steps follow the ``"nominal"`` effect or its ``"upper"``
        percentile over the samples (the most sensitive patients or parameter
        sets): the latter gives smaller steps where the band is wide.
    """

    severity: str = "severe"
    reversibility: str = "reversible"
    novelty: str = "novel"
    factors: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    agreement_fold: float = 3.0
    statistic: str = "lower"
    life_threatening: bool = False
    justification: str = ""
    escalation: str = "half-log"
    steps: int = 6
    max_increase: float = 0.2
    max_fold: float = 10.0
    min_fold: float = 1.25
    guide: str = "nominal"

    def factor(self, category: str) -> float:
        table = {**DEFAULT_FACTORS.get(category, {}), **dict(self.factors.get(category, {}))}
        level = getattr(self, category)
        if level not in table:
            raise SpecError(f"unknown {category} {level!r}", element=f"decision.{category}",
                            fix="use one of " + ", ".join(sorted(table)))
        return float(table[level])


@dataclass(frozen=True, eq=False)
class Decision:
    """Result of :func:`decide`: the decision table, the start and the ladder."""

    table: pd.DataFrame
    start_dose: float
    dose_unit: str
    ladder: pd.DataFrame
    basis: str

    def to_frame(self) -> pd.DataFrame:
        """The decision table (:data:`workbench.columns.DECISION_COLUMNS`)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        """Summary for Jupyter (:mod:`workbench._html_repr`)."""
        from ._html_repr import decision_html

        return decision_html(self)


# ---------------------------------------------------------------------------
# traditional estimates
# ---------------------------------------------------------------------------

def traditional_estimates(specs: Sequence[Mapping], *, dose_unit: str, mw=None,
                          plasma_volume: str = M.DEFAULT_PLASMA_VOLUME,
                          subject=None) -> pd.DataFrame:
    """Traditional MABEL doses from calculator specs (:mod:`workbench.mabel`).

    Each spec is a mapping with ``name`` and ``method``:

    * ``occupancy``: ``kd``, ``occupancy`` (fraction, default 0.1), optional
      ``receptor_total`` (or ``receptors_per_cell`` and ``cells``): the concentration
      for that occupancy (with target depletion when the receptor is given), as an
      IV bolus into the plasma volume;
    * ``activity``: ``ec50``, ``percent`` (default 20), ``hill`` (default 1): the
      concentration of that in vitro activity, as an IV bolus into the plasma volume;
    * ``noael``: ``noael`` (per kg), ``species``, ``safety_factor`` (default 10): the MRSD;
    * ``animal_dose``: ``dose`` (an animal MABEL, per kg) and ``species``: its HED.

    Returns
    -------
    pandas.DataFrame
        :data:`workbench.columns.TRADITIONAL_COLUMNS`, doses in ``dose_unit``.
    """
    rows = []
    for k, s in enumerate(specs):
        name = str(s.get("name") or f"estimate {k + 1}")
        method = str(s.get("method", ""))
        pv = s.get("plasma_volume", plasma_volume)
        if method == "occupancy":
            rt = s.get("receptor_total")
            if rt is None and s.get("receptors_per_cell") is not None:
                rt = M.receptor_concentration(s["receptors_per_cell"], s["cells"])
            f = s.get("occupancy", 0.1)
            c = M.concentration_for_occupancy(f, s["kd"], receptor_total=rt, unit="nM", mw=mw)
            dose = M.concentration_to_dose(c, mw=mw, plasma_volume=pv, subject=subject,
                                           unit=dose_unit)
            inputs = (f"occupancy {float(f):g}, Kd {s['kd']}"
                      + (f", receptor {rt}" if rt is not None else "")
                      + f" -> C {c}; plasma volume {pv}")
        elif method == "activity":
            pct, hill = float(s.get("percent", 20)), float(s.get("hill", 1.0))
            c = M.activity_concentration(s["ec50"], pct, hill)
            dose = M.concentration_to_dose(c, mw=mw, plasma_volume=pv, subject=subject,
                                           unit=dose_unit)
            inputs = f"EC{pct:g} from EC50 {s['ec50']}, Hill {hill:g} -> C {c}; plasma volume {pv}"
        elif method == "noael":
            sf = float(s.get("safety_factor", 10.0))
            h = M.hed_from_noael(s["noael"], s["species"], safety_factor=sf)
            dose = h.mrsd.to(dose_unit)
            inputs = (f"NOAEL {s['noael']} in {h.species} (Km {h.km_animal:g}) -> HED {h.hed}; "
                      f"safety factor {sf:g}")
        elif method == "animal_dose":
            h = M.animal_to_human_dose(s["dose"], s["species"])
            dose = h.to(dose_unit)
            inputs = f"animal dose {s['dose']} in {s['species']} -> HED by body-surface area"
        else:
            raise SpecError(f"traditional estimate {name!r}: unknown method {method!r}",
                            element="traditional",
                            fix="use occupancy, activity, noael or animal_dose")
        if s.get("source"):
            inputs += f"; source: {s['source']}"
        rows.append({C.NAME: name, C.METHOD: method, C.DOSE: float(dose.value),
                     C.DOSE_UNIT: dose_unit, C.INPUTS: inputs})
    return pd.DataFrame(rows, columns=list(C.TRADITIONAL_COLUMNS))


# ---------------------------------------------------------------------------
# the decision
# ---------------------------------------------------------------------------

def _round_down(x: float, sig: int = 2) -> float:
    if not (math.isfinite(x) and x > 0):
        return x
    e = math.floor(math.log10(x)) - sig + 1
    return math.floor(x / 10 ** e * (1 + 1e-12)) * 10 ** e


def _round(x: float, sig: int = 2) -> float:
    return float(f"{x:.{sig}g}") if math.isfinite(x) and x > 0 else x


def decide(qsp, traditional: pd.DataFrame, settings: DecisionSettings | None = None, *,
           minimal_active=None) -> Decision:
    """The starting dose and its reasoning (module docstring, steps 1-6).

    Parameters
    ----------
    qsp
        :class:`workbench.qsp_mabel.QspMabelResult`.
    traditional
        :func:`traditional_estimates` (same dose unit).
    settings
        :class:`DecisionSettings`.
    minimal_active
        :class:`workbench.qsp_mabel.MabelEstimate` of the minimal active effect.

    Returns
    -------
    Decision
        With an empty ladder (:func:`escalation_ladder` computes it from the start).
    """
    s = settings or DecisionSettings()
    rows: list[dict] = []
    unit = qsp.estimates[0].dose_unit if qsp.estimates else ""

    def add(item, value, rule, sentence, u=None):
        rows.append({C.STEP: len(rows) + 1, C.ITEM: item, C.VALUE: value,
                     C.UNIT: unit if u is None else u, C.RULE: rule, C.SENTENCE: sentence})

    spread = qsp.settings.get("distribution") or "parameter uncertainty"
    for e in qsp.estimates:
        unc = ""
        if e.n_samples:
            unc = (f"; under {spread} median {e.dose_text(e.median)}, "
                   f"5-95 % {e.dose_text(e.lower)} to {e.dose_text(e.upper)} "
                   f"({e.n_not_reached} of {e.n_samples} samples never reach it)")
        add(f"QSP MABEL: {e.effect.label}", e.dose, "lowest single dose reaching the effect "
            "(grid + Brent)", f"The model predicts '{e.effect.text}' from "
            f"{e.dose_text()}{unc}; the dose-response there is {e.steepness.classification} "
            f"(D50/D10 = {e.steepness.ratio:.3g}).")
    best = qsp.lowest()
    qdose = math.nan
    if best is not None:
        stat = s.statistic
        if stat not in ("nominal", "median", "lower"):
            raise SpecError(f"unknown statistic {stat!r}", element="decision.statistic",
                            fix="use nominal, median or lower")
        qdose = best.dose if stat == "nominal" or not best.n_samples else \
            (best.median if stat == "median" else best.lower)
        add("QSP MABEL (selected)", qdose, f"lowest effect definition; {stat} value"
            + (f" under {spread}" if stat != "nominal" and best.n_samples else ""),
            f"The most sensitive effect definition is '{best.effect.text}'; its {stat} "
            f"QSP MABEL, {qdose:.4g} {unit}, is the QSP estimate.")
    else:
        add("QSP MABEL (selected)", math.nan, "no effect definition reached",
            "No effect definition is reached in the dose range searched (" + "; ".join(
                e.dose_text() for e in qsp.estimates) + "): the model gives no MABEL.")
    for _, t in traditional.iterrows():
        ratio = t[C.DOSE] / qdose if math.isfinite(qdose) and qdose > 0 else math.nan
        agree = math.isfinite(ratio) and 1 / s.agreement_fold <= ratio <= s.agreement_fold
        verdict = ("agrees with" if agree else "differs from") if math.isfinite(ratio) else \
            "cannot be compared with"
        add(f"traditional: {t[C.NAME]}", float(t[C.DOSE]),
            f"{t[C.METHOD]}; ratio to QSP {ratio:.3g}" if math.isfinite(ratio) else t[C.METHOD],
            f"The traditional estimate '{t[C.NAME]}' ({t[C.INPUTS]}) gives "
            f"{t[C.DOSE]:.4g} {unit}, which {verdict} the QSP MABEL"
            + (f" (ratio {ratio:.3g}; agreement within {s.agreement_fold:g}-fold)."
               if math.isfinite(ratio) else "."))
    cands = {"QSP MABEL": qdose} if math.isfinite(qdose) else {}
    cands.update({str(t[C.NAME]): float(t[C.DOSE]) for _, t in traditional.iterrows()
                  if math.isfinite(t[C.DOSE]) and t[C.DOSE] > 0})
    novel = s.novelty == "novel"
    disagree = any(not (1 / s.agreement_fold <= v / qdose <= s.agreement_fold)
                   for k, v in cands.items() if k != "QSP MABEL") if math.isfinite(qdose) else True
    if not cands:
        add("MABEL", math.nan, "no estimate", "Neither the model nor a traditional calculation "
            "gives a dose: no starting dose can be proposed.")
        return Decision(pd.DataFrame(rows, columns=list(C.DECISION_COLUMNS)), math.nan, unit,
                        _empty_ladder(), "none")
    if novel or disagree or not math.isfinite(qdose):
        basis = min(cands, key=cands.get)
        mabel = cands[basis]
        why = ("the target is novel" if novel else "the estimates disagree") \
            if math.isfinite(qdose) else "the model gives no MABEL"
        add("MABEL", mabel, "lowest estimate wins", f"Because {why}, the lowest estimate is "
            f"taken: {basis}, {mabel:.4g} {unit}.")
    else:
        basis, mabel = "QSP MABEL", qdose
        add("MABEL", mabel, "QSP MABEL kept", f"The traditional estimates agree with the QSP "
            f"MABEL and the target is established, so the QSP MABEL, {mabel:.4g} {unit}, is kept.")
    total = 1.0
    for cat in ("severity", "reversibility", "novelty"):
        f = s.factor(cat)
        total *= f
        add(f"safety factor: {cat}", f, f"{cat} = {getattr(s, cat)}", f"The expected toxicity's "
            f"{cat} is '{getattr(s, cat)}': safety factor {f:g}.", u="1")
    dose = mabel / total
    add("dose after safety factors", dose, f"MABEL / {total:g}", f"Dividing the MABEL by the "
        f"combined safety factor {total:g} gives {dose:.4g} {unit}.")
    if s.life_threatening and minimal_active is not None:
        if not s.justification.strip():
            add("minimal active dose", minimal_active.dose, "not applied: no justification",
                "A minimal active dose was computed but no justification was given, so the "
                "MABEL-based dose is kept.")
        elif math.isfinite(minimal_active.dose) and minimal_active.dose > dose:
            dose = minimal_active.dose
            basis = f"minimal active dose ({minimal_active.effect.text})"
            add("minimal active dose", dose, "life-threatening disease, justified",
                f"The disease is life-threatening; the starting dose is raised to the minimal "
                f"active dose for '{minimal_active.effect.text}', {dose:.4g} {unit}, because: "
                f"{s.justification.strip()}")
    start = _round_down(dose)
    add("starting dose", start, "rounded down to 2 significant figures",
        f"The proposed first-in-human starting dose is {start:.4g} {unit} (basis: {basis}).")
    table = pd.DataFrame(rows, columns=list(C.DECISION_COLUMNS))
    return Decision(table, start, unit, _empty_ladder(), basis)


def _empty_ladder() -> pd.DataFrame:
    return pd.DataFrame(columns=list(C.LADDER_COLUMNS))


# ---------------------------------------------------------------------------
# escalation
# ---------------------------------------------------------------------------

def escalation_ladder(model: Model | str | os.PathLike[str], start: float, dose_unit: str, *,
                      effect: str, exposure: str, occupancy: str | None = None,
                      settings: DecisionSettings | None = None, samples: pd.DataFrame | None = None,
                      max_dose: float | None = None, percentiles: tuple[float, float] = (5, 95),
                      effect_span: float | None = None, **run) -> pd.DataFrame:
    """Dose levels from ``start`` with predicted exposure, occupancy and effect.

    Half-log: each level is ``sqrt(10)`` times the previous one. Model-guided:
    the largest step (between ``min_fold`` and ``max_fold``) keeping the nominal
    rise of ``effect`` (with ``settings.guide == "upper"`` and ``samples``: the
    rise of its upper percentile over the samples) at most ``max_increase`` x its
    largest nominal change over ``[start, 1000 x start]`` or ``effect_span`` when
    given (Brent's method on log dose). Doses are rounded to two significant
    figures; levels stop at ``max_dose``.

    Parameters
    ----------
    effect, exposure, occupancy
        Metric texts (``"max(IL6)"``, ``"max(Cfree)"``, ``"max(RO_CD3)"``).
    samples
        Parameter sets for the uncertainty interval (``percentiles``).
    run
        ``route``, ``schedule``, ``target``, ``mw``, ``subject``, ``end``,
        ``points``, ``integrator``, ``workers`` for :func:`workbench.qsp_mabel.dose_response`.

    Returns
    -------
    pandas.DataFrame
        :data:`workbench.columns.LADDER_COLUMNS`.
    """
    from scipy.optimize import brentq

    from .qsp_mabel import dose_response

    s = settings or DecisionSettings()
    m = model if isinstance(model, Model) else load_model(model)
    if not (math.isfinite(start) and start > 0):
        return _empty_ladder()
    metrics = list(dict.fromkeys([exposure, *([occupancy] if occupancy else []), effect]))
    memo: dict[tuple[str, bool], pd.DataFrame] = {}

    def at(d: float, sampled: bool) -> pd.DataFrame:
        """Every metric at dose ``d``, nominal or over the samples; each dose is simulated
        once (keyed by the dose text of the regimen, 12 significant figures)."""
        key = (f"{d:.12g}", sampled)
        if key not in memo:
            memo[key] = dose_response(m, metrics, [d], dose_unit,
                                      samples=samples if sampled else None, **run)
        return memo[key]

    if s.guide not in ("nominal", "upper"):
        raise SpecError(f"unknown guide {s.guide!r}", element="decision.guide",
                        fix="use nominal or upper")
    upper = s.escalation == "model-guided" and s.guide == "upper" and samples is not None

    def eff(d: float) -> float:
        if upper:  # the upper percentile of the effect over the samples
            r = at(d, True)
            v = r.loc[r[C.STATUS] == C.STATUS_OK, effect].to_numpy(float)
            return float(np.percentile(v, percentiles[1])) if len(v) else math.nan
        return float(at(d, False)[effect].iloc[0])

    doses, rules = [start], ["starting dose"]
    on = f"{percentiles[1]:g}th percentile of the" if upper else "nominal"
    if s.escalation == "model-guided":
        span = effect_span
        if not span:
            wide = np.geomspace(start, start * 1000, 13)
            ew = dose_response(m, [effect], wide, dose_unit, **run)[effect].to_numpy(float)
            span = float(np.nanmax(ew) - np.nanmin(ew)) or 1.0
        limit = s.max_increase * span
    elif s.escalation != "half-log":
        raise SpecError(f"unknown escalation {s.escalation!r}", element="decision.escalation",
                        fix="use half-log or model-guided")
    while len(doses) < s.steps:
        d0 = doses[-1]
        if s.escalation == "half-log":
            nxt, why = d0 * HALF_LOG, "half-log step (x3.16)"
        else:
            e0 = eff(d0)
            g = lambda x, e0=e0: eff(math.exp(x)) - e0 - limit  # noqa: E731
            lo, hi = math.log(d0 * s.min_fold), math.log(d0 * s.max_fold)
            if g(hi) <= 0:
                nxt, why = d0 * s.max_fold, (f"largest step (x{s.max_fold:g}); {on} effect "
                                             "rise below limit")
            elif g(lo) >= 0:
                nxt, why = d0 * s.min_fold, (f"smallest step (x{s.min_fold:g}); {on} effect "
                                             "rise above limit")
            else:
                nxt = math.exp(brentq(g, lo, hi, xtol=1e-3))
                why = f"{on} effect rise = {s.max_increase:g} x its range ({limit:.3g})"
        nxt = _round(nxt)
        if max_dose is not None and nxt > max_dose:
            break
        doses.append(nxt)
        rules.append(why)
    units = at(doses[0], False).attrs.get("units", {})
    rows = []
    for k, d in enumerate(doses):
        nom = at(d, False)
        band = at(d, True) if samples is not None else None
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
            row[col] = float(nom[mt].iloc[0])
            if band is not None:
                v = band.loc[band[C.STATUS] == C.STATUS_OK, mt]
                q = np.percentile(v.to_numpy(float), percentiles) if len(v) else [math.nan] * 2
                row.update({lo: float(q[0]), hi: float(q[1])})
            else:
                row.update({lo: math.nan, hi: math.nan})
            if ucol:
                row[ucol] = f"{units.get(mt, '')} ({mt})"
        rows.append(row)
    return pd.DataFrame(rows, columns=list(C.LADDER_COLUMNS))
