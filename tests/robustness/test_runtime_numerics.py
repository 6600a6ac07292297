"""Silent numerical errors (issue 15, Build item 2) through the CLI: the unstable
analytically-zero subsystem is flagged (warning; exit 1 with --strict) and never reported as a
clean success."""

from __future__ import annotations

from pathlib import Path

import pytest

from .robust_harness import assert_no_output, record_problem, run_cli

pytestmark = pytest.mark.robust("numerical")

UNSTABLE = Path(__file__).resolve().parents[1] / "data" / "unstable_zero.ant"


def test_unstable_subsystem_warns(tmp_path):
    out = tmp_path / "y.csv"
    r = run_cli("simulate", UNSTABLE, "--end", "100", "--points", "5", "--outputs", "Y", "-o", out)
    r.check_sane()
    if "not converged" not in r.stderr:
        record_problem("wrong-success", "no convergence warning for a diverging result")
        pytest.fail(r.stderr)
    assert "workbench: warning:" in r.stderr and "Y" in r.stderr


def test_unstable_subsystem_strict_fails(tmp_path):
    out = tmp_path / "y.csv"
    r = run_cli("simulate", UNSTABLE, "--end", "100", "--points", "5", "--outputs", "Y",
                "--strict", "-o", out)
    r.expect_error(1, "unstable_zero.ant", "[Y]", "not converged")
    assert_no_output(out)


def test_blow_up_names_the_state(tmp_path):
    out = tmp_path / "a.csv"
    r = run_cli("simulate", UNSTABLE, "--end", "100", "--points", "5", "--outputs", "A",
                "--set", "g=1.5", "--no-convergence-check", "-o", out)
    r.expect_error(1, "unstable_zero.ant", "blew up", "X")
    assert_no_output(out)
