"""The study file: one YAML document that ties a MABEL dose-selection study together.

:func:`read_study` reads and validates it and reports *every* problem at once
(one :class:`~workbench.errors.SpecError` listing each finding, the PEtab-lint
pattern); :func:`lint_study` returns the findings as a list. Paths are relative
to the study file. Schema (``*``: required)::

    name*: cd3_bispecific_fih                 # identifier, used in file names
    title: CD3 x TAA bispecific, FIH starting dose
    question*: >-                             # question of interest
      What is the starting dose ...
    context_of_use*: >-                       # how the model's answer is used
      The model predicts ...
    model_risk*:
      influence*: low | medium | high         # weight of the model in the decision
      consequence*: low | medium | high       # consequence of a wrong decision
    model*:
      file*: ../models/cd3_bispecific.ant     # SBML, Antimony or OMEX
      variants: variants.csv                  # optional: workbench.read_variants table
      set: {kon_CD3: 0.5, n_TAA: 5000}        # optional: parameter values (model units) that
                                              # replace the file's (one platform model, many drugs)
    provenance: ../models/cd3_bispecific.provenance.csv
    drug*:
      species*: Drug                          # dosed species
      mw*: 150 kDa
      route: iv                               # regimen route word (default iv)
      schedule: ""                            # e.g. "q1w x4" (default: one dose)
      dose_unit: ug/kg                        # unit of every dose (default ug/kg)
      body_weight: 70                         # kg
    outputs*:
      exposure*: Cfree                        # output for exposure (its max is reported)
      occupancy: RO_CD3                       # target-occupancy output (a fraction)
      effect*: IL6                            # effect output (verification)
      profiles: [Cfree, RO_CD3, Tact, IL6]    # outputs of the PK/PD profile figures
    simulation: {end: 672 h, points: 200}
    effects*:                                 # minimal-effect definitions (qsp_mabel)
      - {name: CD3 occupancy 10 %, definition: "max(RO_CD3) >= 0.10"}
      - {name: IL-6 rise, definition: "max(IL6) >= max(2 x baseline, 10 pg/mL)",
         lloq: 5 pg/mL, lloq_source: assay LLOQ reference}   # measurability (report)
    minimal_active_effect: "min(Tgt_frac) <= 0.8"  # optional: active effect (patients below the
                                              # active range; life-threatening start)
    dose_range: [0.001 ug/kg, 10 mg/kg]
    grid_points: 25
    seed: 1                                   # optional: the seed of every random stage whose
                                              # section gives none (uncertainty, population,
                                              # sensitivity, calibration), one SeedSequence
                                              # child per stage
    traditional: [ ... ]                      # workbench.mabel.decision.traditional_estimates specs
    uncertainty: {n: 64, seed: 1, method: lhs, from_provenance: true, params: [CL=lognormal,cv=0.3]}
    population:                               # optional: virtual population (mabel_population)
      n: 100                                  # subjects (adult covariates unless `covariates`)
      seed: 1
      bsv: {CL: 0.3, V1: 0.2}                 # CV of between-subject variability (log-normal)
      correlations: [[CL, V1, 0.4]]           # between etas (both need a bsv CV)
      clearances: [CL, Q]                     # allometric (WT/70)^0.75
      volumes: [V1, V2]                       # allometric (WT/70)^1
      covariates: subjects.csv                # optional: real subjects instead
      plausible: {"value(IL6, 0)": [1, 5]}    # optional: baseline ranges of plausible patients
      levels: 3                               # ladder levels with the share reaching each effect
    sensitivity: {parameters: [CL, kon_CD3], sobol_n: 64, seed: 1, local: true, sobol: true,
                  sobol_n_max: 512, sobol_tol: 0.1}  # N doubles from sobol_n until the
                  # total-order indices change by <= sobol_tol (decision_analyses)
    verification: {n_doses: 9, skip: {stochastic: reason}}
    calibration:                              # optional: run by workbench.study_data
      petab*: petab/problem.yaml              # PEtab v1 problem (workbench.calibrate)
      starts: 10                              # multi-start fits (reduced runs: at most 3)
      seed: 0                                 # seed of the start points (default: from the
                                              # study seed, else 0)
      profiles: false                         # profile-likelihood intervals (else Wald)
      apply: false                            # true: the fitted values replace the model's
                                              # in validation and every later stage
    validation:                               # optional: run by workbench.study_data
      data*: observed.csv                     # workbench.check_data table, not used in calibration
      level: 0.9                              # nominal coverage of the prediction band
    decision:                                 # workbench.mabel.decision.DecisionSettings fields
      severity: severe
      reversibility: reversible
      novelty: novel
      statistic: lower                        # nominal | median | lower | a percentile (e.g. 25)
      compete: [qsp, traditional]             # estimates competing for "lowest wins"
      primary_effect: CD3 occupancy 10 %      # cumulative margin measured from it (default first)
      steep_factor: 1                         # added safety factor when steep
      escalation: model-guided
      guide: upper                            # steps on the 95th percentile of the effect
      steps: 6                                # fixed number of levels
      max_increase: 0.2                       # rise of the running maximum per step
      min_fold: 1.5                           # step floor
      max_fold: 3.16                          # step ceiling (half-log)
      steepness_steps: true                   # ceiling <= sqrt(D50/D10)
      max_overlap: 0.5                        # closer exposures are merged
      risk_metric: max(IL6)                   # absolute risk limit per level:
      risk_threshold: 1000                    #   P(max(IL6) > 1000) < 0.05
      risk_probability: 0.05
      design: 3+3                             # or accelerated titration
      max_dose: 1 mg/kg                       # no level above (and the dose_range maximum)
      life_threatening: false
      active_share: 0.5                       # minimal active dose: share of patients reaching it
      justification: ""
    assumptions: [text, ...]
    omissions: [text, ...]
    limitations: [text, ...]
    update_plan: [text, ...]
    references: [pf06671008, teclistamab]     # optional: reference compounds the study leans
                                              # on (studies/reference/<name>; workbench.benchmark)
    stepup:                                   # optional: step-up (priming) schedules
      target_dose: 10 ug/kg                   # (schema: workbench.stepup module docstring)
      limit: 1000                             # risk output's unit
      schedules: [{name: no priming, regimen: "10 ug/kg iv q1w x2"}, ...]

Model risk (FDA draft guidance; Kuemmel et al. 2020, CPT Pharmacometrics Syst
Pharmacol 9:21, risk-informed credibility assessment): influence and
consequence each low/medium/high give a risk level (:data:`RISK_MATRIX`) that
sets the analyses required (:data:`REQUIRED_ANALYSES`); the report lists them
beside what was done.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, overload

from workbench.errors import SpecError
from workbench.study.sections import StudySections, study_sections

__all__ = ["REQUIRED_ANALYSES", "RISK_MATRIX", "Study", "lint_study", "read_study", "risk_level"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_U = TypeVar("_U")
_V = TypeVar("_V")
#: the type (or types) a study field must have
_Kind = type | tuple[type, ...]

LEVELS = ("low", "medium", "high")
#: (influence, consequence) -> model risk
RISK_MATRIX = {
    ("low", "low"): "low", ("low", "medium"): "low", ("low", "high"): "medium",
    ("medium", "low"): "low", ("medium", "medium"): "medium", ("medium", "high"): "high",
    ("high", "low"): "medium", ("high", "medium"): "high", ("high", "high"): "high",
}
#: risk level -> analyses required
REQUIRED_ANALYSES = {
    "low": ("verification", "local sensitivity"),
    "medium": ("verification", "local sensitivity", "Sobol sensitivity", "uncertainty"),
    "high": ("verification", "local sensitivity", "Sobol sensitivity", "uncertainty",
             "model variants", "validation data"),
}

_TOP = {"name", "title", "question", "context_of_use", "model_risk", "model", "provenance", "drug",
        "outputs", "simulation", "effects", "minimal_active_effect", "dose_range", "grid_points",
        "traditional", "uncertainty", "population", "sensitivity", "verification", "calibration",
        "validation", "decision", "assumptions", "omissions", "limitations", "update_plan",
        "references", "stepup", "seed"}
_CALIBRATION = {"petab", "starts", "seed", "profiles", "apply"}
_VALIDATION = {"data", "level"}
_DECISION = {"severity", "reversibility", "novelty", "factors", "agreement_fold", "statistic",
             "life_threatening", "justification", "escalation", "steps", "max_increase",
             "max_fold", "min_fold", "max_dose", "guide", "compete", "primary_effect",
             "steep_factor", "active_share", "steepness_steps", "max_overlap", "risk_metric",
             "risk_threshold", "risk_probability", "design"}


def risk_level(influence: str, consequence: str) -> str:
    """Model risk from model influence and decision consequence (:data:`RISK_MATRIX`)."""
    return RISK_MATRIX[(influence, consequence)]


@dataclass(frozen=True, eq=False)
class Study:
    """A validated study file (module docstring). ``data`` is the parsed YAML with
    defaults filled and paths made absolute; the attributes are the common fields and
    ``sections`` every block typed (:class:`workbench.study.sections.StudySections`,
    read from ``data`` when not given)."""

    path: str
    name: str
    question: str
    context_of_use: str
    influence: str
    consequence: str
    model: str
    data: dict = field(repr=False)
    sections: StudySections = field(default=None, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.sections is None:
            object.__setattr__(self, "sections", study_sections(self.data))

    @property
    def risk(self) -> str:
        return risk_level(self.influence, self.consequence)

    @property
    def required_analyses(self) -> tuple[str, ...]:
        return REQUIRED_ANALYSES[self.risk]

    def get(self, *keys, default=None):
        """Nested value, e.g. ``study.get("drug", "mw")``."""
        d = self.data
        for k in keys:
            if not isinstance(d, dict) or k not in d:
                return default
            d = d[k]
        return d


def _load_yaml(path: Path) -> dict:
    from workbench.core.textin import load_yaml_text, read_input_text

    # regular file, size, BOM/UTF-16, undecodable bytes with their offset; alias limits
    text = read_input_text(path, "study file", max_bytes_limit="yaml_bytes")
    data = load_yaml_text(text, str(path), "study file", error=SpecError)
    if not isinstance(data, dict):
        raise SpecError("the study file must be a YAML mapping (key: value lines)",
                        source=str(path))
    return data


def lint_study(source: str | os.PathLike[str] | dict, base: str | os.PathLike[str] | None = None
               ) -> list[str]:
    """Every problem of a study file (or its parsed mapping), as messages; empty when valid."""
    if isinstance(source, dict):
        data, root = source, Path(base or ".")
    else:
        p = Path(source)
        data, root = _load_yaml(p), p.parent
    errs: list[str] = []

    # need/opt return the value when it is an instance of ``kind`` (a type or a tuple of
    # types), else None with a finding: the overloads give the value that type
    @overload
    def need(d: dict, key: str, where: str) -> str | None: ...
    @overload
    def need(d: dict, key: str, where: str, kind: type[_T]) -> _T | None: ...
    @overload
    def need(d: dict, key: str, where: str,
             kind: tuple[type[_T], type[_U], type[_V]]) -> _T | _U | _V | None: ...

    def need(d: dict, key: str, where: str, kind: _Kind | None = str) -> object:
        if not isinstance(d, dict) or key not in d or d[key] in (None, ""):
            errs.append(f"{where}{key}: required field is missing")
            return None
        v = d[key]
        if kind is not None and not isinstance(v, kind):
            errs.append(f"{where}{key}: must be {_kname(kind)}, got {type(v).__name__} {v!r}")
            return None
        return v

    @overload
    def opt(d: dict, key: str, where: str, kind: type[_T]) -> _T | None: ...
    @overload
    def opt(d: dict, key: str, where: str, kind: tuple[type[_T], type[_U]]) -> _T | _U | None: ...
    @overload
    def opt(d: dict, key: str, where: str, kind: _Kind) -> object: ...

    def opt(d: dict, key: str, where: str, kind: _Kind) -> object:
        if not isinstance(d, dict) or d.get(key) is None:
            return None
        if not isinstance(d[key], kind) or (isinstance(d[key], bool) and kind in (int, float)):
            errs.append(f"{where}{key}: must be {_kname(kind)}, got {type(d[key]).__name__} "
                        f"{d[key]!r}")
            return None
        return d[key]

    def path_ok(v: object, where: str) -> None:
        if isinstance(v, str) and not (root / v).exists():
            errs.append(f"{where}: file {v!r} not found (relative to {root})")

    _unknown(data, _TOP, "", errs)
    need(data, "name", "")
    need(data, "question", "")
    need(data, "context_of_use", "")
    mr = need(data, "model_risk", "", dict)
    if mr is not None:
        for k in ("influence", "consequence"):
            v = need(mr, k, "model_risk.")
            if v is not None and v not in LEVELS:
                errs.append(f"model_risk.{k}: {v!r} is not one of {', '.join(LEVELS)}")
    mo = need(data, "model", "", dict)
    if mo is not None:
        f = need(mo, "file", "model.")
        path_ok(f, "model.file")
        if opt(mo, "variants", "model.", str):
            path_ok(mo["variants"], "model.variants")
        for pid, v in dict(opt(mo, "set", "model.", dict) or {}).items():
            if isinstance(v, bool) or not isinstance(v, int | float):
                errs.append(f"model.set.{pid}: {v!r} is not a number (model units), e.g. 0.5")
    if opt(data, "provenance", "", str):
        path_ok(data["provenance"], "provenance")
    dr = need(data, "drug", "", dict)
    if dr is not None:
        need(dr, "species", "drug.")
        mw = need(dr, "mw", "drug.", (str, int, float))
        if mw is not None:
            from workbench.core.dosing import molecular_weight

            try:
                molecular_weight(mw)
            except Exception as exc:
                errs.append(f"drug.mw: {exc}")
        for k in ("route", "schedule", "dose_unit"):
            opt(dr, k, "drug.", str)
        opt(dr, "body_weight", "drug.", (int, float))
    ou = need(data, "outputs", "", dict)
    if ou is not None:
        need(ou, "exposure", "outputs.")
        need(ou, "effect", "outputs.")
        opt(ou, "occupancy", "outputs.", str)
        opt(ou, "profiles", "outputs.", list)
    eff = need(data, "effects", "", list)
    if eff is not None:
        from workbench.mabel.qsp import parse_effect

        if not eff:
            errs.append("effects: give at least one minimal-effect definition")
        for i, e in enumerate(eff):
            d = e.get("definition") if isinstance(e, dict) else e
            if not isinstance(d, str):
                errs.append(f"effects[{i}]: needs a definition such as 'max(RO_CD3) >= 0.10'")
                continue
            try:
                parse_effect(d, lloq=e.get("lloq") if isinstance(e, dict) else None)
            except SpecError as exc:
                errs.append(f"effects[{i}]: {exc.message}")
            if isinstance(e, dict):
                _unknown(e, {"name", "definition", "lloq", "lloq_source"}, f"effects[{i}].",
                         errs)
    ma = data.get("minimal_active_effect")
    if ma is not None:
        from workbench.mabel.qsp import parse_effect

        md = ma.get("definition") if isinstance(ma, dict) else ma
        try:
            parse_effect(str(md), lloq=ma.get("lloq") if isinstance(ma, dict) else None)
        except SpecError as exc:
            errs.append(f"minimal_active_effect: {exc.message}")
        if isinstance(ma, dict):
            _unknown(ma, {"name", "definition", "lloq", "lloq_source"}, "minimal_active_effect.",
                     errs)
    rng = opt(data, "dose_range", "", list)
    if rng is not None:
        from workbench.core import units as U

        try:
            (lo, u1), (hi, u2) = (U.parse_quantity(x) for x in rng)
            if not 0 < lo < hi * U.factor(u2, u1):
                errs.append(f"dose_range: {rng} must be positive and increasing")
        except Exception as exc:
            errs.append(f"dose_range: {rng!r} is not two doses with units ({exc})")
    opt(data, "grid_points", "", int)
    opt(data, "seed", "", int)
    tr = opt(data, "traditional", "", list)
    for i, t in enumerate(tr or []):
        if not isinstance(t, dict) or t.get("method") not in ("occupancy", "activity", "noael",
                                                               "animal_dose"):
            errs.append(f"traditional[{i}]: method must be occupancy, activity, noael or "
                        "animal_dose")
            continue
        req = {"occupancy": ("kd",), "activity": ("ec50",), "noael": ("noael", "species"),
               "animal_dose": ("dose", "species")}[t["method"]]
        for k in req:
            if t.get(k) in (None, ""):
                errs.append(f"traditional[{i}].{k}: required for method {t['method']}")
    sections: tuple[tuple[str, dict[str, _Kind]], ...] = (
        ("uncertainty", {"n": int, "seed": int}),
        ("sensitivity", {"sobol_n": int, "seed": int, "parameters": list, "sobol_n_max": int,
                         "sobol_tol": (int, float)}),
        ("population", {"n": int, "seed": int, "levels": int, "bsv": dict, "correlations": list,
                        "clearances": list, "volumes": list, "plausible": dict}),
        ("simulation", {"points": int}))
    for sec, keys in sections:
        d = opt(data, sec, "", dict)
        for k, kind in keys.items():
            if d is not None:
                opt(d, k, f"{sec}.", kind)
    po = data.get("population")
    if isinstance(po, dict):
        _check_population(po, errs)
        if po.get("covariates"):
            path_ok(po["covariates"], "population.covariates")
    de = opt(data, "decision", "", dict)
    if de is not None:
        _unknown(de, _DECISION, "decision.", errs)
        from workbench.mabel.decision import DEFAULT_FACTORS

        factors = _check_factors(de.get("factors"), DEFAULT_FACTORS, errs)
        for cat, table in DEFAULT_FACTORS.items():
            v = de.get(cat)
            own = factors.get(cat, {})
            # a list or mapping is not a category word (and cannot be looked up)
            if v is not None and (not isinstance(v, Hashable) or (v not in table
                                                                  and v not in own)):
                errs.append(f"decision.{cat}: {v!r} is not one of {', '.join(table)}")
        if de.get("escalation") not in (None, "half-log", "model-guided"):
            errs.append(f"decision.escalation: {de['escalation']!r} is not half-log or "
                        "model-guided")
        if de.get("guide") not in (None, "nominal", "upper"):
            errs.append(f"decision.guide: {de['guide']!r} is not nominal or upper")
        stv = de.get("statistic")
        if stv not in (None, "nominal", "median", "lower") and not (
                isinstance(stv, int | float) and not isinstance(stv, bool) and 0 < stv < 100):
            errs.append(f"decision.statistic: {stv!r} is not nominal, median, lower or a "
                        "percentile between 0 and 100")
        if de.get("design") not in (None, "3+3", "accelerated titration"):
            errs.append(f"decision.design: {de['design']!r} is not 3+3 or accelerated titration")
        for k in ("steps",):
            opt(de, k, "decision.", int)
        for k in ("max_increase", "max_fold", "min_fold", "max_overlap", "risk_threshold",
                  "risk_probability", "active_share", "steep_factor", "agreement_fold"):
            opt(de, k, "decision.", (int, float))
        if isinstance(de.get("min_fold"), int | float) and isinstance(de.get("max_fold"),
                                                                      int | float) \
                and not 1 < de["min_fold"] <= de["max_fold"]:
            errs.append("decision.min_fold/max_fold: need 1 < min_fold <= max_fold (e.g. 1.5 and "
                        "3.16)")
        for k in ("risk_probability", "active_share"):
            v = de.get(k)
            if isinstance(v, int | float) and not 0 < v < 1:
                errs.append(f"decision.{k}: {v} must be between 0 and 1")
        if de.get("risk_metric"):
            from workbench.sim.ensemble import parse_metric

            try:
                parse_metric(str(de["risk_metric"]))
            except SpecError as exc:
                errs.append(f"decision.risk_metric: {exc.message}")
            if not isinstance(de.get("risk_threshold"), int | float):
                errs.append("decision.risk_threshold: required (a number in the metric's unit) "
                            "with risk_metric")
        if de.get("life_threatening") and not str(de.get("justification") or "").strip():
            errs.append("decision.justification: required when life_threatening is true")
    for k in ("assumptions", "omissions", "limitations", "update_plan"):
        opt(data, k, "", list)
    if data.get("stepup") is not None:
        from workbench.mabel.stepup import lint_stepup

        # dr: the drug block when it is a mapping (else already reported)
        errs += lint_stepup(data["stepup"], str((dr or {}).get("dose_unit") or "ug/kg"))
    ca = opt(data, "calibration", "", dict)
    if ca:
        _unknown(ca, _CALIBRATION, "calibration.", errs)
        if need(ca, "petab", "calibration."):
            path_ok(ca["petab"], "calibration.petab")
        ns = opt(ca, "starts", "calibration.", int)
        if ns is not None and ns < 1:
            errs.append(f"calibration.starts: {ns} must be at least 1")
        opt(ca, "seed", "calibration.", int)
        opt(ca, "profiles", "calibration.", bool)
        opt(ca, "apply", "calibration.", bool)
    va = opt(data, "validation", "", dict)
    if va:
        _unknown(va, _VALIDATION, "validation.", errs)
        if need(va, "data", "validation."):
            path_ok(va["data"], "validation.data")
        lv = opt(va, "level", "validation.", (int, float))
        if lv is not None and not 0 < lv < 1:
            errs.append(f"validation.level: {lv} must be between 0 and 1 (e.g. 0.9)")
    return errs


def _kname(kind: _Kind) -> str:
    if isinstance(kind, tuple):
        return " or ".join(_kname(k) for k in kind)
    return {str: "text", dict: "a mapping", list: "a list", int: "an integer",
            float: "a number", bool: "true or false"}.get(kind, kind.__name__)


def _check_factors(f: object, defaults: Mapping[str, Mapping[str, float]],
                   errs: list[str]) -> dict[str, dict]:
    """``decision.factors``: category -> word -> safety factor (a number >= 1: a safety
    factor divides the dose, it never raises it). Returns the well-formed part (for the
    category checks); every problem goes to ``errs``."""
    if f is None:
        return {}
    if not isinstance(f, dict):
        errs.append(f"decision.factors: must be a mapping of category -> {{word: factor}}, "
                    f"got {type(f).__name__} {f!r}"[:200])
        return {}
    good: dict[str, dict] = {}
    for cat, table in f.items():
        if cat not in defaults:
            errs.append(f"decision.factors.{cat}: unknown category (known: "
                        f"{', '.join(defaults)})")
            continue
        if not isinstance(table, dict):
            errs.append(f"decision.factors.{cat}: must be a mapping of word -> factor, e.g. "
                        f"{{severe: 10}}, got {type(table).__name__} {table!r}"[:200])
            continue
        for word, v in table.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not 1 <= v < math.inf:
                errs.append(f"decision.factors.{cat}.{word}: {v!r} is not a safety factor "
                            "(a number >= 1 dividing the dose)")
        good[cat] = table
    return good


def read_study(path: str | os.PathLike[str]) -> Study:
    """Read and validate a study file; paths become absolute.

    Raises
    ------
    InputFileError
        When the file cannot be read.
    SpecError
        Listing every problem found (:func:`lint_study`).
    """
    p = Path(path).resolve()
    data = _load_yaml(p)
    errs = lint_study(data, p.parent)
    if errs:
        raise SpecError(f"{len(errs)} problem(s) in the study file:\n  - " + "\n  - ".join(errs),
                        source=str(p), fix="correct the fields listed (schema: "
                        "workbench.study module documentation)")
    root = p.parent

    def absolute(d: dict, key: str) -> None:
        if isinstance(d, dict) and isinstance(d.get(key), str) and d[key]:
            d[key] = str((root / d[key]).resolve())

    absolute(data["model"], "file")
    absolute(data["model"], "variants")
    absolute(data, "provenance")
    absolute(data.get("calibration") or {}, "petab")
    absolute(data.get("validation") or {}, "data")
    absolute(data.get("population") or {}, "covariates")
    data["drug"].setdefault("route", "iv")
    data["drug"].setdefault("schedule", "")
    data["drug"].setdefault("dose_unit", "ug/kg")
    data["drug"].setdefault("body_weight", 70)
    data.setdefault("simulation", {}).setdefault("end", "672 h")
    data["simulation"].setdefault("points", 200)
    data.setdefault("dose_range", ["0.001 ug/kg", "10 mg/kg"])
    data.setdefault("grid_points", 25)
    data["effects"] = [e if isinstance(e, dict) else {"definition": e} for e in data["effects"]]
    for k in ("traditional", "assumptions", "omissions", "limitations", "update_plan"):
        data.setdefault(k, [])
    for k in ("uncertainty", "sensitivity", "population", "verification", "decision"):
        data[k] = data.get(k) or {}
    mr = data["model_risk"]
    return Study(str(p), str(data["name"]), str(data["question"]).strip(),
                 str(data["context_of_use"]).strip(), mr["influence"], mr["consequence"],
                 data["model"]["file"], data)


_POPULATION = {"n", "seed", "levels", "bsv", "correlations", "clearances", "volumes",
               "covariates", "plausible"}


def _check_population(po: dict, errs: list[str]) -> None:
    """Findings of the ``population`` block (appended to ``errs``)."""
    _unknown(po, _POPULATION, "population.", errs)
    if isinstance(po.get("n"), int) and po["n"] < 2:
        errs.append(f"population.n: {po['n']} subjects; give at least 2")
    from workbench.core.limits import limit

    if po.get("n") is not None and (isinstance(po["n"], bool) or not isinstance(po["n"], int)):
        errs.append(f"population.n: {po['n']!r} is not a whole number of subjects (write 1000)")
    elif isinstance(po.get("n"), int) and po["n"] > limit("population"):
        errs.append(f"population.n: {po['n']:,} subjects exceeds the limit 'population' "
                    f"({limit('population'):,}); raise it with `workbench --limit population=N`")
    if isinstance(po.get("levels"), int) and po["levels"] < 1:
        errs.append("population.levels: give at least 1 escalation level")
    # a bsv, correlations, clearances, volumes or plausible of the wrong kind is reported by
    # lint_study's type check (e.g. "population.bsv: must be a mapping"): skipped here
    bsv = po["bsv"] if isinstance(po.get("bsv"), dict) else {}
    for pid, cv in bsv.items():
        if isinstance(cv, bool) or not isinstance(cv, int | float) or not 0 < cv < 10:
            errs.append(f"population.bsv.{pid}: CV {cv!r} is not a number in (0, 10), e.g. 0.3")
    corr = po.get("correlations")
    for i, c in enumerate(corr if isinstance(corr, list) else []):
        if (not isinstance(c, list) or len(c) != 3 or not all(isinstance(x, str) for x in c[:2])
                or not isinstance(c[2], int | float) or not -1 < c[2] < 1):
            errs.append(f"population.correlations[{i}]: {c!r} is not [id_1, id_2, rho] with "
                        "-1 < rho < 1")
        elif any(x not in bsv for x in c[:2]):
            errs.append(f"population.correlations[{i}]: {c[0]} and {c[1]} both need a bsv CV")
    for k in ("clearances", "volumes"):
        ids = po.get(k)
        if isinstance(ids, list) and not all(isinstance(x, str) for x in ids):
            errs.append(f"population.{k}: give a list of parameter ids")
    plausible = po["plausible"] if isinstance(po.get("plausible"), dict) else {}
    for metric, rng in plausible.items():
        if (not isinstance(rng, list) or len(rng) != 2
                or not all(isinstance(x, int | float) for x in rng) or not rng[0] < rng[1]):
            errs.append(f"population.plausible.{metric}: {rng!r} is not [low, high] with low < high")


def _unknown(d: dict, known: set[str], where: str, errs: list[str]) -> None:
    """One finding per key of ``d`` not in ``known`` (``where``: the key path prefix)."""
    for k in sorted(set(d) - known):
        errs.append(f"{where}{k}: unknown field (known: {', '.join(sorted(known))})")
