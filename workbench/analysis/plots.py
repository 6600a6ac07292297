"""Figures of the analyses: sensitivity (tornado, Morris mu* vs sigma, Sobol indices
and Sobol ST over time), regimen comparison (exposure by regimen, target-attainment
curves, overlap matrix, exposure vs body weight), uncertainty prediction bands and
model-variant comparison.

Why one module: the analyses compute tables and the figures only read those tables, so
drawing lives beside, not inside, the analysis modules (each subpackage keeps its
figures in its ``plots.py``); the analysis modules import this one to write their
figures, never the other way round. Every axis is labelled with its unit; figures are
written atomically as PNG (matplotlib, Agg backend).
"""

from __future__ import annotations

import os
from itertools import pairwise
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core.dosing import parse_regimen
from workbench.core.plots import _figure, _label, pyplot, save_figure
from workbench.core.stats import weighted_quantile

__all__ = ["plot_all", "plot_attainment_curves", "plot_bands", "plot_exposure",
           "plot_exposure_vs_weight", "plot_indices", "plot_morris", "plot_overlap_matrix",
           "plot_sobol", "plot_sobol_over_time", "plot_tornado", "plot_variants"]


# ---------------------------------------------------------------------------
# sensitivity (workbench.analysis.sensitivity)
# ---------------------------------------------------------------------------

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

    @property
    def method(self) -> str: ...
    @property
    def indices(self) -> pd.DataFrame: ...
    @property
    def samples(self) -> pd.DataFrame: ...


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


# ---------------------------------------------------------------------------
# regimen comparison (workbench.analysis.regimens)
# ---------------------------------------------------------------------------

def _ok(df):
    return df[df[C.STATUS] == C.STATUS_OK]


def _short(label: str, n: int = 28) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _log_ok(vals) -> bool:
    v = np.concatenate([np.asarray(x, float) for x in vals]) if vals else np.array([])
    v = v[np.isfinite(v)]
    return bool(len(v)) and bool(np.all(v > 0)) and v.max() / v.min() > 30


def plot_exposure(result, metrics, path: str | os.PathLike[str]) -> None:
    """Box plots (5th-95th percentile whiskers) of each metric by regimen."""
    fig, axes = _figure(len(metrics), 6.5, 3.8)
    d = _ok(result.subjects)
    for ax, mt in zip(axes, metrics, strict=True):
        vals = [d.loc[d[C.REGIMEN] == r, mt].dropna().to_numpy() for r in result.regimens]
        ax.boxplot(vals, whis=(5, 95), showfliers=False)
        ax.set_xticks(range(1, len(vals) + 1), [_short(r) for r in result.regimens],
                      rotation=30, ha="right", fontsize=7)
        ax.set_ylabel(_label(mt, result.units.get(mt, "")))
        if _log_ok(vals):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    fig.suptitle("exposure by regimen (box: quartiles, whiskers: 5th-95th percentile)",
                 fontsize=9)
    save_figure(fig, path)


def plot_attainment_curves(result, path: str | os.PathLike[str]) -> None:
    """Per criterion: share of subjects meeting ``metric op c`` as a function of the
    threshold c, one line per regimen; the criterion's threshold is marked."""
    crits = list(result.criteria)
    fig, axes = _figure(len(crits), 6.5, 3.8)
    d = _ok(result.subjects)
    for ax, c in zip(axes, crits, strict=True):
        allx = d[c.metric].to_numpy(float)
        allx = allx[np.isfinite(allx)]
        logx = bool(len(allx)) and allx.min() > 0 and allx.max() / allx.min() > 30
        grid = (np.geomspace(allx.min(), allx.max(), 200) if logx
                else np.linspace(allx.min(), allx.max(), 200)) if len(allx) else np.array([])
        for r in result.regimens:
            dd = d[d[C.REGIMEN] == r]
            x = dd[c.metric].to_numpy(float)
            w = (dd[C.PREVALENCE_WEIGHT].to_numpy(float) if C.PREVALENCE_WEIGHT in dd
                 else np.ones(len(x)))
            fin = np.isfinite(x) & (w > 0)
            if not fin.any():
                continue
            x, w = x[fin], w[fin]
            p = [w[type(c)(c.metric, c.op, float(t), c.kind).met(x)].sum() / w.sum()
                 for t in grid]
            ax.plot(grid, p, label=_short(r, 40))
        ax.axvline(c.threshold, color="k", ls="--", lw=0.8)
        ax.set_xlabel(_label(f"threshold on {c.metric}", result.units.get(c.metric, "")))
        ax.set_ylabel(_label(f"P({c.metric} {c.op} threshold)", "fraction"))
        ax.set_title(f"{c.kind}: {c.text}", fontsize=9)
        if logx:
            ax.set_xscale("log")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    save_figure(fig, path)


def plot_overlap_matrix(result, metric: str, path: str | os.PathLike[str]) -> None:
    """Matrix of P(subject on row regimen > median of column regimen) for ``metric``."""
    plt = pyplot()
    d = _ok(result.subjects)
    regs = list(result.regimens)
    med = {}
    for r in regs:
        dd = d[d[C.REGIMEN] == r]
        med[r] = float(weighted_quantile(dd[metric], 0.5, dd.get(C.PREVALENCE_WEIGHT)))
    mat = np.full((len(regs), len(regs)), np.nan)
    for i, a in enumerate(regs):
        dd = d[d[C.REGIMEN] == a]
        x = dd[metric].to_numpy(float)
        w = dd[C.PREVALENCE_WEIGHT].to_numpy(float) if C.PREVALENCE_WEIGHT in dd else np.ones(len(x))
        fin = np.isfinite(x) & (w > 0)
        for j, b in enumerate(regs):
            if fin.any():
                mat[i, j] = w[fin][x[fin] > med[b]].sum() / w[fin].sum()
    fig, ax = plt.subplots(figsize=(1.1 * len(regs) + 3, 0.9 * len(regs) + 2))
    im = ax.imshow(mat, vmin=0, vmax=1, cmap="viridis")
    for i in range(len(regs)):
        for j in range(len(regs)):
            ax.text(j, i, f"{mat[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="w" if mat[i, j] < 0.5 else "k")
    ax.set_xticks(range(len(regs)), [_short(r, 20) for r in regs], rotation=35, ha="right",
                  fontsize=7)
    ax.set_yticks(range(len(regs)), [_short(r, 20) for r in regs], fontsize=7)
    ax.set_xlabel("regimen whose median is exceeded")
    ax.set_ylabel("regimen of the subject")
    fig.colorbar(im, ax=ax, label=_label(f"P({metric} > median)", "fraction"))
    ax.set_title(f"exposure overlap: {metric} [{result.units.get(metric, '')}]", fontsize=9)
    save_figure(fig, path)


def plot_exposure_vs_weight(result, metric: str, path: str | os.PathLike[str], *,
                            window: tuple[float, float] | None = None) -> None:
    """Scatter of ``metric`` against body weight, one colour per regimen, with the
    running median (10 weight bins); ``window`` drawn as horizontal lines."""
    plt = pyplot()
    d = _ok(result.subjects)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in result.regimens:
        dd = d[d[C.REGIMEN] == r]
        x, y = dd[C.WEIGHT].to_numpy(float), dd[metric].to_numpy(float)
        pts = ax.scatter(x, y, s=4, alpha=0.3)
        edges = np.quantile(x, np.linspace(0, 1, 11))
        mid = 0.5 * (edges[1:] + edges[:-1])
        meds = [float(np.median(y[(x >= a) & (x <= b)])) if np.any((x >= a) & (x <= b))
                else np.nan for a, b in pairwise(edges)]
        ax.plot(mid, meds, color=pts.get_facecolor()[0][:3], lw=2, label=_short(r, 40))
    if window is not None:
        for v in window:
            ax.axhline(v, color="k", ls="--", lw=0.8)
    ax.set_xlabel(_label("body weight", "kg"))
    ax.set_ylabel(_label(metric, result.units.get(metric, "")))
    if _log_ok([d[metric].to_numpy(float)]):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, path)


def plot_all(result, outdir: str | os.PathLike[str], *, window=None) -> list[Path]:
    """Every figure of a regimen comparison that applies; returns the paths written."""
    out = Path(outdir)
    paths = []
    exp = [f"{k}({x})" for x in result.exposure for k in ("cmax_first", "cmax_ss", "ctrough_ss",
                                                           "auc_tau")]
    others = [m for m in result.metrics if m not in exp and not m.startswith("accumulation(")]
    if exp or others:
        plot_exposure(result, exp + others, out / "exposure_by_regimen.png")
        paths.append(out / "exposure_by_regimen.png")
    if result.criteria:
        plot_attainment_curves(result, out / "attainment_curves.png")
        paths.append(out / "attainment_curves.png")
    key = window[0] if window else (f"auc_tau({result.exposure[0]})" if result.exposure
                                    else None)
    if key and len(result.regimens) > 1:
        plot_overlap_matrix(result, key, out / "overlap_matrix.png")
        paths.append(out / "overlap_matrix.png")
    if key and C.WEIGHT in result.subjects.columns:
        plot_exposure_vs_weight(result, key, out / "exposure_vs_weight.png",
                                window=tuple(window[1:]) if window else None)
        paths.append(out / "exposure_vs_weight.png")
    return paths


# ---------------------------------------------------------------------------
# uncertainty bands (workbench.analysis.uncertainty)
# ---------------------------------------------------------------------------

class BandTables(Protocol):
    """What :func:`plot_bands` reads of a result (a
    :class:`workbench.analysis.uncertainty.UncertaintyResult`)."""

    @property
    def bands(self) -> pd.DataFrame: ...
    @property
    def samples(self) -> pd.DataFrame: ...
    @property
    def percentiles(self) -> tuple[float, ...]: ...
    @property
    def time_unit(self) -> str: ...
    @property
    def method(self) -> str: ...


def _dose_of(regimen_text: str) -> tuple[float, str] | None:
    try:
        reg = parse_regimen(regimen_text)
    except Exception:
        return None
    if not reg.doses:
        return None
    return reg.doses[0].amount, reg.doses[0].unit


def plot_bands(result: BandTables, path: str | os.PathLike[str], *,
               logy: bool = False, title: str = "") -> None:
    """Prediction bands: one panel per time-course output (one band per regimen) and per
    dose-response metric (band over the regimens' doses); written atomically as PNG."""
    b = result.bands
    lo, hi = min(result.percentiles), max(result.percentiles)
    mid = sorted(result.percentiles, key=lambda p: abs(p - 50))[0]
    qtys = list(dict.fromkeys(b[C.QUANTITY]))
    fig, axes = _figure(len(qtys), 6, 3.8)
    tu = result.time_unit
    for ax, q in zip(axes, qtys, strict=True):
        bq = b[b[C.QUANTITY] == q]
        if bq[C.TIME].notna().any():
            for reg, g in bq.groupby(C.REGIMEN, sort=False):
                piv = g.pivot_table(index=C.TIME, columns=C.PERCENTILE, values=C.VALUE)
                line = ax.plot(piv.index, piv[mid], label=f"{reg} (P{mid:g})")[0]
                ax.fill_between(piv.index, piv[lo], piv[hi], alpha=0.25,
                                color=line.get_color(), label=f"P{lo:g}-P{hi:g}")
            ax.set_xlabel(f"time [{tu}]" if tu else "time [model units]")
        else:
            piv = bq.pivot_table(index=C.REGIMEN, columns=C.PERCENTILE, values=C.VALUE,
                                 sort=False)
            doses = [_dose_of(r) for r in piv.index]
            read = [d for d in doses if d is not None]
            if len(read) == len(doses) and len({d[1] for d in read}) == 1:
                x = [d[0] for d in read]
                ax.set_xscale("log")
                ax.set_xlabel(f"dose [{read[0][1]}]")
            else:
                x = list(range(len(piv)))
                ax.set_xticks(x, list(piv.index), rotation=30, fontsize=7, ha="right")
                ax.set_xlabel("regimen")
            ax.plot(x, piv[mid], marker="o", label=f"P{mid:g}")
            ax.fill_between(x, piv[lo], piv[hi], alpha=0.25, label=f"P{lo:g}-P{hi:g}")
            vals = piv.to_numpy(float)
            if np.nanmin(vals) > 0 and np.nanmax(vals) > 100 * np.nanmin(vals):
                ax.set_yscale("log")
        ax.set_ylabel(_label(q, bq[C.UNIT].iloc[0]))
        if logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title or f"prediction bands ({len(result.samples)} samples, {result.method})")
    save_figure(fig, path)


# ---------------------------------------------------------------------------
# model variants (workbench.analysis.variants)
# ---------------------------------------------------------------------------

class VariantTables(Protocol):
    """What :func:`plot_variants` reads of a result (a
    :class:`workbench.analysis.variants.VariantComparison`)."""

    @property
    def table(self) -> pd.DataFrame: ...
    @property
    def curves(self) -> pd.DataFrame: ...
    @property
    def reference(self) -> str: ...


def plot_variants(result: VariantTables, path: str | os.PathLike[str]) -> None:
    """Variant comparison: one panel per quantity (bars per variant and regimen), and the
    dose-response of each searched metric per variant; written atomically as PNG."""
    t = result.table
    qtys = list(dict.fromkeys(t[C.QUANTITY]))
    cq = list(dict.fromkeys(result.curves[C.QUANTITY])) if len(result.curves) else []
    panels = [("bar", q) for q in qtys] + [("curve", q) for q in cq]
    fig, axes = _figure(len(panels), 6, 3.8)
    names = list(dict.fromkeys(t[C.VARIANT]))
    for ax, (kind, q) in zip(axes, panels, strict=True):
        if kind == "bar":
            g = t[t[C.QUANTITY] == q]
            regs = list(dict.fromkeys(g[C.REGIMEN]))
            w = 0.8 / len(names)
            for j, name in enumerate(names):
                vals = [g[(g[C.VARIANT] == name) & (g[C.REGIMEN] == r)][C.VALUE].iloc[0]
                        for r in regs]
                ax.bar(np.arange(len(regs)) + j * w, vals, w, label=name)
            ax.set_xticks(np.arange(len(regs)) + 0.4 - w / 2, [r or q for r in regs],
                          fontsize=7, rotation=20, ha="right")
            ax.set_ylabel(_label(q, g[C.UNIT].iloc[0]), fontsize=8)
            vals = g[C.VALUE].to_numpy(float)
            vals = vals[np.isfinite(vals)]
            if len(vals) and vals.min() > 0 and vals.max() > 100 * vals.min():
                ax.set_yscale("log")
        else:
            g = result.curves[result.curves[C.QUANTITY] == q]
            for name, gv in g.groupby(C.VARIANT, sort=False):
                ax.plot(gv[C.DOSE], gv[C.VALUE], marker="o", ms=3, label=name)
            ax.set_xscale("log")
            ax.set_xlabel(f"dose [{g[C.DOSE_UNIT].iloc[0]}]")
            ax.set_ylabel(_label(q, g[C.UNIT].iloc[0]))
            for lv in t[t[C.QUANTITY].str.startswith(f"dose for {q} = ")][C.QUANTITY].unique():
                ax.axhline(float(lv.rsplit("=", 1)[1]), ls="--", color="grey", lw=0.8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"model variants (reference: {result.reference})")
    save_figure(fig, path)
