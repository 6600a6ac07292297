"""Calibration: PEtab problems and objective, multi-start fitting, profile likelihoods,
and the comparison of predictions with observed data (``observations``).
"""

# The names of the old flat module ``workbench.calibrate``, kept for one release.
from workbench.calibrate.fit import (
    PROFILE_THRESHOLD,
    CalibrationResult,
    calibrate,
    latin_hypercube,
    profile_likelihood,
    update_provenance,
    write_calibration,
)

__all__ = [
    "PROFILE_THRESHOLD",
    "CalibrationResult",
    "calibrate",
    "latin_hypercube",
    "profile_likelihood",
    "update_provenance",
    "write_calibration",
]
