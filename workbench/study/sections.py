"""Typed sections of a study file: one frozen dataclass per block of the YAML.

:func:`workbench.study.schema.read_study` checks the whole file first (every
problem at once, :func:`~workbench.study.schema.lint_study`), fills defaults
and makes paths absolute; :func:`study_sections` then reads the checked mapping
into the dataclasses below, so the pipeline (:mod:`workbench.study.stages`)
works on named, typed fields instead of ``dict.get`` chains with defaults
repeated at every use. The sections are immutable (mappings are read-only
views), so a stage cannot change what a later stage sees.

Defaults live here, once: the values the study runner used before the sections
existed (``uncertainty.n`` 64, ``sensitivity.sobol_n`` 64, ...), so that a
study file gives the same numbers as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import SupportsFloat

__all__ = ["CalibrationSection", "DecisionSection", "DoseSearch", "DrugSection", "EffectSpec",
           "ModelSection", "OutputsSection", "PopulationSection", "SensitivitySection",
           "SimulationSection", "StudySections", "UncertaintySection", "ValidationSection",
           "VerificationSection", "study_sections"]

_EMPTY: Mapping = MappingProxyType({})


def _frozen(d) -> Mapping:
    """A read-only copy of a mapping (nested mappings and lists frozen too)."""
    if not d:
        return _EMPTY
    return MappingProxyType({k: _freeze_value(v) for k, v in dict(d).items()})


def _freeze_value(v):
    if isinstance(v, Mapping):
        return _frozen(v)
    if isinstance(v, list | tuple):
        return tuple(_freeze_value(x) for x in v)
    return v


def _thaw(v):
    """Plain dicts and lists again (for functions that take the YAML mapping)."""
    if isinstance(v, Mapping):
        return {k: _thaw(x) for k, x in v.items()}
    if isinstance(v, tuple):
        return [_thaw(x) for x in v]
    return v


@dataclass(frozen=True)
class ModelSection:
    """``model``: the model file, optional variants table and platform values."""

    file: str
    variants: str | None = None
    #: parameter values (model units) replacing the file's: one platform model, many drugs
    set: Mapping[str, float] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class DrugSection:
    """``drug``: what is dosed and how (dose unit of every dose in the study)."""

    species: str
    mw: str | float
    route: str = "iv"
    schedule: str = ""
    dose_unit: str = "ug/kg"
    #: kg, the subject of per-kg doses
    body_weight: float = 70.0


@dataclass(frozen=True)
class OutputsSection:
    """``outputs``: the model outputs for exposure, occupancy, effect and the profiles."""

    exposure: str
    effect: str
    occupancy: str | None = None
    profiles: tuple[str, ...] = ()

    @property
    def profile_outputs(self) -> list[str]:
        """The outputs of the PK/PD profile figures (default: exposure and effect)."""
        return list(self.profiles or (self.exposure, self.effect))


@dataclass(frozen=True)
class SimulationSection:
    """``simulation``: end time (with unit, or a number in model time units) and points."""

    end: str | float = "672 h"
    points: int = 200


@dataclass(frozen=True)
class EffectSpec:
    """One ``effects`` item (or the ``minimal_active_effect``): a minimal-effect definition
    as :func:`workbench.mabel.qsp.parse_effect` reads it."""

    definition: str
    name: str = ""
    lloq: str | float | None = None
    lloq_source: str = ""


@dataclass(frozen=True)
class DoseSearch:
    """``dose_range`` and ``grid_points``: the doses the QSP MABEL searches."""

    dose_range: tuple[str, str] = ("0.001 ug/kg", "10 mg/kg")
    grid_points: int = 25


@dataclass(frozen=True)
class UncertaintySection:
    """``uncertainty``: parameter uncertainty and its draws."""

    n: int = 64
    #: None: derived from the study seed (workbench.study.stages.stage_seeds), else 0
    seed: int | None = None
    method: str = "lhs"
    #: None: from the provenance table when the study has one
    from_provenance: bool | None = None
    params: tuple[str, ...] = ()


@dataclass(frozen=True)
class SensitivitySection:
    """``sensitivity``: local and Sobol sensitivity at the MABEL and every ladder level."""

    parameters: tuple[str, ...] = ()
    local: bool = True
    sobol: bool = True
    sobol_n: int = 64
    sobol_n_max: int = 512
    sobol_tol: float = 0.1
    #: None: derived from the study seed (workbench.study.stages.stage_seeds), else 0
    seed: int | None = None


@dataclass(frozen=True)
class PopulationSection:
    """``population``: the virtual population (fields of
    :class:`workbench.mabel.population.PopulationSpec`)."""

    n: int = 100
    #: None: derived from the study seed (workbench.study.stages.stage_seeds), else 0
    seed: int | None = None
    levels: int = 3
    bsv: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    correlations: tuple[tuple[str, str, float], ...] = ()
    clearances: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    covariates: str | None = None
    plausible: Mapping[str, tuple[float, float]] = field(default_factory=lambda: _EMPTY)

    def to_spec(self):
        """The :class:`workbench.mabel.population.PopulationSpec` of this section."""
        from workbench.mabel.population import PopulationSpec

        return PopulationSpec.from_dict(_thaw({
            "n": self.n, "seed": self.seed or 0, "levels": self.levels, "bsv": self.bsv,
            "correlations": self.correlations, "clearances": self.clearances,
            "volumes": self.volumes, "covariates": self.covariates,
            "plausible": self.plausible}))


@dataclass(frozen=True)
class VerificationSection:
    """``verification``: options of the verification suite."""

    n_doses: int = 9
    stochastic: bool = False
    #: check name -> reason it is skipped
    skip: Mapping[str, str] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class DecisionSection:
    """``decision``: the keywords of :class:`workbench.mabel.decision.DecisionSettings`
    (``settings``) and the study's dose cap (``max_dose``, a dose with unit)."""

    settings: Mapping[str, object] = field(default_factory=lambda: _EMPTY)
    max_dose: str | None = None

    def keywords(self) -> dict:
        """``settings`` as plain keywords (dicts and lists) for ``DecisionSettings(**...)``."""
        return _thaw(self.settings)

    @property
    def risk_threshold(self) -> float | None:
        v = self.settings.get("risk_threshold")
        if v is None:
            return None
        if not isinstance(v, SupportsFloat | str):  # lint_study: a number
            raise TypeError(f"decision.risk_threshold must be a number, got {v!r}")
        return float(v)


@dataclass(frozen=True)
class CalibrationSection:
    """``calibration``: the PEtab problem fitted before the MABEL."""

    petab: str
    starts: int = 10
    #: seed of the start points; None: derived from the study seed
    #: (workbench.study.stages.stage_seeds), else 0
    seed: int | None = None
    profiles: bool = False
    apply: bool = False


@dataclass(frozen=True)
class ValidationSection:
    """``validation``: observations compared with the prediction band."""

    data: str
    level: float = 0.9


@dataclass(frozen=True)
class StudySections:
    """Every block of a checked study file, typed (module docstring)."""

    title: str
    #: top-level ``seed``: the seed of every random stage whose section gives none
    seed: int | None
    model: ModelSection
    provenance: str | None
    drug: DrugSection
    outputs: OutputsSection
    simulation: SimulationSection
    effects: tuple[EffectSpec, ...]
    minimal_active_effect: EffectSpec | None
    dose_search: DoseSearch
    traditional: tuple[Mapping[str, object], ...]
    uncertainty: UncertaintySection
    sensitivity: SensitivitySection
    population: PopulationSection | None
    verification: VerificationSection
    decision: DecisionSection
    calibration: CalibrationSection | None
    validation: ValidationSection | None
    #: the ``stepup`` block as written (read by :func:`workbench.mabel.stepup.parse_stepup`)
    stepup: Mapping[str, object] | None
    assumptions: tuple[str, ...] = ()
    omissions: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    update_plan: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def has_data(self) -> bool:
        """True when the study names calibration or validation data."""
        return self.calibration is not None or self.validation is not None


def _effect(e) -> EffectSpec:
    if isinstance(e, Mapping):
        return EffectSpec(definition=str(e["definition"]), name=str(e.get("name") or ""),
                          lloq=e.get("lloq"), lloq_source=str(e.get("lloq_source") or ""))
    return EffectSpec(definition=str(e))


def _pick(d: Mapping | None, cls, **conv):
    """``cls`` from the keys of ``d`` it has (others keep the class default); ``conv`` maps
    a field to the function that converts its YAML value."""
    d = d or {}
    kw = {}
    for name in cls.__dataclass_fields__:
        if d.get(name) is not None:
            kw[name] = conv.get(name, _freeze_value)(d[name])
    return cls(**kw)


def study_sections(data: Mapping) -> StudySections:
    """The typed sections of a study mapping checked by :func:`~workbench.study.schema.lint_study`
    (defaults filled and paths absolute, as :func:`~workbench.study.schema.read_study` leaves it).
    """
    mo = data["model"]
    po = data.get("population")
    ca = data.get("calibration") or {}
    va = data.get("validation") or {}
    de = dict(data.get("decision") or {})
    ma = data.get("minimal_active_effect")
    tup = lambda v: tuple(str(x) for x in v)  # noqa: E731
    return StudySections(
        title=str(data.get("title") or data.get("name") or ""),
        seed=int(data["seed"]) if data.get("seed") is not None else None,
        model=ModelSection(file=str(mo["file"]), variants=mo.get("variants") or None,
                           set=_frozen({str(k): float(v) for k, v in
                                        dict(mo.get("set") or {}).items()})),
        provenance=data.get("provenance") or None,
        drug=_pick(data["drug"], DrugSection, body_weight=float, species=str),
        outputs=_pick(data["outputs"], OutputsSection, profiles=tup),
        simulation=_pick(data.get("simulation"), SimulationSection, points=int),
        effects=tuple(_effect(e) for e in data["effects"]),
        minimal_active_effect=_effect(ma) if ma else None,
        dose_search=DoseSearch(dose_range=tuple(data.get("dose_range") or DoseSearch.dose_range),
                               grid_points=int(data.get("grid_points") or 25)),
        traditional=tuple(_frozen(t) for t in data.get("traditional") or ()),
        uncertainty=_pick(data.get("uncertainty"), UncertaintySection, n=int, seed=int,
                          method=str, from_provenance=bool, params=tup),
        sensitivity=_pick(data.get("sensitivity"), SensitivitySection, parameters=tup,
                          local=bool, sobol=bool, sobol_n=int, sobol_n_max=int,
                          sobol_tol=float, seed=int),
        population=_pick(po, PopulationSection) if po else None,
        verification=_pick(data.get("verification"), VerificationSection, n_doses=int,
                           stochastic=bool),
        decision=DecisionSection(settings=_frozen({k: v for k, v in de.items()
                                                   if k != "max_dose"}),
                                 max_dose=de.get("max_dose") or None),
        calibration=_pick(ca, CalibrationSection) if ca.get("petab") else None,
        validation=_pick(va, ValidationSection) if va.get("data") else None,
        stepup=_frozen(data["stepup"]) if data.get("stepup") else None,
        **{k: tup(data.get(k) or ()) for k in ("assumptions", "omissions", "limitations",
                                               "update_plan", "references")})
