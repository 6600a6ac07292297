"""The decision summary: the first section of the MABEL report (HTML and PDF).

A reviewer opening the dossier first needs the answer and what it rests on: the
starting dose per kg and as an absolute amount for the reference subject, its
basis, the cumulative safety margin between the model's nominal MABEL and the
proposed dose, the share of virtual patients (or of uncertainty draws) that
reach the minimal effect at that dose, the analyses the model-risk level
requires but that were not done, and whether the run was a reduced (``--quick``)
one whose numbers are only indicative. :func:`decision_summary` collects them in
a :class:`DecisionSummary`; :mod:`workbench.report_render` lays it out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench import columns as C

__all__ = ["DecisionSummary", "cumulative_margin_from_table", "decision_summary", "model_risk_status"]

#: decision-table item of each QSP estimate (prefix) and of the later steps
_QSP_PREFIX = "QSP MABEL: "
_SELECTED = "QSP MABEL (selected)"
_MABEL = "MABEL"
_FACTOR_PREFIX = "safety factor: "
_AFTER_FACTORS = "dose after safety factors"
_MINIMAL_ACTIVE = "minimal active dose"
_START = "starting dose"


@dataclass(frozen=True)
class DecisionSummary:
    """What the first section of the report states (module docstring)."""

    start_dose: float
    dose_unit: str
    per_kg: tuple[float, str] | None
    absolute: tuple[float, str] | None
    body_weight: float
    basis: str
    margin: float
    margin_steps: pd.DataFrame
    margin_reference: str
    reach: list[str]
    gaps: list[str]
    reduced: str | None

    def dose_text(self) -> str:
        """The starting dose per kg and absolute, e.g. ``0.1 ug/kg (7 ug for 70 kg)``."""
        if not math.isfinite(self.start_dose):
            return "no starting dose can be proposed"
        parts = []
        if self.per_kg is not None:
            parts.append(f"{self.per_kg[0]:.4g} {self.per_kg[1]}")
        if self.absolute is not None:
            parts.append(f"{self.absolute[0]:.4g} {self.absolute[1]} for the {self.body_weight:g} "
                         "kg reference subject")
        return " = ".join(parts) if parts else f"{self.start_dose:.4g} {self.dose_unit}"


def _value(table: pd.DataFrame, item: str) -> float:
    hit = table.loc[table[C.ITEM] == item, C.VALUE]
    return float(hit.iloc[-1]) if len(hit) else math.nan


def cumulative_margin_from_table(table: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    """The cumulative safety margin, computed from the rows of a decision table.

    Each cautionary step of :func:`workbench.mabel.decision.decide` lowers the dose: taking a
    percentile of the MABEL distribution instead of the nominal value, taking the lowest
    of the QSP and traditional estimates, each safety factor, and the rounding down; a
    justified minimal active dose raises it (a factor below 1). The margin is the product
    of these factors, so it equals the nominal QSP MABEL divided by the starting dose.

    This is the single place the report computes it; when the decision helper exposes
    the margin on :class:`workbench.mabel.decision.Decision` (``cumulative_margin``), the report
    uses that instead (:func:`decision_summary`).

    Returns
    -------
    margin
        Product of the step factors (NaN when no starting dose was proposed).
    steps
        One row per step: ``step``, ``from``, ``to``, ``factor`` (dimensionless).
    """
    qsp = table.loc[table[C.ITEM].astype(str).str.startswith(_QSP_PREFIX), C.VALUE].astype(float)
    qsp = qsp[np.isfinite(qsp) & (qsp > 0)]
    nominal = float(qsp.min()) if len(qsp) else math.nan
    chain = [("lowest nominal QSP MABEL", nominal), ("QSP MABEL statistic", _value(table, _SELECTED)),
             ("lowest estimate (QSP and traditional)", _value(table, _MABEL))]
    rows = []
    prev = chain[0][1]
    for name, v in chain[1:]:
        if math.isfinite(v) and v > 0:
            if math.isfinite(prev):
                rows.append({"step": name, "from": prev, "to": v, "factor": prev / v})
            prev = v
    for _, r in table[table[C.ITEM].astype(str).str.startswith(_FACTOR_PREFIX)].iterrows():
        f = float(r[C.VALUE])
        rows.append({"step": str(r[C.ITEM]), "from": prev, "to": prev / f, "factor": f})
        prev = prev / f
    for item in (_AFTER_FACTORS, _MINIMAL_ACTIVE, _START):
        v = _value(table, item)
        if item == _MINIMAL_ACTIVE and not (table[C.RULE].astype(str) ==
                                           "life-threatening disease, justified").any():
            continue
        if math.isfinite(v) and v > 0 and math.isfinite(prev) and not math.isclose(v, prev,
                                                                                     rel_tol=1e-12):
            rows.append({"step": {_START: "rounding down", _AFTER_FACTORS: "safety factors"}.get(
                item, item), "from": prev, "to": v, "factor": prev / v})
        if math.isfinite(v):
            prev = v
    steps = pd.DataFrame(rows, columns=["step", "from", "to", "factor"])
    start = _value(table, _START)
    if not (math.isfinite(start) and start > 0 and len(steps)):
        return math.nan, steps
    return float(np.prod(steps["factor"].to_numpy(float))), steps


def model_risk_status(run) -> pd.DataFrame:
    """Each analysis the study's model-risk level requires, and whether it was done."""
    done = {"verification": run.verification is not None,
            "local sensitivity": run.local is not None,
            "Sobol sensitivity": run.sobol is not None,
            "uncertainty": run.uncertainty is not None,
            "model variants": run.variants is not None,
            "validation data": getattr(getattr(run, "data", None), "validation", None) is not None,
            "virtual population": run.population is not None}
    req = list(run.study.required_analyses)
    return pd.DataFrame({"analysis": req, "done": ["yes" if done.get(a) else "NO" for a in req]})


def _per_kg_and_absolute(dose: float, unit: str, weight: float):
    from workbench.core import units as U

    if not math.isfinite(dose) or not unit:
        return None, None
    try:
        if unit.replace(" ", "").endswith("/kg") and U.same_dimension(unit, "mg/kg") | \
                U.same_dimension(unit, "mol/kg"):
            num = unit.replace(" ", "")[:-3]
            return (dose, unit), (dose * weight, num)
        if U.same_dimension(unit, "mg") or U.same_dimension(unit, "mol"):
            return (dose / weight, f"{unit}/kg"), (dose, unit)
    except Exception:  # an unreadable unit: state the dose as given
        return None, None
    return None, None


def _reach(run) -> list[str]:
    """Share of virtual patients (or uncertainty draws) reaching each minimal effect at the
    starting dose, as the run computed it (:func:`workbench.study.report_tables.reach_at_start`)."""
    tables = getattr(run, "report_tables", None)
    return list(tables.reach) if tables is not None else []


def decision_summary(run) -> DecisionSummary:
    """Collect the decision summary of a :class:`workbench.study.pipeline.MabelRun`."""
    dec = run.decision
    weight = float(run.study.sections.drug.body_weight)
    per_kg, absolute = _per_kg_and_absolute(dec.start_dose, dec.dose_unit, weight)
    margin, steps = cumulative_margin_from_table(dec.table)
    reference = "the lowest nominal QSP MABEL"
    given = getattr(dec, "cumulative_margin", None)  # the decision's own, when it has one
    table = getattr(dec, "margin", None)
    if given is not None and math.isfinite(float(given)) and table is not None and len(table):
        # the decision's chain starts at the primary effect's nominal MABEL (so "most
        # sensitive effect" is one of its steps): show exactly what the decision states
        margin = float(given)
        steps = pd.DataFrame({"step": table[C.ITEM].astype(str),
                              "factor": table[C.VALUE].astype(float)})
        reference = "the nominal QSP MABEL of " + str(table.attrs.get("reference", "the "
                                                                     "primary effect"))
    risk = model_risk_status(run)
    gaps = [str(a) for a, d in zip(risk["analysis"], risk["done"], strict=True) if d != "yes"]
    return DecisionSummary(start_dose=dec.start_dose, dose_unit=dec.dose_unit, per_kg=per_kg,
                           absolute=absolute, body_weight=weight, basis=str(dec.basis),
                           margin=margin, margin_steps=steps, margin_reference=reference,
                           reach=_reach(run), gaps=gaps,
                           reduced=run.notes.get("reduced"))
