"""Verification: does the model behave as a pharmacological model must (mass balance,
steady state, dose proportionality, ...)? Not to be confused with ``core.sbml_checks`` (is the
SBML valid?) or ``calibrate.observations`` (does the model match observed data?).
"""
