"""Figures and report blocks of the MABEL stages: they draw finished results and compute nothing.

The report (:mod:`workbench.report.render`) places them; each function takes a result
object of :mod:`workbench.mabel` and returns a matplotlib figure or a list of report
blocks (``("p", text)``, ``("table", DataFrame)``, ``("fig", figure)``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from workbench import columns as C
from workbench.core.plots import pyplot

if TYPE_CHECKING:
    from workbench.mabel.decision_analyses import LevelSensitivity
    from workbench.mabel.population import PopulationMabel
    from workbench.mabel.stepup import StepUpResult

__all__ = ["plot_mabel_distributions", "plot_stepup", "sensitivity_blocks", "stepup_blocks"]


def plot_mabel_distributions(result: PopulationMabel, effect_label: str, start_dose: float,
                             uncertainty=None):
    """Empirical CDF of the per-sample MABEL of one effect, per distribution; the
    starting dose as a vertical line. Returns the matplotlib figure."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    unit = ""
    for label, res, style, color in (
            ("parameter uncertainty", uncertainty, ":", "tab:blue"),
            ("population variability", result.variability, "--", "tab:orange"),
            ("uncertainty and variability", result.joint, "-", "tab:purple")):
        if res is None:
            continue
        est = [e for e in res.estimates if e.effect.label == effect_label]
        if not est or est[0].per_sample is None:
            continue
        unit = est[0].dose_unit
        d = est[0].per_sample[C.DOSE].to_numpy(float)
        x = np.sort(np.where(np.isfinite(d), d, np.inf))
        y = np.arange(1, len(x) + 1) / len(x)
        fin = np.isfinite(x)
        ax.step(x[fin], y[fin], where="post", ls=style, color=color,
                label=f"{label} (n = {len(x)})")
    if math.isfinite(start_dose):
        ax.axvline(start_dose, color="green", lw=2, label=f"starting dose {start_dose:.3g} {unit}")
    ax.set_xscale("log")
    ax.set_xlabel(f"MABEL of '{effect_label}' [{unit}]")
    ax.set_ylabel("fraction of samples with a lower MABEL [1]")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_stepup(result: StepUpResult, max_panels: int = 8):
    """Figure per step: one panel per schedule (ranked first) with the peak of the risk
    output after each administration (nominal dot, median bar, 5-95 % whisker to the 95th
    percentile) and the limit; a last panel with the nominal time courses."""
    plt = pyplot()
    s = result.settings
    names = list(result.summary[C.SCHEDULE])[:max_panels]
    n = len(names) + 1
    ncol = 3
    nrow = (n + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(13, 3.3 * nrow), squeeze=False)
    a = result.administrations
    top = np.nanmax(np.r_[a[C.NOMINAL].to_numpy(float), a[C.UPPER].to_numpy(float)])
    for k, name in enumerate(names):
        ax = axes[k // ncol][k % ncol]
        g = a[a[C.SCHEDULE] == name]
        x = np.arange(len(g))
        colors = ["tab:red" if f else "tab:blue" for f in g[C.FULL_DOSE]]
        if g[C.MEDIAN].notna().any():
            ax.bar(x, g[C.MEDIAN], color=colors, alpha=0.5, label="median")
            ax.errorbar(x, g[C.MEDIAN], yerr=np.clip(np.vstack([np.zeros(len(g)),
                                                               g[C.UPPER] - g[C.MEDIAN]]), 0, None),
                        fmt="none", ecolor="k", capsize=3, label="to 95th percentile")
        ax.plot(x, g[C.NOMINAL], "ko", ms=4, label="nominal")
        if math.isfinite(s.limit):
            ax.axhline(s.limit, color="tab:red", ls="--", lw=1, label=f"limit {s.limit:g}")
        ax.set_xticks(x, [f"{d:.3g}\nd{t / 24:g}" for d, t in zip(g[C.DOSE], g[C.TIME],
                                                                   strict=True)], fontsize=7)
        ax.set_xlabel(f"dose [{s.dose_unit}] and day of administration")
        ax.set_ylabel(f"peak {s.risk} [{result.risk_unit}]")
        ax.set_ylim(0, top * 1.1 if math.isfinite(top) and top > 0 else None)
        rank = result.summary.loc[result.summary[C.SCHEDULE] == name, C.RANK].iloc[0]
        ax.set_title((f"#{int(rank)} " if np.isfinite(rank) else "") + name, fontsize=8)
        ax.grid(alpha=0.3, axis="y")
        if k == 0:
            ax.legend(fontsize=6)
    ax = axes[(n - 1) // ncol][(n - 1) % ncol]
    for name in names:
        p = result.profiles[result.profiles[C.SCHEDULE] == name]
        ax.plot(p[C.TIME] / 24, p[C.VALUE], lw=1, label=name[:40])
    ax.set_xlabel("time [day]")
    ax.set_ylabel(f"{s.risk} [{result.risk_unit}] (nominal)")
    ax.legend(fontsize=5)
    ax.grid(alpha=0.3)
    for k in range(n, nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    fig.suptitle(f"peak {s.risk} after each administration (red: full dose {s.target_dose:g} "
                 f"{s.dose_unit})", fontsize=10)
    fig.tight_layout()
    return fig


def stepup_blocks(result: StepUpResult) -> list[tuple]:
    """Report blocks of the step-up section: the verdict, and (when priming is modelled)
    the ranked table, the per-administration table and the figure."""
    s = result.settings
    blocks: list[tuple] = [("p", result.verdict())]
    lim = f"limit {s.limit:g} {result.risk_unit}" if math.isfinite(s.limit) else "no limit"
    if not result.priming_modelled:
        blocks.append(("table", result.summary[[C.SCHEDULE, C.REGIMEN, C.FIRST_FULL_NOMINAL,
                                                C.NAIVE_NOMINAL, C.REDUCTION]]))
        return blocks
    blocks += [("p", f"Schedules ranked by the largest probability over their administrations "
                     f"that the {s.risk} peak exceeds the {lim}, then the 95th percentile of "
                     "the worst peak (times in hours; exposure_ratio: median peak exposure after "
                     "the first full dose over the unprimed dose's):"),
               ("table", result.summary),
               ("p", "Per administration (peak after each dose and before the next):"),
               ("table", result.administrations.drop(columns=[C.METRIC, C.LIMIT])),
               ("fig", plot_stepup(result))]
    return blocks


def sensitivity_blocks(ls: LevelSensitivity, head: int = 6) -> list[tuple]:
    """Report blocks: where, the convergence verdict, and the top indices per dose."""
    blocks: list[tuple] = [("p", "Sensitivity is computed where the decision needs it: at the "
                                 "QSP MABEL and at every level of the escalation ladder (not only "
                                 "at the proposed start, where the effect is by design minimal), "
                                 "over every parameter of the study's uncertainty."),
                           ("table", ls.doses)]
    if ls.skipped_text() and not len(ls.sobol):  # with Sobol indices the verdict says it
        blocks.append(("p", ls.skipped_text()))
    if len(ls.local):
        lt = ls.local.sort_values([C.WHERE, C.METRIC, C.RANK], kind="stable")
        lt = lt.groupby([C.WHERE, C.METRIC], sort=False).head(head)
        blocks += [("p", f"Local sensitivity d ln y / d ln p, {head} most influential per dose "
                         "and metric:"),
                   ("table", lt[[C.WHERE, C.DOSE, C.METRIC, C.PARAMETER, C.SENSITIVITY, C.RANK]])]
    if len(ls.sobol):
        st = ls.sobol.sort_values([C.WHERE, C.METRIC, C.RANK], kind="stable")
        st = st.groupby([C.WHERE, C.METRIC], sort=False).head(head)
        blocks += [("p", ls.verdict()),
                   ("p", f"Sobol indices (first order S1 and total ST with 95 % bootstrap "
                         f"half-widths), {head} largest ST per dose and metric:"),
                   ("table", st[[C.WHERE, C.DOSE, C.METRIC, C.PARAMETER, C.S1, C.S1_CONF, C.ST,
                                 C.ST_CONF, "n_base"]])]
    return blocks
