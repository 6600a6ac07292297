"""Every ```bash and ```python block of README.md and docs/**/*.md runs as written.

Blocks run in document order in one scratch directory per document that mirrors
the repository (``models/``, ``studies/``, ``examples/``, ``tests/``, ``scripts/``
linked in; ``../shared`` linked next to it when it exists), so their outputs
(``out/...``, ``params.csv``) stay out of the repository and a later block can use
an earlier one's files. A block's first comment lines may mark it:

``# doc-test: skip - REASON``   never run here (REASON says why and who runs it)
``# doc-test: slow - REASON``   run only with ``-m slow`` (REASON: what takes long)

A block fails when a command exits non-zero (bash runs with ``-e -o pipefail``).
Blocks that use ``../shared`` skip with a stated reason when it is absent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(bash|python)[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)
MARK = re.compile(r"^#\s*doc-test:\s*(skip|slow)\s*(?:-|:)?\s*(.*)$")


def _blocks():
    params = []
    for doc in DOCS:
        text = doc.read_text()
        for m in FENCE.finditer(text):
            lang, body = m.group(1), m.group(2)
            line = text[:m.start()].count("\n") + 1
            marks = []
            for ln in body.splitlines():
                if not ln.startswith("#"):
                    break
                mm = MARK.match(ln)
                if mm:
                    reason = mm.group(2).strip()
                    assert reason, f"{doc.name}:{line}: a doc-test mark needs a reason"
                    marks.append((mm.group(1), reason))
            pm = []
            for kind, reason in marks:
                pm.append(pytest.mark.skip(reason=reason) if kind == "skip" else pytest.mark.slow)
            params.append(pytest.param(doc, lang, body, marks=pm,
                                       id=f"{doc.relative_to(ROOT)}:{line}:{lang}"))
    return params


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory):
    return {}


def _sandbox(sandboxes, tmp_path_factory, doc: Path) -> Path:
    if doc not in sandboxes:
        base = tmp_path_factory.mktemp("docrun")
        work = base / "workbench"
        work.mkdir()
        for name in ("models", "studies", "examples", "tests", "scripts", "docs", "workbench",
                     "pyproject.toml", "README.md"):
            (work / name).symlink_to(ROOT / name)
        # blocks call `.venv/bin/python`: the environment running these tests (.venv313 on
        # the 3.13 run)
        (work / ".venv").symlink_to(Path(sys.prefix))
        if SHARED.is_dir():
            (base / "shared").symlink_to(SHARED)
        sandboxes[doc] = work
    return sandboxes[doc]


@pytest.mark.parametrize(("doc", "lang", "body"), _blocks())
def test_documented_block_runs(doc, lang, body, sandboxes, tmp_path_factory):
    if "../shared" in body and not SHARED.is_dir():
        pytest.skip(f"{SHARED} not found (the SBML test suite and published models)")
    work = _sandbox(sandboxes, tmp_path_factory, doc)
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if lang == "bash":
        script = work / "_block.sh"
        script.write_text(body)
        cmd = ["bash", "-e", "-o", "pipefail", str(script)]
    else:
        script = work / "_block.py"
        script.write_text(body)
        cmd = [sys.executable, str(script)]
    r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, (f"{doc.name} block exited {r.returncode}\n--- block\n{body}\n"
                               f"--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-3000:]}")
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
