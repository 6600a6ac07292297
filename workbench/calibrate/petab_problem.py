"""PEtab calibration problems: reading and checking.

:func:`read_petab` reads a PEtab v1 problem (YAML, SBML model, measurement,
condition, observable and parameter tables) with the ``petab`` library and
checks it (a PEtab v2 problem is read by :mod:`workbench.calibrate.petab_v2` into the
same tables, with Python >= 3.12): every finding (a missing table, a formula naming an unknown symbol,
a negative measurement time, ...) is collected and reported at once
(:func:`lint_petab`), the way PEtab's own linter does (whose errors are added),
and no objective is built from an invalid problem
(Schmiester et al. 2021, doi:10.1371/journal.pcbi.1008646). The objective is
:class:`workbench.calibrate.petab_objective.Objective`.
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core.parameter_space import scale, unscale
from workbench.errors import CalibrationError, WorkbenchError

__all__ = ["PetabProblem", "lint_petab", "read_petab", "scale", "unscale"]

log = logging.getLogger(__name__)

_SCALES = ("lin", "log", "log10")
_PRIOR_TYPES = ("uniform", "normal", "laplace", "logNormal", "logLaplace", "parameterScaleUniform",
                "parameterScaleNormal", "parameterScaleLaplace")
_NOISE = ("normal", "laplace")
_PLACEHOLDER = re.compile(r"^(observable|noise)Parameter(\d+)_(.+)$")


# ---------------------------------------------------------------------------
# the problem
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PetabProblem:
    """A checked PEtab problem (picklable: tables and SBML text, no libSBML objects).

    Attributes
    ----------
    source
        The YAML file.
    sbml
        SBML text of the model (comp flattened).
    model_source
        The model file.
    measurements, conditions, observables, parameters
        The PEtab tables (pandas; conditions indexed by ``conditionId``,
        observables by ``observableId``, parameters by ``parameterId``).
        A PEtab v2 problem is held in these v1 tables (one condition per
        experiment, parameters on the linear scale: :mod:`workbench.calibrate.petab_v2`).
    format_version
        The YAML's ``format_version`` ("1", or "2.0.0" for a v2 problem).
    """

    source: str
    sbml: str
    model_source: str
    measurements: pd.DataFrame = field(repr=False, compare=False)
    conditions: pd.DataFrame = field(repr=False, compare=False)
    observables: pd.DataFrame = field(repr=False, compare=False)
    parameters: pd.DataFrame = field(repr=False, compare=False)
    format_version: str = "1"

    @property
    def name(self) -> str:
        """Problem name: the YAML file's stem."""
        return Path(self.source).stem

    @property
    def ids(self) -> list[str]:
        """Every parameter-table id."""
        return [str(i) for i in self.parameters.index]

    @property
    def free_ids(self) -> list[str]:
        """Ids of the estimated parameters, in table order."""
        est = self.parameters["estimate"].astype(int) == 1
        return [str(i) for i in self.parameters.index[est]]

    @property
    def free_scales(self) -> list[str]:
        return [str(self.parameters.at[i, "parameterScale"]) for i in self.free_ids]

    @property
    def lower(self) -> np.ndarray:
        """Lower bounds of the estimated parameters, in their scales."""
        return np.array([float(scale(self.parameters.at[i, "lowerBound"], s))
                         for i, s in zip(self.free_ids, self.free_scales, strict=True)])

    @property
    def upper(self) -> np.ndarray:
        """Upper bounds of the estimated parameters, in their scales."""
        return np.array([float(scale(self.parameters.at[i, "upperBound"], s))
                         for i, s in zip(self.free_ids, self.free_scales, strict=True)])

    @property
    def x_nominal(self) -> np.ndarray:
        """Nominal values of the estimated parameters, in their scales."""
        return np.array([float(scale(self.parameters.at[i, "nominalValue"], s))
                         for i, s in zip(self.free_ids, self.free_scales, strict=True)])

    @property
    def n_data(self) -> int:
        return len(self.measurements)


def _finding(findings: list, severity: str, code: str, table: str, element: str, message: str,
             fix: str = "", line: int | None = None) -> None:
    findings.append({C.SEVERITY: severity, C.CODE: code, C.TABLE: table, C.ELEMENT: element,
                     C.LINE: line, C.MESSAGE: message, C.FIX: fix})


def _findings_frame(findings: list) -> pd.DataFrame:
    return pd.DataFrame(findings, columns=list(C.CALIBRATION_LINT_COLUMNS))


def _is_number(x) -> bool:
    if isinstance(x, int | float | np.integer | np.floating):
        return True
    try:
        float(str(x))
        return True
    except ValueError:
        return False


def _split_overrides(cell) -> list:
    """The entries of an observableParameters / noiseParameters cell: floats or ids."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return []
    if isinstance(cell, int | float | np.integer | np.floating):
        return [float(cell)]
    text = str(cell).strip()
    if not text:
        return []
    out = []
    for part in text.split(";"):
        p = part.strip()
        out.append(float(p) if _is_number(p) else p)
    return out


def _load(path: Path) -> tuple[dict, list]:
    """Read the YAML and every table; return (parts, findings)."""
    import petab.v1 as petab

    findings: list = []
    src = str(path)
    parts: dict = {}
    if not path.exists():
        raise CalibrationError("PEtab problem file not found", source=src,
                               fix="give the problem's YAML file")
    from workbench.core.textin import load_yaml_text, read_input_text

    # safe reading first (special files, size, encoding, alias bombs), then petab's own
    load_yaml_text(read_input_text(path, "PEtab problem file", max_bytes_limit="yaml_bytes",
                                   error=CalibrationError), src, "PEtab problem file",
                   error=CalibrationError)
    try:
        cfg = petab.yaml.load_yaml(str(path))
    except Exception as exc:
        raise CalibrationError(f"not a readable PEtab YAML file ({exc})", source=src) from None
    major = str(cfg.get("format_version", "1")).split(".")[0] if isinstance(cfg, dict) else ""
    if major != "2" and (not isinstance(cfg, dict) or "problems" not in cfg):
        raise CalibrationError("not a PEtab YAML file: no 'problems' entry", source=src,
                               fix="see https://petab.readthedocs.io for the YAML layout")
    if major == "2":  # read by petab.v2 and mapped onto the v1 tables
        from workbench.calibrate.petab_v2 import load_v2

        parts = load_v2(path, _finding, findings)
        parts["format_version"] = str(cfg.get("format_version"))
        return parts, findings
    if major != "1":
        _finding(findings, "error", "format-version", "yaml", "format_version",
                 f"format_version {cfg.get('format_version')!r}: only PEtab v1 and v2 are "
                 "supported")
    base = path.parent
    problems = cfg.get("problems") or [{}]
    if len(problems) != 1:
        _finding(findings, "error", "composite", "yaml", "problems",
                 f"{len(problems)} sub-problems: only single-model problems are supported")
    sub = problems[0] or {}
    wanted = {"model": sub.get("sbml_files") or [], "measurement": sub.get("measurement_files") or [],
              "condition": sub.get("condition_files") or [],
              "observable": sub.get("observable_files") or [],
              "parameter": ([cfg["parameter_file"]] if isinstance(cfg.get("parameter_file"), str)
                            else cfg.get("parameter_file") or [])}
    readers = {"measurement": petab.get_measurement_df, "condition": petab.get_condition_df,
               "observable": petab.get_observable_df, "parameter": petab.get_parameter_df}
    for table, files in wanted.items():
        if not files:
            _finding(findings, "error", "missing-table", table, "",
                     f"the YAML lists no {table} {'file' if table == 'model' else 'table'}",
                     f"add the {table} file to {src}")
            continue
        if table == "model" and len(files) > 1:
            _finding(findings, "error", "several-models", "model", "",
                     "several SBML files: only one model per problem is supported")
        paths = [base / f for f in files]
        missing = [p for p in paths if not p.is_file()]
        for p in missing:
            _finding(findings, "error", "missing-table", table, p.name,
                     f"the {table} file {str(p)!r} does not exist", "check the file name in the YAML")
        if missing:
            continue
        if table == "model":
            parts["model_path"] = paths[0]
            continue
        try:
            dfs = [readers[table](str(p)) for p in paths]
            parts[table] = pd.concat(dfs) if len(dfs) > 1 else dfs[0]
        except Exception as exc:
            _finding(findings, "error", "unreadable-table", table, paths[0].name,
                     f"cannot read the {table} table: {' '.join(str(exc).split())}")
    return parts, findings


def _check(parts: dict, model, findings: list) -> None:
    """Semantic checks across the tables (all findings, no early exit)."""
    from petab.v1.math import sympify_petab

    kinds = _entity_kinds(model.sbml) if model is not None else {}
    meas = parts.get("measurement")
    cond = parts.get("condition")
    obs = parts.get("observable")
    par = parts.get("parameter")
    par_ids = set(map(str, par.index)) if par is not None else set()
    # parameter table
    if par is not None:
        for pid, r in par.iterrows():
            s = str(r.get("parameterScale", "lin"))
            if s not in _SCALES:
                _finding(findings, "error", "bad-scale", "parameter", pid,
                         f"parameterScale {s!r} is not lin, log or log10")
            try:
                lb, ub = float(r["lowerBound"]), float(r["upperBound"])
                nom = float(r["nominalValue"])
            except (KeyError, TypeError, ValueError):
                _finding(findings, "error", "bad-bounds", "parameter", pid,
                         "lowerBound, upperBound and nominalValue must be numbers")
                continue
            est = int(r.get("estimate", 0)) == 1
            if est and not lb < ub:
                _finding(findings, "error", "bad-bounds", "parameter", pid,
                         f"lowerBound {lb:g} is not below upperBound {ub:g}")
            if est and s in ("log", "log10") and lb <= 0:
                _finding(findings, "error", "bad-bounds", "parameter", pid,
                         f"{s}-scaled parameter with lowerBound {lb:g} <= 0")
            if est and not lb <= nom <= ub:
                _finding(findings, "warning", "nominal-outside-bounds", "parameter", pid,
                         f"nominalValue {nom:g} outside [{lb:g}, {ub:g}]")
            ptype = r.get("objectivePriorType")
            if isinstance(ptype, str) and ptype:
                if ptype not in _PRIOR_TYPES:
                    _finding(findings, "error", "bad-prior", "parameter", pid,
                             f"objectivePriorType {ptype!r} is not one of {', '.join(_PRIOR_TYPES)}")
                elif "uniform" not in ptype.lower() and any(
                        math.isnan(v) for v in _prior_params(r)):
                    _finding(findings, "error", "bad-prior", "parameter", pid,
                             "objectivePriorParameters must be two numbers separated by ';'")
            if pid in kinds and kinds[pid] not in ("parameter",):
                _finding(findings, "error", "not-a-parameter", "parameter", pid,
                         f"{pid!r} is a {kinds[pid]} of the model; the parameter table may only "
                         "hold model parameters and observable/noise parameters",
                         "set species and compartment values in the condition table")
    # observables: parse formulas, check symbols
    if obs is not None:
        for oid, r in obs.iterrows():
            for col in ("observableFormula", "noiseFormula"):
                text = r.get(col, "")
                if col == "noiseFormula" and (text is None or (isinstance(text, float)
                                                               and math.isnan(text))):
                    _finding(findings, "error", "missing-noise", "observable", oid,
                             f"observable {oid!r} has no noiseFormula")
                    continue
                try:
                    expr = sympify_petab(text if isinstance(text, str) else float(text))
                except Exception as exc:
                    _finding(findings, "error", "bad-formula", "observable", oid,
                             f"{col} {text!r} does not parse: {' '.join(str(exc).split())}")
                    continue
                for sym in sorted(str(s) for s in expr.free_symbols):
                    m = _PLACEHOLDER.match(sym)
                    if m:
                        if m.group(3) != oid:
                            _finding(findings, "error", "foreign-placeholder", "observable", oid,
                                     f"{col} of {oid!r} uses {sym!r}, a placeholder of another "
                                     "observable")
                        continue
                    if sym in kinds or sym in par_ids or sym in ("t", "time"):
                        continue
                    _finding(findings, "error", "unknown-symbol", "observable", oid,
                             f"{col} of {oid!r} refers to {sym!r}, which is neither a model "
                             "entity nor in the parameter table",
                             "fix the formula or add the parameter to the parameter table")
            tr = str(r.get("observableTransformation", "lin") or "lin")
            if tr == "nan":
                tr = "lin"
            nd = str(r.get("noiseDistribution", "normal") or "normal")
            if nd == "nan":
                nd = "normal"
            if tr not in _SCALES:
                _finding(findings, "error", "bad-transformation", "observable", oid,
                         f"observableTransformation {tr!r} is not lin, log or log10")
            if nd not in _NOISE:
                _finding(findings, "error", "bad-noise", "observable", oid,
                         f"noiseDistribution {nd!r} is not normal or laplace")
    # conditions
    if cond is not None:
        for col in cond.columns:
            if col == "conditionName":
                continue
            if kinds and col not in kinds:
                _finding(findings, "error", "unknown-condition-column", "condition", col,
                         f"condition column {col!r} is not a model entity")
            elif col in par_ids:
                _finding(findings, "error", "condition-and-parameter", "condition", col,
                         f"{col!r} is both a condition column and in the parameter table")
            for cid, v in cond[col].items():
                if isinstance(v, str) and not _is_number(v) and v not in par_ids:
                    _finding(findings, "error", "unknown-override", "condition", f"{cid}.{col}",
                             f"condition {cid!r} sets {col!r} to {v!r}, which is not in the "
                             "parameter table")
    # measurements
    if meas is not None:
        obs_ids = set(map(str, obs.index)) if obs is not None else None
        cond_ids = set(map(str, cond.index)) if cond is not None else None
        for i, (_, r) in enumerate(meas.iterrows()):
            line = i + 2  # header is line 1
            oid = str(r["observableId"])
            try:
                t = float(r["time"])
            except (TypeError, ValueError):
                t = math.nan
            if math.isnan(t) or t < 0:
                _finding(findings, "error", "bad-time", "measurement", oid,
                         f"measurement time {r['time']!r} is not a number >= 0",
                         "simulations start at t = 0; give times >= 0 (inf: steady state)", line)
            try:
                y = float(r["measurement"])
            except (TypeError, ValueError):
                y = math.nan
            if not math.isfinite(y):
                _finding(findings, "error", "bad-measurement", "measurement", oid,
                         f"measurement {r['measurement']!r} is not a finite number", "", line)
            if obs_ids is not None and oid not in obs_ids:
                _finding(findings, "error", "unknown-observable", "measurement", oid,
                         f"observable {oid!r} is not in the observable table", "", line)
            elif obs is not None and math.isfinite(y) and y <= 0 and str(
                    obs.at[oid, "observableTransformation"]
                    if "observableTransformation" in obs.columns else "lin") in ("log", "log10"):
                _finding(findings, "error", "nonpositive-log", "measurement", oid,
                         f"measurement {y:g} <= 0 of a log-transformed observable", "", line)
            for col in ("simulationConditionId", "preequilibrationConditionId"):
                c = r.get(col, "")
                if isinstance(c, str) and c and cond_ids is not None and c not in cond_ids:
                    _finding(findings, "error", "unknown-condition", "measurement", c,
                             f"{col} {c!r} is not in the condition table", "", line)
            for col in ("observableParameters", "noiseParameters"):
                for v in _split_overrides(r.get(col)):
                    if isinstance(v, str) and v not in par_ids:
                        _finding(findings, "error", "unknown-override", "measurement", v,
                                 f"{col} names {v!r}, which is not in the parameter table", "",
                                 line)


def lint_petab(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Check a PEtab v1 or v2 problem and return every finding at once.

    The checks: the YAML names each table and the files exist and parse; the
    model loads; parameter scales, bounds and estimate flags are valid;
    observable and noise formulas parse and name only model entities,
    parameter-table ids, their own placeholders, or time; condition columns are
    model entities and their overrides parameter-table ids; measurement times
    are numbers >= 0, measurements finite (and > 0 for log observables), and
    observables, conditions and overrides exist; then the ``petab`` library's
    own linter (``petab.v1.lint.lint_problem``), whose errors are added.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`workbench.columns.CALIBRATION_LINT_COLUMNS`; empty when
        the problem is valid.
    """
    findings, _ = _lint(Path(path))
    return findings


def _lint(path: Path) -> tuple[pd.DataFrame, dict]:
    from workbench.core.model import load_model

    parts, findings = _load(path)
    model = None
    if "model_path" in parts:
        try:
            model = load_model(parts["model_path"])
        except WorkbenchError as exc:
            _finding(findings, "error", "model", "model", str(parts["model_path"].name), str(exc))
    parts["model"] = model
    _check(parts, model, findings)
    if not any(f[C.SEVERITY] == "error" for f in findings):
        if "v2" in parts:
            from workbench.calibrate.petab_v2 import lint_v2

            lint_v2(parts["v2"], _finding, findings)
        else:
            _petab_lint(parts, findings)
    return _findings_frame(findings), parts


def _petab_lint(parts: dict, findings: list) -> None:
    """Errors from petab's linter (it logs them); added unless our checks already failed."""
    import petab.v1 as petab
    from petab.v1.models.sbml_model import SbmlModel

    records: list[logging.LogRecord] = []

    class _Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = _Grab(level=logging.ERROR)
    plog = logging.getLogger("petab")
    plog.addHandler(handler)
    propagate = plog.propagate
    plog.propagate = False  # its info and warnings ("Visualization table not available") stay quiet
    try:
        problem = petab.Problem(condition_df=parts["condition"],
                                measurement_df=parts["measurement"],
                                parameter_df=parts["parameter"],
                                observable_df=parts["observable"],
                                model=SbmlModel.from_file(str(parts["model_path"])))
        petab.lint.lint_problem(problem)
    except Exception as exc:  # the linter itself failed on this input
        _finding(findings, "error", "petablint", "yaml", "", " ".join(str(exc).split()))
    finally:
        plog.removeHandler(handler)
        plog.propagate = propagate
    for rec in records:
        _finding(findings, "error", "petablint", "yaml", "", " ".join(rec.getMessage().split()))


def read_petab(path: str | os.PathLike[str]) -> PetabProblem:
    """Read and check a PEtab v1 or v2 problem (v2: Python >= 3.12).

    Parameters
    ----------
    path
        The problem's YAML file.

    Returns
    -------
    PetabProblem

    Raises
    ------
    CalibrationError
        With every finding of :func:`lint_petab` at once (``.findings``); the
        problem is not built.
    PetabVersionError
        A PEtab v2 problem on Python < 3.12, whose petab (0.8) has no v2 reader.
    """
    p = Path(path)
    findings, parts = _lint(p)
    errors = findings[findings[C.SEVERITY] == "error"]
    for _, w in findings[findings[C.SEVERITY] == "warning"].iterrows():
        log.warning("%s: %s", p, w[C.MESSAGE])
    env = errors[errors[C.CODE] == "petab-v2-unsupported"]
    if len(env):  # the environment, not the problem: say how to get a reader
        from workbench.errors import PetabVersionError

        verr = PetabVersionError(str(env[C.MESSAGE].iloc[0]), source=str(p),
                                 fix=str(env[C.FIX].iloc[0]))
        verr.findings = findings
        raise verr
    if len(errors):
        lines = [f"{r[C.TABLE]}" + (f" line {int(r[C.LINE])}" if pd.notna(r[C.LINE]) else "")
                 + f": {r[C.MESSAGE]}" for _, r in errors.iterrows()]
        err = CalibrationError(f"the PEtab problem has {len(errors)} error(s): "
                               + "; ".join(lines), source=str(p),
                               fix="correct the tables; `workbench calibrate --check` lists "
                                   "the findings")
        err.findings = findings
        raise err
    cond = parts["condition"]
    meas = parts["measurement"].reset_index(drop=True)
    for col in ("preequilibrationConditionId", "observableParameters", "noiseParameters"):
        if col not in meas.columns:
            meas[col] = np.nan
    obs = parts["observable"].copy()
    if "observableTransformation" not in obs.columns:
        obs["observableTransformation"] = "lin"
    if "noiseDistribution" not in obs.columns:
        obs["noiseDistribution"] = "normal"
    obs["observableTransformation"] = _str_col(obs["observableTransformation"]).replace("", "lin")
    obs["noiseDistribution"] = _str_col(obs["noiseDistribution"]).replace("", "normal")
    model = parts["model"]
    return PetabProblem(source=str(p), sbml=model.sbml, model_source=model.source,
                        measurements=meas, conditions=cond, observables=obs,
                        parameters=parts["parameter"],
                        format_version=parts.get("format_version", "1"))


def _prior_params(row) -> tuple[float, float]:
    text = row.get("objectivePriorParameters")
    if isinstance(text, str) and text.strip():
        try:
            a, b = (float(v) for v in text.split(";"))
        except ValueError:
            return math.nan, math.nan
        return a, b
    return math.nan, math.nan


def _str_col(col: pd.Series) -> pd.Series:
    """A column as strings, missing values as ''."""
    return col.map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))


def _entity_kinds(sbml: str) -> dict[str, str]:
    """id -> kind (species, compartment, parameter, reaction, species_reference) of an SBML text."""
    import libsbml

    from workbench.core.model import element_kinds

    return element_kinds(libsbml.readSBMLFromString(sbml).getModel())
