"""Process faults: a killed or interrupted `workbench` leaves no process behind and prints
no child traceback (issue 15, Build item 6)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from .robust_harness import (
    alive,
    assert_no_orphans,
    assert_no_output,
    cleanup_group,
    descendants,
    record_problem,
    snapshot,
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
            _, err = p.communicate(timeout=30) if p.poll() is not None else (b"", b"")
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


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "SIGTERM"])
def test_interrupted_mabel_leaves_the_folder_as_it_was(tmp_path, how):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("a file from before")
    before = snapshot(out)
    p = start_cli("mabel", "--quick", "--workers", "2", "--out", out)
    kids = []
    try:
        kids = wait_for_descendants(p.pid, 3, timeout=240)
        time.sleep(2.0)
        if how == "ctrl-c":  # a terminal sends SIGINT to the whole foreground group
            os.killpg(p.pid, signal.SIGINT)
        else:
            os.kill(p.pid, signal.SIGTERM)
        p.wait(timeout=60)
        err = p.stderr.read().decode("utf-8", "replace")
        if "Traceback" in err:
            record_problem("tracebacks", err[-300:])
            pytest.fail(err[-3000:])
        assert p.returncode in (130, 0), err
        if p.returncode == 130:
            assert_no_output(out, before=before)
            leftovers = [q.name for q in tmp_path.iterdir() if q.name.startswith(".out.")]
            if leftovers:
                record_problem("partial outputs", str(leftovers))
                pytest.fail(f"staging folders left: {leftovers}")
        assert_no_orphans(kids, within=10)
    finally:
        cleanup_group(p, [k for k in kids if alive(k)])


@pytest.mark.slow
def test_killed_parent_leaves_no_dask_workers(tmp_path):
    pytest.importorskip("distributed")
    args = _sobol_args(tmp_path)
    p = start_cli(*args, "--backend", "dask")
    kids = []
    try:
        kids = wait_for_descendants(p.pid, 2, timeout=180)
        time.sleep(3.0)
        kids = [k for k in descendants(p.pid) if alive(k)] or kids
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
        assert_no_orphans(kids, within=15)
    finally:
        cleanup_group(p, [k for k in kids if alive(k)])


# a worker that cannot re-open its parent's resources (the parent is stopping and has
# unlinked the pool's semaphores: SemLock._rebuild -> FileNotFoundError) before any
# workbench code runs in it; ``gone`` unpickles as a failing os.stat, deterministically
_BOOT_SCRIPT = """
import multiprocessing as mp, os, sys
class Gone:
    def __reduce__(self):
        return (os.stat, ("/nonexistent-workbench-semaphore-{kind}",))
class Odd:
    def __reduce__(self):
        return (int, ("not a number",))
if __name__ == "__main__":
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["workbench.sim._worker_boot", "workbench.sim.ensemble"])
    p = ctx.Process(target=print, args=({kind}(),))
    p.start()
    p.join(60)
    print("exitcode", p.exitcode)
"""


@pytest.mark.parametrize("kind", ["Gone", "Odd"])
def test_a_worker_that_cannot_start_prints_no_traceback(tmp_path, kind):
    import subprocess
    import sys

    from .robust_harness import cli_env

    script = tmp_path / "boot.py"
    script.write_text(_BOOT_SCRIPT.format(kind=kind))
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=120, env=cli_env())
    assert "exitcode 1" in r.stdout, (r.stdout, r.stderr)
    if "Traceback" in r.stderr:
        record_problem("tracebacks", r.stderr[-300:])
        pytest.fail(r.stderr[-2000:])
    if kind == "Gone":  # the parent's resources are gone: it is stopping, nothing to say
        assert r.stderr.strip() == ""
    else:  # anything else is one line (the parent reports the broken pool with the fix)
        assert "a worker process could not start (ValueError" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.parametrize("delay", [0.0, 0.3])
def test_ctrl_c_while_workers_start(tmp_path, delay):
    # Ctrl-C as soon as the pool begins to start workers (the forkserver exists, the
    # workers are being forked and bootstrapped): exit 130, no traceback, no orphan
    p = start_cli(*_sobol_args(tmp_path))
    kids = []
    try:
        kids = wait_for_descendants(p.pid, 1, timeout=120)
        time.sleep(delay)
        kids = descendants(p.pid)
        os.killpg(p.pid, signal.SIGINT)  # a terminal signals the whole foreground group
        p.wait(timeout=60)
        time.sleep(0.5)
        kids = sorted(set(kids) | set(descendants(p.pid)))
        err = p.stderr.read().decode("utf-8", "replace")
        if "Traceback" in err:
            record_problem("tracebacks", err[-300:])
            pytest.fail(err[-2000:])
        assert p.returncode == 130, err
        assert_no_output(tmp_path / "out")
        assert_no_orphans(kids, within=10)
    finally:
        cleanup_group(p, [k for k in kids if alive(k)])
