"""The profile-likelihood algorithm: the stepwise scan, the refined interval ends.

Pure numerics over a ``fit(start, value)`` callable that re-optimises every
other parameter with the profiled one fixed at ``value`` (warm-started from the
scaled point ``start``) and returns a dict with ``status``, ``f`` (objective)
and ``x`` (the scaled optimum); :mod:`workbench.calibrate` supplies it from a
PEtab objective, and the tests from closed-form functions.

The profile of a parameter is the objective re-optimised over the others
(Raue et al. 2009, doi:10.1093/bioinformatics/btp358); its 95 % interval is
where it stays within ``threshold`` = chi2(1, 0.95) / 2 of the optimum. Each end
of the interval is located by root finding on the square root of the rise, so
that the re-optimised objective there is within a stated tolerance of the
threshold, whatever the step of the scan.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from workbench import columns as C

__all__ = ["PROFILE_THRESHOLD", "profile_ci", "refine_end", "scan"]

#: objective threshold of the 95 % profile-likelihood interval: chi2(1, 0.95) / 2
#: (also :data:`workbench.calibrate.fit.PROFILE_THRESHOLD`)
PROFILE_THRESHOLD = 1.920729410347062
#: a scan step aims at raising the objective by this fraction of the threshold
STEP_RISE = 0.2

Fit = Callable[[np.ndarray, float], dict]


def scan(fit: Fit, j: int, x_best: np.ndarray, f_best: float, lb: float, ub: float, *,
         threshold: float, max_points: int = 30, step: float = 0.05, max_step: float = 1.0,
         tolerance: float = 1e-3, max_failures: int = 3) -> list[dict]:
    """Profile points (``x``: value of parameter ``j``, ``f``, ``status``) both sides of ``x_best``.

    Each point is warm-started from the previous one. The step is adapted so
    that one step raises the objective by about ``STEP_RISE * threshold``
    (scaled by the square root of the ratio of target to actual rise, within
    [0.5, 2], at most ``max_step``); a step raising it by more than
    ``threshold`` is kept as a point and retried shorter, so the interval has
    points inside however narrow it is; so is a failed fit (``max_failures``
    times per side, a quarter as long). A side stops at a bound, after
    ``max_points`` fits, or once a point lies beyond the threshold; that
    crossing is then refined by :func:`refine_end`. Points sorted by ``x``.
    """
    rows = [{"x": float(x_best[j]), "f": f_best, "status": C.STATUS_OK}]
    target, min_step = STEP_RISE * threshold, 1e-6 * (ub - lb)
    for direction in (-1.0, 1.0):
        x, f_prev, h = np.asarray(x_best, dtype=float).copy(), f_best, step
        outer, failures = None, 0  # the nearest point beyond the threshold: (x, f)
        for _ in range(max_points):
            xj = float(np.clip(x[j] + direction * h, lb, ub))
            if xj == x[j]:
                break
            r = fit(x, xj)
            rows.append({"x": xj, "f": r["f"], "status": r["status"]})
            if r["status"] != C.STATUS_OK:
                failures += 1
                if failures >= max_failures or h <= min_step:
                    break
                h = max(h / 4, min_step)
                continue
            dv = r["f"] - f_prev
            if r["f"] - f_best > threshold:
                if outer is None or abs(xj - x_best[j]) < abs(outer[0][j] - x_best[j]):
                    outer = (r["x"], r["f"])
                if dv > threshold and h > min_step:  # too long a step: retry shorter
                    h = max(h * min(0.5, max(0.1, math.sqrt(target / dv))), min_step)
                    continue
                break
            if xj in (lb, ub):
                break
            h = min(max(h * min(2.0, max(0.5, math.sqrt(target / max(dv, 1e-12)))), min_step),
                    max_step)
            x, f_prev = r["x"], r["f"]
        if outer is not None:
            rows += refine_end(fit, j, (x, f_prev), outer, f_best, threshold=threshold,
                               tolerance=tolerance)
    return sorted(rows, key=lambda d: d["x"])


def refine_end(fit: Fit, j: int, inner: tuple[np.ndarray, float],
               outer: tuple[np.ndarray, float], f_best: float, *, threshold: float,
               tolerance: float = 1e-3, max_iterations: int = 20) -> list[dict]:
    """Profile points locating where the profile of ``j`` rises by ``threshold``.

    ``inner`` (rise <= threshold) and ``outer`` (rise > threshold) bracket the
    crossing, each as (scaled point, objective). Root finding on
    s = sqrt(rise) - sqrt(threshold), which is linear in ``x_j`` for a quadratic
    profile (the first step is then exact), by regula falsi with the Illinois
    modification (Dowell & Jarratt 1971, doi:10.1007/BF01934364); each trial is
    warm-started from the nearer bracket end. Stops when the rise is within
    ``tolerance`` of ``threshold``, at a failed fit, or when the bracket is
    shorter than 1e-10 on the parameter scale.
    """
    s0 = math.sqrt(threshold)

    def s(f: float) -> float:
        return math.sqrt(max(f - f_best, 0.0)) - s0

    (xa, fa), (xb, fb) = inner, outer
    sa, sb, last, rows = s(fa), s(fb), 0, []
    for _ in range(max_iterations):
        if abs(xb[j] - xa[j]) < 1e-10:
            break
        xm = float(xa[j] + sa / (sa - sb) * (xb[j] - xa[j]))
        r = fit(xa if abs(xm - xa[j]) <= abs(xm - xb[j]) else xb, xm)
        rows.append({"x": xm, "f": r["f"], "status": r["status"]})
        if r["status"] != C.STATUS_OK or abs(r["f"] - f_best - threshold) <= tolerance:
            break
        sm = s(r["f"])
        if sm > 0:  # Illinois: halve the end kept twice in a row
            xb, sb, sa, last = r["x"], sm, sa / 2 if last > 0 else sa, 1
        else:
            xa, sa, sb, last = r["x"], sm, sb / 2 if last < 0 else sb, -1
    return rows


def profile_ci(xs: np.ndarray, deltas: np.ndarray, x_hat: float, lb: float, ub: float,
               threshold: float) -> tuple[float, float, bool]:
    """(low, high, identifiable) on the parameter scale from profile points.

    Each end is the first crossing of ``threshold`` going out from ``x_hat``,
    interpolated linearly in sqrt(rise) between the two points around it (exact
    for a quadratic profile; with refined points the crossing is one of them,
    to the tolerance); a side that never crosses is set to its bound and the
    parameter is then not identifiable.
    """
    ok = np.isfinite(deltas)
    xs, deltas = xs[ok], deltas[ok]
    ends = []
    for side in (-1, 1):
        sel = (xs < x_hat) if side < 0 else (xs > x_hat)
        order = np.argsort(xs[sel])[::-1] if side < 0 else np.argsort(xs[sel])
        prev_x, prev_s, found = x_hat, 0.0, None
        for a, d in zip(xs[sel][order], deltas[sel][order], strict=True):
            if d > threshold:
                found = prev_x + (math.sqrt(threshold) - prev_s) * (a - prev_x) / (
                    math.sqrt(d) - prev_s)
                break
            prev_x, prev_s = a, math.sqrt(max(d, 0.0))
        ends.append(found)
    lo = ends[0] if ends[0] is not None else lb
    hi = ends[1] if ends[1] is not None else ub
    return float(lo), float(hi), ends[0] is not None and ends[1] is not None
