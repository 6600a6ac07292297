"""Exposure and response metrics of a trajectory: Cmax, Tmax, Cmin/Ctrough, AUC, AUCinf,
time above a threshold, maximum and trough receptor occupancy.

Areas use the linear-up/log-down trapezoidal rule, and the terminal slope
(lambda_z) the best-fit rule on the last points after Tmax (largest adjusted
R-squared, preferring more points within 1e-4) as in standard
non-compartmental analysis (Gabrielsson & Weiner, *Pharmacokinetic and
Pharmacodynamic Data Analysis*, 5th ed., 2016, ch. 2).

Per-interval metrics need the state just before each dose: simulate with
``predose=True`` (then a dose time appears twice in the trajectory).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.errors import SimulationError, UnknownIdError

__all__ = ["auc", "compute_metrics", "is_occupancy_name", "lambda_z", "simulation_metrics", "time_above"]


def auc(t: np.ndarray, y: np.ndarray, method: str = "linear-up/log-down") -> float:
    """Area under ``y(t)``; ``method`` is ``"linear"`` or ``"linear-up/log-down"``."""
    t = np.asarray(t, float)
    y = np.asarray(y, float)
    dt = np.diff(t)
    y0, y1 = y[:-1], y[1:]
    lin = dt * (y0 + y1) / 2.0
    if method == "linear":
        return float(lin.sum())
    use_log = (y1 < y0) & (y1 > 0) & (y0 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(use_log, dt * (y0 - y1) / np.log(np.where(use_log, y0 / y1, 2.0)), lin)
    return float(np.where(use_log, logp, lin).sum())


def lambda_z(t: np.ndarray, y: np.ndarray, min_points: int = 3) -> tuple[float, int, float]:
    """Terminal elimination rate constant by log-linear regression.

    Returns
    -------
    (lambda_z, n_points, adjusted_r2); lambda_z is NaN when it cannot be estimated.
    """
    t = np.asarray(t, float)
    y = np.asarray(y, float)
    imax = int(np.argmax(y))
    tt, yy = t[imax + 1:], y[imax + 1:]
    ok = yy > 0
    tt, yy = tt[ok], yy[ok]
    best = (float("nan"), 0, -np.inf)
    if tt.size < min_points:
        return best
    ly = np.log(yy)
    for n in range(min_points, tt.size + 1):
        x, z = tt[-n:], ly[-n:]
        slope, intercept = np.polyfit(x, z, 1)
        resid = z - (slope * x + intercept)
        ss_tot = float(((z - z.mean()) ** 2).sum())
        r2 = 1.0 - float((resid**2).sum()) / ss_tot if ss_tot > 0 else 1.0
        adj = 1.0 - (1.0 - r2) * (n - 1) / (n - 2) if n > 2 else r2
        if slope < 0 and adj > best[2] - 1e-4:
            best = (-slope, n, max(adj, best[2]) if adj < best[2] else adj)
    return best


def time_above(t: np.ndarray, y: np.ndarray, threshold: float) -> float:
    """Total time with ``y > threshold``, crossing times by linear interpolation."""
    t = np.asarray(t, float)
    y = np.asarray(y, float) - threshold
    total = 0.0
    for i in range(len(t) - 1):
        a, b, dt = y[i], y[i + 1], t[i + 1] - t[i]
        if dt <= 0:
            continue
        if a > 0 and b > 0:
            total += dt
        elif a > 0 or b > 0:
            frac = max(a, b) / (abs(a) + abs(b))
            total += dt * frac
    return total


def _intervals(times: np.ndarray, dose_times: Sequence[float]) -> list[tuple[int, float, float]]:
    t_end = float(times[-1])
    starts = sorted({float(d) for d in dose_times if float(times[0]) <= d < t_end})
    return [(i, s, starts[i + 1] if i + 1 < len(starts) else t_end) for i, s in enumerate(starts)]


def _segment(times: np.ndarray, y: np.ndarray, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows in [a, b]: the last row at time a (post-dose), the first row at time b (pre-dose)."""
    idx = np.arange(len(times))
    first = idx[times == a]
    last = idx[times == b]
    lo = int(first[-1]) if first.size else int(np.searchsorted(times, a, side="left"))
    hi = int(last[0]) if last.size else int(np.searchsorted(times, b, side="right")) - 1
    return times[lo:hi + 1], y[lo:hi + 1]


def compute_metrics(traj: pd.DataFrame, output: str, *, dose_times: Sequence[float] = (),
                    threshold: float | None = None, occupancy: bool = False,
                    auc_method: str = "linear-up/log-down") -> pd.DataFrame:
    """Metrics of one output of a trajectory from :func:`workbench.simulate`.

    Parameters
    ----------
    traj
        Trajectory (``time`` column, output columns, ``attrs["units"]``).
    output
        Column to analyse.
    dose_times
        Dose start times (model time units): per-interval metrics are computed
        for each interval from one dose to the next (the last to the end).
    threshold
        Adds ``time_above`` (time with the output above it).
    occupancy
        The output is a receptor occupancy: adds ``max_occupancy`` and
        ``trough_occupancy``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`workbench.columns.METRIC_COLUMNS`. Whole-run rows have
        ``interval = -1``. Metrics: ``cmax``, ``tmax``, ``cmin``, ``auc``,
        ``auc_inf`` (only after a single dose; with ``lambda_z``, ``half_life``),
        per interval ``cmax``, ``tmax``, ``cmin``, ``ctrough`` (value at the end
        of the interval, before the next dose), ``auc``.
    """
    if output not in traj.columns:
        raise UnknownIdError(f"the trajectory has no column {output!r}", element=output,
                             fix="simulate with this output first")
    units = traj.attrs.get("units", {})
    yu, tu = units.get(output, ""), units.get("time", "")
    au = (tu if yu == "dimensionless" else f"{yu}*{tu}") if yu and tu else ""
    t = traj["time"].to_numpy(float)
    y = traj[output].to_numpy(float)
    if len(t) < 2:
        raise SimulationError("a trajectory needs at least two time points for metrics", element=output)
    rows: list[dict] = []

    def add(metric, value, unit, interval=-1, a=t[0], b=t[-1]):
        rows.append({C.OUTPUT: output, C.METRIC: metric, C.INTERVAL: interval,
                     C.INTERVAL_START: float(a), C.INTERVAL_END: float(b), C.VALUE: float(value),
                     C.UNIT: unit})

    imax = int(np.argmax(y))
    add("cmax", y[imax], yu)
    add("tmax", t[imax], tu)
    add("cmin", float(np.min(y)), yu)
    add("auc", auc(t, y, auc_method), au)
    starts = sorted({float(d) for d in dose_times})
    if len(starts) <= 1:
        lz, _n, _r2 = lambda_z(t, y)
        if np.isfinite(lz):
            add("lambda_z", lz, f"1/{tu}" if tu else "")
            add("half_life", np.log(2) / lz, tu)
            add("auc_inf", auc(t, y, auc_method) + y[-1] / lz, au)
    if threshold is not None:
        add("time_above", time_above(t, y, threshold), tu)
    if occupancy:
        add("max_occupancy", float(np.max(y)), yu or "dimensionless")
    for i, a, b in _intervals(t, starts):
        ts, ys = _segment(t, y, a, b)
        if len(ts) < 2:
            continue
        j = int(np.argmax(ys))
        add("cmax", ys[j], yu, i, a, b)
        add("tmax", ts[j], tu, i, a, b)
        add("cmin", float(np.min(ys)), yu, i, a, b)
        add("ctrough", ys[-1], yu, i, a, b)
        add("auc", auc(ts, ys, auc_method), au, i, a, b)
        if occupancy:
            add("max_occupancy", float(np.max(ys)), yu or "dimensionless", i, a, b)
            add("trough_occupancy", ys[-1], yu or "dimensionless", i, a, b)
    if occupancy and not starts:
        add("trough_occupancy", y[-1], yu or "dimensionless")
    return pd.DataFrame(rows, columns=list(C.METRIC_COLUMNS))


def is_occupancy_name(name: str) -> bool:
    """True for output names that denote a receptor occupancy (``RO``, ``RO_CD3``, ``occupancy``)."""
    n = name.strip("[]").lower()
    return n == "ro" or n.startswith("ro_") or n.endswith("_ro") or "occupancy" in n


def simulation_metrics(model, regimens, *, outputs=None, threshold: float | None = None,
                       **simulate_kwargs) -> pd.DataFrame:
    """Metrics of every output under each regimen (one simulation per regimen).

    Parameters
    ----------
    model
        A model or anything :func:`workbench.load_model` takes.
    regimens
        Regimens (objects or text); None means no dose.
    outputs
        Outputs to analyse (default: every species).
    threshold
        Passed to :func:`compute_metrics` (time above it).
    **simulate_kwargs
        Passed to :func:`workbench.simulate` (end, points, target, mw, subject, ...).

    Returns
    -------
    pandas.DataFrame
        ``regimen`` then :data:`workbench.columns.METRIC_COLUMNS`. Outputs named
        like an occupancy (:func:`is_occupancy_name`) also get occupancy metrics.
    """
    from workbench.core.model import Model, load_model
    from workbench.sim.simulate import dose_times, simulate

    m = model if isinstance(model, Model) else load_model(model)
    frames = []
    for reg in regimens:
        df = simulate(m, reg, outputs=outputs, predose=True, **simulate_kwargs)
        times = dose_times(m, reg) if reg is not None else []
        for out in df.columns[1:]:
            mt = compute_metrics(df, out, dose_times=times, threshold=threshold,
                                 occupancy=is_occupancy_name(out))
            mt.insert(0, "regimen", str(reg) if reg is not None else "no dose")
            frames.append(mt)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["regimen", *C.METRIC_COLUMNS])
