"""The subpackage layout keeps the old flat import paths working for one release.

Every public module of the flat layout is either a one-line shim (``workbench/ensemble.py``
aliases ``workbench.sim.ensemble``) or became a subpackage that re-exports the old module's
names (``workbench.mabel``, ``workbench.study``, ...). The list of old names is written out
here, not derived from the shims, so a deleted shim fails this test.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: old flat module -> new module (the previous layout, commit fe92d2d)
OLD_TO_NEW = {
    "limits": "core.limits", "textin": "core.textin", "input_checks": "core.input_checks",
    "archive": "core.archive", "model_gate": "core.model_gate", "units": "core.units",
    "model": "core.model", "dosing": "core.dosing", "provenance": "core.provenance",
    "priors": "core.priors", "stoichiometry": "core.stoichiometry",
    "parameter_space": "core.parameter_space", "progress": "core.progress",
    "stats": "core.stats", "plots": "core.plots", "validate": "core.sbml_checks",
    "convergence": "sim.convergence", "metric_spec": "sim.metric_spec",
    "simulate": "sim.simulate", "metrics": "sim.metrics", "ensemble": "sim.ensemble",
    "sensitivity": "analysis.sensitivity", "uncertainty": "analysis.uncertainty",
    "population": "analysis.population", "regimens": "analysis.regimens",
    "variants": "analysis.variants", "sensitivity_plots": "analysis.sensitivity_plots",
    "regimen_plots": "analysis.regimen_plots", "check_result": "verify.check_result",
    "sbmlsuite": "testing.sbmlsuite", "sedml": "exchange.sedml", "combine": "exchange.combine",
    "export": "exchange.sbml", "sbml_events": "exchange.events",
    "petab_problem": "calibrate.petab_problem", "petab_objective": "calibrate.petab_objective",
    "calibration_plots": "calibrate.plots", "validation_data": "calibrate.observations",
    "decision": "mabel.decision", "decision_analyses": "mabel.decision_analyses",
    "stepup": "mabel.stepup", "dose_slider": "mabel.dose_slider", "ladder": "mabel.ladder",
    "decision_study": "mabel.decision_study", "qsp_mabel": "mabel.qsp",
    "mabel_population": "mabel.population", "benchmark": "study.benchmark",
    "study_data": "study.data", "study_refine": "study.refine",
    "report_render": "report.render", "report_html": "report.html",
    "report_summary": "report.summary", "report_diagram": "report.diagram",
    "report_interactive": "report.interactive",
}
#: old modules that became subpackages, with one name each must still offer
BECAME_PACKAGES = {"verify": "VerifyOptions", "calibrate": "PROFILE_THRESHOLD",
                   "mabel": "occupancy", "study": "read_study", "report": "run_mabel"}


@pytest.mark.parametrize("old", sorted(OLD_TO_NEW))
def test_old_flat_path_is_the_new_module(old):
    new = importlib.import_module(f"workbench.{OLD_TO_NEW[old]}")
    assert sys.modules[f"workbench.{old}"] is new if f"workbench.{old}" in sys.modules else True
    alias = importlib.import_module(f"workbench.{old}")
    assert alias is new


@pytest.mark.parametrize("old", sorted(BECAME_PACKAGES))
def test_old_module_names_are_offered_by_the_subpackage(old):
    pkg = importlib.import_module(f"workbench.{old}")
    assert hasattr(pkg, BECAME_PACKAGES[old]) and hasattr(pkg, "__path__")


def test_importing_an_alias_never_replaces_a_public_function():
    """``workbench.simulate`` and ``workbench.validate`` are functions and old module paths;
    importing the module path first, in a fresh interpreter, must leave the functions."""
    code = ("import workbench.simulate, workbench.validate, workbench.verify.suite, "
            "workbench.calibrate.fit\nimport workbench as wb, inspect\n"
            "print(all(inspect.isfunction(f) for f in "
            "(wb.simulate, wb.validate, wb.verify, wb.calibrate)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "True", out.stderr


def test_no_module_of_the_package_imports_through_an_alias():
    """Internal code uses the new paths: the layer contract puts the shims on top, and
    none of the package's own modules is a shim-importer (checked by text too)."""
    shims = {p.stem for p in (ROOT / "workbench").glob("*.py")
             if "# shim: old import path" in p.read_text(encoding="utf-8")}
    assert shims == set(OLD_TO_NEW)
    import re
    pat = re.compile(r"^\s*(from|import) workbench\.(" + "|".join(sorted(shims)) + r")\b", re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "workbench").rglob("*.py")
                 if p.stem not in shims and pat.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


#: old home -> public names that moved into a subpackage's plots module. Where the old
#: home draws (writes figures) it imports the new name; elsewhere the old name resolves
#: lazily with a DeprecationWarning, so the results never import their figures.
MOVED_TO_PLOTS = {
    "mabel.population": {"plot_mabel_distributions": "mabel.plots.plot_mabel_distributions"},
    "mabel.stepup": {"plot_stepup": "mabel.plots.plot_stepup",
                     "report_blocks": "mabel.plots.stepup_blocks"},
    "mabel.decision_analyses": {"sensitivity_blocks": "mabel.plots.sensitivity_blocks"},
    "verify.suite": {"plot_verification": "verify.plots.plot_verification"},
    "study.data": {"report_blocks": "study.plots.study_data_blocks",
                   "png_figure": "study.plots.png_figure"},
    "study.benchmark": {"plot_benchmark": "study.plots.plot_benchmark"},
}
#: old homes that write figures themselves (the name is a plain import, no warning)
DRAWING_HOMES = {"verify.suite", "study.benchmark"}


@pytest.mark.parametrize("home", sorted(MOVED_TO_PLOTS))
def test_moved_plot_functions_keep_their_old_names(home):
    import warnings

    old = importlib.import_module(f"workbench.{home}")
    for name, new in MOVED_TO_PLOTS[home].items():
        mod, attr = new.rsplit(".", 1)
        want = getattr(importlib.import_module(f"workbench.{mod}"), attr)
        if home in DRAWING_HOMES:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                assert getattr(old, name) is want
        else:
            with pytest.warns(DeprecationWarning, match=rf"{attr}; the old name goes"):
                assert getattr(old, name) is want
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        old.not_a_name  # noqa: B018


def _runtime_workbench_imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports outside ``if TYPE_CHECKING:`` blocks
    (function-level imports count: they run when the figure is drawn)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    mods = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("workbench"):
            mods |= ({f"{node.module}.{a.name}" for a in node.names}
                     if node.module == "workbench" else {node.module})
        elif isinstance(node, ast.Import):
            mods |= {a.name for a in node.names if a.name.startswith("workbench")}
    return mods


def test_plots_modules_only_draw():
    """Every plot function of a subpackage lives in its ``plots.py``, and a plots module runs
    no analysis: at run time it imports only columns, errors, the core helpers (figures,
    units, statistics, regimen text for labels, model loading for unit labels) and named
    constants; result types are imported for annotations only."""
    import ast

    drawing = {"workbench.columns", "workbench.errors"}
    core_ok = ("workbench.core.",)
    constants = {"workbench.calibrate._profile"}  # PROFILE_THRESHOLD
    bad = []
    for path in sorted((ROOT / "workbench").glob("*/plots.py")):
        for mod in _runtime_workbench_imports(path):
            if mod in drawing or mod.startswith(core_ok) or mod in constants:
                continue
            bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    for path in sorted((ROOT / "workbench").glob("*/*.py")):
        if path.name == "plots.py" or path.parent.name == "report":
            continue  # the report draws its own layout figures
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bad += [f"{path.relative_to(ROOT)} defines {n.name}" for n in tree.body
                if isinstance(n, ast.FunctionDef) and n.name.startswith("plot_")]
    assert bad == []
