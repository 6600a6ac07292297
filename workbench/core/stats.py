"""Statistics helpers shared by analyses and their figures.

They sit below every user (regimen comparison and its figures, validation
against data), so a figure module never imports its analysis module for them.
"""

from __future__ import annotations

import numpy as np

from workbench.errors import SpecError

__all__ = ["weighted_quantile"]


def weighted_quantile(x, q, w=None, method: str = "hazen") -> np.ndarray:
    """Quantiles ``q`` (0..1) of ``x`` with weights ``w`` (Hyndman & Fan 1996,
    doi:10.1080/00031305.1996.10473566); NaN values and zero weights are dropped.

    ``method`` (numpy's names; equal weights give ``numpy.quantile(x, q, method=...)``):
    ``"hazen"`` (type 5) interpolates between the sorted values placed at
    cumulative weight minus half their own; ``"inverted_cdf"`` (type 1) is the
    smallest value whose cumulative weight reaches ``q``: no interpolation, so it
    commutes with monotone maps (a quantile of f(x) is f of the quantile of x).
    The result has the shape of ``q``.
    """
    if method not in ("hazen", "inverted_cdf"):
        raise SpecError(f"quantile method {method!r} is not 'hazen' or 'inverted_cdf'",
                        element="method")
    x = np.asarray(x, float)
    w = np.ones_like(x) if w is None else np.asarray(w, float)
    ok = np.isfinite(x) & (w > 0)
    x, w = x[ok], w[ok]
    if not len(x):
        return np.full(np.shape(q), np.nan)
    o = np.argsort(x, kind="stable")
    x, w = x[o], w[o]
    if method == "inverted_cdf":
        cw = np.cumsum(w) / w.sum()
        idx = np.searchsorted(cw, np.asarray(q, float) - 1e-12, side="left")
        return x[np.clip(idx, 0, len(x) - 1)]
    p = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, p, x)
