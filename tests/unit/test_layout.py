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
