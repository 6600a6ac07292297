"""Shared fixtures: paths to shared resources and small models with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PUBLISHED = SHARED / "models-external" / "published"
SBML_SUITE = SHARED / "sbml-test-suite" / "semantic"
PETAB_BENCH = SHARED / "models-external" / "petab-benchmark"
MODELS = ROOT / "models"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def onecomp_text() -> str:
    """One-compartment IV model: V = 5 L, CL = 0.5 L/h (k = 0.1 /h), amounts in nmol, time in h."""
    return (DATA / "onecomp.ant").read_text()


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared resource {path} is not present")
    return path
