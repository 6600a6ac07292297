"""The documentation site builds with strict warnings (mkdocs-material + mkdocstrings:
API reference from the numpydoc docstrings, the examples as pages)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_build_is_strict_and_complete(tmp_path):
    pytest.importorskip("mkdocs", reason="mkdocs not installed (pip install -e '.[test]')")
    pytest.importorskip("mkdocstrings", reason="mkdocstrings not installed")
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                        str(site)], cwd=ROOT, capture_output=True, text=True, env=env,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "WARNING" not in r.stderr, r.stderr[-3000:]
    api = (site / "api" / "models" / "index.html").read_text(encoding="utf-8")
    # the reference comes from the docstrings: a signature and a numpydoc section
    assert "load_model" in api and "simulate" in api and "Parameters" in api
    assert (site / "mabel_dose_response.png").is_file()
    # every public name of the package is in the API reference (as an object heading)
    import workbench

    html = "".join(p.read_text(encoding="utf-8") for p in (site / "api").glob("*/index.html"))
    missing = [n for n in workbench.__all__ if not n.startswith("__")
               and f'id="workbench.{n}"' not in html
               and f'id="{getattr(getattr(workbench, n), "__module__", "")}.{n}"' not in html]
    assert not missing, f"public names without an API entry: {missing}"
    # every numbered example script has a page, listed in the navigation
    home = (site / "index.html").read_text(encoding="utf-8")
    scripts = sorted(ROOT.glob("examples/[0-9][0-9]_*.py"))
    assert scripts
    for script in scripts:
        assert (site / "examples" / script.stem / "index.html").is_file(), script.name
        assert f'href="examples/{script.stem}/" class="md-nav__link"' in home, script.name
