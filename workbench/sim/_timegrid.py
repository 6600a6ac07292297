"""Output time grids: the one builder used by single runs and ensembles, and times
read from numbers or text (:func:`resolve_time`).

A grid is the sorted, unique set of output times a run integrates to:
``points`` evenly spaced times from ``start`` to ``end``, explicit ``times``,
and times a caller must have on the grid (``include``: the times metrics read,
dose times). The start is always on the grid, since a run begins there.

Defaults: :data:`DEFAULT_POINTS` (101) points for a trajectory; ensembles read
metrics (max, AUC, time above) off the grid, so :func:`workbench.run_ensemble`
asks for :data:`METRIC_POINTS` (201) unless told otherwise. Both defaults are
public behaviour (documented on :func:`workbench.simulate` and
:func:`workbench.run_ensemble`) and stay as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from workbench.core import units as U
from workbench.core.limits import check_limit
from workbench.errors import SpecError, UnitError

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.model import Model

__all__ = ["DEFAULT_POINTS", "METRIC_POINTS", "resolve_time", "time_grid"]

#: evenly spaced output points of a trajectory when ``points`` is not given
DEFAULT_POINTS = 101
#: evenly spaced output points of an ensemble's metric grid when ``points`` is not given
METRIC_POINTS = 201


def time_grid(start: float, end: float | None = None, points: int | None = None,
              times: Sequence[float] | None = None, *, include: Iterable[float] = (),
              default_points: int = DEFAULT_POINTS, source: str | None = None) -> np.ndarray:
    """Sorted unique output times (model units).

    Parameters
    ----------
    start
        First time of the run; always on the grid.
    end, points
        ``points`` evenly spaced times from ``start`` to ``end`` (default
        ``default_points``); None for no evenly spaced part.
    times
        Explicit output times; none may come before ``start``.
    include
        Times that must be on the grid as well (metric times, dose times).
    default_points
        Number of points when ``end`` is given without ``points``.
    source
        Model name for error messages.

    Raises
    ------
    SpecError
        No ``end``, ``times`` or ``include``; ``end`` not after ``start``; fewer
        than 2 points; times empty, not finite, or before the start.
    """
    grid: list[float] = [float(start)]
    if not np.isfinite(grid[0]):
        raise SpecError(f"the start time ({start}) is not finite", source=source,
                        element="start")
    if end is not None:
        n = default_points if points is None else int(points)
        if n < 2:
            raise SpecError("at least 2 output points are needed", source=source,
                            element="points", fix="ask for points >= 2")
        # before np.linspace: 1e8 points would be 800 MB before any check
        check_limit("output_points", n, "the number of output points", source=source,
                    element="points", error=SpecError)
        if not (np.isfinite(end) and end > start):
            raise SpecError(f"the end time ({end:g}) must come after the start ({start:g})",
                            source=source, element="end")
        grid += np.linspace(start, end, n).tolist()
    if times is not None:
        arr = np.asarray([float(t) for t in times], dtype=float)
        if arr.size == 0 or not np.all(np.isfinite(arr)):
            raise SpecError("the output times are empty or not finite", source=source,
                            element="times", fix="give finite output times")
        if arr.min() < start:
            raise SpecError(f"an output time ({arr.min():g}) comes before the start "
                            f"({start:g})", source=source, element="times",
                            fix="start the run at or before the first output time")
        grid += arr.tolist()
    extra = [float(t) for t in include]
    if end is None and times is None and not extra:
        raise SpecError("give the end time (end=...) or the output times (times=...)",
                        source=source, element="end")
    if extra and not np.all(np.isfinite(extra)):
        raise SpecError("the output times are not finite", source=source, element="times")
    out = np.unique(np.asarray(grid + extra, dtype=float))
    check_limit("output_points", out.size, "the number of output times", source=source,
                element="times" if times is not None else "points", error=SpecError)
    return out


def resolve_time(value: float | str, model: Model, what: str = "time") -> float:
    """A time in model units from a number (model units) or a string such as ``"672 h"``."""
    if isinstance(value, int | float | np.floating | np.integer):
        return float(value)
    v, unit = U.parse_quantity(str(value))
    if not unit:
        return v
    mt = model.time_unit
    if not mt:
        raise UnitError(f"{what} {value!r} has a unit but the model's time unit is undeclared",
                        source=model.source, element="timeUnits",
                        fix="give the time as a plain number in model time units, or declare "
                            "timeUnits in the model")
    return U.convert(v, unit, mt)
