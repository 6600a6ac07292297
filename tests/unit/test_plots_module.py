"""Figures of the analyses live in workbench/analysis/plots.py; the old module names stay
importable for one release as shims, and the import-layer checker places a shim inside a
subpackage in the front-end layer like a top-level one (so no module imports through it)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ig():
    spec = importlib.util.spec_from_file_location("import_graph_plots",
                                                  ROOT / "scripts" / "import_graph.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["import_graph_plots"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("import_graph_plots", None)


@pytest.mark.parametrize("old", ["workbench.analysis.sensitivity_plots",
                                 "workbench.analysis.regimen_plots",
                                 "workbench.sensitivity_plots", "workbench.regimen_plots"])
def test_old_plot_modules_are_the_new_one(old):
    plots = importlib.import_module("workbench.analysis.plots")
    mod = importlib.import_module(old)
    assert mod is plots
    for name in ("plot_indices", "plot_tornado", "plot_all", "plot_overlap_matrix"):
        assert callable(getattr(mod, name))


def test_analysis_modules_reexport_their_figures():
    from workbench.analysis import plots, uncertainty, variants

    assert uncertainty.plot_bands is plots.plot_bands
    assert variants.plot_variants is plots.plot_variants


def test_shims_inside_subpackages_are_front_end(ig, tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sim").mkdir(parents=True)
    files = {
        "__init__.py": "", "sim/__init__.py": "", "sim/figs.py": "",
        "sim/old_figs.py": (f"{ig.SHIM_MARK}\nimport sys\nfrom pkg.sim import figs as _n\n"
                            "sys.modules[__name__] = _n\n"),
        "sim/user.py": "import pkg.sim.old_figs\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    assert ig._shims(pkg, "pkg") == {"pkg.sim.old_figs"}
    _, edges = ig.import_edges(pkg, "pkg")
    layers = (("sim",), ("__init__", "*shims*"))
    breaches = {(e.source, e.target) for e in ig.layer_breaches(edges, layers, "pkg", pkg)}
    assert breaches == {("pkg.sim.user", "pkg.sim.old_figs")}


def test_no_module_exceeds_800_lines():
    long = [str(p.relative_to(ROOT)) for p in (ROOT / "workbench").rglob("*.py")
            if len(p.read_text(encoding="utf-8").splitlines()) > 800]
    assert not long, long
