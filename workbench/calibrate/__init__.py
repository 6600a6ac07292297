"""Calibration: PEtab problems and objective, multi-start fitting, profile likelihoods,
and the comparison of predictions with observed data (``observations``).
"""

# The names of the old flat module ``workbench.calibrate``, kept for one release.
from workbench.calibrate.fit import (
    CalibrationResult,
    calibrate,
    profile_likelihood,
    update_provenance,
    write_calibration,
)

__all__ = [
    "CalibrationResult",
    "calibrate",
    "profile_likelihood",
    "update_provenance",
    "write_calibration",
]
