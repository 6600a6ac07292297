"""Low-level pieces of the provenance table shared by :mod:`workbench.provenance` and
:mod:`workbench.priors` (kept below both so that neither imports the other back):
the typed table and the valued quantities of a model."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from workbench import columns as C
from workbench.core.model import Model

_TEXT_COLUMNS = tuple(c for c in C.PROVENANCE_COLUMNS
                      if c not in (C.CHOSEN, C.VALUE, C.INITIAL_VALUE, C.CALIBRATED_VALUE))
_FLOAT_COLUMNS = (C.VALUE, C.INITIAL_VALUE, C.CALIBRATED_VALUE, C.PRIOR_CENTRE)


@dataclass(frozen=True)
class _Quantity:
    kind: str
    id: str
    scope: str
    name: str
    value: float
    unit: str
    derived: str          # "" or "initial assignment: ..." / "assignment rule: ..."


def _model_quantities(model: Model) -> list[_Quantity]:
    m = model.sim_document.getModel()
    rules = {}
    for i in range(m.getNumRules()):
        r = m.getRule(i)
        if r.isAssignment():
            rules[r.getVariable()] = "assignment rule: " + _formula(r.getMath())
    ias = {}
    for i in range(m.getNumInitialAssignments()):
        a = m.getInitialAssignment(i)
        ias[a.getSymbol()] = "initial assignment: " + _formula(a.getMath())

    def derived(sid: str) -> str:
        return rules.get(sid) or ias.get(sid, "")

    out: list[_Quantity] = []
    for _, r in model.compartments.iterrows():
        out.append(_Quantity("compartment", r[C.ID], "", r[C.NAME], float(r[C.VALUE]), r[C.UNIT],
                             derived(r[C.ID])))
    for _, r in model.species.iterrows():
        out.append(_Quantity("species", r[C.ID], "", r[C.NAME], float(r[C.VALUE]), r[C.UNIT],
                             derived(r[C.ID])))
    for _, r in model.parameters.iterrows():
        scope = "" if r["scope"] == "global" else r["scope"]
        out.append(_Quantity("parameter", r[C.ID], scope, r[C.NAME], float(r[C.VALUE]), r[C.UNIT],
                             "" if scope else derived(r[C.ID])))
    return out


def _formula(ast) -> str:
    import libsbml

    return libsbml.formulaToL3String(ast) if ast is not None else ""


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reindex(columns=[*df.columns, *(c for c in C.PROVENANCE_COLUMNS if c not in df.columns)])
    for c in _TEXT_COLUMNS:
        df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    for c in _FLOAT_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df[C.CHOSEN] = df[C.CHOSEN].astype(bool)
    return df.reset_index(drop=True)
