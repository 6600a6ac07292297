"""Shared fixtures: paths to shared resources and small models with known answers."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PUBLISHED = SHARED / "models-external" / "published"
SBML_SUITE = SHARED / "sbml-test-suite" / "semantic"
PETAB_BENCH = SHARED / "models-external" / "petab-benchmark"
MODELS = ROOT / "models"
DATA = Path(__file__).resolve().parent / "data"


def pytest_configure(config: pytest.Config) -> None:
    """Give the test run a terminal's Ctrl-C, also when it was started in the background.

    A command started with ``&`` by a shell without job control (a script, ``(cmd &)``)
    inherits SIGINT as ignored (POSIX), and so does every CLI the tests start: the Ctrl-C
    tests then see the run finish with exit 0 (the workbench CLI rightly keeps an
    inherited ignore, as under ``nohup``). With a handler here, each child starts with
    SIGINT at its default, as a terminal's foreground job does.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def onecomp_text() -> str:
    """One-compartment IV model: V = 5 L, CL = 0.5 L/h (k = 0.1 /h), amounts in nmol, time in h."""
    return (DATA / "onecomp.ant").read_text()


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared resource {path} is not present")
    return path
