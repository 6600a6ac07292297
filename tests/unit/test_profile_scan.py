"""The profile-likelihood algorithm on closed-form profiles (no simulation).

The profile of f(x, y) = 0.5 (x, y) H (x, y)^T over y is exactly quadratic,
0.5 x^2 (H11 - H12^2 / H22), so its 95 % interval is +- z / sqrt(H11 - H12^2 / H22)
with z = sqrt(chi2(1, 0.95)) (Raue et al. 2009); other shapes have closed-form
roots of f = threshold.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2

from workbench import columns as C
from workbench.calibrate._profile import profile_ci, scan
from workbench.calibrate.fit import PROFILE_THRESHOLD

Z = math.sqrt(chi2.ppf(0.95, 1))


def test_threshold_is_half_the_chi2_quantile():
    assert PROFILE_THRESHOLD == pytest.approx(chi2.ppf(0.95, 1) / 2, rel=1e-12)


def run(profile, x_hat, lb=-10.0, ub=10.0, **kw):
    """Scan a one-parameter profile given as a function; returns (points, ci, n_fits)."""
    calls = []

    def fit(start, value):
        calls.append(value)
        return {"status": C.STATUS_OK, "f": profile(value), "x": np.array([value])}

    pts = scan(fit, 0, np.array([x_hat]), profile(x_hat), lb, ub,
               threshold=PROFILE_THRESHOLD, **kw)
    xs = np.array([p["x"] for p in pts])
    fs = np.array([p["f"] for p in pts])
    return pts, profile_ci(xs, fs - profile(x_hat), x_hat, lb, ub, PROFILE_THRESHOLD), len(calls)


@pytest.mark.parametrize("se", [1e-4, 3e-3, 0.02, 0.3])
def test_quadratic_profile_interval_is_exact_for_any_width(se):
    """Intervals from 100 times narrower to 10 times wider than the first step (0.05)."""
    x_hat = 0.7
    pts, (lo, hi, ident), n = run(lambda x: 0.5 * ((x - x_hat) / se) ** 2, x_hat)
    assert ident
    assert lo == pytest.approx(x_hat - Z * se, rel=0, abs=1e-9 * max(se, 1))
    assert hi == pytest.approx(x_hat + Z * se, rel=0, abs=1e-9 * max(se, 1))
    xs = np.array([p["x"] for p in pts])
    # the plotted profile has points strictly inside the interval on both sides
    assert np.any((xs > lo) & (xs < x_hat)) and np.any((xs < hi) & (xs > x_hat))
    assert n < 40


def test_correlated_quadratic_profile():
    """Profile of x in a 2-parameter quadratic, y re-optimised: curvature H11 - H12^2 / H22."""
    H = np.array([[4.0e4, 3.0e4], [3.0e4, 2.5e4]])
    curv = H[0, 0] - H[0, 1] ** 2 / H[1, 1]

    def fit(start, value):
        y = -H[0, 1] / H[1, 1] * value  # the exact conditional optimum
        v = np.array([value, y])
        return {"status": C.STATUS_OK, "f": 0.5 * v @ H @ v, "x": v}

    pts = scan(fit, 0, np.zeros(2), 0.0, -5.0, 5.0, threshold=PROFILE_THRESHOLD)
    xs = np.array([p["x"] for p in pts])
    fs = np.array([p["f"] for p in pts])
    lo, hi, ident = profile_ci(xs, fs, 0.0, -5.0, 5.0, PROFILE_THRESHOLD)
    assert ident and hi == pytest.approx(Z / math.sqrt(curv), rel=1e-9)
    assert lo == pytest.approx(-Z / math.sqrt(curv), rel=1e-9)


def test_non_quadratic_profile_ends_within_tolerance():
    """Quartic on the left, exponential on the right: roots of f = threshold in closed form."""
    c, a = 1e6, 40.0

    def prof(x):
        return c * x ** 4 if x < 0 else math.expm1(a * x)

    tol = 1e-4
    pts, (lo, hi, ident), _ = run(prof, 0.0, tolerance=tol)
    lo_true = -((PROFILE_THRESHOLD / c) ** 0.25)
    hi_true = math.log1p(PROFILE_THRESHOLD) / a
    assert ident
    # the rise at each reported end is the threshold within the tolerance
    assert prof(lo) == pytest.approx(PROFILE_THRESHOLD, abs=tol)
    assert prof(hi) == pytest.approx(PROFILE_THRESHOLD, abs=tol)
    assert lo == pytest.approx(lo_true, rel=1e-4) and hi == pytest.approx(hi_true, rel=1e-4)
    # the refined end points are rows of the profile
    fs = np.array([p["f"] for p in pts])
    assert np.sum(np.abs(fs - PROFILE_THRESHOLD) <= tol) >= 2


def test_flat_profile_is_open_to_the_bounds():
    pts, (lo, hi, ident), n = run(lambda x: 1e-3 * x ** 2, 0.0, lb=-3.0, ub=2.0)
    assert (lo, hi, ident) == (-3.0, 2.0, False)
    xs = [p["x"] for p in pts]
    assert min(xs) == -3.0 and max(xs) == 2.0 and n < 30


def fails_beyond(limit, se=0.01):
    def fit(start, value):
        if value > limit:
            return {"status": "failed: simulation fails", "f": math.nan, "x": np.array([value])}
        return {"status": C.STATUS_OK, "f": 0.5 * (value / se) ** 2, "x": np.array([value])}
    return fit


@pytest.mark.parametrize("limit", [0.0, 0.022])
def test_failed_fits(limit):
    """A fit failing beyond the interval is retried shorter (the interval closes); failing
    right next to the optimum leaves the side open (to the bound), recorded as failed."""
    pts = scan(fails_beyond(limit), 0, np.zeros(1), 0.0, -1.0, 1.0, threshold=PROFILE_THRESHOLD)
    xs = np.array([p["x"] for p in pts])
    fs = np.array([p["f"] for p in pts])
    lo, hi, ident = profile_ci(xs, fs, 0.0, -1.0, 1.0, PROFILE_THRESHOLD)
    assert lo == pytest.approx(-Z * 0.01, rel=1e-9)
    assert any(p["status"] != C.STATUS_OK for p in pts)
    if limit > 0:
        assert ident and hi == pytest.approx(Z * 0.01, rel=1e-9)
    else:
        assert hi == 1.0 and not ident
