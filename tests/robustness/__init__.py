"""Robustness suite (issue 15): a package, so its conftest does not shadow tests/conftest.py."""
