"""Calibration: PEtab problems and objective, multi-start fitting, profile likelihoods,
and the comparison of predictions with observed data (``observations``).
"""
