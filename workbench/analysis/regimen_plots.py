"""Figures of :mod:`workbench.regimens`: exposure by regimen, target-attainment curves,
the overlap matrix and exposure vs body weight. Axes carry units; files are written
atomically as PNG (matplotlib, Agg backend)."""

from __future__ import annotations

import os
from itertools import pairwise
from pathlib import Path

import numpy as np

from workbench import columns as C
from workbench.core.plots import _figure, _label, pyplot, save_figure
from workbench.core.stats import weighted_quantile

__all__ = ["plot_all", "plot_attainment_curves", "plot_exposure", "plot_exposure_vs_weight",
           "plot_overlap_matrix"]


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
    """Every figure that applies; returns the paths written."""
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
