"""Profile bands and effect distributions at every dose of the QSP MABEL grid.

The interactive report (:mod:`workbench.report_interactive`) has a dose slider:
at each dose of the grid it shows the 5-50-95 % band of the time course of a
few outputs (exposure, occupancy, effect) and the distribution of the peak
effect over the study's samples (the same draws as the QSP MABEL and the
ladder: uncertainty draws, or virtual patients paired with them). One ensemble
per grid dose, through :func:`workbench.mabel.qsp.dose_response`, with the
trajectories read at a fixed set of times (``value(X, t)`` metrics).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench import columns as C

__all__ = ["DoseSlider", "dose_slider"]


@dataclass(frozen=True, eq=False)
class DoseSlider:
    """Bands and distributions per grid dose.

    ``bands[output]`` has shape (doses, 3, times): 5th, 50th and 95th percentile over
    the samples; ``effect_values`` has shape (doses, samples) (NaN for failed runs).
    """

    doses: np.ndarray
    dose_unit: str
    times: np.ndarray
    time_unit: str
    outputs: tuple[str, ...]
    units: dict
    bands: dict
    effect: str
    effect_unit: str
    effect_values: np.ndarray
    threshold: float
    #: ">=" or "<=": the side of the threshold that counts as reaching the effect
    op: str
    start_dose: float
    n_samples: int


def _times(end: float, n: int) -> np.ndarray:
    """Log-spaced times over (0, end]: fast rises and slow tails on one log time axis."""
    return np.unique(np.geomspace(end * 1e-4, end, int(n)))


def dose_slider(model, samples: pd.DataFrame | None, doses: Sequence[float], dose_unit: str, *,
                outputs: Sequence[str], effect: str, threshold: float, start_dose: float,
                end: float | str, relative: bool = False, op: str = ">=", n_times: int = 48,
                **run) -> DoseSlider:
    """Run the slider's ensembles (module docstring).

    Parameters
    ----------
    model
        The study model (calibrated values applied, as in every later analysis).
    samples
        The study's samples (rows) or None for the nominal model alone.
    doses, dose_unit
        The QSP MABEL grid.
    outputs
        Time courses to band (e.g. exposure, occupancy, effect output).
    effect
        The effect metric whose distribution the slider shows (e.g. ``max(IL6)``).
    threshold, start_dose
        Drawn on the effect histogram and marked on the slider.
    relative, op
        The threshold is a factor on each sample's own drug-free value (``max(IL6) >= 1.2 x
        baseline``): the histogram then shows effect / baseline per sample, so that a sample
        counts as reaching the effect exactly as in the QSP MABEL; ``op`` is the comparison.
    end
        Simulated span.
    n_times
        Times per trajectory (log-spaced).
    **run
        ``route``, ``schedule``, ``target``, ``mw``, ``subject``, ``points``, ``workers``,
        as for :func:`workbench.mabel.qsp.dose_response`.
    """
    from workbench.core.model import Model, load_model
    from workbench.mabel.qsp import dose_response
    from workbench.sim.simulate import resolve_time

    m = model if isinstance(model, Model) else load_model(model)
    t1 = resolve_time(end, m, "end")
    times = _times(t1, n_times)
    texts = {(o, float(t)): f"value({o}, {float(t):.10g})" for o in outputs for t in times}
    metrics = list(dict.fromkeys([effect, *texts.values()]))
    # dose 0 (no drug) gives each sample's baseline for a relative threshold
    tab = dose_response(m, metrics, [*([0.0] if relative else []), *(float(d) for d in doses)],
                        dose_unit, samples=samples, end=end, **run)
    units = tab.attrs.get("units", {})
    ok = tab[C.STATUS] == C.STATUS_OK
    grid = np.array(sorted(float(d) for d in doses))
    bands = {}
    for o in outputs:
        cols = [texts[(o, float(t))] for t in times]
        arr = np.full((len(grid), 3, len(times)), math.nan)
        for i, d in enumerate(grid):
            v = tab.loc[(tab[C.DOSE] == d) & ok, cols].to_numpy(float)
            if len(v):
                arr[i] = np.percentile(v, [5, 50, 95], axis=0)
        bands[o] = arr
    n = int((tab[C.DOSE] == grid[0]).sum())
    eff = np.full((len(grid), n), math.nan)
    base: float | np.ndarray = 1.0
    if relative:
        g0 = tab[tab[C.DOSE] == 0.0]
        base = np.where(g0[C.STATUS] == C.STATUS_OK, g0[effect].to_numpy(float), math.nan)
    for i, d in enumerate(grid):
        g = tab[tab[C.DOSE] == d]
        v = np.where(g[C.STATUS] == C.STATUS_OK, g[effect].to_numpy(float), math.nan)
        eff[i, :len(g)] = v / base
    ounit = {o: units.get(texts[(o, float(times[0]))], "") for o in outputs}
    return DoseSlider(doses=grid, dose_unit=dose_unit, times=times, time_unit=m.time_unit,
                      outputs=tuple(outputs), units=ounit, bands=bands,
                      effect=f"{effect} / baseline" if relative else effect,
                      effect_unit="-" if relative else units.get(effect, ""), effect_values=eff,
                      threshold=float(threshold), op=op, start_dose=float(start_dose),
                      n_samples=n)
