"""Readable summaries of result objects in Jupyter (``_repr_html_``).

A notebook shows the return value of the last expression; for the result
dataclasses that would be a wall of nested DataFrames. Each class's
``_repr_html_`` calls one function here that picks the few facts a reader needs
first (the decision, the dose, convergence, the top-ranked parameters) and a
short table. Everything is escaped; no scripts, no styles beyond inline ones, so
the summary renders the same in Jupyter, VS Code and a static HTML export.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import pandas as pd

__all__ = ["summary_html"]

_MAX_ROWS = 12


def _fmt(v) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def summary_html(title: str, facts: Sequence[tuple[str, object]],
                 tables: Sequence[tuple[str, pd.DataFrame | None]] = ()) -> str:
    """An HTML block: a bold title, a two-column list of facts, then captioned tables.

    Parameters
    ----------
    title
        What the object is.
    facts
        (label, value) pairs; floats are shown with 4 significant digits.
    tables
        (caption, table) pairs; empty or None tables are left out, long ones cut
        at 12 rows with the number of rows left out stated.
    """
    e = html.escape
    out = [f'<div class="workbench-summary"><p><b>{e(title)}</b></p>']
    if facts:
        out.append('<table style="text-align:left">')
        out += [f"<tr><th style='text-align:left;padding-right:1em'>{e(str(k))}</th>"
                f"<td style='text-align:left'>{e(_fmt(v))}</td></tr>" for k, v in facts]
        out.append("</table>")
    for caption, df in tables:
        if df is None or not len(df):
            continue
        shown = df.head(_MAX_ROWS)
        out.append(f"<p><i>{e(caption)}</i></p>")
        out.append(shown.to_html(index=False, float_format=lambda x: f"{x:.4g}", border=0,
                                 na_rep=""))
        if len(df) > _MAX_ROWS:
            out.append(f"<p>... {len(df) - _MAX_ROWS} more row(s)</p>")
    out.append("</div>")
    return "\n".join(out)


def decision_html(d) -> str:
    """:class:`workbench.mabel.decision.Decision`."""
    table = d.table.drop(columns=[c for c in ("sentence",) if c in d.table.columns])
    return summary_html("Dose decision", [("starting dose", f"{d.start_dose:.4g} {d.dose_unit}"),
                                          ("basis", d.basis)],
                        [("decision steps", table), ("escalation ladder", d.ladder)])


def mabel_run_html(run) -> str:
    """:class:`workbench.study.pipeline.MabelRun`."""
    d = run.decision
    facts = [("study", run.study.name), ("question", run.study.question),
             ("starting dose", f"{d.start_dose:.4g} {d.dose_unit}"), ("basis", d.basis)]
    if "reduced" in run.notes:
        facts.append(("run", "REDUCED (--quick): indicative only"))
    if run.seconds:
        facts.append(("run time", f"{sum(run.seconds.values()):.0f} s"))
    table = d.table.drop(columns=[c for c in ("sentence",) if c in d.table.columns])
    return summary_html("MABEL run", facts, [("decision steps", table),
                                             ("escalation ladder", d.ladder)])


def sensitivity_html(r) -> str:
    """:class:`workbench.analysis.sensitivity.SensitivityResult`."""
    idx = r.indices
    if "rank" in idx.columns:
        idx = idx.sort_values("rank", kind="stable")
    facts = [("method", r.method), ("runs", len(r.samples)), ("failed, then retried", r.n_failed),
             ("recovered by the retry", r.n_retried_ok)]
    if r.convergence is not None and len(r.convergence) and "stable" in r.convergence.columns:
        facts.append(("top parameters stable at 2N", bool(r.convergence["stable"].all())))
    return summary_html(f"{r.method.capitalize()} sensitivity", facts, [("indices", idx)])


def uncertainty_html(r) -> str:
    """:class:`workbench.analysis.uncertainty.UncertaintyResult`."""
    b = r.bands
    dose_response = b[b["time"].isna()] if "time" in b.columns else b
    facts = [("samples", len(r.samples)), ("method", r.method), ("seed", r.seed),
             ("percentiles", ", ".join(f"{p:g}" for p in r.percentiles)),
             ("converged (n/2 vs n)", "yes" if r.converged else "NO")]
    return summary_html("Uncertainty propagation", facts,
                        [("dose-response bands", dose_response),
                         ("convergence", r.convergence)])


def qsp_mabel_html(r) -> str:
    """:class:`workbench.mabel.qsp.QspMabelResult`."""
    low = r.lowest()
    facts = [("lowest QSP MABEL", low.dose_text() if low is not None else "not reached")]
    cols = ["effect", "definition", "status", "dose", "dose_unit", "median", "lower", "upper",
            "steepness"]
    t = r.to_frame()
    return summary_html("QSP MABEL", facts, [("per effect", t[[c for c in cols if c in t]])])


def variants_html(r) -> str:
    """:class:`workbench.analysis.variants.VariantComparison`."""
    return summary_html("Model variants", [("reference", r.reference)],
                        [("side by side", r.to_wide())])
