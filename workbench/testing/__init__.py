"""The SBML semantic test suite harness: software verification of the engine.
"""
