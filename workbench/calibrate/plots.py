"""Figures of a calibration: waterfall, fit, observed vs predicted, residuals, profiles.

PEtab v1 tables carry no units: measurements are in the observable's units as
written in the measurement table, which the axis labels say; time is in the
model's time unit (``undeclared`` when the SBML declares none).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.calibrate._profile import PROFILE_THRESHOLD
from workbench.core.parameter_space import scale
from workbench.core.plots import _figure, _label, pyplot, save_figure

__all__ = ["plot_calibration", "plot_data_check", "plot_fit", "plot_observed_vs_predicted", "plot_profiles",
           "plot_residuals", "plot_waterfall"]

_OBS_UNIT = "observable units of the measurement table"


def _time_label(result) -> str:
    """Axis label of model time, from the SBML the problem holds (no file read)."""
    from workbench.core.model import load_model

    tu = load_model(result.problem.sbml).time_unit
    return f"time [{tu or 'model time unit, undeclared'}]"


def plot_waterfall(starts: pd.DataFrame, path: str | os.PathLike[str], title: str = "") -> Path:
    """Final objective of each start, sorted (failed starts marked at the top)."""
    plt = pyplot()
    ok = starts[starts[C.STATUS] == C.STATUS_OK].sort_values(C.OBJECTIVE)
    fig, ax = plt.subplots(figsize=(6, 4))
    f = ok[C.OBJECTIVE].to_numpy(dtype=float)
    if len(f):
        best = f[0]
        ax.plot(np.arange(1, len(f) + 1), f - best + 1.0, "o-", ms=4)
        near = np.flatnonzero(f - best < 0.1)
        ax.plot(near + 1, f[near] - best + 1.0, "o", color="tab:green",
                label=f"within 0.1 of best ({len(near)})")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    n_fail = int((starts[C.STATUS] != C.STATUS_OK).sum())
    ax.set_xlabel("start, sorted by final objective [rank]")
    ax.set_ylabel("objective - best + 1 [negative log-likelihood units]")
    ax.set_title((title + ": " if title else "") + f"waterfall ({n_fail} failed)")
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_observed_vs_predicted(fit: pd.DataFrame, path: str | os.PathLike[str],
                               title: str = "") -> Path:
    """Measurement vs simulation at the fit, one colour per observable, identity line."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for oid, g in fit.groupby(C.OBSERVABLE, sort=True):
        ax.plot(g[C.SIMULATION], g[C.MEASUREMENT], "o", ms=4, alpha=0.8, label=str(oid))
    v = fit[[C.SIMULATION, C.MEASUREMENT]].to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if len(v):
        lo, hi = float(v.min()), float(v.max())
        ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="identity")
    ax.set_xlabel(f"predicted [{_OBS_UNIT}]")
    ax.set_ylabel(f"observed [{_OBS_UNIT}]")
    ax.set_title((title + ": " if title else "") + "observed vs predicted")
    ax.legend(fontsize=6, ncol=2)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_residuals(fit: pd.DataFrame, path: str | os.PathLike[str], time_label: str = "time",
                   title: str = "") -> Path:
    """Weighted residuals over time (per observable), and their distribution against N(0, 1)."""
    from scipy.stats import norm

    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for oid, g in fit.groupby(C.OBSERVABLE, sort=True):
        a1.plot(g[C.TIME], g[C.WEIGHTED_RESIDUAL], "o", ms=4, alpha=0.8, label=str(oid))
    for y in (-2, 0, 2):
        a1.axhline(y, color="k", lw=0.8, ls="-" if y == 0 else ":")
    a1.set_xlabel(time_label)
    a1.set_ylabel("weighted residual (h(sim) - h(meas)) / sigma [unitless]")
    a1.legend(fontsize=6, ncol=2)
    a1.grid(alpha=0.3)
    r = np.sort(fit[C.WEIGHTED_RESIDUAL].to_numpy(dtype=float))
    r = r[np.isfinite(r)]
    if len(r):
        q = norm.ppf((np.arange(1, len(r) + 1) - 0.5) / len(r))
        a2.plot(q, r, "o", ms=3)
        lim = [min(q[0], r[0]), max(q[-1], r[-1])]
        a2.plot(lim, lim, "k--", lw=1)
    a2.set_xlabel("standard normal quantile [unitless]")
    a2.set_ylabel("weighted residual quantile [unitless]")
    a2.set_title("normal Q-Q plot of the weighted residuals")
    a2.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def plot_fit(result, path: str | os.PathLike[str], points: int = 200,
             time_label: str | None = None) -> Path:
    """Measurements and the fitted trajectory of each observable, per condition
    (``time_label``: the time axis label, default from the problem's model)."""
    pr = result.problem
    meas = pr.measurements
    dense = result.fitted_curves(points)
    oids = list(dict.fromkeys(meas["observableId"].astype(str)))
    fig, axes = _figure(len(oids), 5, 3.4, ncol=3)
    tl = time_label or _time_label(result)
    fit = result.fit
    for ax, oid in zip(axes, oids, strict=True):
        dg = dense[dense["observableId"].astype(str) == oid]
        fg = fit[fit[C.OBSERVABLE] == oid]
        for i, (cond, g) in enumerate(dg.groupby("simulationConditionId", sort=False)):
            color = f"C{i % 10}"
            ax.plot(g["time"], g["simulation"], "-", color=color, lw=1.2, label=str(cond))
            f = fg[fg[C.CONDITION] == cond]
            ax.plot(f[C.TIME], f[C.MEASUREMENT], "o", color=color, ms=3.5)
        ax.set_title(oid, fontsize=9)
        ax.set_xlabel(tl)
        ax.set_ylabel(f"{oid} [{_OBS_UNIT}]", fontsize=8)
        if str(pr.observables.at[oid, "observableTransformation"]) in ("log", "log10"):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        if dg["simulationConditionId"].nunique() <= 8:
            ax.legend(fontsize=6)
    fig.suptitle(f"{pr.name}: data (points) and fit (lines)")
    return save_figure(fig, path)


def plot_profiles(profiles: pd.DataFrame, parameters: pd.DataFrame,
                  path: str | os.PathLike[str], threshold: float) -> Path:
    """Objective rise along each profile, with the 95 % threshold and interval."""
    ids = list(dict.fromkeys(profiles[C.PARAMETER]))
    fig, axes = _figure(len(ids), 4.6, 3.4, ncol=3)
    for ax, pid in zip(axes, ids, strict=True):
        g = profiles[profiles[C.PARAMETER] == pid].sort_values(C.VALUE)
        p = parameters[parameters[C.PARAMETER] == pid].iloc[0]
        sc = str(p[C.SCALE])
        ax.plot(g[C.SCALED_VALUE], g[C.DELTA_OBJECTIVE], "o-", ms=3)
        # retried long steps can rise far above the threshold: keep the interval readable
        top = float(np.nanmax(g[C.DELTA_OBJECTIVE])) if len(g) else threshold
        ax.set_ylim(bottom=min(0.0, float(np.nanmin(g[C.DELTA_OBJECTIVE]))) - 0.1,
                    top=min(max(top, threshold) * 1.05, 4 * threshold))
        ax.axhline(threshold, color="tab:red", ls="--", lw=1, label="95 % threshold")
        for v in (p[C.CI_LOW], p[C.CI_HIGH]):
            if np.isfinite(v) and (v > 0 or sc == "lin"):
                ax.axvline(float(scale(v, sc)), color="tab:gray", ls=":", lw=1)
        ax.axvline(float(scale(p[C.FINAL_VALUE], sc)), color="k", lw=0.8)
        v = p[C.IDENTIFIABLE]
        ident = "identifiable" if (not pd.isna(v) and bool(v)) else "not identifiable"
        ax.set_title(f"{pid} ({ident}; dotted: 95 % CI)", fontsize=9)
        ax.set_xlabel(f"{pid} [model units]" if sc == "lin"
                      else f"{sc}({pid}) [{sc} of model units]")
        ax.set_ylabel("objective - best [negative log-likelihood units]", fontsize=8)
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_calibration(result, out: str | os.PathLike[str]) -> list[Path]:
    """Every figure of a calibration record into directory ``out``."""
    d = Path(out)
    name = result.problem.name
    tl = _time_label(result)
    paths = [plot_waterfall(result.starts, d / "waterfall.png", name),
             plot_fit(result, d / "fit.png", time_label=tl),
             plot_observed_vs_predicted(result.fit, d / "observed_vs_predicted.png", name),
             plot_residuals(result.fit, d / "residuals.png", tl, name)]
    if result.profiles is not None and len(result.profiles):
        paths.append(plot_profiles(result.profiles, result.parameters, d / "profiles.png",
                                   PROFILE_THRESHOLD))
    return paths


def plot_data_check(table: pd.DataFrame, summary: pd.DataFrame, level: float,
                    path: str | os.PathLike[str], title: str = "") -> Path:
    """Observed vs predicted (log-log) of a comparison with independent data, one panel per
    output, with the identity and the 2-fold and 3-fold lines; error bars: the
    ``level`` prediction interval.

    ``table`` and ``summary`` are those of a
    :class:`~workbench.calibrate.observations.DataCheck` (columns
    :data:`workbench.columns.CHECK_COLUMNS`; ``summary``: what/value rows with
    ``gmfe``, ``within_2fold``, ``within_3fold`` and ``coverage``)."""
    t = table
    outs = list(dict.fromkeys(t[C.OUTPUT]))
    fig, axes = _figure(len(outs), 5, 4.6, ncol=3)
    for ax, o in zip(axes, outs, strict=True):
        g = t[(t[C.OUTPUT] == o) & (t[C.OBSERVED] > 0) & (t[C.PREDICTED] > 0)]
        unit = g[C.UNIT].iloc[0] if len(g) else ""
        for i, (reg, h) in enumerate(g.groupby(C.REGIMEN, sort=False)):
            xerr = None
            if h[C.LOWER].notna().any():
                xerr = np.vstack([h[C.PREDICTED] - h[C.LOWER], h[C.UPPER] - h[C.PREDICTED]])
                xerr = np.clip(np.nan_to_num(xerr), 0, None)
            out = h[C.INSIDE_BAND] == False  # noqa: E712
            ax.errorbar(h[C.PREDICTED], h[C.OBSERVED], xerr=xerr, fmt="o", ms=4,
                        color=f"C{i % 10}", alpha=0.8, label=reg or "no dose", lw=0.8)
            if out.any():
                ax.plot(h.loc[out, C.PREDICTED], h.loc[out, C.OBSERVED], "x", color="red",
                        ms=9, mew=2)
        v = g[[C.PREDICTED, C.OBSERVED]].to_numpy(dtype=float).ravel()
        if len(v):
            lo, hi = v.min() / 4, v.max() * 4
            xs = np.array([lo, hi])
            ax.plot(xs, xs, "k-", lw=1, label="identity")
            for f, ls in ((2, "--"), (3, ":")):
                ax.plot(xs, xs * f, "k" + ls, lw=0.8, label=f"{f}-fold")
                ax.plot(xs, xs / f, "k" + ls, lw=0.8)
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(_label(f"predicted {o}", unit))
        ax.set_ylabel(_label(f"observed {o}", unit))
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    s = summary.set_index(C.WHAT)[C.VALUE]
    fig.suptitle((title + ": " if title else "") +
                 f"GMFE {s['gmfe']:.2f}, within 2-fold {s['within_2fold']:.0%}, "
                 f"3-fold {s['within_3fold']:.0%}" +
                 (f", {level:.0%} PI coverage {s['coverage']:.0%}"
                  if np.isfinite(s["coverage"]) else ""))
    return save_figure(fig, path)
