"""The MABEL study: run every analysis of a study file and write the dossier.

:func:`run_mabel` reads a study file (:mod:`workbench.study`) and runs, in
order: verification (:func:`workbench.verify`), parameter uncertainty from the
provenance table and the study (:func:`workbench.build_uncertainty`), the QSP
MABEL with its distribution and steepness (:func:`workbench.mabel.qsp.qsp_mabel`),
the traditional MABEL estimates and the dose decision with its escalation
ladder (:mod:`workbench.decision`), local and Sobol sensitivity of the effect
at the QSP MABEL and at every ladder level (:mod:`workbench.decision_analyses`), the PK/PD
profiles at the start and at lower and higher doses, model variants, a virtual
population (:mod:`workbench.population`, when the study asks for one) and the
exchange package (:func:`workbench.export_archive`), and the ensembles of the
report's dose slider (:mod:`workbench.dose_slider`). Each stage is announced
(:mod:`workbench.progress`: one line per stage, a bar on a terminal).
:func:`workbench.report.render.write_report` writes ``report.html``
(self-contained and interactive: Plotly figures and the dose slider, plotly.js
inlined) and ``report.pdf`` (printed by WeasyPrint from the same document, static
figures), both opening with the decision summary, into one directory beside the
tables (CSV) and the package (``package/``: SBML, provenance, SED-ML, OMEX).

``reduced=True`` shrinks every sample size (uncertainty, Sobol, grid) for tests.
"""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core._versions import software_versions_table as software_versions
from workbench.study.schema import Study, read_study

__all__ = ["BUNDLED_STUDY", "MabelRun", "mabel_stages", "run_mabel", "software_versions"]

log = logging.getLogger(__name__)

#: name of the study model in the variant comparison
BASE_VARIANT = "base model"

#: the bundled CD3 bispecific study, run by ``workbench mabel`` without a study file
BUNDLED_STUDY = Path(__file__).resolve().parents[2] / "studies" / "cd3_bispecific.yaml"


@dataclass(frozen=True, eq=False)
class MabelRun:
    """Everything :func:`run_mabel` computed (inputs of the report)."""

    study: Study
    model: object
    provenance: pd.DataFrame | None
    verification: object
    uncertainty: object | None
    qsp: object
    minimal_active: object | None
    traditional: pd.DataFrame
    decision: object
    profiles: dict
    local: object | None
    sobol: object | None
    variants: object | None
    population: object | None
    archive: object | None
    notes: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    #: calibration and validation against the study's data (workbench.study.data.StudyData)
    data: object | None = None
    #: step-up (priming) schedules compared (workbench.mabel.stepup.StepUpResult)
    stepup: object | None = None
    #: sensitivity at the QSP MABEL and every ladder level (decision_analyses.LevelSensitivity)
    levels: object | None = None
    #: each variant's QSP MABEL, start and first-level effect (decision_analyses.variant_decisions)
    variant_decisions: pd.DataFrame | None = None
    #: profile bands and effect distributions at each grid dose (workbench.dose_slider)
    slider: object | None = None

    def _repr_html_(self) -> str:
        """Summary for Jupyter (:mod:`workbench._html_repr`)."""
        from workbench.core._html_repr import mabel_run_html

        return mabel_run_html(self)


def mabel_stages(study: Study, package_dir: object = None) -> list[str]:
    """The stages :func:`run_mabel` goes through for ``study``, in order (progress lines)."""
    d = study.data
    has_data = bool((d.get("calibration") or {}).get("petab") or (d.get("validation")
                                                                  or {}).get("data"))
    pop = bool(d.get("population"))
    return ["verification", *(["calibration and validation"] if has_data else []), "QSP MABEL",
            *(["population MABEL"] if pop else []), "decision and escalation ladder",
            *(["population at the first levels"] if pop else []), "PK/PD profiles",
            "sensitivity", *(["model variants"] if d["model"].get("variants") else []),
            *(["step-up regimens"] if d.get("stepup") else []), "dose slider ensemble", *(["exchange package"] if package_dir is not None else [])]


def run_mabel(study: str | os.PathLike[str] | Study, *, reduced: bool = False,
              progress: bool | None = None, workers: int | None = 1,
              package_dir: str | os.PathLike[str] | None = None, stages=None) -> MabelRun:
    """Run the analyses of a study file (module docstring).

    Parameters
    ----------
    study
        Path of the study YAML, or a :class:`workbench.study.schema.Study`.
    reduced
        Small sample sizes (tests, quick looks); the report says so.
    progress
        Progress bars (default: when stderr is a terminal).
    workers
        Processes of the ensembles (1: in this process; None: every core). With more
        than one, the worker pool is started at once and kept for every stage.
    package_dir
        Where to write the exchange package (``export_archive``); None: not written.
    stages
        A :class:`workbench.core.progress.Stages` to announce the stages on (the CLI's, which
        also counts the report); default: a new one over :func:`mabel_stages`.

    Returns
    -------
    MabelRun

    Raises
    ------
    SpecError, InputFileError, UnknownIdError, DoseError, SimulationError, ProvenanceError
    """
    from workbench.analysis.uncertainty import build_uncertainty
    from workbench.core.dosing import Subject
    from workbench.core.model import load_model
    from workbench.core.provenance import read_provenance
    from workbench.errors import WorkbenchError
    from workbench.verify.suite import VerifyOptions, verify

    st = study if isinstance(study, Study) else read_study(study)
    if stages is None:
        from workbench.core.progress import Stages

        with Stages(mabel_stages(st, package_dir), "mabel", bar=progress) as own:
            return run_mabel(st, reduced=reduced, progress=progress, workers=workers,
                             package_dir=package_dir, stages=own)
    workers = max(1, int(workers or os.cpu_count() or 1))
    if workers > 1:
        from workbench.sim.ensemble import start_pool

        start_pool(workers)  # every stage's ensembles share it (small ones included)
    secs: dict[str, float] = {}
    notes: dict[str, str] = {}
    t0 = time.perf_counter()

    def tick(what: str) -> None:
        nonlocal t0
        secs[what] = time.perf_counter() - t0
        log.info("%s: %.1f s", what, secs[what])
        t0 = time.perf_counter()

    stages.next("verification")
    m = load_model(st.model)
    if st.data["model"].get("set"):  # one platform model, the drug's own values
        from workbench.analysis.variants import Variant, build_variant

        m = build_variant(m, Variant("study values", set=dict(st.data["model"]["set"])))
    drug = st.data["drug"]
    out = st.data["outputs"]
    sim = st.data["simulation"]
    subject = Subject(weight=float(drug["body_weight"]))
    common = dict(target=drug["species"], mw=drug["mw"], subject=subject)
    prov = read_provenance(st.data["provenance"]) if st.data.get("provenance") else None
    # --- verification
    vs = st.data["verification"]
    vopt = VerifyOptions(n_doses=int(vs.get("n_doses", 9)), stochastic=bool(vs.get("stochastic",
                                                                                     False)),
                         skip=dict(vs.get("skip") or {}), end=sim["end"])
    ver = verify(m, drug["species"], out["effect"], out.get("occupancy"), mw=drug["mw"],
                 subject=subject, options=vopt)
    tick("verification")
    # --- uncertainty
    us = st.data["uncertainty"]
    unc = None
    n_unc = int(us.get("n", 64))
    if reduced:
        n_unc = min(n_unc, 8)
    useed, umethod = int(us.get("seed", 0)), str(us.get("method", "lhs"))
    unit = drug["dose_unit"]

    def uncertainty_of(model):
        """The study's uncertainty for ``model`` (distributions without a stated centre are
        centred on the model's values, so they follow calibrated values)."""
        return build_uncertainty(model, params=list(us.get("params") or []),
                                 provenance=prov if us.get("from_provenance", True) else None)

    if us.get("from_provenance", prov is not None) or us.get("params"):
        try:
            unc = uncertainty_of(m)
        except WorkbenchError as exc:
            notes["uncertainty"] = f"no parameter uncertainty: {exc.message}"
    pspec = None
    if st.data["population"]:
        from workbench.mabel.population import PopulationSpec, study_samples

        pspec = PopulationSpec.from_dict(st.data["population"])
    drawn: dict = {}

    def drawn_for(model, what: str):
        """The study's random draws for ``model``, made once per model: ``"draws"``, the
        uncertainty draws (the QSP MABEL, the ladder without a population, the validation
        band), or ``"patients"``, the virtual patients (population, their samples, and
        those paired with uncertainty draws: the population MABEL, the ladder, the band)."""
        if drawn.get("model") is not model:
            drawn.clear()
            drawn["model"] = model
        if what not in drawn:
            u = uncertainty_of(model) if unc is not None else None
            if what == "draws":
                drawn[what] = (u.with_model(model).sample(n_unc, seed=useed, method=umethod)
                               if u is not None else None)
            else:
                drawn[what] = study_samples(model, pspec, u, dose_unit=unit, subject=subject,
                                            n=min(pspec.n, 16) if reduced else None,
                                            workers=workers, method=umethod)
        return drawn[what]

    # --- calibration and validation against the study's data (errors in them propagate)
    data = None
    if (st.data.get("calibration") or {}).get("petab") or (st.data.get("validation")
                                                           or {}).get("data"):
        from workbench.study.data import run_study_data

        stages.next("calibration and validation")
        if pspec is not None:
            # individual observations belong in the band of individual patients: the
            # virtual population paired with uncertainty draws (the study's own)
            def samples_for(model):
                return drawn_for(model, "patients")[2]

            spread = ("parameter uncertainty and population variability" if unc is not None
                      else "population variability")
        else:
            def samples_for(model):
                return drawn_for(model, "draws")

            spread = "parameter uncertainty"
        data = run_study_data(st, m, samples_for=samples_for, spread=spread, reduced=reduced,
                              workers=workers, progress=progress)
        if data.model is not None:
            m = data.model  # calibration.apply: the fitted values from here on
            unc = uncertainty_of(m) if unc is not None else None
            notes["calibration"] = ("calibrated values used in every analysis after the "
                                    "calibration: " + ", ".join(f"{k} = {v:.4g}" for k, v in
                                                                data.applied.items()))
        tick("calibration and validation")
    # --- QSP MABEL (on the study's uncertainty draws)
    from workbench.mabel.qsp import qsp_mabel

    stages.next("QSP MABEL")
    effects = [_effect(e) for e in st.data["effects"]]
    grid_points = int(st.data["grid_points"]) if not reduced else min(int(st.data["grid_points"]), 13)
    run = dict(route=drug["route"], schedule=drug["schedule"], end=sim["end"],
               points=int(sim["points"]), **common)
    draws = drawn_for(m, "draws")
    qsp = qsp_mabel(m, effects, dose_range=tuple(st.data["dose_range"]), grid_points=grid_points,
                    samples=draws, seed=useed, workers=workers, progress=progress, **run)
    if draws is not None:  # given samples, but the study's parameter uncertainty: say so
        qsp = replace(qsp, settings={**qsp.settings, "method": umethod,
                                     "distribution": "parameter uncertainty"})
    tick("QSP MABEL")
    # --- virtual population: MABEL per subject, alone and with the uncertainty
    popm = None
    if pspec is not None:
        from workbench.mabel.population import population_mabel

        stages.next("population MABEL")
        popm = population_mabel(m, effects, pspec, uncertainty=unc, dose_unit=unit,
                                workers=workers, progress=progress, drawn=drawn_for(m, "patients"),
                                dose_range=tuple(st.data["dose_range"]), grid_points=grid_points,
                                **run)
        tick("population MABEL")
    qsp_dec = popm.for_decision if popm is not None else qsp
    stages.next("decision and escalation ladder")
    # --- decision: start, risk profile, ladder (workbench.decision_study)
    from workbench.mabel.decision_study import study_decision

    samples = popm.joint_samples if popm is not None else draws
    dec, minimal, trad = study_decision(st, m, qsp_dec, samples=samples, run=run,
                                        subject=subject, grid_points=grid_points,
                                        workers=workers, progress=progress)
    ladder = dec.ladder
    best = qsp_dec.lowest() or qsp_dec.estimates[0]
    occ = f"max({out['occupancy']})" if out.get("occupancy") else None
    exposure = f"max({out['exposure']})"
    tick("decision")
    if popm is not None:
        from workbench.mabel.population import overlap_by_level, reach_by_level
        from workbench.mabel.qsp import dose_response

        stages.next("population at the first levels")
        # every patient at every ladder level (and drug-free, for thresholds relative to
        # the baseline): one table for both summaries
        metrics = list(dict.fromkeys([*(e.effect.metric for e in qsp_dec.estimates), exposure]))
        relative = any(e.effect.relative for e in qsp_dec.estimates)
        pred = dose_response(m, metrics, [*([0.0] if relative else []), *ladder[C.DOSE]], unit,
                             samples=popm.joint_samples, workers=workers, **run)
        popm = replace(popm, reach=reach_by_level(qsp_dec, ladder, pred, levels=pspec.levels,
                                                  dose_unit=unit),
                       overlap=overlap_by_level(ladder, pred, exposure, dose_unit=unit))
        tick("population at the first levels")
    # --- PK/PD profiles at the start, below and above
    from workbench.sim.simulate import simulate

    stages.next("PK/PD profiles")
    profiles = {}
    start = dec.start_dose if math.isfinite(dec.start_dose) else float(qsp.estimates[0].dose_range[0])
    outs = list(out.get("profiles") or [out["exposure"], out["effect"]])
    for f in (0.1, 1.0, 10.0, 100.0):
        d = start * f
        reg = f"{d:.4g} {unit} {drug['route']} {drug['schedule']}".strip()
        profiles[reg] = simulate(m, reg, end=sim["end"], points=int(sim["points"]),
                                 outputs=outs, **common)
    tick("profiles")
    # --- sensitivity where the decision needs it: at the QSP MABEL and every ladder level
    from workbench.analysis.sensitivity import ParameterSpace

    stages.next("sensitivity")
    ss = st.data["sensitivity"]
    loc = sob = levels = None
    start_reg = f"{start:.6g} {unit} {drug['route']} {drug['schedule']}".strip()
    smetrics = list(dict.fromkeys([best.effect.metric, *([occ] if occ else [])]))
    space = None
    if unc is not None:
        ids = ss.get("parameters") or [r.id for r in unc.space.ranges]
        space = ParameterSpace(tuple(r for r in unc.with_model(m).space.ranges if r.id in ids))
    from workbench.mabel.qsp import output_times
    from workbench.sim.simulate import resolve_time

    # peaks are caught by the early log-spaced points; 50 even points keep 8 doses x N (k + 2)
    # runs affordable
    times = output_times(resolve_time(sim["end"], m, "end"), min(int(sim["points"]), 50)).tolist()
    if space is not None and (ss.get("local", True) or ss.get("sobol", True)):
        from workbench.mabel.decision_analyses import sensitivity_at_levels

        mabel_dose = _selected_mabel(dec, best)
        points = [("QSP MABEL", mabel_dose),
                  *((f"ladder level {int(r[C.LADDER_LEVEL])}", float(r[C.DOSE]))
                    for _, r in ladder.iterrows())]
        n0 = int(ss.get("sobol_n", 64)) if not reduced else 8
        levels = sensitivity_at_levels(
            m, space, points, unit, metrics=smetrics, route=drug["route"],
            schedule=drug["schedule"], times=times, local=bool(ss.get("local", True)),
            sobol=bool(ss.get("sobol", True)), n_start=n0,
            n_max=max(n0, int(ss.get("sobol_n_max", 512))) if not reduced else n0,
            tol=float(ss.get("sobol_tol", 0.1)), seed=int(ss.get("seed", 0)), workers=workers,
            progress=progress, **common)
        loc, sob = levels.results.get("QSP MABEL", (None, None))
    tick("sensitivity")
    # --- variants (structural uncertainty)
    var = vdec = None
    if st.data["model"].get("variants"):
        from workbench.analysis.variants import Variant, compare_variants, read_variants

        stages.next("model variants")
        # the base model first: relative differences refer to it
        var = compare_variants(m, [Variant(BASE_VARIANT, description="the study model"),
                                   *read_variants(st.data["model"]["variants"])],
                               reference=BASE_VARIANT, regimens=[start_reg], metrics=smetrics,
                               dose_for={best.effect.metric: best.threshold},
                               dose_range=tuple(st.data["dose_range"]), route=drug["route"],
                               end=sim["end"], **common)
        from workbench.mabel.decision_analyses import variant_decisions

        vlist = [Variant(BASE_VARIANT), *read_variants(st.data["model"]["variants"])]
        q = f"dose for {best.effect.metric} = {best.threshold:g}"
        q = next((x for x in var.table[C.QUANTITY] if x.startswith("dose for")), q)
        vdec = variant_decisions(
            m, vlist, var, mabel_quantity=q, effect=best.effect.metric, start=start,
            dose_unit=unit, route=drug["route"], schedule=drug["schedule"],
            reference=BASE_VARIANT, end=sim["end"], **common)
        tick("variants")
    # --- step-up (priming) schedules: peak risk per administration over the same samples
    stepup = None
    if st.data.get("stepup"):
        from workbench.mabel.stepup import evaluate_stepup, parse_stepup

        stages.next("step-up regimens")
        block = dict(st.data["stepup"])
        if block.get("limit") is None and st.data["decision"].get("risk_threshold") is not None:
            block["limit"] = st.data["decision"]["risk_threshold"]  # the decision's risk limit
        sset = parse_stepup(block, dose_unit=unit, risk=out["effect"],
                            exposure=out["exposure"], route=drug["route"])
        stepup = evaluate_stepup(m, sset, samples=samples, spread=(
            "parameter uncertainty and population variability" if popm is not None
            else "parameter uncertainty" if samples is not None else ""), workers=workers,
            progress=progress, **common)
        tick("step-up regimens")
    # --- the dose slider of the interactive report: bands at every grid dose
    from workbench.mabel.dose_slider import dose_slider

    stages.next("dose slider ensemble")
    grid = np.geomspace(*qsp.estimates[0].dose_range, grid_points)
    slider_outputs = [o for o in dict.fromkeys([out["exposure"], out.get("occupancy"),
                                                out["effect"]]) if o]
    slider = dose_slider(m, samples, grid, unit, outputs=slider_outputs,
                         effect=best.effect.metric, relative=best.effect.relative,
                         threshold=best.effect.threshold if best.effect.relative
                         else best.threshold, op=best.effect.op,
                         start_dose=dec.start_dose, end=sim["end"],
                         **{k: v for k, v in run.items() if k != "end"}, workers=workers)
    tick("dose slider")
    # --- exchange package
    arc = None
    if package_dir is not None:
        from workbench.exchange.combine import export_archive

        stages.next("exchange package")
        arc = export_archive(m, package_dir, provenance=prov, regimens=[start_reg],
                             outputs=outs, end=sim["end"], **common,
                             description=f"{st.name}: QSP MABEL study package")
        tick("package")
    if reduced:
        notes["reduced"] = ("reduced run: uncertainty n <= 8, Sobol N = 8 (not checked for "
                            "convergence), grid <= 13 doses; "
                            "numbers are indicative only")
    return MabelRun(st, m, prov, ver, unc, qsp, minimal, trad, dec, profiles, loc, sob, var, popm,
                    arc, notes, secs, data=data, stepup=stepup, levels=levels,
                    variant_decisions=vdec, slider=slider)


def _selected_mabel(dec, best) -> float:
    """The QSP MABEL the decision selected (its table's row), else the nominal one."""
    t = dec.table
    row = t[t[C.ITEM] == "QSP MABEL (selected)"]
    v = float(row[C.VALUE].iloc[0]) if len(row) else math.nan
    return v if math.isfinite(v) and v > 0 else float(best.dose)


def _effect(e: dict):
    from workbench.mabel.qsp import parse_effect

    return parse_effect(e["definition"], name=str(e.get("name", "")), lloq=e.get("lloq"),
                        lloq_source=str(e.get("lloq_source") or ""))
