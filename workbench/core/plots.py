"""Figures: every axis labelled with its unit. Matplotlib with the Agg backend."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from workbench.core._io import atomic_write

__all__ = ["plot_trajectories", "pyplot", "save_figure"]


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (no display needed; CI has none)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | os.PathLike[str], dpi: int = 110) -> Path:
    """Lay out ``fig``, write it as PNG atomically, close it; returns the path."""
    plt = pyplot()
    try:
        fig.tight_layout()
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))
    finally:
        plt.close(fig)
    return Path(path)


def _label(name: str, unit: str) -> str:
    return f"{name} [{unit}]" if unit else f"{name} [unitless/undeclared]"


def _figure(n: int, w: float = 5.5, h: float = 4.0, ncol: int = 2):
    """A figure with ``n`` panels of ``w`` x ``h`` inches, at most ``ncol`` per row (unused
    grid cells hidden); returns the figure and its ``n`` axes in reading order."""
    plt = pyplot()
    ncol = max(1, min(n, ncol))
    nrow = max(1, (n + ncol - 1) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(w * ncol, h * nrow), squeeze=False)
    for k in range(n, nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    return fig, [axes[k // ncol][k % ncol] for k in range(n)]


def plot_trajectories(runs: Mapping[str, pd.DataFrame], outputs: Sequence[str],
                      path: str | os.PathLike[str], *, logy: bool = False, title: str = "") -> None:
    """One panel per output, one line per run (e.g. per dose level); written atomically as PNG."""
    fig, axes = _figure(len(outputs), 6, 3.6)
    units = next(iter(runs.values())).attrs.get("units", {})
    for ax, out in zip(axes, outputs, strict=True):
        for label, df in runs.items():
            ax.plot(df["time"], df[out], label=label)
        ax.set_xlabel(_label("time", units.get("time", "")))
        ax.set_ylabel(_label(out, units.get(out, "")))
        if logy:
            ax.set_yscale("symlog", linthresh=1e-6)
        ax.grid(alpha=0.3)
        if len(runs) > 1:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    save_figure(fig, path)
