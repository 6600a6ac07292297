"""The result of one model check, and the small figure that goes with it.

:class:`CheckResult` and :class:`PlotData` are what every check of
:func:`workbench.verify` returns (:mod:`workbench._verify_checks`) and what the
verification table, figure and report read. They sit below both, so the checks
do not import the verb that runs them; the names stay importable from
:mod:`workbench.verify`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["STATUSES", "CheckResult", "PlotData"]

#: the statuses a check can end with
STATUSES = ("pass", "fail", "warn", "skip")


@dataclass(frozen=True)
class PlotData:
    """What the small figure of a check shows: lines (or bars) with labelled axes."""

    title: str
    xlabel: str
    ylabel: str
    series: tuple[tuple[str, tuple, tuple], ...]  # (label, x, y); bars: x are labels
    logx: bool = False
    logy: bool = False
    limit: float | None = None                      # drawn as a dashed horizontal line
    bars: bool = False


@dataclass(frozen=True)
class CheckResult:
    """One verification check: columns of :data:`workbench.columns.VERIFY_COLUMNS`."""

    check: str
    status: str
    value: float = math.nan
    limit: float = math.nan
    unit: str = ""
    evidence: str = ""
    reason: str = ""
    plot: PlotData | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
