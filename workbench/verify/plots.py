"""Figures of a verification: one panel per check, drawn from its :class:`PlotData`.

They draw finished :class:`~workbench.verify.check_result.CheckResult` objects and run
no check; :func:`workbench.verify.suite.write_verification` and the report use them.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from workbench.core.plots import _figure, save_figure

if TYPE_CHECKING:
    from workbench.verify.check_result import CheckResult, Verification

__all__ = ["draw_check", "plot_verification"]

#: colour of each status in titles
STATUS_COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "warn": "#ef6c00", "skip": "#757575"}


def draw_check(ax, check: CheckResult) -> None:
    """Draw one check into ``ax``: its plot data, or its reason as text when it has none;
    the title carries the status in its colour."""
    p = check.plot
    ax.set_title(f"{check.check}: {check.status.upper()}", fontsize=9,
                 color=STATUS_COLOURS[check.status])
    if p is None:
        import textwrap

        text = textwrap.fill((check.reason or check.evidence)[:400], 60)
        ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=6, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    if p.bars:
        label, x, y = p.series[0]
        ax.bar(range(len(x)), y, color="#5c6bc0")
        ax.set_xticks(range(len(x)), [str(v) for v in x], rotation=60, fontsize=6, ha="right")
    else:
        for label, x, y in p.series:
            ax.plot(x, y, marker="o" if len(x) <= 20 else None, ms=3, label=label)
        if len(p.series) > 1:
            ax.legend(fontsize=6)
    if p.limit is not None and math.isfinite(p.limit):
        ax.axhline(p.limit, ls="--", color="grey", lw=0.8)
    if p.logx:
        ax.set_xscale("log")
    if p.logy:
        ax.set_yscale("log")
    ax.set_xlabel(p.xlabel, fontsize=7)
    ax.set_ylabel(p.ylabel, fontsize=7)
    ax.tick_params(labelsize=6)
    ax.grid(alpha=0.3)


def plot_verification(result: Verification, path: str | os.PathLike[str]) -> None:
    """Summary figure: one small panel per check, titled with its status; written as PNG."""
    fig, axes = _figure(len(result.checks), 4.2, 3.2, ncol=4)
    for ax, c in zip(axes, result.checks, strict=True):
        draw_check(ax, c)
    fig.suptitle(f"verification of {os.path.basename(result.model)} (drug {result.drug}, "
                 f"effect {result.effect})")
    save_figure(fig, path, dpi=100)
