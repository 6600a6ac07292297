"""Figures of sensitivity analyses: tornado (local), mu* vs sigma (Morris),
S1/ST bars with confidence intervals and ST over time (Sobol).

Every axis is labelled with its unit; figures are written atomically as PNG
(matplotlib, Agg backend).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core.plots import _figure, save_figure

__all__ = ["plot_indices", "plot_morris", "plot_sobol", "plot_sobol_over_time", "plot_tornado"]

_MAX_PANELS = 12


def _scalar_metrics(df: pd.DataFrame) -> list[str]:
    """Metrics to draw one panel each: scalar ones, or (all time-resolved) the first times."""
    ms = list(dict.fromkeys(df[C.METRIC]))
    scalar = [m for m in ms if not np.isfinite(df.loc[df[C.METRIC] == m, C.TIME].iloc[0])]
    return (scalar or ms)[:_MAX_PANELS]


def plot_tornado(indices: pd.DataFrame, path: str | os.PathLike[str], top: int = 15) -> Path:
    """Local sensitivity: one horizontal bar per parameter, largest |coefficient| on top."""
    metrics = _scalar_metrics(indices)
    fig, axes = _figure(len(metrics), h=max(3.0, 0.35 * min(top, indices[C.PARAMETER].nunique()) + 1.2))
    for ax, mt in zip(axes, metrics, strict=True):
        d = indices[indices[C.METRIC] == mt].sort_values(C.RANK).head(top).iloc[::-1]
        s = d[C.SENSITIVITY].to_numpy(float)
        ax.barh(d[C.PARAMETER], s, color=np.where(s >= 0, "#c0392b", "#2471a3"))
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel("d ln(metric) / d ln(parameter) [dimensionless]")
        ax.set_title(mt, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    return save_figure(fig, path)


def plot_morris(indices: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Morris: mu* against sigma, one labelled point per parameter."""
    metrics = _scalar_metrics(indices)
    fig, axes = _figure(len(metrics))
    for ax, mt in zip(axes, metrics, strict=True):
        d = indices[indices[C.METRIC] == mt]
        unit = d[C.UNIT].iloc[0] or "unitless/undeclared"
        ax.errorbar(d[C.MU_STAR], d[C.SIGMA], xerr=d[C.MU_STAR_CONF], fmt="o", ms=4, lw=0.8)
        for _, r in d.iterrows():
            ax.annotate(r[C.PARAMETER], (r[C.MU_STAR], r[C.SIGMA]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
        lim = float(np.nanmax(np.r_[d[C.MU_STAR], d[C.SIGMA], 0])) * 1.1 or 1.0
        ax.plot([0, lim], [0, lim], ":", color="grey", lw=0.8)  # sigma = mu*: non-linear/interacting
        ax.set_xlabel(f"mu* [{unit} per unit quantile]")
        ax.set_ylabel(f"sigma [{unit} per unit quantile]")
        ax.set_title(mt, fontsize=10)
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


def plot_sobol(indices: pd.DataFrame, path: str | os.PathLike[str], top: int = 20) -> Path:
    """Sobol: S1 and ST bars per parameter with their confidence intervals."""
    metrics = _scalar_metrics(indices)
    fig, axes = _figure(len(metrics), w=6.5)
    for ax, mt in zip(axes, metrics, strict=True):
        d = indices[indices[C.METRIC] == mt].sort_values(C.RANK).head(top)
        x = np.arange(len(d))
        ax.bar(x - 0.2, d[C.S1], 0.4, yerr=d[C.S1_CONF], capsize=2, label="S1 (first order)")
        ax.bar(x + 0.2, d[C.ST], 0.4, yerr=d[C.ST_CONF], capsize=2, label="ST (total)")
        ax.set_xticks(x, d[C.PARAMETER], rotation=60, ha="right", fontsize=8)
        ax.set_ylabel("Sobol index [dimensionless]")
        ax.set_title(mt, fontsize=10)
        ax.axhline(0, color="k", lw=0.6)
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    return save_figure(fig, path)


def plot_sobol_over_time(indices: pd.DataFrame, path: str | os.PathLike[str],
                         time_unit: str = "", top: int = 8) -> Path:
    """Sobol: ST of each parameter against time, one panel per output (value(X, t) metrics)."""
    d = indices[np.isfinite(indices[C.TIME].to_numpy(float))]
    outputs = list(dict.fromkeys(d[C.OUTPUT]))[:_MAX_PANELS]
    fig, axes = _figure(len(outputs))
    for ax, o in zip(axes, outputs, strict=True):
        dd = d[d[C.OUTPUT] == o]
        best = dd.groupby(C.PARAMETER)[C.ST].max().sort_values(ascending=False).head(top).index
        for p in best:
            q = dd[dd[C.PARAMETER] == p].sort_values(C.TIME)
            ax.plot(q[C.TIME], q[C.ST], marker="o", ms=3, label=p)
            ax.fill_between(q[C.TIME], q[C.ST] - q[C.ST_CONF], q[C.ST] + q[C.ST_CONF], alpha=0.15)
        ax.set_xlabel(f"time [{time_unit or 'unitless/undeclared'}]")
        ax.set_ylabel("ST (total Sobol index) [dimensionless]")
        ax.set_title(o, fontsize=10)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


class IndexTables(Protocol):
    """What :func:`plot_indices` reads of a result (a
    :class:`workbench.analysis.sensitivity.SensitivityResult`): the figures depend on the tables,
    not on the analysis module, which imports this one to draw them."""

    method: str
    indices: pd.DataFrame
    samples: pd.DataFrame


def plot_indices(result: IndexTables, out_dir: str | os.PathLike[str]) -> list[Path]:
    """The standard figures of ``result`` written into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    idx = result.indices
    if result.method == "local":
        return [plot_tornado(idx, out / "tornado.png")]
    if result.method == "morris":
        return [plot_morris(idx, out / "morris.png")]
    paths = [plot_sobol(idx, out / "sobol.png")]
    if np.isfinite(idx[C.TIME].to_numpy(float)).any():
        paths.append(plot_sobol_over_time(idx, out / "sobol_over_time.png",
                                          result.samples.attrs.get("time_unit", "")))
    return paths
