"""The package type-checks: mypy with the configuration of pyproject.toml (``[tool.mypy]``).

Libraries without type information (pandas, libroadrunner, SALib, ...) are Any there, so
the check covers the package's own annotations: a function called with the wrong type, a
None that can reach arithmetic, an attribute a result does not have.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_package_passes_mypy(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"),
                          "--no-error-summary"], cwd=ROOT, capture_output=True, text=True,
                         timeout=900)
    errors = [line for line in out.stdout.splitlines() if ": error:" in line]
    assert out.returncode == 0 and not errors, "\n".join(errors[:50]) or out.stderr
