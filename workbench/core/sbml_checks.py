"""Validate a model with every libSBML consistency check group, units included.

All findings are collected and returned together as one table (the way
PEtab's linter reports), each with the element it is about and a suggested fix
where one is known.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass

import pandas as pd

from workbench import columns as C
from workbench.core.model import Model, load_model

__all__ = ["ValidationOptions", "validate"]

# libSBML error ids -> how to fix them (the common ones in QSP models)
_FIXES = {
    10501: "declare units on the parameters in this expression so that both sides agree, or "
           "correct the expression",
    10511: "give the rule's formula the units of its variable",
    10512: "give the rule's formula the units of its variable",
    10513: "make the rate rule's formula have the variable's units per time",
    10521: "give the initial assignment the units of its symbol",
    10531: "make the event assignment have the units of its variable",
    10541: "make the kinetic law have units of extent per time (e.g. nmol/h)",
    10542: "make the kinetic law have units of extent per time (e.g. nmol/h)",
    10551: "make the event delay have time units",
    10561: "make the event assignment have the units of its variable",
    10562: "make the event assignment have the units of its variable",
    10565: "make the rule have the units of its variable",
    10599: "declare units on every parameter (the `unit` attribute) so that units can be checked",
    20701: "declare the unit (a UnitDefinition id or a base unit) before using it",
    21121: "use a species id in the reaction that exists in the model",
    99505: "declare units on every parameter and number in this expression so that it can be "
           "checked",
    99701: "declare the unit or use an SBML base unit",
    80701: "declare units on this parameter",
    81121: "declare units on the local parameter",
    80501: "set the compartment size or add an initial assignment for it",
    80601: "set the species' initial amount or concentration, or add an initial assignment",
}

_SEVERITY = {0: "info", 1: "warning", 2: "error", 3: "fatal"}


@dataclass(frozen=True)
class ValidationOptions:
    """One switch per libSBML consistency check group (all on by default)."""

    general: bool = True
    identifier: bool = True
    units: bool = True
    mathml: bool = True
    sbo: bool = True
    overdetermined: bool = True
    modeling_practice: bool = True


def _element_index(doc) -> tuple[list[int], list[str]]:
    lines, ids = [], []
    elements = doc.getListOfAllElements()
    pairs = []
    for i in range(elements.getSize()):
        e = elements.get(i)
        ln = e.getLine()
        if ln <= 0:
            continue
        ident = ""
        if hasattr(e, "isSetId") and e.isSetId():
            ident = e.getId()
        elif hasattr(e, "isSetVariable") and e.isSetVariable():
            ident = e.getVariable()
        elif hasattr(e, "isSetSymbol") and e.isSetSymbol():
            ident = e.getSymbol()
        elif e.isSetMetaId():
            ident = e.getMetaId()
        if ident:
            pairs.append((ln, f"{e.getElementName()} {ident}"))
    pairs.sort()
    for ln, ident in pairs:
        lines.append(ln)
        ids.append(ident)
    return lines, ids


def _gate_rows(m: Model, rows: list[dict]) -> list[dict]:
    """The model gate's findings (what would stop or falsify a simulation) as rows: on the
    simulatable (flattened) document; when nothing else is an error, libRoadRunner builds
    the model once in a child process, so that "0 errors" means it builds."""
    import libsbml

    from workbench.core.model_gate import gate_findings, patch_unvalued, trial_build

    sim = libsbml.readSBMLFromString(m.sbml)
    found, _ = gate_findings(sim, libsbml_checks=False)
    n_err = sum(r[C.SEVERITY] in ("error", "fatal") for r in rows)
    from workbench.core._sbmlmath import unsupported_features

    if n_err == 0 and not any(f.severity == "error" for f in found) \
            and not unsupported_features(sim):  # those the engine refuses with its own message
        crash = trial_build(patch_unvalued(sim, found) or m.sbml, m.source)
        if crash is not None:
            found.append(crash)
    return [{C.SEVERITY: f.severity, C.CATEGORY: "Simulation readiness (workbench model gate)",
             C.CODE: f.code, C.ELEMENT: f.element, C.LINE: int(f.line), C.MESSAGE: f.message,
             C.FIX: f.fix, C.COUNT: 1} for f in found]


def validate(model: Model | str | os.PathLike[str],
             options: ValidationOptions | None = None) -> pd.DataFrame:
    """Run libSBML's consistency checks on the model as written, and the model gate.

    Besides libSBML's findings, the table holds what would stop libRoadRunner or
    make its numbers wrong (:mod:`workbench.model_gate`: parameters without values,
    NaN or infinite values, compartments of size <= 0) and, when nothing else is an
    error, the result of building the model once in a child process: "0 errors"
    means the model builds.

    Parameters
    ----------
    model
        A :class:`~workbench.core.model.Model` or anything :func:`~workbench.load_model` takes.
    options
        Which check groups to run (default: all, units included).

    Returns
    -------
    pandas.DataFrame
        One row per finding, columns :data:`workbench.columns.VALIDATION_COLUMNS`,
        sorted by severity (fatal, error, warning, info). ``attrs["source"]``
        names the model.
    """
    import libsbml

    m = model if isinstance(model, Model) else load_model(model, check=False)
    o = options or ValidationOptions()
    doc = libsbml.readSBMLFromString(m.original_sbml)
    groups = {
        libsbml.LIBSBML_CAT_GENERAL_CONSISTENCY: o.general,
        libsbml.LIBSBML_CAT_IDENTIFIER_CONSISTENCY: o.identifier,
        libsbml.LIBSBML_CAT_UNITS_CONSISTENCY: o.units,
        libsbml.LIBSBML_CAT_MATHML_CONSISTENCY: o.mathml,
        libsbml.LIBSBML_CAT_SBO_CONSISTENCY: o.sbo,
        libsbml.LIBSBML_CAT_OVERDETERMINED_MODEL: o.overdetermined,
        libsbml.LIBSBML_CAT_MODELING_PRACTICE: o.modeling_practice,
    }
    for cat, on in groups.items():
        doc.setConsistencyChecks(cat, on)
    doc.checkConsistency()  # the error log keeps the read-time findings and adds these
    errors = [doc.getError(i) for i in range(doc.getNumErrors())]
    lines, ids = _element_index(doc)
    rows: list[dict] = []
    seen: dict[tuple, dict] = {}
    for e in errors:
        key = (e.getErrorId(), e.getLine(), e.getColumn(), e.getMessage())
        if key in seen:
            seen[key][C.COUNT] += 1
            continue
        ln = e.getLine()
        element = ""
        if ln > 0 and lines:
            k = bisect.bisect_right(lines, ln) - 1
            if k >= 0:
                element = ids[k]
        msg = " ".join(e.getMessage().split())
        rows.append({C.SEVERITY: _SEVERITY.get(e.getSeverity(), str(e.getSeverity())),
                     C.CATEGORY: e.getCategoryAsString(), C.CODE: int(e.getErrorId()),
                     C.ELEMENT: element, C.LINE: int(ln), C.MESSAGE: msg,
                     C.FIX: _FIXES.get(int(e.getErrorId()), ""), C.COUNT: 1})
        seen[key] = rows[-1]
    rows += _gate_rows(m, rows)
    order = {"fatal": 0, "error": 1, "warning": 2, "info": 3}
    df = pd.DataFrame(rows, columns=list(C.VALIDATION_COLUMNS))
    if len(df):
        df = df.sort_values(by=[C.SEVERITY, C.LINE], key=lambda s: s.map(order) if s.name == C.SEVERITY
                            else s, kind="stable").reset_index(drop=True)
    df.attrs["source"] = m.source
    return df
