"""Analyses over ensembles: sensitivity (local, Morris, Sobol), uncertainty propagation,
virtual populations, regimens and model variants, with their figures.
"""
