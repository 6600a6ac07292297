"""Process faults: a killed or interrupted `workbench` leaves no process behind and prints
no child traceback (issue 15, Build item 6)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from robust_harness import (
    alive,
    assert_no_orphans,
    cleanup_group,
    record_problem,
    start_cli,
    wait_for_descendants,
)

pytestmark = pytest.mark.robust("process faults")

DATA = Path(__file__).resolve().parents[1] / "data"


def _sobol_args(tmp_path):
    params = tmp_path / "space.csv"
    params.write_text("id,distribution,low,high\nCL,loguniform,0.1,2\n")
    return ["sensitivity", DATA / "onecomp.ant", "--params", params, "--method", "sobol",
            "--n", "65536", "--metric", "max(Drug)", "--dose", "1 nmol iv", "--into", "Drug",
            "--end", "100", "--points", "50", "--workers", "2", "--seed", "1",
            "--no-convergence-check", "--out", tmp_path / "out"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killed_parent_leaves_no_workers(tmp_path, sig):
    p = start_cli(*_sobol_args(tmp_path))
    kids = []
    try:
        # the forkserver, the resource tracker and 2 workers
        kids = wait_for_descendants(p.pid, 4, timeout=120)
        if len(kids) < 3:
            out, err = p.communicate(timeout=30) if p.poll() is not None else (b"", b"")
            pytest.fail(f"the workers did not start ({kids}); exit {p.returncode}: "
                        f"{err.decode()[-800:]}")
        time.sleep(1.0)
        os.kill(p.pid, sig)
        p.wait(timeout=30)
        assert_no_orphans(kids, within=10)
        err = p.stderr.read().decode("utf-8", "replace")
        if "Traceback" in err:
            record_problem("tracebacks", err[-300:])
            pytest.fail(err[-2000:])
        if sig == signal.SIGTERM:
            assert p.returncode == 130, err
            assert "interrupted" in err
            assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    finally:
        cleanup_group(p, [k for k in kids if alive(k)])
