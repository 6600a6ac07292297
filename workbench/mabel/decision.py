"""First-in-human dose decision: QSP MABEL beside traditional MABEL, safety factors, escalation.

The reasoning follows the FDA draft guidance on QSP-based MABEL (2026) and the
EMA first-in-human guideline (EMEA/CHMP/SWP/28367/07 Rev. 1, 2017, section
7.2): each step is one row of the decision table (columns
:data:`workbench.columns.DECISION_COLUMNS`) with the sentence the report prints.

1. *QSP MABEL*: the lowest dose over the minimal-effect definitions
   (:func:`workbench.mabel.qsp.qsp_mabel`), taken as the nominal value, the
   median, the lower (5th) percentile or any percentile of its distribution
   under uncertainty (``statistic``; default ``"lower"``, the cautious choice).
   :func:`statistic_value` gives that value; every figure and table of the
   report shows it (:attr:`Decision.qsp_mabel`).
2. *Traditional MABEL* estimates (:func:`traditional_estimates`: receptor
   occupancy, in vitro EC10-EC20 activity, animal NOAEL scaled by body-surface
   area, Muller & Brennan 2009, Clin Pharmacol Ther 85:247; FDA 2005).
3. *Comparison*: estimates agree when within ``agreement_fold`` of the QSP
   MABEL. For a novel target, or when they disagree, the lowest of the
   estimates named in ``compete`` wins (the guidance: "take the lowest");
   otherwise the QSP MABEL is kept.
4. *Safety factors* by severity, reversibility and novelty of the expected
   toxicity (:data:`DEFAULT_FACTORS`, configurable), and ``steep_factor`` when
   the dose-response is steep (FDA 2005, section VII), multiplied, divide the dose.
5. Optionally, in life-threatening disease, a *minimal active dose* above the
   MABEL replaces it when a justification is given: the dose at which
   ``active_share`` of the virtual patients (uncertainty and variability)
   reach the active effect, bounded by the tolerability limit (the highest dose
   whose risk stays below the study's limit, :mod:`workbench.ladder`) divided
   by the safety factors. Without a tolerability limit the MABEL-based dose is kept.
6. *Rounding*: the starting dose is rounded down to two significant figures.
7. *Cumulative margin*: the product of every cautionary step, from the
   nominal QSP MABEL of the primary effect (``primary_effect``, default the
   first) to the start: most sensitive effect, statistic against nominal,
   lowest estimate, safety factors, rounding (and the minimal-active raise,
   a factor below 1). One row of the table and :attr:`Decision.cumulative_margin`.

The escalation ladder from the start is :func:`workbench.mabel.ladder.escalation_ladder`.

When neither the QSP MABEL nor any traditional estimate yields a dose, no dose
is proposed: the table says so and the starting dose is NaN.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import workbench.mabel.traditional as M
from workbench import columns as C
from workbench.errors import SpecError

__all__ = ["DEFAULT_FACTORS", "Decision", "DecisionSettings", "active_share_dose", "decide",
           "statistic_value",
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


#: Designs whose expected number of patients below the active range is reported
#: (:func:`workbench.mabel.ladder.patients_below_active`).
DESIGNS = ("3+3", "accelerated titration")


@dataclass(frozen=True)
class DecisionSettings:
    """How the starting dose and the ladder are chosen (module docstring; defaults documented
    here are the study's defaults).

    Attributes
    ----------
    severity, reversibility, novelty
        Categories of :data:`DEFAULT_FACTORS` (or of ``factors``).
    factors
        Category -> level -> divisor; merged over :data:`DEFAULT_FACTORS`.
    agreement_fold
        Estimates within this fold of the QSP MABEL agree with it (3).
    statistic
        ``"nominal"``, ``"median"``, ``"lower"`` (the lower percentile, 5th) or a
        number, the percentile of the QSP MABEL distribution (default ``"lower"``).
    compete
        Which estimates compete for "lowest wins": ``"qsp"``, ``"traditional"``
        (every traditional estimate) or names of traditional estimates (default both).
    primary_effect
        Name or definition of the effect the cumulative margin is measured from
        (default: the first effect definition).
    steep_factor
        Added safety factor when the selected effect's dose-response is steep (1: none).
    life_threatening, justification, active_share
        A minimal active dose above the MABEL replaces it when the disease is
        life-threatening and a justification is given: the dose at which
        ``active_share`` (0.5) of the patients reach the active effect.
    escalation, steps, max_increase, max_fold, min_fold
        ``"half-log"`` or ``"model-guided"``; the fixed number of levels including
        the start (6); model-guided: largest rise of the running maximum of the
        effect per step as a fraction of its largest change (0.2); the ceiling
        (half-log, 3.16) and floor (1.5) of a step.
    steepness_steps
        Model-guided: the ceiling is at most sqrt(D50/D10), so that at least two
        steps cross from 10 % to 50 % of the largest effect (True).
    guide
        Steps follow the ``"nominal"`` effect or its ``"upper"`` (95th) percentile.
    max_overlap
        Adjacent levels whose 5-95 % exposure intervals overlap more than this share
        are merged: the step is widened until they do not (0.5), never beyond the risk limit.
    risk_metric, risk_threshold, risk_probability
        Absolute risk limit per level: P(``risk_metric`` > ``risk_threshold``) below
        ``risk_probability`` (0.05) over the samples; empty metric: no limit.
    design
        ``"3+3"`` or ``"accelerated titration"`` (single-patient cohorts while the
        typical patient is below the active dose, Simon et al. 1997, J Natl Cancer
        Inst 89:1138): the design of the expected number of patients dosed below
        the minimal active range.
    """

    severity: str = "severe"
    reversibility: str = "reversible"
    novelty: str = "novel"
    factors: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    agreement_fold: float = 3.0
    statistic: str | float = "lower"
    compete: tuple[str, ...] = ("qsp", "traditional")
    primary_effect: str = ""
    steep_factor: float = 1.0
    life_threatening: bool = False
    justification: str = ""
    active_share: float = 0.5
    escalation: str = "half-log"
    steps: int = 6
    max_increase: float = 0.2
    max_fold: float = HALF_LOG
    min_fold: float = 1.5
    steepness_steps: bool = True
    guide: str = "nominal"
    max_overlap: float = 0.5
    risk_metric: str = ""
    risk_threshold: float = math.nan
    risk_probability: float = 0.05
    design: str = "3+3"

    def __post_init__(self) -> None:
        if isinstance(self.compete, str):
            object.__setattr__(self, "compete", (self.compete,))
        else:
            object.__setattr__(self, "compete", tuple(str(x) for x in self.compete))
        st = self.statistic
        ok = st in ("nominal", "median", "lower") or (
            isinstance(st, int | float) and not isinstance(st, bool) and 0 < float(st) < 100)
        if not ok:
            raise SpecError(f"unknown statistic {st!r}", element="decision.statistic",
                            fix="use nominal, median, lower or a percentile between 0 and 100")
        if self.design not in DESIGNS:
            raise SpecError(f"unknown design {self.design!r}", element="decision.design",
                            fix="use " + " or ".join(DESIGNS))
        if not 1 < self.min_fold <= self.max_fold:
            raise SpecError(f"step floor {self.min_fold} and ceiling {self.max_fold} must satisfy "
                            "1 < floor <= ceiling", element="decision.min_fold",
                            fix="e.g. min_fold: 1.5, max_fold: 3.16")
        if not 0 < self.risk_probability < 1 or not 0 < self.active_share < 1:
            raise SpecError("risk_probability and active_share must be between 0 and 1",
                            element="decision.risk_probability")

    @property
    def statistic_label(self) -> str:
        st = self.statistic
        return f"{float(st):g}th percentile" if isinstance(st, int | float) else \
            {"lower": "5th percentile", "median": "median", "nominal": "nominal"}[st]

    def factor(self, category: str) -> float:
        table = {**DEFAULT_FACTORS.get(category, {}), **dict(self.factors.get(category, {}))}
        level = getattr(self, category)
        if level not in table:
            raise SpecError(f"unknown {category} {level!r}", element=f"decision.{category}",
                            fix="use one of " + ", ".join(sorted(table)))
        return float(table[level])


@dataclass(frozen=True, eq=False)
class Decision:
    """Result of :func:`decide`: the decision table, the start and the ladder.

    Attributes
    ----------
    qsp_mabel, statistic
        The QSP MABEL the decision uses (its statistic: ``"median"``, ...); every
        figure and table shows this value.
    cumulative_margin, margin
        Product of every cautionary step (nominal QSP MABEL of the primary effect
        / start) and the steps (``item``, ``value``, ``rule``).
    minimal_active
        The minimal-active-dose rows (share, tolerability limit, trade-off) when
        computed, else None.
    """

    table: pd.DataFrame
    start_dose: float
    dose_unit: str
    ladder: pd.DataFrame
    basis: str
    qsp_mabel: float = math.nan
    statistic: str = ""
    cumulative_margin: float = math.nan
    margin: pd.DataFrame | None = None
    minimal_active: pd.DataFrame | None = None
    #: candidate starts: risk at the first level against patients below the active range
    #: (:data:`workbench.columns.TRADEOFF_COLUMNS`), when a minimal active effect is given
    tradeoff: pd.DataFrame | None = None
    #: expected patients dosed below their minimal active dose over the ladder, and the design
    patients_below_active: float = math.nan
    design: str = ""

    def to_frame(self) -> pd.DataFrame:
        """The decision table (:data:`workbench.columns.DECISION_COLUMNS`)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        """Summary for Jupyter (:mod:`workbench._html_repr`)."""
        from workbench.core._html_repr import decision_html

        return decision_html(self)


def statistic_value(estimate, statistic: str | float) -> float:
    """The value of a :class:`workbench.mabel.qsp.MabelEstimate` the decision uses:
    nominal, median, lower (5th percentile) or a percentile of the per-sample doses
    (samples never reaching the effect count as infinite); nominal without samples."""
    if statistic == "nominal" or not estimate.n_samples:
        return float(estimate.dose)
    if statistic == "median":
        return float(estimate.median)
    if statistic == "lower":
        return float(estimate.lower)
    d = estimate.per_sample[C.DOSE].to_numpy(float) if estimate.per_sample is not None else None
    if d is None or not len(d):
        return float(estimate.dose)
    return float(np.percentile(np.where(np.isfinite(d), d, np.inf), float(statistic),
                               method="nearest"))


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
            hd = M.animal_to_human_dose(s["dose"], s["species"])
            dose = hd.to(dose_unit)
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
           minimal_active=None, tolerable_dose: float | None = None) -> Decision:
    """The starting dose and its reasoning (module docstring, steps 1-7).

    Parameters
    ----------
    qsp
        :class:`workbench.mabel.qsp.QspMabelResult`.
    traditional
        :func:`traditional_estimates` (same dose unit).
    settings
        :class:`DecisionSettings`.
    minimal_active
        :class:`workbench.mabel.qsp.MabelEstimate` of the minimal active effect
        (with per-sample doses: the ``active_share`` percentile is used).
    tolerable_dose
        The tolerability limit (:func:`workbench.mabel.ladder.tolerable_dose`); the
        minimal active dose never exceeds it divided by the safety factors.

    Returns
    -------
    Decision
        With an empty ladder (:func:`workbench.mabel.ladder.escalation_ladder` computes it).
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
        ok, why = e.effect.measurable(e.baseline, e.unit)
        meas = "" if ok is None else (f" Measurable: {why}." if ok else
                                      f" NOT MEASURABLE: {why}.")
        add(f"QSP MABEL: {e.effect.label}", e.dose, "lowest single dose reaching the effect "
            "(grid + Brent)", f"The model predicts '{e.effect.text}' from "
            f"{e.dose_text()}{unc}; the dose-response there is {e.steepness.classification} "
            f"(D50/D10 = {e.steepness.ratio:.3g}, log-log slope {e.steepness.slope:.3g}).{meas}")
    best = qsp.lowest()
    qdose = math.nan
    stat = s.statistic_label
    if best is not None:
        qdose = statistic_value(best, s.statistic)
        used = stat if best.n_samples else "nominal"
        add("QSP MABEL (selected)", qdose, f"lowest effect definition; {used} value"
            + (f" under {spread}" if used != "nominal" else ""),
            f"The most sensitive effect definition is '{best.effect.text}'; its {used} "
            f"QSP MABEL, {qdose:.4g} {unit}, is the QSP estimate (decision.statistic).")
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
    qsp_in = "qsp" in s.compete
    cands = {"QSP MABEL": qdose} if math.isfinite(qdose) and qsp_in else {}
    cands.update({str(t[C.NAME]): float(t[C.DOSE]) for _, t in traditional.iterrows()
                  if math.isfinite(t[C.DOSE]) and t[C.DOSE] > 0
                  and ("traditional" in s.compete or str(t[C.NAME]) in s.compete)})
    novel = s.novelty == "novel"
    disagree = any(not (1 / s.agreement_fold <= v / qdose <= s.agreement_fold)
                   for k, v in cands.items() if k != "QSP MABEL") if math.isfinite(qdose) else True
    if not cands:
        add("MABEL", math.nan, "no estimate", "Neither the model nor a traditional calculation "
            "gives a dose: no starting dose can be proposed.")
        return Decision(pd.DataFrame(rows, columns=list(C.DECISION_COLUMNS)), math.nan, unit,
                        _empty_ladder(), "none", qdose, stat)
    if (novel or disagree or not math.isfinite(qdose) or not qsp_in) and len(cands) > 1:
        basis = min(cands, key=cands.__getitem__)
        mabel = cands[basis]
        why = ("the target is novel" if novel else "the estimates disagree") \
            if math.isfinite(qdose) else "the model gives no MABEL"
        add("MABEL", mabel, "lowest estimate wins", f"Because {why}, the lowest of the competing "
            f"estimates ({', '.join(cands)}; decision.compete) is taken: {basis}, "
            f"{mabel:.4g} {unit}.")
    else:
        basis = next(iter(cands))
        mabel = cands[basis]
        add("MABEL", mabel, f"{basis} kept", f"The {basis}, {mabel:.4g} {unit}, is kept (the "
            "only competing estimate, or the estimates agree and the target is established).")
    total = 1.0
    for cat in ("severity", "reversibility", "novelty"):
        f = s.factor(cat)
        total *= f
        add(f"safety factor: {cat}", f, f"{cat} = {getattr(s, cat)}", f"The expected toxicity's "
            f"{cat} is '{getattr(s, cat)}': safety factor {f:g}.", u="1")
    steep = best is not None and best.steepness.classification == "steep"
    if s.steep_factor != 1.0 or steep:
        f = s.steep_factor if steep else 1.0
        total *= f
        add("safety factor: steep dose-response", f, "decision.steep_factor when steep",
            f"The dose-response of the selected effect is "
            f"{best.steepness.classification if best is not None else 'undetermined'}: added "
            f"safety factor {f:g}.", u="1")
    dose = mabel / total
    add("dose after safety factors", dose, f"MABEL / {total:g}", f"Dividing the MABEL by the "
        f"combined safety factor {total:g} gives {dose:.4g} {unit}.")
    before_active = dose
    ma_rows = None
    if s.life_threatening and minimal_active is not None:
        dose, basis, ma_rows = _minimal_active(s, minimal_active, dose, basis, total,
                                               tolerable_dose, unit, add)
    start = _round_down(dose)
    add("starting dose", start, "rounded down to 2 significant figures",
        f"The proposed first-in-human starting dose is {start:.4g} {unit} (basis: {basis}).")
    margin = _margin(qsp, s, best, qdose, mabel, total, before_active, dose, start)
    cm = float(np.prod(margin[C.VALUE])) if len(margin) else math.nan
    if math.isfinite(cm):
        ref = margin.attrs.get("reference", "")
        add("cumulative margin", cm, "product of the cautionary steps",
            "Cumulative margin: " + " x ".join(f"{v:.3g} ({k})" for k, v in
                                              zip(margin[C.ITEM], margin[C.VALUE], strict=True))
            + f" = {cm:.3g}-fold below the nominal QSP MABEL of {ref}.", u="1")
    table = pd.DataFrame(rows, columns=list(C.DECISION_COLUMNS))
    return Decision(table, start, unit, _empty_ladder(), basis, qdose, stat, cm, margin, ma_rows)


def _margin(qsp, s: DecisionSettings, best, qdose, mabel, total, before_active, dose, start
            ) -> pd.DataFrame:
    """The cautionary steps from the primary effect's nominal QSP MABEL to the start."""
    cols = [C.ITEM, C.VALUE, C.RULE]
    ok = [e for e in qsp.estimates if math.isfinite(e.dose)]
    if best is None or not ok or not (math.isfinite(start) and start > 0):
        return pd.DataFrame(columns=cols)
    prim = next((e for e in ok if s.primary_effect in (e.effect.label, e.effect.text)), None) \
        if s.primary_effect else ok[0]
    if prim is None:
        raise SpecError(f"primary_effect {s.primary_effect!r} is not a reached effect "
                        "definition", element="decision.primary_effect",
                        fix="name one of: " + ", ".join(e.effect.label for e in ok))
    steps = [("most sensitive effect", prim.dose / best.dose,
              f"'{prim.effect.label}' -> '{best.effect.label}'"),
             (f"{s.statistic_label if best.n_samples else 'nominal'} vs nominal",
              best.dose / qdose if math.isfinite(qdose) and qdose > 0 else 1.0,
              "decision.statistic"),
             ("lowest estimate", qdose / mabel if math.isfinite(qdose) and qdose > 0 else 1.0,
              "decision.compete"),
             ("safety factors", total, "severity x reversibility x novelty (x steep)"),
             ("minimal active dose", before_active / dose, "life-threatening: raised"),
             ("rounding", dose / start, "rounded down to 2 significant figures")]
    df = pd.DataFrame([dict(zip(cols, x, strict=True)) for x in steps], columns=cols)
    df.attrs["reference"] = f"'{prim.effect.label}' ({prim.dose:.4g} {prim.dose_unit})"
    return df


def active_share_dose(ma, share: float) -> float:
    """The dose at which ``share`` of the samples of a minimal-active
    :class:`workbench.mabel.qsp.MabelEstimate` reach the effect (samples never reaching it
    count as infinite; nearest-rank percentile); the nominal dose without samples."""
    if ma.n_samples and ma.per_sample is not None:
        d = ma.per_sample[C.DOSE].to_numpy(float)
        return float(np.percentile(np.where(np.isfinite(d), d, np.inf), 100 * share,
                                   method="nearest"))
    return float(ma.dose)


def _minimal_active(s: DecisionSettings, ma, dose: float, basis: str, total: float,
                    tolerable: float | None, unit: str, add):
    """Step 5: the minimal active dose for ``active_share`` of the patients, bounded."""
    mad = active_share_dose(ma, s.active_share)
    if ma.n_samples and ma.per_sample is not None:
        who = (f"{100 * s.active_share:g} % of {ma.n_samples} virtual patients (uncertainty and "
               "variability)")
    else:
        who = "the nominal model (no samples)"
    rows = [{C.ITEM: "minimal active dose", C.VALUE: mad,
             C.RULE: f"'{ma.effect.text}' reached in {who}"}]
    add("minimal active dose", mad, f"'{ma.effect.text}' in {who}",
        f"The minimal active dose, at which '{ma.effect.text}' is reached in {who}, is "
        + (f"{mad:.4g} {unit}." if math.isfinite(mad) else "not reached in the dose range."))
    if not s.justification.strip():
        add("minimal active dose: applied", dose, "not applied: no justification",
            "No justification was given, so the MABEL-based dose is kept.")
        return dose, basis, pd.DataFrame(rows)
    if tolerable is None or not math.isfinite(tolerable):
        add("minimal active dose: applied", dose, "not applied: no tolerability limit",
            "No tolerability limit was computed (decision.risk_metric and risk_threshold), so "
            "the minimal active dose cannot be bounded and the MABEL-based dose is kept.")
        return dose, basis, pd.DataFrame(rows)
    bound = tolerable / total
    rows.append({C.ITEM: "tolerability limit", C.VALUE: tolerable,
                 C.RULE: f"P({s.risk_metric} > {s.risk_threshold:g}) < {s.risk_probability:g}"})
    rows.append({C.ITEM: "tolerability limit / safety factors", C.VALUE: bound,
                 C.RULE: f"/ {total:g}"})
    add("tolerability limit", tolerable, f"highest dose with P({s.risk_metric} > "
        f"{s.risk_threshold:g}) < {s.risk_probability:g}",
        f"The highest dose whose risk stays below the limit is {tolerable:.4g} {unit}; divided by "
        f"the safety factors ({total:g}) it bounds the minimal active start at {bound:.4g} {unit}.")
    new = min(mad, bound)
    if math.isfinite(new) and new > dose:
        capped = bound < mad
        add("minimal active dose: applied", new, "life-threatening disease, justified"
            + ("; capped by the tolerability limit" if capped else ""),
            f"The disease is life-threatening; the starting dose is raised to {new:.4g} {unit}"
            + (" (the minimal active dose exceeds the tolerability bound, so the bound is taken)"
               if capped else "") + f", because: {s.justification.strip()}")
        basis = ("tolerability bound of the minimal active dose" if capped else
                 f"minimal active dose ({ma.effect.text})")
        dose = new
    else:
        add("minimal active dose: applied", dose, "not applied: not above the MABEL-based dose",
            "The bounded minimal active dose is not above the MABEL-based dose, which is kept.")
    return dose, basis, pd.DataFrame(rows)


def _empty_ladder() -> pd.DataFrame:
    return pd.DataFrame(columns=list(C.LADDER_COLUMNS))
