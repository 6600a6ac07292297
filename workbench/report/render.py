"""Render a :class:`workbench.study.pipeline.MabelRun` as report.html, report.pdf and CSV tables.

One document, two renderings (:mod:`workbench.report_html`): report.html is
self-contained and interactive (Plotly figures and a dose slider, plotly.js
inlined, no network); report.pdf is printed by WeasyPrint from the same
sections laid out for print, with static matplotlib figures. Both carry the
sections of :data:`SECTIONS` in order (HTML ids are the keys); the first is the
decision summary (:mod:`workbench.report_summary`). Every file is written
through :func:`render` into one directory.
"""

from __future__ import annotations

import io
import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core._io import atomic_write, atomic_write_bytes, atomic_write_text
from workbench.core._versions import software_versions_table as software_versions
from workbench.core.plots import pyplot
from workbench.mabel.plots import plot_mabel_distributions, sensitivity_blocks, stepup_blocks
from workbench.report.diagram import diagram_figure, diagram_svg
from workbench.report.html import report_document, write_pdf
from workbench.report.interactive import plotly_script, slider_html, spans_decades
from workbench.report.summary import decision_summary, model_risk_status
from workbench.study.plots import study_data_blocks
from workbench.verify.plots import draw_check

if TYPE_CHECKING:
    from workbench.study.pipeline import MabelRun

__all__ = ["SECTIONS", "render", "write_report"]

log = logging.getLogger(__name__)

#: (HTML id, heading) of every section, in order
SECTIONS = (
    ("summary", "Decision summary"),
    ("context", "1. Question of interest, context of use and model risk"),
    ("model", "2. Model structure (diagram)"),
    ("equations", "3. Equations (from the SBML math)"),
    ("parameters", "4. Parameters: values, units, sources and candidate values"),
    ("assumptions", "5. Assumptions and what the model leaves out"),
    ("verification", "6. Verification"),
    ("calibration", "7. Calibration and validation"),
    ("profiles", "8. PK/PD profiles at the starting dose and at lower and higher doses"),
    ("dose-response", "9. Dose-response with uncertainty and the chosen starting dose"),
    ("steepness", "10. Steepness of the dose-response"),
    ("sensitivity", "11. Sensitivity at the MABEL and at each ladder level"),
    ("variants", "12. Alternative model structures"),
    ("population", "13. Virtual population"),
    ("mabel", "14. Traditional vs QSP MABEL"),
    ("decision", "15. Selected starting dose, rationale and escalation ladder"),
    ("stepup", "16. Step-up (priming) regimens: cytokine peak per administration"),
    ("limitations", "17. Limitations"),
    ("update-plan", "18. Model-update plan for emerging clinical data"),
    ("package", "19. Exchange package"),
    ("software", "20. Software versions"),
)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


# ---------------------------------------------------------------------------
# figures
# ---------------------------------------------------------------------------

def _profiles_fig(run):
    plt = pyplot()
    profs = run.profiles
    first = next(iter(profs.values()))
    outs = [c for c in first.columns if c != "time"]
    ncol = 2
    nrow = (len(outs) + 1) // 2
    fig, axes = plt.subplots(nrow, ncol, figsize=(10, 3.2 * nrow), squeeze=False)
    units = first.attrs.get("units", {})
    for k, o in enumerate(outs):
        ax = axes[k // ncol][k % ncol]
        for j, (reg, df) in enumerate(profs.items()):
            ax.plot(df["time"], df[o], label=reg + (" (start)" if j == 1 else ""),
                    lw=2.2 if j == 1 else 1.0)
        ax.set_xlabel(f"time [{units.get('time', '')}]")
        ax.set_ylabel(f"{o} [{units.get(o, '') or 'unitless'}]")
        if spans_decades(np.concatenate([df[o].to_numpy(float) for df in profs.values()])):
            ax.set_yscale("log")  # the starting dose sits decades below the highest
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    for k in range(len(outs), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    fig.tight_layout()
    return fig


def _dose_response_fig(run):
    plt = pyplot()
    dr = run.qsp.dose_response
    ests = run.qsp.estimates
    fig, axes = plt.subplots(1, len(ests), figsize=(5 * len(ests), 4), squeeze=False)
    for ax, e in zip(axes[0], ests, strict=True):
        g = dr[dr[C.METRIC] == e.effect.metric]
        ax.plot(g[C.DOSE], g[C.NOMINAL], "k-", label="nominal")
        if g[C.LOWER].notna().any():
            ax.fill_between(g[C.DOSE], g[C.LOWER], g[C.UPPER], alpha=0.3, label="5-95 % (uncertainty)")
        ax.axhline(e.threshold, color="tab:red", ls="--", lw=1, label=f"threshold {e.threshold:.3g} {e.unit or 'unitless'}")
        if math.isfinite(e.dose):
            ax.axvline(e.dose, color="tab:red", lw=1, ls=":", label=f"nominal MABEL {e.dose:.3g} {e.dose_unit}")
        best = _decision_estimates(run).lowest()
        if best is not None and best.effect.text == e.effect.text and math.isfinite(
                run.decision.qsp_mabel):
            ax.axvline(run.decision.qsp_mabel, color="tab:red", lw=1.5,
                       label=f"QSP MABEL used ({run.decision.statistic}) "
                             f"{run.decision.qsp_mabel:.3g} {e.dose_unit}")
        sd = run.decision.start_dose
        if math.isfinite(sd):
            ax.axvline(sd, color="tab:green", lw=2, label=f"start {sd:.3g} {e.dose_unit}")
        ax.set_xscale("log")
        y = g[C.NOMINAL].to_numpy(float)
        if (y > 0).all() and spans_decades(y):
            ax.set_yscale("log")
        ax.set_xlabel(f"dose [{e.dose_unit}]")
        ax.set_ylabel(f"{e.effect.metric} [{e.unit or 'unitless'}]")
        ax.set_title(e.effect.label, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def _decision_estimates(run):
    """The QSP MABEL result the decision used (population joint result, else the QSP one)."""
    pm = run.population
    return pm.for_decision if pm is not None else run.qsp


def _mabel_values(run) -> list[tuple[str, float]]:
    """(label, dose) of every bar of the MABEL comparison chart, as the run computed them
    (:func:`workbench.study.stages.mabel_values`: the values the decision table uses)."""
    tables = getattr(run, "report_tables", None)
    return list(tables.mabel_values) if tables is not None else []


def _mabel_fig(run):
    plt = pyplot()
    labels, vals, colors = [], [], []
    for lab, v in _mabel_values(run):
        if lab.startswith("QSP"):
            labels.append(lab)
            vals.append(v)
            colors.append("tab:purple" if "selected" in lab else "tab:blue")
    for lab, v in _mabel_values(run):
        if not lab.startswith("QSP"):
            labels.append(lab)
            vals.append(v)
            colors.append("tab:green" if lab == "selected starting dose" else "tab:orange")
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.2))
    ax.barh(labels, vals, color=colors)
    for k, v in enumerate(vals):
        ax.annotate(f"{v:.3g}", (v, k), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=7)
    for e in _decision_estimates(run).estimates:
        lab = next((x for x in labels if x.startswith("QSP (") and
                    x.endswith(f": {e.effect.label}")), None)
        if e.n_samples and lab is not None:
            k = labels.index(lab)
            hi = e.upper if math.isfinite(e.upper) else e.dose_range[1]
            ax.plot([e.lower, hi], [k, k], "k-", lw=2)
    ax.set_xscale("log")
    ax.set_xlabel(f"dose [{run.decision.dose_unit}]")
    ax.invert_yaxis()
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def _variant_blocks(run) -> list:
    """Section 12: each variant's changes, the decision quantities side by side, and the
    largest relative change against the study model."""
    vc = run.variants
    t = vc.table[vc.table[C.VARIANT] != vc.reference]
    blocks = [("p", "Each alternative structure below changes one mechanism of the study model "
                    "(its changes and rationale); the same decision quantities are computed on "
                    "each: the effect metrics at the proposed starting dose and the dose reaching "
                    "the minimal-effect threshold of the study model."),
              ("table", vc.variants),
              ("table", vc.to_wide())]
    vd = getattr(run, "variant_decisions", None)
    if vd is not None and len(vd):
        blocks += [("p", "Decision quantities per variant: its QSP MABEL (the dose reaching the "
                         "study model's threshold), the starting dose the study's margin "
                         f"(start / MABEL = {vd.attrs.get('margin', math.nan):.3g}) gives on "
                         "it, the peak effect at that start (first-level risk) and at the "
                         "proposed start; ratios to the study model."), ("table", vd)]
    rd = t[C.REL_DIFF].abs()
    if rd.notna().any():
        k = rd.idxmax()
        row = t.loc[k]
        blocks.append(("p", f"Largest relative change against the {vc.reference}: "
                            f"{row[C.REL_DIFF]:+.1%} in {row[C.QUANTITY]}"
                            + (f" at {row[C.REGIMEN]}" if row[C.REGIMEN] else "")
                            + f" ({row[C.VARIANT]}). "
                            + ("Every variant changes every quantity by less than 2-fold: the "
                               "decision does not hinge on these mechanisms."
                               if bool(t[C.REL_DIFF].dropna().between(-0.5, 1.0,
                                                                      inclusive="neither").all())
                               else
                               "At least one variant changes a decision quantity 2-fold or "
                               "more: the decision depends on that mechanism, which the "
                               "limitations and the update plan must address.")))
    return blocks


def _population_blocks(run) -> list:
    """Section 13: who the virtual patients are, their MABEL distributions, and the
    share reaching each effect at the first escalation levels."""
    pm = run.population
    pop = pm.population
    p = run.study.sections.population
    seed = run.seeds.population if getattr(run, "seeds", None) is not None else p.seed or 0
    desc = [f"{len(pop)} virtual adult patients (seed {seed})"
            + (f" from {p.covariates}" if p.covariates else
               " with weight, height, age and sex drawn from adult distributions")]
    if p.bsv:
        desc.append("between-subject variability (log-normal CV) of " + ", ".join(
            f"{k} {float(v):.0%}" for k, v in p.bsv.items()))
    if p.clearances or p.volumes:
        desc.append("allometric weight scaling of " + ", ".join(
            [*(f"{k} (exponent 0.75)" for k in p.clearances),
             *(f"{k} (exponent 1)" for k in p.volumes)]))
    if p.plausible:
        desc.append("plausible patients only (baseline " + ", ".join(
            f"{k} in [{v[0]:g}, {v[1]:g}]" for k, v in p.plausible.items()) + ")")
    unit = run.decision.dose_unit
    blocks = [("p", "Virtual population: " + "; ".join(desc) + f". Doses in {unit} are scaled "
                    "to each patient's size. Each patient is paired with one draw of the "
                    "uncertain typical values, so the joint distribution is the predictive "
                    "distribution of the MABEL of a future patient; the decision uses it."),
              ("table", pm.covariate_summary()),
              ("p", "MABEL per sample under each source of spread (5th percentile, median, "
                    "95th percentile; samples that never reach the effect count as above the "
                    "range):"),
              ("table", pm.to_frame(uncertainty=run.qsp))]
    best = pm.for_decision.lowest()
    if best is not None:
        blocks.append(("fig", plot_mabel_distributions(pm, best.effect.label,
                                                       run.decision.start_dose, run.qsp)))
    if pm.reach is not None and len(pm.reach):
        first = pm.reach[pm.reach[C.LADDER_LEVEL] == 1]
        said = [f"'{r[C.EFFECT]}' {r[C.PROBABILITY]:.0%} (95 % CI {r[C.CI_LOW]:.0%}-"
                f"{r[C.CI_HIGH]:.0%}, {int(r[C.N_REACHED])} of {int(r[C.N_SAMPLES])})"
                for _, r in first.iterrows()]
        blocks += [("p", f"Share of virtual patients whose effect reaches the minimal-effect "
                         f"threshold at the starting dose: {'; '.join(said)}. At the first "
                         "escalation levels:"),
                   ("table", pm.reach.drop(columns=[C.DEFINITION]))]
    if pm.overlap is not None and len(pm.overlap):
        adj = pm.overlap[pm.overlap[C.ADJACENT].astype(bool)]
        blocks += [("p", "Exposure (peak " + str(adj[C.METRIC].iloc[0]) + ") of the virtual "
                         "patients at adjacent ladder levels: overlap of the 90 % intervals "
                         f"{adj[C.INTERVAL_OVERLAP].min():.0%}-{adj[C.INTERVAL_OVERLAP].max():.0%}"
                         " (|intersection| / |union|), and the share of patients on the lower "
                         "level above the median of the higher one (p_exceed_median). Levels "
                         "whose exposures overlap largely add little information given "
                         "between-patient variability (NMPA draft guidance on dose "
                         "exploration)."),
                   ("table", adj.drop(columns=[C.ADJACENT, C.LEVEL]))]
    return blocks


def _spread_fig(run):
    plt = pyplot()
    sob = run.sobol
    if sob is None:
        return None
    ok = sob.samples[sob.samples[C.STATUS] == C.STATUS_OK]
    mets = [c for c in sob.samples.columns if "(" in str(c)]
    fig, axes = plt.subplots(1, len(mets) + 1, figsize=(5 * (len(mets) + 1), 3.6), squeeze=False)
    units = sob.samples.attrs.get("units", {})
    for ax, mt in zip(axes[0], mets, strict=False):
        ax.hist(ok[mt], bins=30, color="tab:purple", alpha=0.7)
        ax.set_xlabel(f"{mt} [{units.get(mt, '') or 'unitless'}]")
        ax.set_ylabel("runs [count]")
        ax.set_title("spread at the QSP MABEL", fontsize=9)
    ax = axes[0][-1]
    idx = sob.indices
    g = idx[idx[C.METRIC] == mets[0]].sort_values(C.ST, ascending=False).head(10)
    ax.barh(g[C.PARAMETER], g[C.ST], color="tab:gray", label="ST")
    ax.barh(g[C.PARAMETER], g[C.S1], color="tab:blue", label="S1")
    ax.invert_yaxis()
    ax.set_xlabel("Sobol index [-]")
    ax.set_title(f"Sobol indices of {'ln ' if sob.settings.get('log') else ''}{mets[0]}"
                 " at the QSP MABEL", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _ladder_fig(run):
    plt = pyplot()
    lad = run.decision.ladder
    if lad.empty:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (col, lo, hi, lab) in zip(axes, (
            (C.EXPOSURE, C.EXPOSURE_LOWER, C.EXPOSURE_UPPER, lad[C.EXPOSURE_UNIT].iloc[0]),
            (C.OCCUPANCY, C.OCCUPANCY_LOWER, C.OCCUPANCY_UPPER, "-"),
            (C.EFFECT, C.EFFECT_LOWER, C.EFFECT_UPPER, lad[C.EFFECT_UNIT].iloc[0])), strict=True):
        yerr = None
        if lad[lo].notna().any():
            yerr = np.vstack([lad[col] - lad[lo], lad[hi] - lad[col]]).clip(min=0)
        ax.errorbar(lad[C.DOSE], lad[col], yerr=yerr, fmt="o-", capsize=3)
        ax.set_xscale("log")
        ax.set_xlabel(f"dose [{lad[C.DOSE_UNIT].iloc[0]}]")
        ax.set_ylabel(f"{col} [{lab}]")
        if spans_decades(lad[[lo, col, hi]].to_numpy(float)):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    fig.suptitle("escalation ladder: nominal prediction and 5-95 % interval")
    fig.tight_layout()
    return fig


def _verify_fig(run):
    plt = pyplot()
    checks = [c for c in run.verification.checks if c.plot is not None]
    if not checks:
        return None
    ncol = 3
    nrow = (len(checks) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(13, 3.2 * nrow), squeeze=False)
    for k, c in enumerate(checks):
        draw_check(axes[k // ncol][k % ncol], c)
    for k in range(len(checks), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------
# content
# ---------------------------------------------------------------------------

def _equations(model) -> list[str]:
    """Reactions with their rate laws, rules and initial assignments, from the model's tables
    (math as libSBML formulaToL3String renders it)."""
    lines = []
    for _, r in model.reactions.iterrows():
        if not r[C.FORMULA]:
            continue
        arrow = "<->" if r[C.REVERSIBLE] else "->"
        lines.append(f"{r[C.ID]}: {r[C.REACTANTS] or '∅'} {arrow} {r[C.PRODUCTS] or '∅'};  "
                     f"v = {r[C.FORMULA]}")
    for _, rule in model.rules.iterrows():
        lhs = {"rate": f"d{rule[C.VARIABLE]}/dt =", "assignment": f"{rule[C.VARIABLE]} :="}
        lines.append(f"{lhs.get(rule[C.RULE_TYPE], '0 =')} {rule[C.FORMULA]}")
    for tab in (model.compartments, model.species, model.parameters):
        for sid, f in zip(tab[C.ID], tab[C.INITIAL_ASSIGNMENT], strict=True):
            if f:
                lines.append(f"{sid}(0) = {f}")
    return lines


def _sections(run) -> dict[str, list]:
    """Section id -> list of blocks: ("p", text) | ("list", [..]) | ("table", df) | ("fig", fig)
    | ("pre", lines)."""
    st = run.study
    d = st.data
    dec = run.decision
    unit = dec.dose_unit
    tables = getattr(run, "report_tables", None)  # the run's own tables (it computed them)
    S: dict[str, list] = {k: [] for k, _ in SECTIONS}
    S["summary"].append(("summary", decision_summary(run)))
    S["context"] += [("p", f"Study: {d.get('title') or st.name} (file {st.path})."),
                     ("p", "Question of interest: " + st.question),
                     ("p", "Context of use: " + st.context_of_use),
                     ("p", f"Model risk: influence {st.influence} x consequence {st.consequence} "
                           f"-> risk {st.risk}. Required analyses at this risk level, and whether "
                           "they were done:"),
                     ("table", model_risk_status(run))]
    for k, v in run.notes.items():
        S["context"].append(("p", f"Note ({k}): {v}"))
    S["model"] += [("p", f"Model {run.model.id} ({st.model}): {len(run.model.species)} species, "
                         f"{len(run.model.reactions)} reactions, {len(run.model.rules)} rules. Dose "
                         f"into species {d['drug']['species']} (molecular weight {d['drug']['mw']}, "
                         f"route {d['drug']['route']}).")]
    svg = diagram_svg(run.model)
    S["model"].append(("svg", svg) if svg is not None else ("fig", diagram_figure(run.model)))
    S["equations"] += [("p", "Reaction rates and rules, rendered from the SBML MathML with "
                             "libSBML formulaToL3String:"), ("pre", _equations(run.model))]
    S["parameters"] += [("p", "Every compartment and parameter with its unit; source and all "
                              "candidate values from the provenance table."),
                        ("table", tables.parameters if tables is not None else pd.DataFrame())]
    if tables is not None and tables.priors is not None:
        S["parameters"] += [("p", "Priors beside their candidates (provenance table): each "
                                  "uncertain parameter is drawn from the prior on its chosen "
                                  "row, centred on the chosen value; only candidates marked same "
                                  "or scaled inform a spread taken from the candidates, and "
                                  "comparison candidates never widen it. fold95: 95 % of the "
                                  "prior lies within centre/fold95 to centre x fold95."),
                            ("table", tables.priors)]
    if tables is not None and tables.provenance_lint is not None:
        lint = tables.provenance_lint
        S["parameters"] += [("p", "Provenance lint of candidates and priors (influential set: "
                                  + (", ".join(tables.influential)
                                     or "sensitivity.parameters not given")
                                  + "): " + ("no findings." if lint.empty else
                                             f"{len(lint)} finding(s):"))]
        if not lint.empty:
            S["parameters"].append(("table", lint))
    if tables is not None and tables.uncertainty is not None:
        S["parameters"] += [("p", "Distributions used for uncertainty (the priors above):"),
                            ("table", tables.uncertainty)]
    S["assumptions"] += [("p", "Assumptions:"), ("list", list(d["assumptions"]) or ["(none stated)"]),
                         ("p", "Left out, and why:"), ("list", list(d["omissions"]) or ["(none stated)"])]
    vt = run.verification.to_frame().drop(columns=[C.PLOT])
    S["verification"] += [("p", f"Automatic verification suite: {int((vt[C.STATUS] == 'pass').sum())} "
                                f"pass, {int((vt[C.STATUS] == 'warn').sum())} warn, "
                                f"{int((vt[C.STATUS] == 'fail').sum())} fail, "
                                f"{int((vt[C.STATUS] == 'skip').sum())} skipped."),
                          ("table", vt)]
    vf = _verify_fig(run)
    if vf is not None:
        S["verification"].append(("fig", vf))
    cal, val = d.get("calibration") or {}, d.get("validation") or {}
    if getattr(run, "data", None) is not None and run.data.ran:
        S["calibration"] += study_data_blocks(run.data)
    elif cal or val:
        S["calibration"].append(("p", "Calibration problem: " + str(cal.get("petab", "none")) +
                                 "; validation data: " + str(val.get("data", "none")) +
                                 ". Run `workbench calibrate` / `workbench check-data` on them; "
                                 "their records belong to this dossier."))
    else:
        S["calibration"].append(("p", "No calibration or validation data are given in the study: "
                                 "the parameters come from the literature (provenance table), and "
                                 "the model is not yet validated against clinical data for this "
                                 "drug. This is stated as a limitation."))
    S["profiles"] += [("p", "Simulated time courses at 0.1x, 1x (the proposed start, thick line), "
                            "10x and 100x the starting dose."), ("fig", _profiles_fig(run))]
    S["dose-response"] += [("p", "Peak effect versus single dose: nominal model (line), 5-95 % "
                                 "band under parameter uncertainty, threshold of the minimal effect "
                                 "(dashed), QSP MABEL (red) and the chosen starting dose (green)."),
                           ("fig", _dose_response_fig(run))]
    if getattr(run, "slider", None) is not None:
        S["dose-response"].append(("interactive", slider_html(run.slider)))  # HTML only
    S["dose-response"].append(("table", run.qsp.dose_response))
    qt = run.qsp.to_frame()
    S["steepness"] += [("p", "Steepness around the MABEL: D10 and D50 are the doses giving 10 % and "
                             "50 % of the largest change of the metric; D50/D10 = 9 for a Hill "
                             "coefficient of 1, 3 for 2. The response is called steep at D50/D10 "
                             "<= 4.33 (Hill >= 1.5). Slope: local d ln(change)/d ln(dose) at the "
                             "MABEL."),
                       ("table", qt[[C.EFFECT, C.D10, C.D50, C.STEEPNESS_RATIO, C.HILL, C.SLOPE,
                                     C.STEEPNESS, C.DOSE_UNIT]])]
    sens = []
    if getattr(run, "levels", None) is not None:
        sens += sensitivity_blocks(run.levels)
        f = _spread_fig(run)
        if f is not None:
            sens.append(("fig", f))
    S["sensitivity"] += sens or [("p", "No sensitivity analysis was run (no uncertain parameters).")]
    if run.variants is not None:
        S["variants"] += _variant_blocks(run)
    else:
        S["variants"].append(("p", "No model variants given in the study (model.variants): the "
                                   "effect of omitted elements on the decision is not assessed."))
    if run.population is not None:
        S["population"] += _population_blocks(run)
    else:
        S["population"].append(("p", run.notes.get("population", "No virtual population requested "
                                                   "in the study (population section of the "
                                                   "study file).")))
    results = [run.qsp]
    if run.population is not None:
        results += [x for x in (run.population.variability, run.population.joint) if x is not None]
    comp = [{"estimate": f"QSP: {e.effect.label}", "dose (nominal)": e.dose_text(),
             "spread": res.settings.get("distribution", "") if e.n_samples else "",
             "median": e.dose_text(e.median) if e.n_samples else "",
             "5-95 %": f"{e.dose_text(e.lower)} - {e.dose_text(e.upper)}" if e.n_samples else "",
             "basis": e.effect.text} for res in results for e in res.estimates]
    comp += [{"estimate": f"traditional: {t[C.NAME]}", "dose (nominal)": f"{t[C.DOSE]:.4g} {unit}",
              "spread": "", "median": "", "5-95 %": "", "basis": t[C.INPUTS]}
             for _, t in run.traditional.iterrows()]
    S["mabel"] += [("p", "Measurability of each effect against its assay's lower limit of "
                         "quantification (LLOQ): the threshold and its change from baseline must "
                         "each be at least one LLOQ."),
                   ("table", tables.measurability if tables is not None else pd.DataFrame())]
    S["mabel"] += [("table", pd.DataFrame(comp)), ("fig", _mabel_fig(run)),
                   ("p", "Chart values (the values the decision table uses, decision.statistic = "
                         f"{dec.statistic}): " + "; ".join(
                             f"{lab}: {v:.6g} {unit}" for lab, v in _mabel_values(run)) + ".")]
    S["decision"] += [("p", f"Proposed starting dose: {dec.start_dose:.4g} {unit} (basis: {dec.basis})."
                       if math.isfinite(dec.start_dose) else "No starting dose can be proposed."),
                      ("p", "Reasoning, step by step:"),
                      ("list", list(dec.table[C.SENTENCE])),
                      ("table", dec.table.drop(columns=[C.SENTENCE])),
                      ("p", f"Cumulative margin: {dec.cumulative_margin:.3g}-fold between the "
                            "nominal QSP MABEL of the primary effect and the start, the product "
                            "of every cautionary step:" if math.isfinite(dec.cumulative_margin)
                            else "Cumulative margin: not defined (no QSP MABEL or no start)."),
                      ("table", dec.margin if dec.margin is not None else pd.DataFrame()),
                      ("p", "Escalation ladder with predicted exposure, occupancy and effect "
                            "(nominal, 5-95 % under "
                            + ("parameter uncertainty and population variability"
                               if run.population is not None else "parameter uncertainty")
                            + "):"),
                      ("table", dec.ladder)]
    if math.isfinite(dec.patients_below_active):
        S["decision"].append(("p", f"Expected patients dosed below their own minimal active "
                                   f"dose over the ladder ({dec.design} design): "
                                   f"{dec.patients_below_active:.3g}."))
    if dec.minimal_active is not None:
        S["decision"] += [("p", "Minimal active dose (life-threatening disease), bounded by the "
                                "tolerability limit divided by the safety factors:"),
                          ("table", dec.minimal_active)]
    if dec.tradeoff is not None and len(dec.tradeoff):
        S["decision"] += [("p", "Trade-off of candidate starting doses: risk at the first level "
                                "(p_risk) against the patients expected below the active range "
                                "over the ladder from each start:"), ("table", dec.tradeoff)]
    lf = _ladder_fig(run)
    if lf is not None:
        S["decision"].append(("fig", lf))
    if getattr(run, "stepup", None) is not None:
        S["stepup"] += stepup_blocks(run.stepup)
    else:
        S["stepup"].append(("p", "No step-up schedules are named in the study (stepup block): "
                                 "only single doses were evaluated."))
    S["limitations"].append(("list", list(d["limitations"]) or ["(none stated)"]))
    S["update-plan"].append(("list", list(d["update_plan"]) or [
        f"After each cohort, run `workbench refine {st.path} --data COHORT.csv` (values below "
        "the limit of quantification in an lloq column): it updates the parameter uncertainty "
        "with the data and re-predicts the next ladder level with its interval before "
        "escalating; `workbench check-data` compares a model and a sample with the data."]))
    if run.archive is not None:
        S["package"].append(("p", "Exchange package in package/: SBML L3V2 model with provenance "
                                  "annotations, provenance table, SED-ML and an OMEX archive."))
        S["package"].append(("list", [f for f, _ in run.archive.files]))
    else:
        S["package"].append(("p", "No exchange package was written."))
    S["software"].append(("table", software_versions()))
    return S


# ---------------------------------------------------------------------------
# writer
# ---------------------------------------------------------------------------

def _twins(run, S) -> dict[int, str]:
    """id(static figure) -> HTML of its interactive Plotly twin (report.html only)."""
    from workbench.report.interactive import (
        dose_response_figure,
        ladder_figure,
        profiles_figure,
        to_div,
    )

    twins = {}
    for sec, make, div in (("profiles", lambda: profiles_figure(run.profiles), "fig-profiles"),
                           ("dose-response", lambda: dose_response_figure(run),
                            "fig-dose-response")):
        figs = [b for kind, b in S[sec] if kind == "fig"]
        if figs:
            twins[id(figs[0])] = to_div(make(), div)
    lad = run.decision.ladder
    figs = [b for kind, b in S["decision"] if kind == "fig"]
    if figs and not lad.empty:
        twins[id(figs[-1])] = to_div(ladder_figure(lad), "fig-ladder")
    return twins


def render(run, out: Path) -> dict[str, Path]:
    """Write tables, report.html and report.pdf into ``out``; returns the paths by name.

    Every file goes into ``out`` and nowhere else, each written atomically: pointed at a
    temporary directory that is renamed when the run completes, an interrupted run leaves
    no partial report."""
    plt = pyplot()
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def csv(name: str, df: pd.DataFrame) -> None:
        atomic_write_text(out / name, df.to_csv(index=False, float_format="%.10g"))
        paths[name] = out / name

    def per_sample(prefix: str, result) -> None:  # the MABEL of every sample, per effect
        for e in result.estimates:
            if e.per_sample is not None:
                slug = "".join(c if c.isalnum() else "_" for c in e.effect.metric).strip("_")
                csv(f"{prefix}_{slug}.csv", e.per_sample)

    csv("decision.csv", run.decision.table)
    csv("escalation_ladder.csv", run.decision.ladder)
    if run.decision.margin is not None:
        csv("cumulative_margin.csv", run.decision.margin)
    if run.decision.tradeoff is not None:
        csv("start_tradeoff.csv", run.decision.tradeoff)
    tables = getattr(run, "report_tables", None)
    if tables is not None and tables.priors is not None:
        csv("priors.csv", tables.priors)
    csv("qsp_mabel.csv", run.qsp.to_frame())
    csv("qsp_dose_response.csv", run.qsp.dose_response)
    csv("traditional_mabel.csv", run.traditional)
    csv("verification.csv", run.verification.to_frame())
    if getattr(run, "data", None) is not None:  # calibration and validation tables, figures
        from workbench.study.data import write_study_data

        paths.update(write_study_data(run.data, out))
    if run.local is not None:
        csv("local_sensitivity.csv", run.local.indices)
    if run.sobol is not None:
        csv("sobol_indices.csv", run.sobol.indices)
    if getattr(run, "levels", None) is not None:
        for name, df in (("sensitivity_levels_local.csv", run.levels.local),
                         ("sensitivity_levels_sobol.csv", run.levels.sobol),
                         ("sensitivity_levels_convergence.csv", run.levels.convergence)):
            if len(df):
                csv(name, df)
    if getattr(run, "variant_decisions", None) is not None:
        csv("variant_decisions.csv", run.variant_decisions)
    per_sample("qsp_mabel_samples", run.qsp)
    if getattr(run, "stepup", None) is not None:
        csv("stepup_schedules.csv", run.stepup.summary)
        csv("stepup_administrations.csv", run.stepup.administrations)
    if run.population is not None:
        pm = run.population
        csv("population_mabel.csv", pm.to_frame(uncertainty=run.qsp))
        pm.population.write_csv(out / "population_subjects.csv")  # units in the header
        paths["population_subjects.csv"] = out / "population_subjects.csv"
        if pm.reach is not None:
            csv("population_reach.csv", pm.reach)
        if pm.overlap is not None:
            csv("population_exposure_overlap.csv", pm.overlap)
        per_sample("population_mabel_subjects", pm.for_decision)
    S = _sections(run)
    figs = {}
    try:
        for blocks in S.values():
            for kind, b in blocks:
                if kind == "fig":
                    figs[id(b)] = _png(b)
        for sec, name in (("dose-response", "dose_response.png"),
                          ("population", "population_mabel.png")):
            fig = [b for kind, b in S[sec] if kind == "fig"]
            if fig:
                atomic_write_bytes(out / name, figs[id(fig[0])])
                paths[name] = out / name
        summary = next(b for kind, b in S["summary"] if kind == "summary")
        sections = [(k, t) for k, t in SECTIONS]
        pdf_doc = report_document(run, sections, S, figs, summary, interactive=False)
        atomic_write_text(out / "report.html", report_document(
            run, sections, S, figs, summary, interactive=True, twins=_twins(run, S),
            head_script=plotly_script()))
        paths["report.html"] = out / "report.html"
        atomic_write(out / "report.pdf", lambda tmp: write_pdf(pdf_doc, tmp))
        paths["report.pdf"] = out / "report.pdf"
    finally:
        for blocks in S.values():
            for kind, b in blocks:
                if kind == "fig":
                    plt.close(b)
    return paths


def write_report(result: MabelRun, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the tables (CSV), ``report.html`` and ``report.pdf`` into ``out_dir`` and
    nowhere else (point it at a temporary directory and rename that when the run must
    leave either a whole report or nothing)."""
    return render(result, Path(out_dir))
