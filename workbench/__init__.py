"""workbench: quantitative systems pharmacology for MABEL first-in-human dose selection.

The pipeline's verbs are plain functions; stages exchange frozen dataclasses
and pandas DataFrames whose columns are named in :mod:`workbench.columns`.
"""

from . import mabel  # traditional MABEL calculators: workbench.mabel.occupancy, ...
from ._engine import IntegratorSettings
from .dosing import Dose, Regimen, Subject, body_surface_area, dose_in_model_units, parse_regimen
from .errors import WorkbenchError
from .metrics import compute_metrics, simulation_metrics
from .model import Model, load_model
from .simulate import read_trajectory, simulate, write_trajectory
from .validate import ValidationOptions, validate

__version__ = "0.1.0"

__all__ = [
    "Dose",
    "IntegratorSettings",
    "Model",
    "Regimen",
    "Subject",
    "ValidationOptions",
    "WorkbenchError",
    "__version__",
    "body_surface_area",
    "compute_metrics",
    "dose_in_model_units",
    "load_model",
    "mabel",
    "parse_regimen",
    "read_trajectory",
    "simulate",
    "simulation_metrics",
    "validate",
    "write_trajectory",
]
