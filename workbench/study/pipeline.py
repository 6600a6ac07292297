"""The MABEL study: run every analysis of a study file, in the order of :data:`STAGES`.

:func:`run_mabel` reads a study file into typed sections
(:mod:`workbench.study.schema`, :mod:`workbench.study.sections`) and runs the
stages listed once in :data:`STAGES`, each a function of
:mod:`workbench.study.stages` that takes the shared :class:`~workbench.study.stages.Setup`
and earlier stages' frozen results and returns its own::

    verify            verify_stage            -> Verification
    uncertainty       uncertainty_stage       -> UncertaintyOutcome
    data              data_stage              -> StudyData              (calibration/validation)
    draws             draws_stage             -> Draws                  (every random draw)
    qsp_mabel         qsp_mabel_stage         -> QspMabelResult
    population        population_stage        -> PopulationMabel        (virtual population)
    decision          decision_stage          -> DecisionOutcome        (start, ladder)
    population_levels population_levels_stage -> PopulationMabel       (reach, overlap)
    profiles          profiles_stage          -> dict[regimen, DataFrame]
    analyses          analyses_stage          -> SensitivityOutcome     (MABEL and ladder levels)
    variants          variants_stage          -> VariantsOutcome        (model.variants)
    stepup            stepup_stage            -> StepUpResult           (stepup block)
    slider            slider_stage            -> DoseSlider
    export            export_stage            -> ArchiveResult          (package_dir given)
    report_tables     report_tables_stage     -> ReportTables           (the report's own tables)

Each stage with a label is announced (:mod:`workbench.core.progress`: one line per
stage, a bar on a terminal); :func:`mabel_stages` derives the lines from the same
list. Random draws are made once (``draws``) with one seed per stage
(:func:`workbench.study.stages.stage_seeds`). The result, :class:`MabelRun`, is
what :func:`workbench.report.render.write_report` renders (``report.html``,
``report.pdf`` and the CSV tables) without computing anything.

``reduced=True`` shrinks every sample size (uncertainty, Sobol, grid) for tests.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from workbench.core._versions import software_versions_table as software_versions
from workbench.study.report_tables import ReportTables, report_tables_stage
from workbench.study.schema import Study, read_study
from workbench.study.stages import (
    BASE_VARIANT,
    Draws,
    StageSeeds,
    analyses_stage,
    data_stage,
    decision_stage,
    draws_stage,
    export_stage,
    population_levels_stage,
    population_stage,
    profiles_stage,
    qsp_mabel_stage,
    setup_stage,
    slider_stage,
    stage_seeds,
    stepup_stage,
    uncertainty_for,
    uncertainty_stage,
    variants_stage,
    verify_stage,
)

if TYPE_CHECKING:
    from workbench.analysis.sensitivity import SensitivityResult
    from workbench.analysis.uncertainty import Uncertainty
    from workbench.analysis.variants import VariantComparison
    from workbench.core.model import Model
    from workbench.exchange.combine import ArchiveResult
    from workbench.mabel.decision import Decision
    from workbench.mabel.decision_analyses import LevelSensitivity
    from workbench.mabel.dose_slider import DoseSlider
    from workbench.mabel.population import PopulationMabel
    from workbench.mabel.qsp import MabelEstimate, QspMabelResult
    from workbench.mabel.stepup import StepUpResult
    from workbench.study.data import StudyData
    from workbench.verify.suite import Verification

__all__ = ["BASE_VARIANT", "BUNDLED_STUDY", "STAGES", "MabelRun", "Stage", "mabel_stages",
           "run_mabel", "software_versions"]

log = logging.getLogger(__name__)

#: the bundled CD3 bispecific study, run by ``workbench mabel`` without a study file
BUNDLED_STUDY = Path(__file__).resolve().parents[2] / "studies" / "cd3_bispecific.yaml"


#: the bundled CD3 bispecific study, run by ``workbench mabel`` without a study file
BUNDLED_STUDY = Path(__file__).resolve().parents[2] / "studies" / "cd3_bispecific.yaml"


@dataclass(frozen=True, eq=False)
class MabelRun:
    """Everything :func:`run_mabel` computed (inputs of the report, which only renders it)."""

    study: Study
    model: Model
    provenance: pd.DataFrame | None
    verification: Verification
    uncertainty: Uncertainty | None
    qsp: QspMabelResult
    minimal_active: MabelEstimate | None
    traditional: pd.DataFrame
    decision: Decision
    #: regimen text -> trajectory at 0.1x, 1x, 10x and 100x the start
    profiles: dict[str, pd.DataFrame]
    #: sensitivity at the QSP MABEL
    local: SensitivityResult | None
    sobol: SensitivityResult | None
    variants: VariantComparison | None
    population: PopulationMabel | None
    archive: ArchiveResult | None
    notes: dict[str, str] = field(default_factory=dict)
    #: stage name (:data:`STAGES`) -> seconds
    seconds: dict[str, float] = field(default_factory=dict)
    #: calibration and validation against the study's data
    data: StudyData | None = None
    #: step-up (priming) schedules compared
    stepup: StepUpResult | None = None
    #: sensitivity at the QSP MABEL and every ladder level
    levels: LevelSensitivity | None = None
    #: each variant's QSP MABEL, start and first-level effect
    variant_decisions: pd.DataFrame | None = None
    #: profile bands and effect distributions at each grid dose
    slider: DoseSlider | None = None
    #: the seed each random stage used
    seeds: StageSeeds | None = None
    #: the report's own tables (parameters, priors, provenance lint, distributions,
    #: measurability, chart values, reach at the start)
    report_tables: ReportTables | None = None

    def _repr_html_(self) -> str:
        """Summary for Jupyter (:mod:`workbench._html_repr`)."""
        from workbench.core._html_repr import mabel_run_html

        return mabel_run_html(self)


@dataclass(frozen=True)
class Stage:
    """One stage of :func:`run_mabel`: its name (the stage function is ``<name>_stage`` in
    :mod:`workbench.study.stages`; the key of :attr:`MabelRun.seconds`), the progress line
    announcing it ("" for quick stages folded into the previous line) and when it runs."""

    name: str
    label: str
    #: (study, package requested) -> whether the stage runs
    when: Callable[[Study, bool], bool] = lambda study, package: True


def _has_population(study: Study, package: bool) -> bool:
    return study.sections.population is not None


#: every stage of a MABEL study run, in order (progress lines and the run follow this list)
STAGES: tuple[Stage, ...] = (
    Stage("verify", "verification"),
    Stage("uncertainty", ""),
    Stage("data", "calibration and validation", lambda st, p: st.sections.has_data),
    Stage("draws", ""),
    Stage("qsp_mabel", "QSP MABEL"),
    Stage("population", "population MABEL", _has_population),
    Stage("decision", "decision and escalation ladder"),
    Stage("population_levels", "population at the first levels", _has_population),
    Stage("profiles", "PK/PD profiles"),
    Stage("analyses", "sensitivity"),
    Stage("variants", "model variants", lambda st, p: st.sections.model.variants is not None),
    Stage("stepup", "step-up regimens", lambda st, p: st.sections.stepup is not None),
    Stage("slider", "dose slider ensemble"),
    Stage("export", "exchange package", lambda st, p: p),
    Stage("report_tables", ""),
)


def _plan(study: Study, package: bool) -> list[Stage]:
    return [s for s in STAGES if s.when(study, package)]


def mabel_stages(study: Study, package_dir: object = None) -> list[str]:
    """The progress lines of :func:`run_mabel` for ``study``, in order (from :data:`STAGES`)."""
    return [s.label for s in _plan(study, package_dir is not None) if s.label]


class _StageRunner:
    """Runs the stages of :data:`STAGES` in their order: announces each, times it, and
    skips the stages that do not apply (they return None). Calling a stage out of the
    list's order is a programming error (the list and :func:`run_mabel` must agree)."""

    def __init__(self, plan: list[Stage], stages) -> None:
        self.order = [s.name for s in STAGES]
        self.plan = {s.name: s for s in plan}
        self.stages = stages
        self.last = -1
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, fn: Callable, *args):
        k = self.order.index(name)
        if k <= self.last:
            raise RuntimeError(f"stage {name!r} runs out of the order of STAGES")
        self.last = k
        stage = self.plan.get(name)
        if stage is None:
            return None
        if stage.label:
            self.stages.next(stage.label)
        t0 = time.perf_counter()
        result = fn(*args)
        self.seconds[name] = time.perf_counter() - t0
        log.info("%s: %.1f s", name, self.seconds[name])
        return result


def run_mabel(study: str | os.PathLike[str] | Study, *, reduced: bool = False,
              progress: bool | None = None, workers: int | None = 1,
              package_dir: str | os.PathLike[str] | None = None, stages=None) -> MabelRun:
    """Run the analyses of a study file: the stages of :data:`STAGES`, in order
    (functions in :mod:`workbench.study.stages`).

    Parameters
    ----------
    study
        Path of the study YAML, or a :class:`workbench.study.schema.Study`.
    reduced
        Small sample sizes (tests, quick looks); the report says so.
    progress
        Progress bars (default: when stderr is a terminal).
    workers
        Processes of the ensembles (1: in this process; None: every core). With more
        than one, the worker pool is started at once and kept for every stage.
    package_dir
        Where to write the exchange package (``export_archive``); None: not written.
    stages
        A :class:`workbench.core.progress.Stages` to announce the stages on (the CLI's, which
        also counts the report); default: a new one over :func:`mabel_stages`.

    Returns
    -------
    MabelRun

    Raises
    ------
    SpecError, InputFileError, UnknownIdError, DoseError, SimulationError, ProvenanceError
    """
    st = study if isinstance(study, Study) else read_study(study)
    if stages is None:
        from workbench.core.progress import Stages

        with Stages(mabel_stages(st, package_dir), "mabel", bar=progress) as own:
            return run_mabel(st, reduced=reduced, progress=progress, workers=workers,
                             package_dir=package_dir, stages=own)
    workers = max(1, int(workers or os.cpu_count() or 1))
    if workers > 1:
        from workbench.sim.ensemble import start_pool

        start_pool(workers)  # every stage's ensembles share it (small ones included)
    notes: dict[str, str] = {}
    run = _StageRunner(_plan(st, package_dir is not None), stages)
    setup = setup_stage(st, reduced=reduced, workers=workers, progress=progress)
    seeds = stage_seeds(st)
    m = setup.model
    ver = run("verify", verify_stage, setup)
    unc = run("uncertainty", uncertainty_stage, setup)
    if unc.note:
        notes["uncertainty"] = unc.note
    made: dict[int, tuple[Model, Draws]] = {}

    def draws_for(model: Model) -> Draws:
        """The study's draws on ``model``, made once per model (the validation band and
        every later stage share them)."""
        if id(model) not in made:
            made[id(model)] = (model, draws_stage(setup, model, unc, seeds))
        return made[id(model)][1]

    data = run("data", data_stage, setup, m, unc, draws_for, seeds)
    if data is not None and data.model is not None:
        m = data.model  # calibration.apply: the fitted values from here on
        if unc.uncertainty is not None:
            unc = replace(unc, uncertainty=uncertainty_for(setup, m))
        notes["calibration"] = ("calibrated values used in every analysis after the "
                                "calibration: " + ", ".join(f"{k} = {v:.4g}" for k, v in
                                                            data.applied.items()))
    draws = run("draws", draws_for, m)
    qsp = run("qsp_mabel", qsp_mabel_stage, setup, m, draws, seeds)
    popm = run("population", population_stage, setup, m, unc, draws, seeds)
    dec = run("decision", decision_stage, setup, m, qsp, draws, popm)
    if popm is not None:
        popm = run("population_levels", population_levels_stage, setup, m, popm, dec, seeds)
    profiles = run("profiles", profiles_stage, setup, m, dec)
    sens = run("analyses", analyses_stage, setup, m, unc, dec, seeds)
    var = run("variants", variants_stage, setup, m, dec)
    stepup = run("stepup", stepup_stage, setup, m, dec, popm)
    slider = run("slider", slider_stage, setup, m, qsp, dec)
    arc = run("export", export_stage, setup, m, dec, package_dir)
    tables = run("report_tables", report_tables_stage, setup, m, unc, qsp, dec, popm)
    if reduced:
        notes["reduced"] = ("reduced run: uncertainty n <= 8, Sobol N = 8 (not checked for "
                            "convergence), grid <= 13 doses; "
                            "numbers are indicative only")
    return MabelRun(st, m, setup.provenance, ver, unc.uncertainty, qsp, dec.minimal_active,
                    dec.traditional, dec.decision, profiles, sens.local, sens.sobol,
                    var.comparison if var else None, popm, arc, notes, run.seconds, data=data,
                    stepup=stepup, levels=sens.levels,
                    variant_decisions=var.decisions if var else None, slider=slider,
                    seeds=seeds, report_tables=tables)

