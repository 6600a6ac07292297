"""Summaries of workbench.regimens on a hand-computed small case."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench import columns as C
from workbench.analysis.regimens import (
    Criterion,
    exposure_overlap,
    outside_window,
    subgroup_masks,
    summarize,
    target_attainment,
    weighted_quantile,
)
from workbench.errors import SpecError


def _table(weights_a=(1, 1, 1, 1)):
    return pd.DataFrame({
        C.REGIMEN: ["A"] * 4 + ["B"] * 4,
        C.WEIGHT: [50, 80, 50, 80, 50, 80, 50, 80],
        "x": [1.0, 2.0, 3.0, 4.0, 2.0, 3.0, 4.0, 5.0],
        C.PREVALENCE_WEIGHT: [*weights_a, 1, 1, 1, 1],
        C.STATUS: ["ok"] * 8,
    })


def test_hazen_quantiles():
    # Hazen: the i-th of n sorted values sits at p = (i - 0.5) / n
    assert weighted_quantile([4, 1, 3, 2], [0.25, 0.5, 0.75]) == pytest.approx([1.5, 2.5, 3.5])
    x = np.random.default_rng(0).normal(size=101)
    assert weighted_quantile(x, [0.05, 0.5, 0.95]) == pytest.approx(
        np.quantile(x, [0.05, 0.5, 0.95], method="hazen"))
    # weight 2 on a value = that value listed twice
    assert weighted_quantile([1, 2, 3], 0.5, [1, 2, 1]) == pytest.approx(
        np.quantile([1, 2, 2, 3], 0.5, method="hazen"))


def test_inverted_cdf_quantiles():
    # the smallest value whose cumulative weight reaches q: no interpolation
    assert weighted_quantile([4, 1, 3, 2], [0.25, 0.5, 0.75, 0.76], method="inverted_cdf") \
        == pytest.approx([1, 2, 3, 4])
    x = np.random.default_rng(0).normal(size=101)
    for q in (0.05, 0.5, 0.95, [0.05, 0.5, 0.95]):
        got = weighted_quantile(x, q, method="inverted_cdf")
        assert np.shape(got) == np.shape(q)
        assert got == pytest.approx(np.quantile(x, q, method="inverted_cdf"))
    # weight 2 on a value = that value listed twice
    assert weighted_quantile([1, 2, 3], [0.2, 0.5, 0.8], [1, 2, 1], method="inverted_cdf") \
        == pytest.approx(np.quantile([1, 2, 2, 3], [0.2, 0.5, 0.8], method="inverted_cdf"))
    # commutes with a monotone map, NaN dropped
    assert weighted_quantile(np.exp(x), 0.3, method="inverted_cdf") == pytest.approx(
        np.exp(weighted_quantile(np.r_[x, np.nan], 0.3, method="inverted_cdf")))
    with pytest.raises(SpecError):
        weighted_quantile(x, 0.5, method="linear")


def test_overlap_hand_computed():
    ov = exposure_overlap(_table(), "x", level=0.5)
    r = ov.iloc[0]
    # A: 25/50/75 % = 1.5, 2.5, 3.5; B: 2.5, 3.5, 4.5
    assert (r[C.LOW_LOWER], r[C.LOW_UPPER], r[C.HIGH_LOWER], r[C.HIGH_UPPER]) == \
        pytest.approx((1.5, 3.5, 2.5, 4.5))
    # intersection [2.5, 3.5] = 1, union [1.5, 4.5] = 3
    assert r[C.INTERVAL_OVERLAP] == pytest.approx(1 / 3)
    # A values above B's median 3.5: only 4 -> 1 of 4
    assert r[C.P_EXCEED_MEDIAN] == pytest.approx(0.25)
    assert bool(r[C.ADJACENT]) and r[C.REGIMEN_LOW] == "A"


def test_attainment_hand_computed():
    pta = target_attainment(_table(), ["x >= 3", Criterion.parse("x > 4.5", "safety")])
    get = lambda reg, crit: pta[(pta[C.REGIMEN] == reg) & (pta[C.CRITERION] == crit)  # noqa: E731
                                & (pta[C.SUBGROUP] == "all")].iloc[0]
    assert get("A", "x >= 3")[C.PROBABILITY] == pytest.approx(0.5)
    assert get("B", "x >= 3")[C.PROBABILITY] == pytest.approx(0.75)
    assert get("B", "x > 4.5")[C.PROBABILITY] == pytest.approx(0.25)
    assert get("B", "x > 4.5")[C.KIND] == "safety"
    # Wilson 95 % interval for 2 of 4 (Wilson 1927): centre (p + z^2/2n)/(1 + z^2/n), etc.
    z, n, p = 1.959963984540054, 4, 0.5
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert get("A", "x >= 3")[C.CI_LOW] == pytest.approx(0.5 - half)
    # prevalence weights: A with weights 1, 1, 1, 3 -> P(x >= 3) = (1 + 3) / 6
    pw = target_attainment(_table((1, 1, 1, 3)), ["x >= 3"])
    assert pw[(pw[C.REGIMEN] == "A") & (pw[C.SUBGROUP] == "all")][C.PROBABILITY].iloc[0] == \
        pytest.approx(4 / 6)


def test_subgroups_summary_and_window():
    t = _table()
    masks = subgroup_masks(t, {C.WEIGHT: [60]})
    assert set(masks) == {"all", "weight < 60", "weight >= 60"}
    s = summarize(t, ["x"], subgroups={C.WEIGHT: [60]}, level=0.5)
    row = s[(s[C.REGIMEN] == "A") & (s[C.SUBGROUP] == "weight >= 60")].iloc[0]
    assert row[C.MEDIAN] == pytest.approx(3.0) and row[C.N_OK] == 2   # A, 80 kg: 2 and 4
    assert row[C.MEAN] == pytest.approx(3.0)
    w = outside_window(t, "x", 2.0, 4.0)
    a = w[(w[C.REGIMEN] == "A") & (w[C.SUBGROUP] == "all")].iloc[0]
    b = w[(w[C.REGIMEN] == "B") & (w[C.SUBGROUP] == "all")].iloc[0]
    assert (a[C.BELOW], a[C.ABOVE], a[C.OUTSIDE]) == pytest.approx((0.25, 0.0, 0.25))
    assert (b[C.BELOW], b[C.ABOVE], b[C.OUTSIDE]) == pytest.approx((0.0, 0.25, 0.25))


def test_failed_rows_are_left_out():
    t = _table()
    t.loc[0, C.STATUS] = "failed: solver"
    pta = target_attainment(t, ["x >= 3"])
    assert pta[(pta[C.REGIMEN] == "A") & (pta[C.SUBGROUP] == "all")][C.PROBABILITY].iloc[0] == \
        pytest.approx(2 / 3)
