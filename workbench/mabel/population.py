"""The QSP MABEL in a virtual population: between-subject variability, alone and
together with parameter uncertainty, and the share of patients reaching the
minimal effect at each escalation level.

The parameter uncertainty of :mod:`workbench.uncertainty` says what we do not
know about the *typical* patient; a virtual population (:mod:`workbench.population`)
says how patients differ from one another. A starting dose has to be safe for a
patient drawn at random, so the MABEL is computed three ways:

* **uncertainty**: one MABEL per draw of the uncertain typical values (the
  existing :func:`workbench.mabel.qsp.qsp_mabel` distribution);
* **variability**: one MABEL per virtual subject at the nominal typical values
  (covariate effects such as allometry, log-normal between-subject variability,
  per-kg or per-m2 doses scaled by the subject's size);
* **uncertainty and variability**: subject ``i`` paired with uncertainty draw
  ``i``, ``theta_i = TV_i * (theta_pop,i / TV)``: the predictive distribution of
  the MABEL of a future patient, which integrates over both sources (a
  single-level design; separating the two would need nested sampling, n x n runs).

At the first escalation levels, :func:`reach_by_level` gives the fraction of
subjects (uncertainty and variability) whose effect reaches their own threshold
(thresholds relative to baseline use each subject's baseline), with a Wilson
95 % interval (Wilson 1927, J Am Stat Assoc 22:209).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core._moved import moved_names
from workbench.core.dosing import Subject, _dose_unit_kind
from workbench.core.model import Model
from workbench.core.options import Dosing
from workbench.core.parameter_space import model_value
from workbench.errors import SpecError, UnknownIdError
from workbench.sim._timegrid import TimeGrid
from workbench.sim.options import RunOptions, bundles

if TYPE_CHECKING:
    from workbench.analysis.population import Population
    from workbench.mabel.qsp import QspMabelResult

__all__ = ["PopulationMabel", "PopulationSpec", "joint_samples", "overlap_by_level",
           "population_mabel", "population_samples", "reach_by_level", "study_population",
           "study_samples"]

log = logging.getLogger(__name__)

__getattr__ = moved_names(__name__, {
    "plot_mabel_distributions": "workbench.mabel.plots.plot_mabel_distributions"})


@dataclass(frozen=True)
class PopulationSpec:
    """The ``population`` block of a study file (:mod:`workbench.study`).

    Attributes
    ----------
    n, seed
        Number of virtual subjects and the seed of every random step.
    bsv
        Parameter id -> CV of its between-subject variability (log-normal).
    correlations
        ``(id_1, id_2, rho)`` between the etas.
    clearances, volumes
        Ids scaled allometrically with weight (exponents 0.75 and 1, 70 kg).
    covariates
        CSV of subjects (weight, height, ...) instead of the adult defaults.
    plausible
        Metric text -> (low, high) range of drug-free baseline outputs
        (:func:`workbench.analysis.population.filter_plausible`).
    levels
        Escalation levels (from the start) at which the share of patients
        reaching each effect is computed.
    """

    n: int = 100
    seed: int = 0
    bsv: Mapping[str, float] = field(default_factory=dict)
    correlations: tuple[tuple[str, str, float], ...] = ()
    clearances: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    covariates: str | None = None
    plausible: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    levels: int = 3

    @classmethod
    def from_dict(cls, d: Mapping) -> PopulationSpec:
        """From the study's ``population`` mapping (already checked by :mod:`workbench.study`)."""
        return cls(n=int(d.get("n", 100)), seed=int(d.get("seed", 0)),
                   bsv={str(k): float(v) for k, v in dict(d.get("bsv") or {}).items()},
                   correlations=tuple((str(a), str(b), float(r))
                                      for a, b, r in (d.get("correlations") or ())),
                   clearances=tuple(d.get("clearances") or ()),
                   volumes=tuple(d.get("volumes") or ()),
                   covariates=str(d["covariates"]) if d.get("covariates") else None,
                   plausible={str(k): (float(v[0]), float(v[1]))
                              for k, v in dict(d.get("plausible") or {}).items()},
                   levels=int(d.get("levels", 3)))


def study_population(model: Model, spec: PopulationSpec, *, n: int | None = None,
                     workers: int | None = 1):
    """The virtual population of ``spec`` (plausible subjects only when ranges are given).

    Returns
    -------
    workbench.analysis.population.Population
    """
    from workbench.analysis.population import (
        ADULT_COVARIATES,
        Variability,
        allometric,
        filter_plausible,
        sample_population,
    )

    for pid in [*spec.bsv, *spec.clearances, *spec.volumes]:
        try:  # global ids only (as sample_population looks them up): not kinetic-law parameters
            kind = model.kind_of(pid)
        except UnknownIdError:
            kind = None
        if kind not in ("parameter", "compartment"):
            raise SpecError(f"population: {pid!r} is not a parameter or compartment of the model",
                            source=model.source, element=pid,
                            fix="name a global parameter or compartment (`workbench info MODEL`)")
    var = Variability.from_cv(dict(spec.bsv), spec.correlations) if spec.bsv else None
    pop = sample_population(model, int(n or spec.n),
                            covariates=spec.covariates or ADULT_COVARIATES, variability=var,
                            effects=allometric(spec.clearances, spec.volumes), seed=spec.seed)
    if spec.plausible:
        pop = filter_plausible(model, pop, dict(spec.plausible), workers=workers).plausible()
        if not len(pop):
            raise SpecError("population: no subject lies inside the plausible ranges",
                            element="population.plausible", fix="widen the ranges")
    return pop


def _dose_scale(pop, dose_unit: str, subject: Subject) -> np.ndarray:
    """Per-subject factor on a dose computed for ``subject`` (per-kg, per-m2 or flat)."""
    per_body = _dose_unit_kind(dose_unit)[1]
    if per_body == "kg":
        return pop.table[C.WEIGHT].to_numpy(float) / float(subject.weight)
    if per_body == "m2":
        return pop.table[C.BSA].to_numpy(float) / float(subject.body_surface_area)
    return np.ones(len(pop))


def population_samples(pop, dose_unit: str, subject: Subject) -> pd.DataFrame:
    """Sample table of the subjects: individual parameters and ``dose_scale``."""
    s = pop.samples() if pop.parameters else pd.DataFrame(index=range(len(pop)))
    s[C.DOSE_SCALE] = _dose_scale(pop, dose_unit, subject)
    return s


def joint_samples(model: Model, pop, uncertainty_samples: pd.DataFrame, dose_unit: str,
                  subject: Subject) -> pd.DataFrame:
    """Subject ``i`` with uncertainty draw ``i``: ``theta = TV_i * theta_pop,i / TV`` (module docstring).

    ``uncertainty_samples`` must have at least as many rows as the population.
    """
    n = len(pop)
    if len(uncertainty_samples) < n:
        raise SpecError(f"{len(uncertainty_samples)} uncertainty draws for {n} subjects",
                        element="uncertainty", fix="draw one uncertainty sample per subject")
    unc = uncertainty_samples.iloc[:n].reset_index(drop=True)
    out = unc.copy()
    for p in pop.parameters:
        tv = model_value(model, p)  # the typical value sample_population used
        ratio = pop.table[p].to_numpy(float) / tv if tv else np.ones(n)
        base = unc[p].to_numpy(float) if p in unc.columns else np.full(n, tv)
        out[p] = base * ratio
    out[C.DOSE_SCALE] = _dose_scale(pop, dose_unit, subject)
    return out


def study_samples(model: Model, spec: PopulationSpec, uncertainty=None, *, dose_unit: str,
                  subject: Subject, n: int | None = None, workers: int | None = 1,
                  method: str = "lhs"):
    """The study's virtual patients and their sample tables (deterministic in ``spec.seed``;
    the uncertainty draws paired with them use ``spec.seed + 1`` and ``method``).

    Returns
    -------
    (Population, pandas.DataFrame, pandas.DataFrame)
        The population, its sample table at the nominal typical values, and the
        table paired with uncertainty draws (the same table without ``uncertainty``).
    """
    pop = study_population(model, spec, n=n, workers=workers)
    ps = population_samples(pop, dose_unit, subject)
    if uncertainty is None:
        return pop, ps, ps
    unc = uncertainty.with_model(model).sample(len(pop), seed=spec.seed + 1, method=method)
    return pop, ps, joint_samples(model, pop, unc, dose_unit, subject)


@dataclass(frozen=True, eq=False)
class PopulationMabel:
    """Result of :func:`population_mabel`.

    Attributes
    ----------
    population
        The virtual subjects (:class:`workbench.analysis.population.Population`).
    variability, joint
        :class:`workbench.mabel.qsp.QspMabelResult` over the subjects at the
        nominal typical values, and with uncertainty draws paired (None without
        uncertainty).
    joint_samples
        The sample table of ``joint`` (or of ``variability``), reused for the ladder.
    reach, overlap
        :func:`reach_by_level` at the first escalation levels and
        :func:`overlap_by_level` over the ladder (set by the study run).
    """

    population: Population
    variability: QspMabelResult
    joint: QspMabelResult | None
    joint_samples: pd.DataFrame
    reach: pd.DataFrame | None = None
    overlap: pd.DataFrame | None = None

    @property
    def for_decision(self):
        """The widest distribution: uncertainty and variability, else variability."""
        return self.joint if self.joint is not None else self.variability

    def to_frame(self, uncertainty=None) -> pd.DataFrame:
        """One row per (effect, distribution): :data:`workbench.columns.MABEL_DISTRIBUTION_COLUMNS`."""
        rows = []
        for label, res in (("parameter uncertainty", uncertainty),
                           ("population variability", self.variability),
                           ("uncertainty and variability", self.joint)):
            if res is None:
                continue
            for e in res.estimates:
                if not e.n_samples:
                    continue
                rows.append({C.EFFECT: e.effect.label, C.SPREAD: label, C.N_SAMPLES: e.n_samples,
                             C.N_NOT_REACHED: e.n_not_reached, C.LOWER: e.lower, C.MEDIAN: e.median,
                             C.UPPER: e.upper, C.DOSE: e.dose, C.DOSE_UNIT: e.dose_unit})
        return pd.DataFrame(rows, columns=list(C.MABEL_DISTRIBUTION_COLUMNS))

    def covariate_summary(self) -> pd.DataFrame:
        """Median and 5-95 % of each continuous covariate, with units."""
        t = self.population.table
        units = dict(self.population.units)
        rows = []
        for c in self.population.covariates:
            if c in t.columns and pd.api.types.is_numeric_dtype(t[c]):
                q = np.percentile(t[c].to_numpy(float), [5, 50, 95])
                rows.append({C.NAME: c, C.LOWER: q[0], C.MEDIAN: q[1], C.UPPER: q[2],
                             C.UNIT: units.get(c, "")})
        return pd.DataFrame(rows, columns=[C.NAME, C.LOWER, C.MEDIAN, C.UPPER, C.UNIT])


#: the older keywords of :func:`population_mabel` (adapters of the bundles)
_POPULATION_KEYS = ("dose_unit", "subject", "route", "target", "mw", "end", "points",
                    "integrator", "workers", "progress")


def population_mabel(model: Model, effects: Sequence, spec: PopulationSpec, *,
                     uncertainty=None, n: int | None = None, drawn: tuple | None = None,
                     dosing: Dosing | None = None, grid: TimeGrid | None = None,
                     run: RunOptions | None = None, **mabel_kw) -> PopulationMabel:
    """The MABEL per virtual subject, without and with parameter uncertainty.

    Parameters
    ----------
    effects
        Effect definitions (as for :func:`workbench.mabel.qsp.qsp_mabel`).
    spec
        :class:`PopulationSpec`; ``n`` overrides its size.
    uncertainty
        :class:`workbench.analysis.uncertainty.Uncertainty` of the typical values; None:
        variability only.
    drawn
        :func:`study_samples` of the same model, spec and uncertainty, already drawn
        (e.g. for the validation band); None: drawn here.
    dosing
        :class:`~workbench.core.options.Dosing`: its ``dose_unit`` (of the grid; required)
        and ``subject`` (the reference subject the doses are computed for: per-kg and
        per-m2 doses are then scaled to each subject's size), dosed species, molecular
        weight and route for :func:`~workbench.mabel.qsp.qsp_mabel`.
    grid, run
        :class:`~workbench.sim._timegrid.TimeGrid` and
        :class:`~workbench.sim.options.RunOptions` (workers default 1) for
        :func:`~workbench.mabel.qsp.qsp_mabel`.
    mabel_kw
        ``dose_range``, ``grid_points``, ``schedule``, ``method`` for
        :func:`~workbench.mabel.qsp.qsp_mabel`; and the older keywords of the bundles
        (``dose_unit``, ``subject``, ``route``, ``target``, ``mw``; ``end``, ``points``;
        ``workers``, ``progress``, ``integrator``).

    Returns
    -------
    PopulationMabel
    """
    from workbench.mabel.qsp import qsp_mabel

    legacy = {k: mabel_kw.pop(k) for k in _POPULATION_KEYS if k in mabel_kw}
    dosing, grid, run = bundles("population_mabel", legacy, dosing=dosing, grid=grid, run=run,
                                allowed=_POPULATION_KEYS,
                                defaults={"route": "iv", "end": "672 h", "points": 200,
                                          "workers": 1})
    if dosing.dose_unit is None:
        raise SpecError("population_mabel needs the dose unit of the grid",
                        element="Dosing.dose_unit", fix="give dosing=Dosing(dose_unit='ug/kg')")
    mabel_kw = {k: v for k, v in mabel_kw.items() if k != "method"}
    pop, ps, samples = drawn or study_samples(model, spec, uncertainty,
                                              dose_unit=dosing.dose_unit,
                                              subject=dosing.subject, n=n, workers=run.workers)
    # the QSP MABEL's unit is that of its dose range, as before
    qdosing = replace(dosing, dose_unit=None)
    var = qsp_mabel(model, effects, samples=ps, dosing=qdosing, grid=grid, run=run, **mabel_kw)
    var = replace(var, settings={**var.settings, "distribution": "population variability"})
    joint = None
    if uncertainty is not None:
        joint = qsp_mabel(model, effects, samples=samples, dosing=qdosing, grid=grid, run=run,
                          **mabel_kw)
        joint = replace(joint, settings={**joint.settings,
                                         "distribution": "parameter uncertainty and population "
                                                         "variability"})
    return PopulationMabel(pop, var, joint, samples)


def reach_by_level(result, ladder: pd.DataFrame, predictions: pd.DataFrame, *,
                   levels: int = 3, dose_unit: str) -> pd.DataFrame:
    """Fraction of subjects whose effect reaches its threshold at the first ladder levels.

    Parameters
    ----------
    result
        :class:`workbench.mabel.qsp.QspMabelResult` giving the effect definitions
        and their thresholds.
    ladder
        :func:`workbench.mabel.decision.escalation_ladder` table.
    predictions
        :func:`workbench.mabel.qsp.dose_response` of the subjects
        (:attr:`PopulationMabel.joint_samples`) at the ladder's doses with every effect
        metric, and at dose 0 (drug-free) when a threshold is relative to baseline.

    Returns
    -------
    pandas.DataFrame
        :data:`workbench.columns.REACH_COLUMNS`.
    """
    from workbench.analysis.regimens import _wilson

    effs = [e.effect for e in result.estimates]
    base = _at(predictions, 0.0, dose_unit) if any(e.relative for e in effs) else None
    rows = []
    for k, d in enumerate(float(d) for d in ladder[C.DOSE].head(int(levels))):
        at = _at(predictions, d, dose_unit)
        for e in effs:
            ok = (at[C.STATUS] == C.STATUS_OK).to_numpy()
            v = at[e.metric].to_numpy(float)
            if e.relative:
                assert base is not None  # read above whenever a threshold is relative
                thr = e.absolute(base[e.metric].to_numpy(float),
                                 predictions.attrs.get("units", {}).get(e.metric, ""))
            else:
                thr = np.full(len(v), e.threshold)
            hit = np.array([e.reached(x, t) for x, t in zip(v, thr, strict=True)])[ok]
            n_ok = int(ok.sum())
            frac = float(hit.mean()) if n_ok else math.nan
            lo, hi = _wilson(frac, n_ok)
            rows.append({C.LADDER_LEVEL: k + 1, C.DOSE: d, C.DOSE_UNIT: dose_unit,
                         C.EFFECT: e.label, C.DEFINITION: e.text, C.N_SAMPLES: n_ok,
                         C.N_REACHED: int(hit.sum()), C.PROBABILITY: frac, C.CI_LOW: lo,
                         C.CI_HIGH: hi})
    return pd.DataFrame(rows, columns=list(C.REACH_COLUMNS))


def overlap_by_level(ladder: pd.DataFrame, predictions: pd.DataFrame, exposure: str, *,
                     dose_unit: str, level: float = 0.9) -> pd.DataFrame:
    """Overlap of the exposure of the virtual patients between the ladder's dose levels.

    The NMPA draft guidance on dose exploration asks for dose levels whose
    exposures do not overlap too much given between-subject variability: for each
    pair of levels, the central ``level`` intervals of ``exposure`` over the
    subjects, their overlap |intersection| / |union| and the share of subjects on
    the lower level exceeding the median of the higher one
    (:func:`workbench.analysis.regimens.exposure_overlap`).

    Parameters
    ----------
    predictions
        :func:`workbench.mabel.qsp.dose_response` of the subjects at the ladder's doses
        with the ``exposure`` metric (the table :func:`reach_by_level` takes).

    Returns
    -------
    pandas.DataFrame
        :data:`workbench.columns.OVERLAP_COLUMNS` (``regimen_low``/``regimen_high``:
        the doses with their unit).
    """
    from workbench.analysis.regimens import exposure_overlap

    doses = [float(d) for d in ladder[C.DOSE]]
    if len(doses) < 2:
        return pd.DataFrame(columns=list(C.OVERLAP_COLUMNS))
    labels = [f"{d:.4g} {dose_unit}" for d in doses]
    subjects = pd.concat([_at(predictions, d, dose_unit)[[exposure, C.STATUS]].assign(
        **{C.REGIMEN: lab}) for d, lab in zip(doses, labels, strict=True)], ignore_index=True)
    return exposure_overlap(subjects, exposure, regimens=labels, level=level,
                            unit=predictions.attrs.get("units", {}).get(exposure, ""))


def _at(predictions: pd.DataFrame, dose: float, dose_unit: str) -> pd.DataFrame:
    """The rows of ``predictions`` at ``dose`` (in the samples' order)."""
    at = predictions[predictions[C.DOSE] == dose]
    if not len(at):
        raise SpecError(f"no prediction at {dose:g} {dose_unit}", element="predictions",
                        fix="simulate every ladder dose (and dose 0 for relative thresholds)")
    return at
