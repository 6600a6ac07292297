"""Verification: does the model behave as a pharmacological model must (mass balance,
steady state, dose proportionality, ...)? Not to be confused with ``core.sbml_checks`` (is the
SBML valid?) or ``calibrate.observations`` (does the model match observed data?).
"""

# The names of the old flat module ``workbench.verify``, kept for one release.
from workbench.verify.suite import (
    CHECKS,
    CheckResult,
    PlotData,
    Verification,
    VerifyOptions,
    plot_verification,
    verify,
    write_verification,
)

__all__ = [
    "CHECKS",
    "CheckResult",
    "PlotData",
    "Verification",
    "VerifyOptions",
    "plot_verification",
    "verify",
    "write_verification",
]
