"""Every numbered example in examples/ runs from the repository root, exits 0, writes its
files into the given directory (never into the repository) and prints what it shows.

The examples are the pipeline by stage (01 load and simulate ... 07 MABEL dossier); with
their reduced default sizes 01-06 take a few seconds of CPU each. 07 runs the whole
reduced MABEL study and writes the report (about 40 s of CPU): slow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: example -> (a file it must write, a text its output must contain)
EXPECT = {
    "01_load_simulate.py": ("trajectory.csv", "closed form"),
    "02_ensemble.py": ("ensemble.csv", "runs ok"),
    "03_sensitivity_uncertainty.py": ("bands.png", "mu_star"),
    "04_verify.py": ("verification.csv", "all checks passed: True"),
    "05_calibrate.py": ("parameters.csv", "final_value"),
    "06_population_regimens.py": ("attainment.csv", "plausible of 40 subjects"),
    "07_mabel_dossier.py": ("report.html", "report.html"),
}
SLOW = {"07_mabel_dossier.py": "the reduced MABEL study and its report (~40 s CPU)"}


def test_every_numbered_example_is_listed():
    numbered = sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
    assert numbered == sorted(EXPECT)
    for name in numbered:
        text = (EXAMPLES / name).read_text(encoding="utf-8")
        assert text.split('"""')[1].strip(), f"{name}: no docstring"
        assert len(text.splitlines()) <= 70, f"{name}: an example should stay small"


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else [], id=n) for n in EXPECT])
def test_example_runs(name, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, str(EXAMPLES / name), "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    produced, says = EXPECT[name]
    assert (out / produced).is_file(), sorted(p.name for p in out.rglob("*"))
    assert says in r.stdout, r.stdout[-2000:]
