"""The metric language of ensembles: :class:`Metric` and :func:`parse_metric`.

A metric (:func:`parse_metric`; ``X`` is an output: a species, ``[S]``,
``amount(S)``, or a parameter, compartment or reaction id; ``a, b`` an optional
time window; times are numbers in model units or strings with a unit, ``"168 h"``):

=====================  ===================================================
``max(X[, a, b])``     largest value (``cmax`` is the same)
``min(X[, a, b])``     smallest value (``cmin`` is the same)
``tmax(X[, a, b])``    time of the largest value
``mean(X[, a, b])``    time-average (AUC / duration)
``auc(X[, a, b])``     area under the curve, linear-up/log-down
``ctrough(X[, i])``    value at the end of dosing interval ``i`` (just before
                       the next dose); default the last interval (the end)
``value(X, t)``        value at ``t`` (after a dose given at ``t``)
``time_above(X, c)``   time with ``X > c``
=====================  ===================================================

Windows start after a dose given at ``a`` and end before a dose given at ``b``.

Metrics are what analyses ask of an ensemble; they sit below the ensemble and
its back ends (:mod:`workbench.ensemble`, :mod:`workbench._backends`), which
both read them. The names stay importable from :mod:`workbench.ensemble`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbench.core.model import Model
from workbench.errors import SpecError, UnknownIdError
from workbench.sim._outputs import parse_output
from workbench.sim._timegrid import resolve_time

__all__ = ["METRIC_KINDS", "Metric", "parse_metric"]

#: metric kind -> (number of extra arguments allowed, description)
METRIC_KINDS: dict[str, tuple[tuple[int, ...], str]] = {
    "max": ((0, 2), "largest value"),
    "cmax": ((0, 2), "largest value"),
    "min": ((0, 2), "smallest value"),
    "cmin": ((0, 2), "smallest value"),
    "tmax": ((0, 2), "time of the largest value"),
    "mean": ((0, 2), "time-average value"),
    "auc": ((0, 2), "area under the curve (linear-up/log-down)"),
    "ctrough": ((0, 1), "value at the end of a dosing interval"),
    "value": ((1,), "value at a time"),
    "time_above": ((1,), "time above a threshold"),
}
_WINDOWED = {"max", "cmax", "min", "cmin", "tmax", "mean", "auc"}


@dataclass(frozen=True)
class Metric:
    """One scalar metric of one output (parsed by :func:`parse_metric`).

    Attributes
    ----------
    text
        Canonical text, also the column name: ``"auc(Drug, 0, 168 h)"``.
    kind
        A key of :data:`METRIC_KINDS`.
    output
        The output it reads (``X``).
    window
        ``(a, b)`` in model time units, or None for the whole run.
    time
        For ``value``: the time (model units).
    threshold
        For ``time_above``: the threshold (output units).
    interval
        For ``ctrough``: the dosing interval index (negative counts from the end).
    """

    text: str
    kind: str
    output: str
    window: tuple[float, float] | None = None
    time: float | None = None
    threshold: float | None = None
    interval: int = -1

    def needed_times(self) -> tuple[float, ...]:
        """Output times this metric needs on the grid."""
        if self.time is not None:
            return (self.time,)
        return self.window or ()

    def unit(self, output_unit: str, time_unit: str) -> str:
        """Unit of the metric's value."""
        if self.kind in ("tmax", "time_above"):
            return time_unit
        if self.kind == "auc":
            return f"{output_unit}*{time_unit}" if output_unit and time_unit else ""
        return output_unit


def _split_args(s: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    out.append(cur.strip())
    return out


def _check_output(model: Model, output: str) -> None:
    form, sid = parse_output(output)
    if form != "symbol":
        if model.kind_of(sid) != "species":
            raise UnknownIdError(f"{output!r}: {sid!r} is not a species", source=model.source,
                                 element=output)
        return
    if sid != "time":
        model.kind_of(sid)  # UnknownIdError with suggestions


def parse_metric(text: str, model: Model | None = None) -> Metric:
    """Parse a metric such as ``"max(RO)"``, ``"auc(Drug, 0, 168 h)"``, ``"value(IL6, 168)"``.

    Parameters
    ----------
    text
        The metric (grammar in the module docstring).
    model
        When given, the output id is checked and times with units are converted
        to model time units.

    Raises
    ------
    SpecError
        When the text does not parse.
    UnknownIdError
        When the output is not in the model.
    """
    m = re.match(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", str(text))
    if not m:
        raise _metric_error(text, "it is not of the form kind(output, ...)")
    kind = m.group(1).lower()
    if kind not in METRIC_KINDS:
        raise _metric_error(text, f"unknown metric {kind!r}")
    args = _split_args(m.group(2))
    if not args[0]:
        raise _metric_error(text, "the output is missing")
    output, extra = args[0], args[1:]
    if len(extra) not in METRIC_KINDS[kind][0]:
        raise _metric_error(text, f"{kind} takes {' or '.join(map(str, METRIC_KINDS[kind][0]))} "
                            "argument(s) after the output")
    if model is not None:
        _check_output(model, output)

    def num(s: str, what: str, cast=float):
        try:
            return cast(s)
        except ValueError:
            raise _metric_error(text, f"the {what} {s!r} is not a number") from None

    def tm(s: str) -> float:
        try:
            v = float(s)
        except ValueError:
            if model is None:
                raise _metric_error(text, f"the time {s!r} is not a number") from None
            return resolve_time(s, model, "metric time")
        return v

    canon = f"{kind}({', '.join(args)})"
    if kind in _WINDOWED and extra:
        a, b = tm(extra[0]), tm(extra[1])
        if not b > a:
            raise _metric_error(text, "the window end must come after its start")
        return Metric(canon, kind, output, window=(a, b))
    if kind == "value":
        return Metric(canon, kind, output, time=tm(extra[0]))
    if kind == "time_above":
        return Metric(canon, kind, output, threshold=num(extra[0], "threshold"))
    if kind == "ctrough" and extra:
        return Metric(canon, kind, output, interval=num(extra[0], "interval index", int))
    return Metric(canon, kind, output)


def _metric_error(text: str, why: str) -> SpecError:
    return SpecError(f"cannot read the metric {text!r}: {why}", element="metric",
                     fix="write e.g. 'max(RO)', 'auc(Drug)', 'auc(Drug, 0, 168 h)', "
                         "'ctrough(Drug)', 'value(IL6, 168 h)', 'time_above(Drug, 1.0)'; kinds: "
                         + ", ".join(METRIC_KINDS))
