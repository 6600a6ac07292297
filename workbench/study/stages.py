"""The stages of a MABEL study run, one function each (:func:`workbench.study.pipeline.run_mabel`).

Each stage takes the typed study (:class:`workbench.study.schema.Study`, its
sections in :mod:`workbench.study.sections`), the :class:`Setup` shared by every
stage and the frozen results of earlier stages, and returns its own frozen
result. Nothing else passes between stages: no ``**common`` bundle of locals,
no shared mutable cache. The order is :data:`workbench.study.pipeline.STAGES`.

Random draws are made once, by :func:`draws_stage`, with the seeds of
:func:`stage_seeds`: each random stage has its own seed (the study section's,
or one derived from the study seed by a fixed child index of
``numpy.random.SeedSequence``), so skipping or reordering a stage never changes
another stage's draws.

Every value the report shows is computed by a stage (the report's own tables by
:func:`workbench.study.report_tables.report_tables_stage`); :mod:`workbench.report`
only renders.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core.dosing import Regimen
from workbench.core.options import Dosing
from workbench.study.schema import Study

if TYPE_CHECKING:
    from workbench.analysis.population import Population
    from workbench.analysis.sensitivity import SensitivityResult
    from workbench.analysis.uncertainty import Uncertainty
    from workbench.analysis.variants import VariantComparison
    from workbench.core.dosing import Subject
    from workbench.core.model import Model
    from workbench.exchange.combine import ArchiveResult
    from workbench.mabel.decision import Decision
    from workbench.mabel.decision_analyses import LevelSensitivity
    from workbench.mabel.dose_slider import DoseSlider
    from workbench.mabel.population import PopulationMabel, PopulationSpec
    from workbench.mabel.qsp import MabelEstimate, QspMabelResult
    from workbench.mabel.stepup import StepUpResult
    from workbench.study.data import StudyData
    from workbench.verify.suite import Verification

__all__ = [
    "BASE_VARIANT",
    "DecisionOutcome",
    "Draws",
    "SensitivityOutcome",
    "Setup",
    "StageSeeds",
    "UncertaintyOutcome",
    "VariantsOutcome",
    "analyses_stage",
    "data_stage",
    "decision_stage",
    "draws_stage",
    "export_stage",
    "population_levels_stage",
    "population_stage",
    "profiles_stage",
    "qsp_mabel_stage",
    "setup_stage",
    "slider_stage",
    "stage_seeds",
    "stepup_stage",
    "uncertainty_stage",
    "variants_stage",
    "verify_stage",
]

log = logging.getLogger(__name__)

#: name of the study model in the variant comparison
BASE_VARIANT = "base model"

#: fixed child index of each random stage under the study seed (SeedSequence(seed).spawn):
#: a stage's index never depends on which other stages run, or in which order
SEED_INDEX = {"uncertainty": 0, "population": 1, "sensitivity": 2, "calibration": 3}


# ---------------------------------------------------------------------------
# stage results
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Setup:
    """What every stage shares: the study, its model with the study's values, the
    provenance table, the subject of per-kg doses and how the run goes."""

    study: Study
    model: Model
    provenance: pd.DataFrame | None
    subject: Subject
    reduced: bool = False
    workers: int = 1
    progress: bool | None = None

    @property
    def common(self) -> dict:
        """Dosing keywords of every analysis function: target, mw, subject."""
        d = self.study.sections.drug
        return dict(target=d.species, mw=d.mw, subject=self.subject)

    @property
    def dosing(self) -> Dosing:
        """The study's dosing as one value object (target, mw, subject, route, dose unit)."""
        d = self.study.sections.drug
        # drug.mw is a number or a text such as "150 kDa": Dosing converts it to g/mol
        return Dosing(target=d.species, mw=d.mw, subject=self.subject,
                      route=d.route, dose_unit=d.dose_unit)

    def regimen(self, dose: float) -> Regimen:
        """The study's regimen at ``dose`` (in the study's dose unit), built from the number:
        every dose of the schedule is ``dose`` exactly (no text round trip)."""
        return self.dosing.regimen(dose, self.study.sections.drug.schedule)

    @property
    def run(self) -> dict:
        """Regimen and time-grid keywords of the QSP MABEL, decision and ladder."""
        d, s = self.study.sections.drug, self.study.sections.simulation
        return dict(route=d.route, schedule=d.schedule, end=s.end, points=int(s.points),
                    **self.common)

    @property
    def grid_points(self) -> int:
        """Doses of the QSP MABEL grid (at most 13 in a reduced run)."""
        g = int(self.study.sections.dose_search.grid_points)
        return min(g, 13) if self.reduced else g

    @property
    def dose_range(self) -> tuple[str, str]:
        lo, hi = self.study.sections.dose_search.dose_range
        return (lo, hi)


@dataclass(frozen=True)
class StageSeeds:
    """The seed of each random stage (:func:`stage_seeds`)."""

    uncertainty: int
    population: int
    sensitivity: int
    #: start points of the study's calibration (unused without one)
    calibration: int = 0


@dataclass(frozen=True, eq=False)
class UncertaintyOutcome:
    """The study's parameter uncertainty (None: none stated or none buildable, ``note`` says
    why)."""

    uncertainty: Uncertainty | None
    note: str | None = None


@dataclass(frozen=True, eq=False)
class Draws:
    """The random draws of a study on one model, made once (:func:`draws_stage`).

    Attributes
    ----------
    samples
        Uncertainty draws (QSP MABEL; ladder, step-up and slider without a population;
        validation band). None without parameter uncertainty.
    patients
        (population, its samples at nominal typical values, the samples paired with
        uncertainty draws) when the study has a population, else None.
    """

    samples: pd.DataFrame | None
    patients: tuple[Population, pd.DataFrame, pd.DataFrame] | None = None


@dataclass(frozen=True, eq=False)
class DecisionOutcome:
    """The dose decision with its ladder, the minimal active estimate and the traditional
    estimates (:func:`workbench.mabel.decision_study.study_decision`)."""

    decision: Decision
    minimal_active: MabelEstimate | None
    traditional: pd.DataFrame
    #: the QSP MABEL result the decision used (population joint result, else the QSP one)
    qsp_used: QspMabelResult
    #: the samples behind the ladder, step-up and slider bands
    samples: pd.DataFrame | None

    @property
    def best(self) -> MabelEstimate:
        """The reached estimate with the lowest nominal dose (else the first)."""
        return self.qsp_used.lowest() or self.qsp_used.estimates[0]

    @property
    def start(self) -> float:
        """The start dose, or the low end of the dose range when none can be proposed."""
        d = self.decision.start_dose
        return d if math.isfinite(d) else float(self.qsp_used.estimates[0].dose_range[0])


@dataclass(frozen=True, eq=False)
class SensitivityOutcome:
    """Sensitivity at the QSP MABEL and every ladder level; ``local``/``sobol``: at the
    QSP MABEL."""

    levels: LevelSensitivity | None = None
    local: SensitivityResult | None = None
    sobol: SensitivityResult | None = None


@dataclass(frozen=True, eq=False)
class VariantsOutcome:
    """Structural uncertainty: the variant comparison and each variant's decision."""

    comparison: VariantComparison
    decisions: pd.DataFrame


# ---------------------------------------------------------------------------
# seeds and draws
# ---------------------------------------------------------------------------

def stage_seeds(study: Study) -> StageSeeds:
    """The seed of each random stage.

    A section's own ``seed`` wins. A section without one takes child
    ``SEED_INDEX[stage]`` of ``numpy.random.SeedSequence(study seed).spawn(...)`` when
    the study file gives a top-level ``seed``, else 0 (the seed the study runner always
    used). The child index is fixed per stage, so a stage's draws do not depend on which
    other stages run.
    """
    s = study.sections
    top = s.seed

    def pick(stage: str, own: int | None) -> int:
        if own is not None:
            return int(own)
        if top is None:
            return 0
        child = np.random.SeedSequence(int(top)).spawn(len(SEED_INDEX))[SEED_INDEX[stage]]
        return int(child.generate_state(1)[0] % (2**31 - 1))

    return StageSeeds(uncertainty=pick("uncertainty", s.uncertainty.seed),
                      population=pick("population",
                                      s.population.seed if s.population else None),
                      sensitivity=pick("sensitivity", s.sensitivity.seed),
                      calibration=pick("calibration",
                                       s.calibration.seed if s.calibration else None))


def population_spec(study: Study, seeds: StageSeeds) -> PopulationSpec | None:
    """The virtual population of the study (with its stage seed), None without one."""
    p = study.sections.population
    return replace(p.to_spec(), seed=seeds.population) if p is not None else None


def draws_stage(setup: Setup, model: Model, unc: UncertaintyOutcome, seeds: StageSeeds,
                ) -> Draws:
    """Every random draw of the study on ``model``: uncertainty draws (seed
    ``seeds.uncertainty``) and the virtual patients with their paired draws
    (``seeds.population``, the paired draws ``seeds.population + 1``). Distributions
    without a stated centre are centred on ``model``'s values, so the draws follow
    calibrated values."""
    from workbench.mabel.population import study_samples

    us = setup.study.sections.uncertainty
    u = uncertainty_for(setup, model) if unc.uncertainty is not None else None
    n = min(us.n, 8) if setup.reduced else us.n
    samples = (u.with_model(model).sample(n, seed=seeds.uncertainty, method=us.method)
               if u is not None else None)
    pspec = population_spec(setup.study, seeds)
    patients = None
    if pspec is not None:
        patients = study_samples(model, pspec, u, dose_unit=setup.study.sections.drug.dose_unit,
                                 subject=setup.subject,
                                 n=min(pspec.n, 16) if setup.reduced else None,
                                 workers=setup.workers, method=us.method)
    return Draws(samples, patients)


# ---------------------------------------------------------------------------
# stages
# ---------------------------------------------------------------------------

def study_model(study: Study) -> Model:
    """The study's model with the study's values (``model.set``: one platform model, the
    drug's own parameter values); every analysis of the study starts from it."""
    from workbench.core.model import load_model

    s = study.sections
    m = load_model(s.model.file)
    if s.model.set:
        from workbench.analysis.variants import Variant, build_variant

        m = build_variant(m, Variant("study values", set=dict(s.model.set)))
    return m


def setup_stage(study: Study, *, reduced: bool = False, workers: int = 1,
                progress: bool | None = None) -> Setup:
    """Load the model (with the study's platform values) and the provenance table."""
    from workbench.core.dosing import Subject
    from workbench.core.provenance import read_provenance

    s = study.sections
    m = study_model(study)
    prov = read_provenance(s.provenance) if s.provenance else None
    return Setup(study, m, prov, Subject(weight=float(s.drug.body_weight)), reduced=reduced,
                 workers=workers, progress=progress)


def verify_stage(setup: Setup) -> Verification:
    """The verification suite on the study model."""
    from workbench.verify.suite import VerifyOptions, verify

    s = setup.study.sections
    vs = s.verification
    opt = VerifyOptions(n_doses=vs.n_doses, stochastic=vs.stochastic, skip=dict(vs.skip),
                        end=s.simulation.end)
    return verify(setup.model, s.drug.species, s.outputs.effect, s.outputs.occupancy,
                  mw=s.drug.mw, subject=setup.subject, options=opt)


def uncertainty_for(setup: Setup, model: Model) -> Uncertainty:
    """The study's uncertainty for ``model`` (provenance priors and stated parameters)."""
    from workbench.analysis.uncertainty import build_uncertainty

    us = setup.study.sections.uncertainty
    return build_uncertainty(model, params=list(us.params),
                             provenance=setup.provenance if us.from_provenance is not False
                             else None)


def uncertainty_stage(setup: Setup, model: Model | None = None) -> UncertaintyOutcome:
    """Parameter uncertainty from the provenance table and the study's ``uncertainty``."""
    from workbench.errors import WorkbenchError

    us = setup.study.sections.uncertainty
    wanted = (us.from_provenance if us.from_provenance is not None
              else setup.provenance is not None)
    if not (wanted or us.params):
        return UncertaintyOutcome(None)
    try:
        return UncertaintyOutcome(uncertainty_for(setup, model or setup.model))
    except WorkbenchError as exc:
        return UncertaintyOutcome(None, f"no parameter uncertainty: {exc.message}")


def data_stage(setup: Setup, model: Model, unc: UncertaintyOutcome, draws_for,
               seeds: StageSeeds | None = None) -> StudyData:
    """Calibration and validation against the study's data (errors propagate).

    ``draws_for(model) -> Draws``: the draws on a model (the validation band of
    individual observations uses the virtual patients when the study has them)."""
    from workbench.study.data import run_study_data

    if setup.study.sections.population is not None:
        def samples_for(m):
            return draws_for(m).patients[2]

        spread = ("parameter uncertainty and population variability"
                  if unc.uncertainty is not None else "population variability")
    else:
        def samples_for(m):
            return draws_for(m).samples

        spread = "parameter uncertainty"
    return run_study_data(setup.study, model, samples_for=samples_for, spread=spread,
                          reduced=setup.reduced, workers=setup.workers,
                          progress=setup.progress,
                          calibration_seed=seeds.calibration if seeds is not None else None)


def _effect(e):
    from workbench.mabel.qsp import parse_effect

    return parse_effect(e.definition, name=e.name, lloq=e.lloq, lloq_source=e.lloq_source)


def qsp_mabel_stage(setup: Setup, model: Model, draws: Draws, seeds: StageSeeds
                    ) -> QspMabelResult:
    """The QSP MABEL of every effect over the uncertainty draws."""
    from workbench.mabel.qsp import qsp_mabel

    us = setup.study.sections.uncertainty
    effects = [_effect(e) for e in setup.study.sections.effects]
    qsp = qsp_mabel(model, effects, dose_range=setup.dose_range, grid_points=setup.grid_points,
                    samples=draws.samples, seed=seeds.uncertainty, workers=setup.workers,
                    progress=setup.progress, **setup.run)
    if draws.samples is not None:  # given samples, but the study's parameter uncertainty
        qsp = replace(qsp, settings={**qsp.settings, "method": us.method,
                                     "distribution": "parameter uncertainty"})
    return qsp


def population_stage(setup: Setup, model: Model, unc: UncertaintyOutcome, draws: Draws,
                     seeds: StageSeeds) -> PopulationMabel:
    """The MABEL per virtual patient, alone and paired with uncertainty draws."""
    from workbench.mabel.population import population_mabel

    effects = [_effect(e) for e in setup.study.sections.effects]
    pspec = population_spec(setup.study, seeds)
    assert pspec is not None, "the population stage runs only when the study has a population"
    return population_mabel(model, effects, pspec,
                            uncertainty=unc.uncertainty,
                            dose_unit=setup.study.sections.drug.dose_unit,
                            workers=setup.workers, progress=setup.progress,
                            drawn=draws.patients, dose_range=setup.dose_range,
                            grid_points=setup.grid_points, **setup.run)


def decision_stage(setup: Setup, model: Model, qsp: QspMabelResult, draws: Draws,
                   popm: PopulationMabel | None) -> DecisionOutcome:
    """Start, risk profile and ladder (:mod:`workbench.mabel.decision_study`) on the widest
    distribution: uncertainty and variability with a population, else uncertainty."""
    from workbench.mabel.decision_study import study_decision

    qsp_dec = popm.for_decision if popm is not None else qsp
    samples = popm.joint_samples if popm is not None else draws.samples
    dec, minimal, trad = study_decision(setup.study, model, qsp_dec, samples=samples,
                                        run=setup.run, subject=setup.subject,
                                        grid_points=setup.grid_points, workers=setup.workers,
                                        progress=setup.progress)
    return DecisionOutcome(dec, minimal, trad, qsp_dec, samples)


def population_levels_stage(setup: Setup, model: Model, popm: PopulationMabel,
                            dec: DecisionOutcome, seeds: StageSeeds) -> PopulationMabel:
    """Every patient at every ladder level: the share reaching each effect and the overlap of
    exposures between adjacent levels."""
    from workbench.mabel.population import overlap_by_level, reach_by_level
    from workbench.mabel.qsp import dose_response

    out = setup.study.sections.outputs
    unit = setup.study.sections.drug.dose_unit
    qsp_dec, ladder = dec.qsp_used, dec.decision.ladder
    exposure = f"max({out.exposure})"
    # drug-free too, for thresholds relative to the baseline: one table for both summaries
    metrics = list(dict.fromkeys([*(e.effect.metric for e in qsp_dec.estimates), exposure]))
    relative = any(e.effect.relative for e in qsp_dec.estimates)
    pred = dose_response(model, metrics, [*([0.0] if relative else []), *ladder[C.DOSE]], unit,
                         samples=popm.joint_samples, workers=setup.workers, **setup.run)
    pspec = population_spec(setup.study, seeds)
    assert pspec is not None, "the population stages run only when the study has a population"
    levels = pspec.levels
    return replace(popm, reach=reach_by_level(qsp_dec, ladder, pred, levels=levels,
                                              dose_unit=unit),
                   overlap=overlap_by_level(ladder, pred, exposure, dose_unit=unit))


def _label(dose: float, setup: Setup) -> str:
    """A short label of the study's regimen at ``dose`` (figure legends; never parsed)."""
    d = setup.study.sections.drug
    return f"{dose:.4g} {d.dose_unit} {d.route} {d.schedule}".strip()


def profiles_stage(setup: Setup, model: Model, dec: DecisionOutcome) -> dict[str, pd.DataFrame]:
    """PK/PD profiles at 0.1x, 1x, 10x and 100x the start (regimen label -> trajectory;
    each simulated from the dose as a number)."""
    from workbench.sim.simulate import simulate

    s = setup.study.sections
    out = {}
    for f in (0.1, 1.0, 10.0, 100.0):
        dose = dec.start * f
        out[_label(dose, setup)] = simulate(model, setup.regimen(dose), end=s.simulation.end, points=int(s.simulation.points),
                            outputs=s.outputs.profile_outputs, **setup.common)
    return out


def _smetrics(setup: Setup, dec: DecisionOutcome) -> list[str]:
    occ = setup.study.sections.outputs.occupancy
    return list(dict.fromkeys([dec.best.effect.metric, *([f"max({occ})"] if occ else [])]))


def _selected_mabel(dec: DecisionOutcome) -> float:
    """The QSP MABEL the decision selected (its table's row), else the nominal one."""
    t = dec.decision.table
    row = t[t[C.ITEM] == "QSP MABEL (selected)"]
    v = float(row[C.VALUE].iloc[0]) if len(row) else math.nan
    return v if math.isfinite(v) and v > 0 else float(dec.best.dose)


def analyses_stage(setup: Setup, model: Model, unc: UncertaintyOutcome, dec: DecisionOutcome,
                   seeds: StageSeeds) -> SensitivityOutcome:
    """Local and Sobol sensitivity where the decision needs it: at the QSP MABEL and at
    every ladder level (over the uncertain parameters; none without uncertainty)."""
    from workbench.analysis.sensitivity import ParameterSpace
    from workbench.mabel.qsp import output_times
    from workbench.sim.simulate import resolve_time

    s = setup.study.sections
    ss = s.sensitivity
    if unc.uncertainty is None or not (ss.local or ss.sobol):
        return SensitivityOutcome()
    from workbench.mabel.decision_analyses import sensitivity_at_levels

    ids = ss.parameters or [r.id for r in unc.uncertainty.space.ranges]
    space = ParameterSpace(tuple(r for r in unc.uncertainty.with_model(model).space.ranges
                                 if r.id in ids))
    # peaks are caught by the early log-spaced points; 50 even points keep 8 doses x N (k + 2)
    # runs affordable
    times = output_times(resolve_time(s.simulation.end, model, "end"),
                         min(int(s.simulation.points), 50)).tolist()
    points = [("QSP MABEL", _selected_mabel(dec)),
              *((f"ladder level {int(r[C.LADDER_LEVEL])}", float(r[C.DOSE]))
                for _, r in dec.decision.ladder.iterrows())]
    n0 = ss.sobol_n if not setup.reduced else 8
    levels = sensitivity_at_levels(
        model, space, points, s.drug.dose_unit, metrics=_smetrics(setup, dec),
        route=s.drug.route, schedule=s.drug.schedule, times=times, local=ss.local,
        sobol=ss.sobol, n_start=n0, n_max=max(n0, ss.sobol_n_max) if not setup.reduced else n0,
        tol=ss.sobol_tol, seed=seeds.sensitivity, workers=setup.workers,
        progress=setup.progress, **setup.common)
    loc, sob = levels.results.get("QSP MABEL", (None, None))
    return SensitivityOutcome(levels, loc, sob)


def variants_stage(setup: Setup, model: Model, dec: DecisionOutcome) -> VariantsOutcome:
    """The study's model variants: the decision quantities on each, and each variant's
    QSP MABEL, start and first-level effect."""
    from workbench.analysis.variants import Variant, compare_variants, read_variants
    from workbench.mabel.decision_analyses import variant_decisions

    s = setup.study.sections
    assert s.model.variants is not None, "the variants stage runs only when the study names variants"
    listed = read_variants(s.model.variants)  # the file read once, for both analyses
    best = dec.best
    start_reg = setup.regimen(dec.start)
    # the base model first: relative differences refer to it
    var = compare_variants(model, [Variant(BASE_VARIANT, description="the study model"),
                                   *listed],
                           reference=BASE_VARIANT, regimens=[start_reg],
                           metrics=_smetrics(setup, dec),
                           dose_for={best.effect.metric: best.threshold},
                           dose_range=setup.dose_range, route=s.drug.route,
                           end=s.simulation.end, **setup.common)
    vlist = [Variant(BASE_VARIANT), *listed]
    q = f"dose for {best.effect.metric} = {best.threshold:g}"
    q = next((x for x in var.table[C.QUANTITY] if x.startswith("dose for")), q)
    vdec = variant_decisions(model, vlist, var, mabel_quantity=q, effect=best.effect.metric,
                             start=dec.start, dose_unit=s.drug.dose_unit, route=s.drug.route,
                             schedule=s.drug.schedule, reference=BASE_VARIANT,
                             end=s.simulation.end, **setup.common)
    return VariantsOutcome(var, vdec)


def stepup_stage(setup: Setup, model: Model, dec: DecisionOutcome,
                 popm: PopulationMabel | None) -> StepUpResult:
    """Step-up (priming) schedules: peak risk per administration over the decision's
    samples."""
    from workbench.mabel.stepup import evaluate_stepup, parse_stepup
    from workbench.study.sections import _thaw

    s = setup.study.sections
    block = _thaw(s.stepup)
    if block.get("limit") is None and s.decision.risk_threshold is not None:
        block["limit"] = s.decision.settings["risk_threshold"]  # the decision's risk limit
    sset = parse_stepup(block, dose_unit=s.drug.dose_unit, risk=s.outputs.effect,
                        exposure=s.outputs.exposure, route=s.drug.route)
    spread = ("parameter uncertainty and population variability" if popm is not None
              else "parameter uncertainty" if dec.samples is not None else "")
    return evaluate_stepup(model, sset, samples=dec.samples, spread=spread,
                           workers=setup.workers, progress=setup.progress, **setup.common)


def slider_stage(setup: Setup, model: Model, qsp: QspMabelResult, dec: DecisionOutcome
                 ) -> DoseSlider:
    """Profile bands and effect distributions at every grid dose (the report's dose
    slider)."""
    from workbench.mabel.dose_slider import dose_slider

    out = setup.study.sections.outputs
    best = dec.best
    grid = np.geomspace(*qsp.estimates[0].dose_range, setup.grid_points)
    outputs = [o for o in dict.fromkeys([out.exposure, out.occupancy, out.effect]) if o]
    return dose_slider(model, dec.samples, grid.tolist(), setup.study.sections.drug.dose_unit,
                       outputs=outputs, effect=best.effect.metric, relative=best.effect.relative,
                       threshold=best.effect.threshold if best.effect.relative
                       else best.threshold, op=best.effect.op,
                       start_dose=dec.decision.start_dose,
                       end=setup.study.sections.simulation.end,
                       **{k: v for k, v in setup.run.items() if k != "end"},
                       workers=setup.workers)


def export_stage(setup: Setup, model: Model, dec: DecisionOutcome, package_dir) -> ArchiveResult:
    """The exchange package: SBML with provenance, the provenance table, SED-ML, OMEX."""
    from workbench.exchange.combine import export_archive

    s = setup.study.sections
    return export_archive(model, package_dir, provenance=setup.provenance,
                          regimens=[setup.regimen(dec.start)],
                          outputs=s.outputs.profile_outputs, end=s.simulation.end,
                          **setup.common,
                          description=f"{setup.study.name}: QSP MABEL study package")
