"""workbench: quantitative systems pharmacology for MABEL first-in-human dose selection.

The pipeline's verbs are plain functions; stages exchange frozen dataclasses
and pandas DataFrames whose columns are named in :mod:`workbench.columns`.
"""

from . import mabel  # traditional MABEL calculators: workbench.mabel.occupancy, ...
from ._engine import IntegratorSettings
from .calibrate import (
    CalibrationResult,
    calibrate,
    profile_likelihood,
    update_provenance,
    write_calibration,
)
from .combine import ArchiveResult, export_archive
from .dosing import Dose, Regimen, Subject, body_surface_area, dose_in_model_units, parse_regimen
from .ensemble import Metric, parse_metric, run_ensemble
from .errors import WorkbenchError
from .export import Creator, ExportReport, export_sbml
from .metrics import compute_metrics, simulation_metrics
from .model import Model, load_model
from .petab_objective import Objective
from .petab_problem import PetabProblem, lint_petab, read_petab
from .provenance import (
    candidate_ranges,
    check_provenance,
    lint_provenance,
    provenance_template,
    read_provenance,
    write_provenance,
)
from .sensitivity import (
    ParameterRange,
    ParameterSpace,
    SensitivityResult,
    local_sensitivity,
    morris,
    read_parameter_space,
    run_sensitivity,
    sobol,
)
from .simulate import read_trajectory, simulate, write_trajectory
from .uncertainty import (
    Uncertainty,
    UncertaintyResult,
    build_uncertainty,
    propagate,
    write_uncertainty,
)
from .validate import ValidationOptions, validate
from .validation_data import (
    DataCheck,
    Refinement,
    check_data,
    refine,
    write_data_check,
    write_refinement,
)
from .variants import (
    DoseFor,
    Variant,
    VariantComparison,
    compare_variants,
    read_variants,
    write_variants,
)
from .verify import Verification, VerifyOptions, verify, write_verification

__version__ = "0.1.0"

__all__ = [
    "ArchiveResult",
    "CalibrationResult",
    "Creator",
    "DataCheck",
    "Dose",
    "DoseFor",
    "ExportReport",
    "IntegratorSettings",
    "Metric",
    "Model",
    "Objective",
    "ParameterRange",
    "ParameterSpace",
    "PetabProblem",
    "Refinement",
    "Regimen",
    "SensitivityResult",
    "Subject",
    "Uncertainty",
    "UncertaintyResult",
    "ValidationOptions",
    "Variant",
    "VariantComparison",
    "Verification",
    "VerifyOptions",
    "WorkbenchError",
    "__version__",
    "body_surface_area",
    "build_uncertainty",
    "calibrate",
    "candidate_ranges",
    "check_data",
    "check_provenance",
    "compare_variants",
    "compute_metrics",
    "dose_in_model_units",
    "export_archive",
    "export_sbml",
    "lint_petab",
    "lint_provenance",
    "load_model",
    "local_sensitivity",
    "mabel",
    "morris",
    "parse_metric",
    "parse_regimen",
    "profile_likelihood",
    "propagate",
    "provenance_template",
    "read_parameter_space",
    "read_petab",
    "read_provenance",
    "read_trajectory",
    "read_variants",
    "refine",
    "run_ensemble",
    "run_sensitivity",
    "simulate",
    "simulation_metrics",
    "sobol",
    "update_provenance",
    "validate",
    "verify",
    "write_calibration",
    "write_data_check",
    "write_provenance",
    "write_refinement",
    "write_trajectory",
    "write_uncertainty",
    "write_variants",
    "write_verification",
]
