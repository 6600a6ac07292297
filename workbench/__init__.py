"""workbench: quantitative systems pharmacology for MABEL first-in-human dose selection.

The pipeline's verbs are plain functions; stages exchange frozen dataclasses
and pandas DataFrames whose columns are named in :mod:`workbench.columns`.
The subpackages follow the pipeline (core -> sim -> analysis/verify/exchange ->
mabel/calibrate -> study -> report); the flat module paths of the previous layout
(``workbench.ensemble``, ...) are aliases kept for one release.
"""

# The old flat modules ``simulate`` and ``validate`` share their names with the functions
# bound below. A package attribute is set when its submodule is first imported, so their
# aliases are imported first: ``import workbench.simulate`` later cannot then replace the
# function ``workbench.simulate`` with the module.
from workbench import simulate as _simulate_alias  # noqa: I001
from workbench import validate as _validate_alias

from workbench.analysis.population import (
    Covariate,
    CovariateEffect,
    Population,
    Variability,
    allometric,
    build_population,
    filter_plausible,
    prevalence_weights,
    read_population,
    resample_population,
    sample_population,
)
from workbench.analysis.regimens import (
    Criterion,
    RegimenResult,
    compare_regimens,
    exposure_overlap,
    outside_window,
    summarize,
    target_attainment,
    write_regimens,
)
from workbench.analysis.sensitivity import (
    ParameterRange,
    ParameterSpace,
    SensitivityResult,
    local_sensitivity,
    morris,
    read_parameter_space,
    run_sensitivity,
    sobol,
)
from workbench.analysis.uncertainty import (
    Uncertainty,
    UncertaintyResult,
    build_uncertainty,
    propagate,
    write_uncertainty,
)
from workbench.analysis.variants import (
    DoseFor,
    Variant,
    VariantComparison,
    compare_variants,
    read_variants,
    write_variants,
)
from workbench.calibrate.fit import (
    CalibrationResult,
    calibrate,
    profile_likelihood,
    update_provenance,
    write_calibration,
)
from workbench.calibrate.observations import (
    DataCheck,
    Refinement,
    check_data,
    refine,
    write_data_check,
    write_refinement,
)
from workbench.calibrate.petab_objective import Objective
from workbench.calibrate.petab_problem import PetabProblem, lint_petab, read_petab
from workbench.core._versions import __version__
from workbench.core.dosing import (
    Dose,
    Regimen,
    Subject,
    body_surface_area,
    dose_in_model_units,
    parse_regimen,
)
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.core.provenance import (
    candidate_ranges,
    check_provenance,
    lint_provenance,
    provenance_template,
    read_provenance,
    write_provenance,
)
from workbench.core.sbml_checks import ValidationOptions, validate
from workbench.errors import WorkbenchError
from workbench.exchange.combine import ArchiveResult, export_archive
from workbench.exchange.sbml import Creator, ExportReport, export_sbml
from workbench import mabel  # the subpackage; it re-exports workbench.mabel.occupancy, ...
from workbench.mabel.decision import Decision, DecisionSettings, decide, traditional_estimates
from workbench.mabel.ladder import escalation_ladder
from workbench.mabel.qsp import (
    EffectDefinition,
    MabelEstimate,
    QspMabelResult,
    parse_effect,
    qsp_mabel,
)
from workbench.sim._engine import IntegratorSettings
from workbench.sim.convergence import ConvergenceOptions, ConvergenceWarning, convergence_options
from workbench.sim.ensemble import Metric, parse_metric, run_ensemble, shutdown_pool
from workbench.sim.metrics import compute_metrics, simulation_metrics
from workbench.sim.options import RunOptions, TimeGrid
from workbench.sim.simulate import read_trajectory, simulate, write_trajectory
from workbench.study.benchmark import Benchmark, retrospective
from workbench.study.data import StudyData, run_study_data
from workbench.report.render import write_report
from workbench.study.pipeline import MabelRun, run_mabel
from workbench.study.schema import Study, lint_study, read_study
from workbench.verify.suite import Verification, VerifyOptions, verify, write_verification

__all__ = [
    "ArchiveResult",
    "Benchmark",
    "CalibrationResult",
    "ConvergenceOptions",
    "ConvergenceWarning",
    "Covariate",
    "CovariateEffect",
    "Creator",
    "Criterion",
    "DataCheck",
    "Decision",
    "DecisionSettings",
    "Dose",
    "DoseFor",
    "Dosing",
    "EffectDefinition",
    "ExportReport",
    "IntegratorSettings",
    "MabelEstimate",
    "MabelRun",
    "Metric",
    "Model",
    "Objective",
    "ParameterRange",
    "ParameterSpace",
    "PetabProblem",
    "Population",
    "QspMabelResult",
    "Refinement",
    "Regimen",
    "RegimenResult",
    "RunOptions",
    "SensitivityResult",
    "Study",
    "StudyData",
    "Subject",
    "TimeGrid",
    "Uncertainty",
    "UncertaintyResult",
    "ValidationOptions",
    "Variability",
    "Variant",
    "VariantComparison",
    "Verification",
    "VerifyOptions",
    "WorkbenchError",
    "__version__",
    "allometric",
    "body_surface_area",
    "build_population",
    "build_uncertainty",
    "calibrate",
    "candidate_ranges",
    "check_data",
    "check_provenance",
    "compare_regimens",
    "compare_variants",
    "compute_metrics",
    "convergence_options",
    "decide",
    "dose_in_model_units",
    "escalation_ladder",
    "export_archive",
    "export_sbml",
    "exposure_overlap",
    "filter_plausible",
    "lint_petab",
    "lint_provenance",
    "lint_study",
    "load_model",
    "local_sensitivity",
    "mabel",
    "morris",
    "outside_window",
    "parse_effect",
    "parse_metric",
    "parse_regimen",
    "prevalence_weights",
    "profile_likelihood",
    "propagate",
    "provenance_template",
    "qsp_mabel",
    "read_parameter_space",
    "read_petab",
    "read_population",
    "read_provenance",
    "read_study",
    "read_trajectory",
    "read_variants",
    "refine",
    "resample_population",
    "retrospective",
    "run_ensemble",
    "run_mabel",
    "run_sensitivity",
    "run_study_data",
    "sample_population",
    "shutdown_pool",
    "simulate",
    "simulation_metrics",
    "sobol",
    "summarize",
    "target_attainment",
    "traditional_estimates",
    "update_provenance",
    "validate",
    "verify",
    "write_calibration",
    "write_data_check",
    "write_provenance",
    "write_refinement",
    "write_regimens",
    "write_report",
    "write_trajectory",
    "write_uncertainty",
    "write_variants",
    "write_verification",
]

del _simulate_alias, _validate_alias
