"""The report's own tables, computed by the run so that :mod:`workbench.report` only renders.

The analysis stages (:mod:`workbench.study.stages`) produce the results the report
shows; a few tables of the report are not results of an analysis but are still
computed from the model, the provenance table and the results: the parameter
table with sources and candidates, the priors, the provenance lint, the
uncertainty distributions on the final model, the measurability of each effect
against its assay's LLOQ (a unit conversion that can fail), the values of the
MABEL comparison chart and the share of patients or draws reaching each effect at
the start. :func:`report_tables_stage` computes them once, last in
:data:`workbench.study.pipeline.STAGES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench import columns as C

if TYPE_CHECKING:
    from workbench.core.model import Model
    from workbench.mabel.population import PopulationMabel
    from workbench.mabel.qsp import QspMabelResult
    from workbench.study.stages import DecisionOutcome, Setup, UncertaintyOutcome

__all__ = ["ReportTables", "mabel_values", "measurability_table", "parameter_table",
           "reach_at_start", "report_tables_stage"]

#: provenance-lint codes the report lists (the others concern the file, not the priors)
REPORTED_LINT = ("no-prior", "chosen-outside-candidates", "scaled-without-how", "bad-prior",
                 "high-uncertainty")


@dataclass(frozen=True, eq=False)
class ReportTables:
    """Tables and values the report shows that are not results of an analysis stage."""

    #: every compartment and parameter with unit, source and candidate values
    parameters: pd.DataFrame
    #: priors beside candidates (provenance table), None without one
    priors: pd.DataFrame | None
    #: provenance lint findings the report lists, None without a provenance table
    provenance_lint: pd.DataFrame | None
    #: the influential parameters the lint was run with
    influential: tuple[str, ...]
    #: the distributions of the uncertainty on the final model, None without uncertainty
    uncertainty: pd.DataFrame | None
    #: each effect's threshold and baseline against its assay's LLOQ
    measurability: pd.DataFrame
    #: (label, dose) of every bar of the MABEL comparison chart
    mabel_values: tuple[tuple[str, float], ...]
    #: sentences: share of virtual patients (or uncertainty draws) reaching each effect at
    #: the start
    reach: tuple[str, ...]


def parameter_table(model: Model, provenance: pd.DataFrame | None) -> pd.DataFrame:
    """Compartments and parameters with value, unit, source and every candidate value."""
    par = model.parameters[[C.ID, C.NAME, C.VALUE, C.UNIT]].copy()
    if provenance is None:
        par["source"] = ""
        par["candidates"] = ""
        return par
    src, cand = {}, {}
    for sid, g in provenance.groupby(C.ID, sort=False):
        ch = g[g[C.CHOSEN].astype(bool)]
        row = ch.iloc[0] if len(ch) else g.iloc[0]
        src[sid] = f"{row[C.SOURCE_TYPE]}; {row[C.REFERENCE]}"
        cand[sid] = ", ".join(f"{v:.4g} {u}" for v, u in zip(g[C.VALUE], g[C.UNIT], strict=True))
    par["source"] = par[C.ID].map(src).fillna("(no provenance entry)")
    par["candidates"] = par[C.ID].map(cand).fillna("")
    comp = model.compartments[[C.ID, C.NAME, C.VALUE, C.UNIT]].copy()
    comp["source"] = comp[C.ID].map(src).fillna("(no provenance entry)")
    comp["candidates"] = comp[C.ID].map(cand).fillna("")
    return pd.concat([comp, par], ignore_index=True)


def measurability_table(qsp: QspMabelResult) -> pd.DataFrame:
    """Each effect's threshold and its change from baseline against the assay LLOQ."""
    rows = []
    for e in qsp.estimates:
        ok, why = e.effect.measurable(e.baseline, e.unit)
        rows.append({"effect": e.effect.label, "definition": e.effect.text,
                     "threshold": f"{e.threshold:.4g} {e.unit}".strip(),
                     "baseline": f"{e.baseline:.4g} {e.unit}".strip(),
                     "measurable": {None: "no assay limit stated", True: "yes",
                                    False: "NOT MEASURABLE"}[ok], "why": why,
                     "assay limit source": e.effect.lloq_source})
    return pd.DataFrame(rows)


def _statistic(stat: str) -> str | float:
    """The decision's statistic label as :func:`workbench.mabel.decision.statistic_value`
    takes it."""
    raw = {"5th percentile": "lower"}.get(stat, stat)
    if raw.endswith("th percentile"):
        return float(raw.split("th")[0])
    return raw


def mabel_values(dec: DecisionOutcome) -> tuple[tuple[str, float], ...]:
    """(label, dose) of every bar of the MABEL comparison chart: each QSP estimate at the
    decision's statistic, the selected QSP MABEL, the traditional estimates and the start:
    the values the decision table uses."""
    from workbench.mabel.decision import statistic_value

    d = dec.decision
    stat = d.statistic or "nominal"
    raw = _statistic(stat)
    out = []
    for e in dec.qsp_used.estimates:
        v = statistic_value(e, raw) if math.isfinite(e.dose) else math.nan
        if math.isfinite(v):
            out.append((f"QSP ({stat if e.n_samples else 'nominal'}): {e.effect.label}", v))
    if math.isfinite(d.qsp_mabel):
        out.append((f"QSP MABEL (selected, {stat})", float(d.qsp_mabel)))
    out += [(f"traditional: {t[C.NAME]}", float(t[C.DOSE]))
            for _, t in dec.traditional.iterrows()]
    if math.isfinite(d.start_dose):
        out.append(("selected starting dose", float(d.start_dose)))
    return tuple(out)


def reach_at_start(popm: PopulationMabel | None, qsp: QspMabelResult, start: float
                   ) -> tuple[str, ...]:
    """Share of virtual patients (first ladder level), else of uncertainty draws, reaching
    each minimal effect at the starting dose."""
    if popm is not None and popm.reach is not None and len(popm.reach):
        first = popm.reach[popm.reach[C.LADDER_LEVEL] == 1]
        return tuple(f"{r[C.PROBABILITY]:.0%} of virtual patients reach '{r[C.EFFECT]}' (95 % "
                     f"CI {r[C.CI_LOW]:.0%}-{r[C.CI_HIGH]:.0%}, {int(r[C.N_REACHED])} of "
                     f"{int(r[C.N_SAMPLES])})" for _, r in first.iterrows())
    out = []
    for e in qsp.estimates:
        ps = e.per_sample
        if ps is None or not math.isfinite(start) or C.DOSE not in ps:
            continue
        d = ps[C.DOSE].to_numpy(float)
        k = int(np.sum(np.isfinite(d) & (d <= start)))
        out.append(f"{k / len(d):.0%} of {len(d)} uncertainty draws reach '{e.effect.label}' "
                   "(no virtual population in the study)")
    return tuple(out)


def report_tables_stage(setup: Setup, model: Model, unc: UncertaintyOutcome,
                        qsp: QspMabelResult, dec: DecisionOutcome,
                        popm: PopulationMabel | None) -> ReportTables:
    """The report's own tables on the final model (module docstring)."""
    infl = tuple(setup.study.sections.sensitivity.parameters)
    priors = lint = None
    if setup.provenance is not None:
        from workbench.core.priors import prior_table
        from workbench.core.provenance import lint_provenance

        priors = prior_table(setup.provenance, model)
        lint = lint_provenance(model, setup.provenance, influential=list(infl))
        lint = lint[lint[C.CODE].isin(list(REPORTED_LINT))]
    ut = (unc.uncertainty.with_model(model).to_frame() if unc.uncertainty is not None
          else None)
    return ReportTables(parameter_table(model, setup.provenance), priors, lint, infl, ut,
                        measurability_table(qsp), mabel_values(dec),
                        reach_at_start(popm, qsp, dec.decision.start_dose))
