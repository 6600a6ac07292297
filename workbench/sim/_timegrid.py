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

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.core import units as U
from workbench.core.limits import check_limit
from workbench.core.options import CliFlag, cli
from workbench.errors import SpecError, UnitError

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.model import Model

__all__ = ["DEFAULT_POINTS", "METRIC_POINTS", "TimeGrid", "resolve_time", "time_grid"]

#: evenly spaced output points of a trajectory when ``points`` is not given
DEFAULT_POINTS = 101
#: evenly spaced output points of an ensemble's metric grid when ``points`` is not given
METRIC_POINTS = 201


def _time_ok(value: Any, name: str) -> float | None:
    """A time given as a number (model units) or as text with a unit; the number, when plain."""
    if isinstance(value, bool):
        raise SpecError(f"the {name} time must be a number or text such as '672 h', got "
                        f"{value!r}", element=f"TimeGrid.{name}", fix="give e.g. 672 or '672 h'")
    if isinstance(value, int | float | np.integer | np.floating):
        if not math.isfinite(float(value)):
            raise SpecError(f"the {name} time ({value}) is not finite", element=f"TimeGrid.{name}",
                            fix="give a finite time, e.g. 672 or '672 h'")
        return float(value)
    if isinstance(value, str):
        try:
            v, unit = U.parse_quantity(value)
        except (UnitError, ValueError):
            raise SpecError(f"cannot read the {name} time {value!r}", element=f"TimeGrid.{name}",
                            fix="write a number with a time unit, e.g. '672 h' or '28 d'") \
                from None
        if not math.isfinite(v):
            raise SpecError(f"the {name} time ({value}) is not finite", element=f"TimeGrid.{name}",
                            fix="give a finite time, e.g. '672 h'")
        return None if unit else v
    raise SpecError(f"the {name} time must be a number or text such as '672 h', got "
                    f"{type(value).__name__}", element=f"TimeGrid.{name}",
                    fix="give e.g. 672 (model units) or '672 h'")


@dataclass(frozen=True)
class TimeGrid:
    """Output times of a run: ``points`` evenly spaced from ``start`` to ``end``, or
    explicit ``times`` (which then replace ``end``/``points``).

    Attributes
    ----------
    start, end
        Numbers in model time units or text with a unit (``"672 h"``); ``end`` None with
        no ``times``: the analysis decides (an ensemble of ``value(X, t)`` metrics needs
        only their times).
    points
        Number of evenly spaced points; None: the analysis's default (101 for a
        trajectory, 201 for an ensemble's metrics; :mod:`workbench.sim._timegrid`).
    times
        Explicit output times (model units).

    Raises
    ------
    SpecError
        A time that is not finite or does not read, an end not after the start, fewer
        than 2 points, empty or non-finite times, a time before the start.
    """

    start: float | str = field(default=0.0, metadata=cli(
        CliFlag("--start", "start time, e.g. '0 h' (a bare number: model units)",
                default=0.0)))
    end: float | str | None = field(default=None, metadata=cli(
        CliFlag("--end", "end time, e.g. '672 h' (a bare number: model units)")))
    points: int | None = field(default=None, metadata=cli(
        CliFlag("--points", "evenly spaced output points", type=int)))
    times: tuple[float, ...] | None = field(default=None, metadata=cli(
        CliFlag("--times", "comma-separated output times (model units)")))

    def __post_init__(self) -> None:
        t0 = _time_ok(self.start, "start")
        t1 = None if self.end is None else _time_ok(self.end, "end")
        if t0 is not None and t1 is not None and self.times is None and not t1 > t0:
            raise SpecError(f"the end time ({t1:g}) must come after the start ({t0:g})",
                            element="TimeGrid.end", fix="give an end after the start")
        if self.points is not None:
            ok = isinstance(self.points, int | np.integer) and not isinstance(self.points, bool)
            if not ok or self.points < 2:
                raise SpecError(f"at least 2 output points are needed, got {self.points!r}",
                                element="TimeGrid.points", fix="ask for points >= 2 (a whole "
                                                                  "number)")
            object.__setattr__(self, "points", int(self.points))
        if self.times is not None:
            try:
                arr = tuple(float(t) for t in self.times)
            except (TypeError, ValueError):
                raise SpecError("the output times are not numbers", element="TimeGrid.times",
                                fix="give times in model units, e.g. times=[0, 24, 168]") \
                    from None
            if not arr or not all(math.isfinite(t) for t in arr):
                raise SpecError("the output times are empty or not finite",
                                element="TimeGrid.times", fix="give finite output times")
            if t0 is not None and min(arr) < t0:
                raise SpecError(f"an output time ({min(arr):g}) comes before the start "
                                f"({t0:g})", element="TimeGrid.times",
                                fix="start the run at or before the first output time")
            object.__setattr__(self, "times", arr)

    def span(self, model: Model) -> tuple[float, float | None]:
        """Start and end in model time units (the end None when not given or when
        explicit ``times`` replace it)."""
        t0 = resolve_time(self.start, model, "start")
        t1 = resolve_time(self.end, model, "end") \
            if self.times is None and self.end is not None else None
        return t0, t1

    def build(self, model: Model, *, default_points: int | None = None,
              include: Sequence[float] = ()) -> np.ndarray:
        """The sorted output times in model units (:func:`workbench.sim._timegrid.time_grid`)."""
        return time_grid(self, model=model, include=include, default_points=default_points)



def time_grid(start: TimeGrid | float, end: float | None = None, points: int | None = None,
              times: Sequence[float] | None = None, *, include: Iterable[float] = (),
              default_points: int | None = DEFAULT_POINTS, source: str | None = None,
              model: Model | None = None) -> np.ndarray:
    """Sorted unique output times (model units).

    Parameters
    ----------
    start
        A :class:`TimeGrid` (its times with units are read in ``model``'s time unit;
        ``end``, ``points`` and ``times`` are then not given), or the first time of the
        run in model units; the start is always on the grid.
    model
        The model a :class:`TimeGrid` is read for (time units, the source of messages).
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
    if default_points is None:
        default_points = DEFAULT_POINTS
    if isinstance(start, TimeGrid):
        if model is None:
            raise TypeError("time_grid(TimeGrid) needs model=")
        spec = start
        start, end = spec.span(model)
        points, times, source = spec.points, spec.times, source or model.source
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
