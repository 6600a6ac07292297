"""Figures and report blocks of the study stages: benchmark, calibration and validation.

They draw finished results (:class:`~workbench.study.data.StudyData`, the benchmark
table) and compute nothing; the report places them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core.plots import pyplot, save_figure

if TYPE_CHECKING:
    from workbench.study.data import StudyData

__all__ = ["CALIBRATION_FIGURES", "plot_benchmark", "png_figure", "study_data_blocks"]

#: report figures of the calibration record, in order (file names of
#: :func:`workbench.calibrate.plots.plot_calibration`, after ``calibration_``)
CALIBRATION_FIGURES = ("fit.png", "observed_vs_predicted.png", "waterfall.png", "profiles.png")


def plot_benchmark(table: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Proposed start, historical start and first toxic dose on one log axis per molecule."""
    plt = pyplot()
    n = max(len(table), 1)
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * n + 1.4))
    y = np.arange(len(table))[::-1]
    seen: set[str] = set()
    for yi, (_, r) in zip(y, table.iterrows(), strict=True):
        ax.plot([r[C.PROPOSED_START], r[C.FIRST_TOXIC_DOSE]], [yi, yi], color="0.8", lw=1, zorder=1)
        ax.scatter(r[C.PROPOSED_START], yi, color="tab:green", marker="o", zorder=3,
                   label="proposed start (QSP MABEL pipeline)" if yi == y[0] else None)
        ax.scatter(r[C.HISTORICAL_START], yi, color="tab:blue", marker="s", zorder=3,
                   label="historical FIH start" if yi == y[0] else None)
        stand_in = str(r[C.FIRST_TOXIC_KIND]).startswith("no dose-limiting")
        lab = ("tolerated first dose (no DLT known; stands in)" if stand_in
               else "first DLT / grade >= 2 CRS")
        ax.scatter(r[C.FIRST_TOXIC_DOSE], yi, color="tab:orange" if stand_in else "tab:red",
                   marker="^" if stand_in else "x", s=50, zorder=3,
                   label=lab if lab not in seen else None)
        seen.add(lab)
    ax.set_yticks(y, [str(m) for m in table[C.MOLECULE]])
    ax.set_xscale("log")
    ax.set_xlabel("single dose (ug/kg; flat doses / body weight)")
    ax.grid(axis="x", which="major", color="0.9")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18 if n > 2 else -0.4), ncol=2,
              fontsize=7, frameon=False)
    fig.tight_layout()
    return save_figure(fig, path, dpi=130)


def png_figure(png: bytes):
    """A matplotlib figure showing a PNG at its own size (to place a written figure in the
    report; the caller closes it)."""
    plt = pyplot()
    img = plt.imread(io.BytesIO(png), format="png")
    h, w = img.shape[:2]
    fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(img, interpolation="antialiased")
    ax.axis("off")
    return fig


def study_data_blocks(data: StudyData) -> list[tuple]:
    """Blocks of the report's calibration and validation section (kinds of
    :func:`workbench.report.render._sections`: ("p", text), ("table", df), ("fig", figure))."""
    blocks: list[tuple] = []
    if data.calibration is not None:
        blocks += [("p", data.calibration_verdict),
                   ("p", f"Problem {data.petab_file}. Estimated parameters: value in the "
                         "parameter table before calibration (nominal), the best start's start "
                         "point (initial_value), the fit (final_value) and its 95 % interval; "
                         "every table of the record in calibration_*.csv. Figures: data and "
                         "fit, observed vs predicted, waterfall of the starts. "
                         + (("The calibrated values of " + ", ".join(
                             f"{k} = {v:.4g}" for k, v in data.applied.items())
                             + " replace the model's in the validation and every later "
                             "analysis of this report (calibration.apply).") if data.applied else
                            "The other analyses of this report use the study's model as given "
                            "(calibration.apply: false): to carry the calibrated values into "
                            "them, set calibration.apply, or record them in the provenance "
                            "table (workbench.update_provenance) and the model.")),
                   ("table", data.calibration_summary)]
        for name in CALIBRATION_FIGURES:
            png = data.figures.get(f"calibration_{name}")
            if png is not None:
                blocks.append(("fig", png_figure(png)))
    else:
        blocks.append(("p", "No calibration problem is given in the study (calibration.petab): "
                            "the parameters come from the provenance table."))
    if data.validation is not None:
        blocks += [("p", data.validation_verdict),
                   ("p", f"Data {data.data_file}. Per output: observations, those with a "
                         "prediction band and inside it, coverage against the nominal level, "
                         "fold errors of the median prediction; every observation in "
                         "validation_check.csv (red crosses in the figure: outside the band)."),
                   ("table", data.validation_summary)]
        png = data.figures.get("validation_observed_vs_predicted.png")
        if png is not None:
            blocks.append(("fig", png_figure(png)))
    else:
        blocks.append(("p", "No validation data are given in the study (validation.data): the "
                            "model is not validated against independent data for this drug."))
    return blocks
