"""The typed study and the visible pipeline (issue 14, item 4).

The stored fingerprint ``tests/data/mabel_fingerprint_rr<libRoadRunner major.minor>.json``
is the per-table SHA-256 of ``run_mabel(BUNDLED_STUDY, reduced=True)``, first computed on
main *before* the pipeline became a list of stages (commit 524fc46). One file per
libRoadRunner release: 2.10 (Python 3.11) and 2.11 (Python >= 3.12) integrate differently in
the last digits, and the hashes keep 12 significant digits. Regenerate both, in each
environment, when the bundled study or its model changes on purpose::

    .venv/bin/python scripts/mabel_fingerprint.py > tests/data/mabel_fingerprint_rr2.10.json
    .venv313/bin/python scripts/mabel_fingerprint.py > tests/data/mabel_fingerprint_rr2.11.json

A missing file for the installed release fails (it is never skipped).
"""

import ast
import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.study.pipeline import BUNDLED_STUDY, STAGES, mabel_stages
from workbench.study.schema import Study, lint_study, read_study
from workbench.study.stages import (
    SEED_INDEX,
    draws_stage,
    qsp_mabel_stage,
    setup_stage,
    stage_seeds,
    uncertainty_stage,
)

ROOT = Path(__file__).resolve().parents[2]


def _stored_fingerprint() -> dict[str, str]:
    import roadrunner

    release = ".".join(roadrunner.__version__.split(".")[:2])
    path = ROOT / "tests" / "data" / f"mabel_fingerprint_rr{release}.json"
    assert path.is_file(), (f"no stored fingerprint for libRoadRunner {release}: run "
                            f"scripts/mabel_fingerprint.py > {path.relative_to(ROOT)}")
    return json.loads(path.read_text())


FINGERPRINT = _stored_fingerprint()


def _fingerprint_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("mabel_fingerprint",
                                                  ROOT / "scripts" / "mabel_fingerprint.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _without(study: Study, *keys: str, **changes) -> Study:
    """The study with top-level blocks removed or changed (sections re-read from the data)."""
    d = {k: v for k, v in study.data.items() if k not in keys}
    d.update(changes)
    return Study(study.path, study.name, study.question, study.context_of_use,
                 study.influence, study.consequence, study.model, d)


def test_study_is_read_into_frozen_typed_sections():
    st = read_study(BUNDLED_STUDY)
    s = st.sections
    assert (s.drug.species, s.drug.mw, s.drug.dose_unit, s.drug.body_weight) == (
        "Drug", "150 kDa", "ug/kg", 70.0)
    assert (s.uncertainty.n, s.uncertainty.seed, s.uncertainty.method) == (48, 1, "lhs")
    assert s.population is not None and s.population.seed == 7
    assert s.outputs.profile_outputs[0] == "Cfree" and s.simulation.points == 200
    assert len(s.effects) == 3 and s.effects[2].lloq == "5 pg/mL"
    assert s.model.variants and Path(s.model.variants).is_absolute()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.drug.mw = "1 kDa"
    with pytest.raises(TypeError):  # nested mappings are read-only views
        s.decision.settings["steps"] = 99
    # defaults live in the sections: a study without the optional blocks
    bare = _without(st, "sensitivity", "population", "uncertainty", "stepup")
    assert bare.sections.population is None and bare.sections.stepup is None
    assert (bare.sections.sensitivity.sobol_n, bare.sections.uncertainty.n) == (64, 64)


def test_lint_still_reports_every_problem_at_once(tmp_path):
    st = read_study(BUNDLED_STUDY)
    d = {k: v for k, v in st.data.items()}
    d["seed"] = "one"
    d["drug"] = {**d["drug"], "body_weight": "heavy"}
    d["uncertainty"] = {**d["uncertainty"], "n": 2.5}
    errs = lint_study(d, Path(st.path).parent)
    assert any(e.startswith("seed: must be an integer") for e in errs)
    assert any(e.startswith("drug.body_weight:") for e in errs)
    assert any(e.startswith("uncertainty.n:") for e in errs)


def test_progress_lines_derive_from_the_stage_list():
    st = read_study(BUNDLED_STUDY)
    lines = mabel_stages(st, "pkg")
    assert lines == [s.label for s in STAGES if s.label and s.when(st, True)]
    # the bundled study's lines, as before the stage list
    assert lines == ["verification", "QSP MABEL", "population MABEL",
                     "decision and escalation ladder", "population at the first levels",
                     "PK/PD profiles", "sensitivity", "model variants", "step-up regimens",
                     "dose slider ensemble", "exchange package"]
    bare = _without(st, "population", "stepup")
    assert "population MABEL" not in mabel_stages(bare)
    assert "exchange package" not in mabel_stages(bare)
    names = [s.name for s in STAGES]
    assert len(set(names)) == len(names)


def test_stage_seeds_are_fixed_per_stage():
    st = read_study(BUNDLED_STUDY)
    # the sections' own seeds (no calibration section: 0)
    assert dataclasses.astuple(stage_seeds(st)) == (1, 7, 1, 0)
    no_seeds = _without(st, "population", "uncertainty", "sensitivity")
    assert dataclasses.astuple(stage_seeds(no_seeds)) == (0, 0, 0, 0)  # as always
    derived = _without(st, "uncertainty", "sensitivity",
                       population={k: v for k, v in st.data["population"].items()
                                   if k != "seed"}, seed=11)
    seeds = stage_seeds(derived)
    kids = np.random.SeedSequence(11).spawn(len(SEED_INDEX))
    want = {k: int(kids[i].generate_state(1)[0] % (2**31 - 1)) for k, i in SEED_INDEX.items()}
    assert dataclasses.asdict(seeds) == want
    assert len(set(want.values())) == 4
    # a calibration section's own seed wins; without one it takes its child of the study seed
    cal = {"petab": "problem.yaml"}
    assert stage_seeds(_without(derived, calibration={**cal, "seed": 5})).calibration == 5
    assert stage_seeds(_without(derived, calibration=cal)).calibration == want["calibration"]
    assert stage_seeds(_without(st, calibration=cal)).calibration == 0  # no study seed
    # skipping the population stage leaves the other stages' seeds alone
    skipped = stage_seeds(_without(derived, "population"))
    assert (skipped.uncertainty, skipped.sensitivity) == (seeds.uncertainty, seeds.sensitivity)


def _qsp_alone(study: Study):
    """setup -> uncertainty -> draws -> QSP MABEL, nothing else (reduced)."""
    setup = setup_stage(study, reduced=True)
    seeds = stage_seeds(study)
    unc = uncertainty_stage(setup)
    return qsp_mabel_stage(setup, setup.model, draws_stage(setup, setup.model, unc, seeds),
                           seeds)


def test_qsp_stage_alone_reproduces_the_full_run_tables():
    """Skipping every other stage (verification, population, decision, ...) leaves the QSP
    MABEL tables identical to main's full run; the same seed gives identical tables."""
    fp = _fingerprint_module()
    st = _without(read_study(BUNDLED_STUDY), "population")
    a = _qsp_alone(st)
    b = _qsp_alone(st)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.dose_response, b.dose_response)
    got = {k: fp.fingerprint_of(v) for k, v in (("qsp.to_frame", a.to_frame()),
                                                 ("qsp.dose_response", a.dose_response))}
    assert got == {k: FINGERPRINT[k] for k in got}


def test_report_modules_import_only_types_columns_and_renderers():
    """The renderer runs no analysis: report modules import columns, errors, plotting and
    I/O helpers, other report modules, types (under TYPE_CHECKING) and the named result
    renderers below (functions that only format a finished result)."""
    allowed_modules = {"workbench.columns", "workbench.errors",
                       "workbench.core._io", "workbench.core._versions", "workbench.core.plots",
                       "workbench.core.units"}
    # each subpackage's plots module draws finished results and computes nothing
    allowed_modules |= {"workbench.mabel.plots", "workbench.verify.plots",
                        "workbench.study.plots"}
    renderers = {  # module -> names: writing of finished results, no computation
        "workbench.study.data": {"write_study_data"},
    }
    bad = []
    for path in sorted((ROOT / "workbench" / "report").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                       and "TYPE_CHECKING" in ast.unparse(node.test)
                       for n in ast.walk(node)}
        for node in ast.walk(tree):
            if id(node) in typing_only or path.name == "__init__.py":
                continue  # __init__: the names of the old flat module (re-exports)
            if isinstance(node, ast.Import):
                pairs = [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                pairs = [(node.module, a.name) for a in node.names]
            else:
                continue
            for mod, name in pairs:
                if not mod.startswith("workbench") or mod.startswith("workbench.report"):
                    continue
                if mod in allowed_modules or f"{mod}.{name}" in allowed_modules:
                    continue  # `from workbench import columns` names the module itself
                if name in renderers.get(mod, ()):
                    continue
                bad.append(f"{path.name}: {mod} {name or ''}")
    assert not bad, bad


@pytest.fixture(scope="module")
def bundled_run():
    from workbench.study.pipeline import run_mabel

    return run_mabel(BUNDLED_STUDY, reduced=True, progress=False)


@pytest.mark.slow
def test_bundled_decision_is_unchanged(bundled_run):
    """Every table of the reduced bundled run equals main's before the stage pipeline."""
    fp = _fingerprint_module()
    got = fp.fingerprint(bundled_run)
    assert got == FINGERPRINT, {k: (got.get(k), v) for k, v in FINGERPRINT.items()
                                if got.get(k) != v}
    assert bundled_run.seeds is not None and bundled_run.report_tables is not None
    assert set(bundled_run.seconds) <= {s.name for s in STAGES}


@pytest.mark.slow
def test_report_of_a_finished_run_needs_no_engine(bundled_run, tmp_path, monkeypatch):
    """With every simulation entry of the engine raising, the report is still written."""
    from workbench.report.render import write_report
    from workbench.sim import _engine

    def boom(*a, **k):
        raise AssertionError("the renderer simulated")

    for name in ("__init__", "prepare", "integrate", "run", "run_row", "run_plan",
                 "run_condition", "run_gillespie", "state_rates"):
        monkeypatch.setattr(_engine.Engine, name, boom)
    monkeypatch.setattr(_engine, "engine_for", boom)
    from workbench.sim.simulate import simulate

    with pytest.raises(AssertionError, match="simulated"):  # the patch does catch a run
        simulate(bundled_run.model, "1 ug/kg iv", end=24, target="Drug", mw="150 kDa")
    paths = write_report(bundled_run, tmp_path / "report")
    assert paths["report.html"].stat().st_size > 10_000
    assert "decision.csv" in paths and "escalation_ladder.csv" in paths


def test_stages_pass_doses_as_numbers():
    """The study's regimen at a dose is built from the number: a dose with more digits
    than any text format keeps all of them, on every administration of the schedule."""
    setup = setup_stage(read_study(BUNDLED_STUDY), reduced=True)
    dose = 1 / 3 * 1e-3  # 0.000333... ug/kg: '.6g' text would cut it at 6 digits
    reg = setup.regimen(dose)
    assert reg.doses and all(d.amount == dose and d.unit == "ug/kg" for d in reg.doses)
    assert reg.target == setup.study.sections.drug.species
    sched = setup.study.sections.drug.schedule
    assert len(reg.doses) == len(setup.dosing.regimen(1.0, sched).doses)
