"""The import graph of workbench/ has no cycle and keeps its layers (scripts/import_graph.py).

The checker reads the source (every import, in functions too), so a cycle hidden
behind an in-function import counts. The checker itself is tested on synthetic
packages: it must see a cycle, an upward import, and a module no layer lists.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ig():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("import_graph", None)


def test_workbench_has_no_cycle_and_keeps_its_layers(ig):
    s = ig.summary(ROOT / "workbench")
    assert s["cycles"] == [], s["cycles"]
    assert s["layer_breaches"] == [], [f"{e.source} -> {e.target}:{e.line}"
                                       for e in s["layer_breaches"]]
    assert s["unplaced"] == [], "place these modules in scripts/import_graph.py LAYERS"
    listed = [n for layer in ig.LAYERS for n in layer]
    assert len(listed) == len(set(listed)), "a module is listed in two layers"


def _package(root: Path, files: dict[str, str]) -> Path:
    pkg = root / "pkg"
    pkg.mkdir()
    for name, text in files.items():
        (pkg / name).write_text(text)
    return pkg


def test_checker_sees_a_cycle_behind_an_in_function_import(ig, tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "",
        "low.py": "def f():\n    from .high import g\n    return g()\n",
        "high.py": "from . import low\n\ndef g():\n    return 1\n",
        "typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .top import T\n",
        "top.py": "from .typed import *  # noqa\nT = 1\n",
        "alone.py": "import os\n",
        "chain.py": "from .high import g\n",
    })
    modules, edges = ig.import_edges(pkg, "pkg")
    g = ig.adjacency(modules, edges)
    assert ig.cycles(g) == [["pkg.high", "pkg.low"], ["pkg.top", "pkg.typed"]]
    assert any(e.in_function for e in edges if e.source == "pkg.low")
    # a type-only import is a design dependency by default, and can be left out
    _, runtime = ig.import_edges(pkg, "pkg", runtime_only=True)
    assert ig.cycles(ig.adjacency(modules, runtime)) == [["pkg.high", "pkg.low"]]
    assert ig.depth(g) == 2  # chain -> {high, low}: a cycle counts as one node
    assert ig.main(["--package-dir", str(pkg), "--package", "pkg", "--check"]) == 1


def test_checker_sees_an_upward_import_and_an_unplaced_module(ig, tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "", "errors.py": "from .report import render\n",
        "report.py": "def render():\n    pass\n", "extra.py": "",
    })
    modules, edges = ig.import_edges(pkg, "pkg")
    assert ig.cycles(ig.adjacency(modules, edges)) == []
    layers = (("errors",), ("report",), ("__init__",))
    assert [(e.source, e.target) for e in ig.layer_breaches(edges, layers, "pkg")] == \
        [("pkg.errors", "pkg.report")]
    assert ig.unplaced(modules, layers, "pkg") == ["pkg.extra"]


def test_a_deliberate_upward_import_in_workbench_fails_the_contract(ig, tmp_path):
    """A copy of workbench/ with `errors` importing `cli`: a cycle and a layer breach."""
    copy = tmp_path / "workbench"
    shutil.copytree(ROOT / "workbench", copy, ignore=shutil.ignore_patterns("__pycache__"))
    errors = copy / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef _late():\n    from .cli import main\n"
                      "    return main\n")
    s = ig.summary(copy)
    assert s["cycles"] and any("workbench.errors" in c and "workbench.cli" in c
                               for c in s["cycles"])
    assert [(e.source, e.target) for e in s["layer_breaches"]] == [("workbench.errors",
                                                                    "workbench.cli")]


def test_checker_places_subpackages_and_keeps_shims_on_top(ig, tmp_path):
    """A layer names a subpackage: every module under it belongs to it. A module of a lower
    subpackage importing a higher one is a breach; importing through a shim (a top-level
    alias of an old flat path, marked with SHIM_MARK) is a breach too, since shims sit in
    the front-end layer."""
    pkg = tmp_path / "pkg"
    (pkg / "core").mkdir(parents=True)
    (pkg / "sim").mkdir()
    files = {
        "__init__.py": "from pkg.sim import run\n",
        "core/__init__.py": "", "core/units.py": "",
        "core/model.py": "from pkg.core import units\nfrom pkg.sim.run import go\n",
        "sim/__init__.py": "", "sim/run.py": "from pkg.core.units import *  # noqa\ngo = 1\n",
        "run.py": f"{ig.SHIM_MARK}\nimport sys\nfrom pkg.sim import run as _n\nsys.modules[__name__] = _n\n",
        "sim/uses_shim.py": "import pkg.run\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    modules, edges = ig.import_edges(pkg, "pkg")
    layers = (("core",), ("sim",), ("__init__", "*shims*"))
    breaches = {(e.source, e.target) for e in ig.layer_breaches(edges, layers, "pkg", pkg)}
    # pkg.sim: the __init__ of the package runs before pkg.sim.run can be imported
    assert breaches == {("pkg.core.model", "pkg.sim.run"), ("pkg.core.model", "pkg.sim"),
                        ("pkg.sim.uses_shim", "pkg.run")}
    assert ig.unplaced(modules, layers, "pkg", pkg) == []
    assert ig.unplaced(modules, (("core",), ("__init__",)), "pkg", pkg) == [
        "pkg.run", "pkg.sim", "pkg.sim.run", "pkg.sim.uses_shim"]


def test_checker_sees_the_package_init_behind_a_from_import(ig, tmp_path):
    """``from pkg.verify import suite`` inside the package reads the attribute of the
    package, whose ``__init__`` imports ``suite``: a cycle (the one an external check found
    in workbench.verify). Importing ``pkg.verify.checks`` from another subpackage runs
    ``pkg/verify/__init__`` first: an edge to it. ``from pkg import x`` (the root) is not
    an edge to the root's ``__init__``, which every module runs under."""
    pkg = tmp_path / "pkg"
    (pkg / "verify").mkdir(parents=True)
    (pkg / "mabel").mkdir()
    files = {
        "__init__.py": "", "columns.py": "",
        "verify/__init__.py": "from pkg.verify.suite import go\n",
        "verify/suite.py": "from pkg import columns\nfrom pkg.verify import checks\ngo = 1\n",
        "verify/checks.py": "",
        "mabel/__init__.py": "", "mabel/uses.py": "from pkg.verify.checks import x\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    modules, edges = ig.import_edges(pkg, "pkg")
    pairs = {(e.source, e.target) for e in edges}
    assert ("pkg.verify.suite", "pkg.verify") in pairs
    assert ("pkg.mabel.uses", "pkg.verify") in pairs
    assert ("pkg.verify.suite", "pkg") not in pairs
    cycles = [c for c in ig.strongly_connected(ig.adjacency(modules, edges)) if len(c) > 1]
    assert cycles == [["pkg.verify", "pkg.verify.suite"]]
