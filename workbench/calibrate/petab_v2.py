"""PEtab v2 problems, read with ``petab.v2`` and mapped onto the v1 tables.

A PEtab v2 problem (``format_version: 2.0.0``) states the same calibration
problem as v1 with different tables: experiments made of periods (a start time
and the conditions applied then) instead of ``simulationConditionId`` /
``preequilibrationConditionId`` columns; a long condition table
(``conditionId, targetId, targetValue``); named observable and noise
placeholders; one ``noiseDistribution`` column (``log-normal`` instead of a log
transformation plus ``normal``); priors on the parameter's linear value and no
``parameterScale`` (PEtab v2 specification,
https://petab.readthedocs.io/en/latest/v2/documentation_data_format.html).

:func:`load_v2` reads the problem with the ``petab`` library (>= 0.10, which
needs Python >= 3.12), runs its v2 validator, and rewrites the tables into the
v1 shape the workbench's checks and objective already use, so a v2 problem and
its v1 twin give the same objective. The mapping:

* an experiment with one period starting at t = 0 becomes a simulation
  condition named after the experiment; a leading period at ``-inf`` becomes
  its pre-equilibration condition; several conditions of one period are merged
  (their targets are disjoint by the specification); a parameter set in the
  pre-equilibration period keeps its value in the next period, as v2 says;
* measurements without an experiment are simulated with the model as is;
* placeholders are renamed to v1's ``observableParameterN_<observableId>``;
* parameters are estimated on the linear scale (v2 has no parameter scale).

What the workbench cannot simulate yet is refused with a finding, never
approximated: experiments with several periods after t = 0 (dosing schedules),
periods starting at t != 0, targetValue expressions other than a number or a
parameter id, mapping tables, several models, and priors other than uniform,
normal, laplace, log-normal and log-laplace.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["PETAB_V2_MIN", "lint_v2", "load_v2", "petab_v2_support"]

#: the first petab release with the PEtab v2 reader the workbench uses
PETAB_V2_MIN = (0, 10)

#: v2 noise distribution -> (v1 observableTransformation, v1 noiseDistribution)
_NOISE = {"normal": ("lin", "normal"), "laplace": ("lin", "laplace"),
          "log-normal": ("log", "normal"), "log-laplace": ("log", "laplace")}
#: v2 prior distribution -> v1 objectivePriorType (both on the linear value)
_PRIORS = {"uniform": "uniform", "normal": "normal", "laplace": "laplace",
           "log-normal": "logNormal", "log-laplace": "logLaplace"}


def petab_v2_support() -> str | None:
    """``None`` when the installed ``petab`` reads PEtab v2, else why not (one sentence).

    petab 0.8 (the last release for Python 3.11) ships only a draft of the v2
    reader; the workbench needs petab >= 0.10, which needs Python >= 3.12.
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:  # the distribution's version (petab 0.8 deprecates petab.__version__)
        version = dist_version("petab")
    except PackageNotFoundError:  # pragma: no cover - petab is a dependency
        return "the petab library is not installed"
    try:
        parts = tuple(int(v) for v in version.split(".")[:2])
    except ValueError:
        parts = (0, 0)
    if parts >= PETAB_V2_MIN:
        return None
    py = ".".join(map(str, sys.version_info[:3]))
    return (f"reading PEtab v2 needs the petab library >= {PETAB_V2_MIN[0]}.{PETAB_V2_MIN[1]}, "
            f"which needs Python >= 3.12; this is Python {py} with petab {version}")


def load_v2(path: Path, finding: Callable[..., None], findings: list) -> dict:
    """Read a PEtab v2 problem into v1-shaped tables.

    Parameters
    ----------
    path
        The problem's YAML file (already checked to be a readable YAML mapping).
    finding
        ``workbench.petab_problem._finding`` (passed in to keep the import
        one-way).
    findings
        The list findings are appended to.

    Returns
    -------
    dict
        ``model_path`` and the v1-shaped ``measurement``, ``condition``,
        ``observable`` and ``parameter`` tables (only those that could be
        built), plus ``v2`` (the ``petab.v2.Problem``) for its validator.
    """
    why = petab_v2_support()
    if why is not None:
        finding(findings, "error", "petab-v2-unsupported", "yaml", "format_version",
                f"this is a PEtab v2 problem, and {why}",
                "run the workbench on Python >= 3.12 (for example `PYTHON=python3.13 "
                "VENV=.venv313 bash scripts/test` builds that environment), or give the "
                "PEtab v1 version of the problem")
        return {}
    import petab.v2 as v2

    try:
        problem = v2.Problem.from_yaml(str(path))
    except Exception as exc:
        finding(findings, "error", "unreadable-table", "yaml", path.name,
                f"petab cannot read this PEtab v2 problem: {' '.join(str(exc).split())[:600]}",
                "check the tables against the PEtab v2 specification (`petablint` "
                "lists the problems)")
        return {}
    parts: dict = {"v2": problem}
    cfg = problem.config
    models = dict(cfg.model_files or {})
    if len(models) != 1:
        finding(findings, "error", "several-models", "model", "",
                f"{len(models)} models: only one model per problem is supported")
    for mid, info in list(models.items())[:1]:
        if str(info.language).lower() != "sbml":
            finding(findings, "error", "model", "model", mid,
                    f"model language {info.language!r}: only SBML models are supported")
        else:
            p = Path(info.location)
            parts["model_path"] = p if p.is_absolute() else Path(cfg.base_path or path.parent) / p
    if cfg.mapping_files:
        finding(findings, "error", "mapping-table", "yaml", "mapping_files",
                "PEtab v2 mapping tables are not supported",
                "use the model's ids in the tables and drop the mapping table")
    parts["parameter"] = _parameters(problem, finding, findings)
    parts["observable"], ph = _observables(problem)
    conds, by_experiment = _conditions(problem, finding, findings)
    parts["condition"] = conds
    parts["measurement"] = _measurements(problem, by_experiment, ph)
    return parts


def lint_v2(problem, finding: Callable[..., None], findings: list) -> None:
    """Errors of petab's own PEtab v2 validator, added as ``petablint`` findings."""
    from petab.v2.lint import ValidationIssueSeverity

    try:
        issues = problem.validate()
    except Exception as exc:  # the validator itself failed on this input
        finding(findings, "error", "petablint", "yaml", "", " ".join(str(exc).split()))
        return
    for issue in issues:
        if issue.level >= ValidationIssueSeverity.ERROR:
            finding(findings, "error", "petablint", "yaml", "", " ".join(issue.message.split()))


def _parameters(problem, finding, findings) -> pd.DataFrame:
    rows = []
    for q in problem.parameters:
        row = {"parameterId": q.id, "parameterScale": "lin", "lowerBound": _num(q.lb),
               "upperBound": _num(q.ub), "nominalValue": _num(q.nominal_value),
               "estimate": int(bool(q.estimate)), "objectivePriorType": "",
               "objectivePriorParameters": ""}
        if q.prior_distribution is not None:
            kind = str(getattr(q.prior_distribution, "value", q.prior_distribution))
            if kind not in _PRIORS:
                finding(findings, "error", "bad-prior", "parameter", q.id,
                        f"priorDistribution {kind!r} is not supported (supported: "
                        f"{', '.join(_PRIORS)})")
            else:
                row["objectivePriorType"] = _PRIORS[kind]
                row["objectivePriorParameters"] = ";".join(
                    repr(float(v)) for v in q.prior_parameters)
        rows.append(row)
    return pd.DataFrame(rows).set_index("parameterId")


def _observables(problem) -> tuple[pd.DataFrame, dict]:
    """The v1 observable table; placeholders renamed to observableParameterN_<id>."""
    from petab.v1.math import petab_math_str

    rows, ph = [], {}
    for o in problem.observables:
        subs = {s: _symbol(f"observableParameter{i}_{o.id}")
                for i, s in enumerate(o.observable_placeholders, start=1)}
        subs.update({s: _symbol(f"noiseParameter{i}_{o.id}")
                     for i, s in enumerate(o.noise_placeholders, start=1)})
        ph[o.id] = (len(o.observable_placeholders), len(o.noise_placeholders))
        tr, nd = _NOISE[str(getattr(o.noise_distribution, "value", o.noise_distribution))]
        rows.append({"observableId": o.id,
                     "observableFormula": petab_math_str(o.formula.xreplace(subs)),
                     "noiseFormula": petab_math_str(o.noise_formula.xreplace(subs)),
                     "observableTransformation": tr, "noiseDistribution": nd})
        if o.name:
            rows[-1]["observableName"] = o.name
    return pd.DataFrame(rows).set_index("observableId"), ph


def _symbol(name: str):
    import sympy as sp

    return sp.Symbol(name, real=True)


def _conditions(problem, finding, findings) -> tuple[pd.DataFrame, dict]:
    """One v1 condition per experiment (and one for its pre-equilibration).

    Returns the condition table and ``experimentId -> (simulation id,
    pre-equilibration id or '')``.
    """
    changes = {c.id: c.changes for c in problem.conditions}
    kinds = _model_kinds(problem)
    table: dict[str, dict] = {}
    names: dict[str, str] = {}
    by_experiment: dict[str, tuple[str, str]] = {}
    for e in problem.experiments:
        periods = e.sorted_periods
        pre = [p for p in periods if p.is_preequilibration]
        main = [p for p in periods if not p.is_preequilibration]
        if len(main) != 1 or len(pre) > 1:
            finding(findings, "error", "experiment-periods", "experiment", e.id,
                    f"experiment {e.id!r} has {len(main)} periods after the pre-equilibration: "
                    "only one period (from t = 0) is supported",
                    "split the experiment, or use one period per experiment")
            table[e.id], names[e.id], by_experiment[e.id] = {}, "refused", (e.id, "")
            continue
        if main[0].time != 0:
            finding(findings, "error", "experiment-periods", "experiment", e.id,
                    f"experiment {e.id!r} starts at t = {main[0].time:g}: simulations start "
                    "at t = 0", "shift the experiment's and its measurements' times to "
                    "start at 0")
            table[e.id], names[e.id], by_experiment[e.id] = {}, "refused", (e.id, "")
            continue
        pre_values: dict = {}
        pre_id = ""
        if pre:
            pre_id = f"{e.id}__preequilibration"
            pre_values = _merge(e.id, pre[0].condition_ids, changes, finding, findings)
            table[pre_id] = pre_values
            names[pre_id] = f"{e.id}: pre-equilibration ({'+'.join(pre[0].condition_ids)})"
        values = _merge(e.id, main[0].condition_ids, changes, finding, findings)
        # v2: a parameter set before keeps its value until changed again
        for target, v in pre_values.items():
            if kinds.get(target) == "parameter" and target not in values:
                values[target] = v
        table[e.id] = values
        names[e.id] = f"{e.id}: {'+'.join(main[0].condition_ids) or 'model as is'}"
        by_experiment[e.id] = (e.id, pre_id)
    meas = problem.measurement_df
    if meas is not None and meas["experimentId"].map(_missing).any():
        none_id = "model_as_is"
        while none_id in table:
            none_id += "_"
        table[none_id], names[none_id] = {}, "no experiment: model as is"
        by_experiment[""] = (none_id, "")
    ids = list(table)
    targets = list(dict.fromkeys(t for v in table.values() for t in v))
    df = pd.DataFrame({"conditionName": [names[i] for i in ids]},
                      index=pd.Index(ids, name="conditionId"))
    for t in targets:
        df[t] = pd.Series([table[i].get(t, math.nan) for i in ids], index=df.index, dtype=object)
    return df, by_experiment


def _merge(eid, condition_ids, changes, finding, findings) -> dict:
    """target -> number or parameter id, over the conditions applied together."""
    out: dict = {}
    for cid in condition_ids:
        for ch in changes.get(cid, []):
            value = ch.target_value
            if getattr(value, "is_number", False):
                out[ch.target_id] = float(value)
            elif getattr(value, "is_Symbol", False):
                out[ch.target_id] = str(value)
            else:
                finding(findings, "error", "condition-expression", "condition",
                        f"{cid}.{ch.target_id}",
                        f"condition {cid!r} (experiment {eid!r}) sets {ch.target_id!r} to the "
                        f"expression {value}: only numbers and parameter ids are supported",
                        "add a parameter for the value to the parameter table, or compute "
                        "the number")
    return out


def _model_kinds(problem) -> dict[str, str]:
    """id -> kind of the model's entities (empty when libSBML cannot read it: the
    model's own findings are reported by the caller)."""
    import libsbml

    from workbench.core.model import element_kinds

    try:
        return element_kinds(libsbml.readSBMLFromString(problem.model.to_sbml_str()).getModel())
    except Exception:
        return {}


def _measurements(problem, by_experiment: dict, ph: dict) -> pd.DataFrame:
    df = problem.measurement_df.reset_index(drop=True)
    exp = df["experimentId"].map(lambda v: "" if _missing(v) else str(v))
    known = {e: by_experiment[e] for e in exp.unique() if e in by_experiment}
    out = pd.DataFrame({
        "observableId": df["observableId"].astype(str),
        # an unknown or refused experiment keeps its id: the checks name it
        "simulationConditionId": [known.get(e, (e, ""))[0] for e in exp],
        "preequilibrationConditionId": [known.get(e, ("", ""))[1] or np.nan for e in exp],
        "time": df["time"].astype(float),
        "measurement": df["measurement"].astype(float),
    })
    for col in ("observableParameters", "noiseParameters"):
        out[col] = [np.nan if _missing(v) or str(v).strip() == "" else str(v)
                    for v in (df[col] if col in df.columns else [np.nan] * len(df))]
    return out


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or str(v) in ("", "nan", "None")


def _num(v) -> float:
    return math.nan if v is None else float(v)

