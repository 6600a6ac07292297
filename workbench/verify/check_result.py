"""The types of a verification: its options, the result of one check and of all of them.

:class:`CheckResult` and :class:`PlotData` are what every check of
:func:`workbench.verify` returns (:mod:`workbench.verify._checks`);
:class:`VerifyOptions` and :class:`Verification` are the verb's settings and result.
The verification table, figures (:mod:`workbench.verify.plots`) and report read them.
They sit below all of these, so neither the checks nor the figures import the verb that
runs them; the names stay importable from :mod:`workbench.verify` and
:mod:`workbench.verify.suite`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from workbench import columns as C
from workbench.errors import SpecError
from workbench.sim._engine import IntegratorSettings

__all__ = ["CHECKS", "STATUSES", "CheckResult", "PlotData", "Verification", "VerifyOptions"]

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


#: The checks, in the order of the table.
CHECKS = ("baseline", "steady_state", "high_dose_occupancy", "high_dose_plateau",
          "monotone_dose_response", "non_negative", "conservation", "units",
          "solver_convergence", "dose_proportionality", "stochastic")

@dataclass(frozen=True)
class VerifyOptions:
    """Settings of :func:`workbench.verify.suite.verify`; every tolerance is documented with its check.

    Attributes
    ----------
    doses
        Dose levels of the single-bolus dose grid, texts such as ``"1 ug/kg"``;
        default: ``n_doses`` log-spaced levels over ``dose_range``.
    dose_range, n_doses
        Lowest and highest dose of the default grid (same kind of unit), and
        the number of levels (default one per decade, 0.001 ug/kg to 100 mg/kg).
    route
        Route of the grid doses in the regimen text (``"iv"``).
    end, points
        Simulated span (number in model time units or ``"672 h"``) and the
        number of evenly spaced output points (log-spaced early points are added).
    baseline_tol
        ``baseline``: largest drift of the effect without drug, as a fraction of
        the larger of its baseline and its largest drug-induced change.
    steady_state_tol
        ``steady_state``: largest ``|dx/dt| * end / |x|`` over the state variables.
    occupancy_min
        ``high_dose_occupancy``: smallest acceptable peak occupancy at the highest dose.
    plateau_tol
        ``high_dose_plateau``: change of the effect between the two highest
        doses, as a fraction of its range over the grid.
    monotone_tol
        ``monotone_dose_response``: a fall larger than this fraction of the range
        counts as non-monotone.
    negative_tol
        ``non_negative``: a species may dip below zero by this fraction of its
        largest value (solver noise) plus 10 absolute tolerances.
    conservation_tol
        ``conservation``: largest change of a moiety's total, relative to the sum
        of the magnitudes of its terms.
    solver_factor, solver_max_step, solver_tol
        ``solver_convergence``: tolerances divided by ``solver_factor``, maximum
        step ``solver_max_step`` (default end / 1000); pass when every output
        changes by at most ``solver_tol`` of its largest magnitude.
    exposure, linear_doses, proportionality_tol
        ``dose_proportionality``: the exposure output (default: the dosed
        species), the number of highest grid doses taken as the linear PK
        range, and the largest acceptable ``|beta - 1|`` of the power model
        ``AUC = a * dose^beta``.
    stochastic, max_molecules, replicates, stochastic_z
        ``stochastic``: True runs it, False skips it, None runs it when the
        largest initial species count is at most ``max_molecules``;
        ``replicates`` Gillespie runs; statistics of the first half and of all
        replicates must agree within ``stochastic_z`` standard errors.
    skip
        Check name -> reason, for checks to skip (the reason is recorded).
    integrator
        Solver settings of every deterministic run.
    """

    doses: tuple[str, ...] | None = None
    dose_range: tuple[str, str] = ("0.001 ug/kg", "100 mg/kg")
    n_doses: int = 9
    route: str = "iv"
    end: float | str = "672 h"
    points: int = 337
    baseline_tol: float = 1e-6
    steady_state_tol: float = 1e-6
    occupancy_min: float = 0.95
    plateau_tol: float = 0.05
    monotone_tol: float = 0.01
    negative_tol: float = 1e-6
    conservation_tol: float = 1e-6
    solver_factor: float = 100.0
    solver_max_step: float | None = None
    solver_tol: float = 1e-3
    exposure: str | None = None
    linear_doses: int = 3
    proportionality_tol: float = 0.05
    stochastic: bool | None = None
    max_molecules: float = 1e6
    replicates: int = 200
    stochastic_z: float = 4.0
    skip: Mapping[str, str] = field(default_factory=dict)
    integrator: IntegratorSettings = field(default_factory=IntegratorSettings)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.skip) - set(CHECKS))
        if unknown:
            raise SpecError(f"cannot skip unknown check(s) {', '.join(unknown)}", element="skip",
                            fix="use the names " + ", ".join(CHECKS))
        empty = [k for k, v in self.skip.items() if not str(v or "").strip()]
        if empty:
            raise SpecError(f"skipping {', '.join(empty)} needs a reason", element="skip",
                            fix="give the reason, e.g. skip={'stochastic': 'deterministic model'}")
        if self.n_doses < 3 and self.doses is None:
            raise SpecError("the dose grid needs at least 3 levels", element="n_doses")
        if self.replicates < 20:
            raise SpecError("the stochastic check needs at least 20 replicates",
                            element="replicates")

@dataclass(frozen=True, eq=False)
class Verification:
    """Result of :func:`workbench.verify.suite.verify`.

    Attributes
    ----------
    model, drug, effect, occupancy
        What was verified.
    checks
        One :class:`CheckResult` per check, in the order of :data:`CHECKS`.
    dose_response
        The dose grid's metrics, columns :data:`workbench.columns.VERIFY_DOSE_RESPONSE_COLUMNS`.
    options
        The settings used.
    """

    model: str
    drug: str
    effect: str
    occupancy: str | None
    checks: tuple[CheckResult, ...]
    dose_response: pd.DataFrame
    options: VerifyOptions

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return all(c.status != "fail" for c in self.checks)

    def check(self, name: str) -> CheckResult:
        """The result of one check."""
        for c in self.checks:
            if c.check == name:
                return c
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """The table: columns :data:`workbench.columns.VERIFY_COLUMNS`; ``plot`` names the
        figure file :func:`workbench.verify.suite.write_verification` writes for the check."""
        rows = [{C.CHECK: c.check, C.STATUS: c.status, C.VALUE: c.value, C.LIMIT: c.limit,
                 C.UNIT: c.unit, C.EVIDENCE: c.evidence, C.REASON: c.reason,
                 C.PLOT: f"verify_{c.check}.png" if c.plot is not None else ""}
                for c in self.checks]
        df = pd.DataFrame(rows, columns=list(C.VERIFY_COLUMNS))
        df.attrs.update(model=self.model, drug=self.drug, effect=self.effect,
                        occupancy=self.occupancy or "")
        return df
