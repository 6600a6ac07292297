"""Verification suite: does the model behave as a pharmacological model must?

The FDA draft guidance on QSP-based MABEL asks sponsors to verify that "the
absence of drug administration results in no pharmacological effect and
sufficiently high drug doses lead to target saturation", that units are
correct and that stochastic results are stable. :func:`verify` runs these
checks automatically and returns one row per check with its status
(``pass``, ``fail``, ``warn`` or ``skip``), the key number with its acceptance
limit, the evidence in words and numbers, and a small figure.

Checks (names as in the table; each is configured by :class:`VerifyOptions`
and can be skipped with a recorded reason):

=========================  ===============================================================
``baseline``               no dose: the effect (and occupancy) stays at its value at t = 0
``steady_state``           no dose: the state's rates of change at t = 0 are near zero
``high_dose_occupancy``    the highest dose drives the occupancy output near 1
``high_dose_plateau``      the effect's dose-response is flat at the top of the dose grid
``monotone_dose_response`` the effect's peak change never falls as the dose rises (warns
                           only: some biology is bell-shaped, e.g. a bispecific's trimer)
``non_negative``           no species goes below zero, in any run
``conservation``           conserved moieties of the stoichiometry (with source and sink
                           reactions switched off) stay constant
``units``                  libSBML unit consistency, plus a scale check (nM vs pM) of every
                           kinetic law, rule and initial assignment
``solver_convergence``     results unchanged when tolerances are divided by 100 and the
                           maximum step is limited
``dose_proportionality``   exposure (AUC) is proportional to dose at the top of the grid,
                           where target binding is saturated and the PK linear
``stochastic``             Gillespie replicates: summary statistics converge and the
                           run-to-run spread is stable (models with small molecule counts)
=========================  ===============================================================

Table columns: :data:`workbench.columns.VERIFY_COLUMNS`. ``value`` is at most
``limit`` for a pass, except ``high_dose_occupancy`` (at least ``limit``).

Methods: dose proportionality by the power model (Smith et al. 2000, Pharm Res
17:1278, doi:10.1023/A:1026451721686); conserved moieties as the left null
space of the stoichiometric matrix (Reder 1988, J Theor Biol 135:175);
stochastic simulation by Gillespie's direct method (Gillespie 1977, J Phys
Chem 81:2340, doi:10.1021/j100540a008).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

import workbench.verify._checks as K
from workbench import columns as C
from workbench.core.dosing import Subject
from workbench.core.model import Model, load_model
from workbench.errors import SpecError, WorkbenchError
from workbench.sim._engine import IntegratorSettings
from workbench.verify._checks import dose_grid as dose_grid  # re-exported (former home)
from workbench.verify.check_result import STATUSES as STATUSES  # re-exported (former home)
from workbench.verify.check_result import CheckResult, PlotData

__all__ = ["CHECKS", "CheckResult", "PlotData", "Verification", "VerifyOptions",
           "plot_verification", "verify", "write_verification"]

log = logging.getLogger(__name__)

#: The checks, in the order of the table.
CHECKS = ("baseline", "steady_state", "high_dose_occupancy", "high_dose_plateau",
          "monotone_dose_response", "non_negative", "conservation", "units",
          "solver_convergence", "dose_proportionality", "stochastic")
@dataclass(frozen=True)
class VerifyOptions:
    """Settings of :func:`verify`; every tolerance is documented with its check.

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
    """Result of :func:`verify`.

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
        figure file :func:`write_verification` writes for the check."""
        rows = [{C.CHECK: c.check, C.STATUS: c.status, C.VALUE: c.value, C.LIMIT: c.limit,
                 C.UNIT: c.unit, C.EVIDENCE: c.evidence, C.REASON: c.reason,
                 C.PLOT: f"verify_{c.check}.png" if c.plot is not None else ""}
                for c in self.checks]
        df = pd.DataFrame(rows, columns=list(C.VERIFY_COLUMNS))
        df.attrs.update(model=self.model, drug=self.drug, effect=self.effect,
                        occupancy=self.occupancy or "")
        return df


# ---------------------------------------------------------------------------
# the verb
# ---------------------------------------------------------------------------

def verify(model: Model | str | os.PathLike[str], drug: str, effect: str,
           occupancy: str | None = None, *, mw: float | str | None = None,
           subject: Subject | None = None, options: VerifyOptions | None = None,
           seed: int = 0) -> Verification:
    """Run the verification checks on a model.

    Parameters
    ----------
    model
        A :class:`~workbench.Model` or anything :func:`~workbench.load_model` takes.
    drug
        The species receiving the doses.
    effect
        The output that measures the pharmacological effect (e.g. ``"IL6"``).
    occupancy
        The target-occupancy output (a fraction, e.g. ``"RO_CD3"``); without it
        ``high_dose_occupancy`` is skipped.
    mw
        Molecular weight of the drug (``"150 kDa"``), for mass doses.
    subject
        Body size for ``/kg`` and ``/m2`` doses (default 70 kg).
    options
        :class:`VerifyOptions` (tolerances, dose grid, skips).
    seed
        Seed of the stochastic check's replicates.

    Returns
    -------
    Verification
        ``.to_frame()`` is the table; ``.passed`` is False when a check failed.

    Raises
    ------
    UnknownIdError, DoseError, SimulationError
        When the drug, effect or occupancy id does not exist, a dose cannot be
        converted, or the drug-free or dose-grid simulations fail (every check
        needs them). A failure inside a single check makes that check fail.
    """
    m = model if isinstance(model, Model) else load_model(model)
    o = _unit_free_defaults(m, drug, options or VerifyOptions())
    if m.kind_of(drug) != "species":
        raise SpecError(f"the drug {drug!r} is not a species", source=m.source, element=drug,
                        fix="name the species that receives the doses")
    ctx = K.Context.build(m, drug, effect, occupancy, mw=mw, subject=subject or Subject(),
                          options=o, seed=seed)
    funcs = {"baseline": K.check_baseline, "steady_state": K.check_steady_state,
             "high_dose_occupancy": K.check_high_dose_occupancy,
             "high_dose_plateau": K.check_high_dose_plateau,
             "monotone_dose_response": K.check_monotone, "non_negative": K.check_non_negative,
             "conservation": K.check_conservation, "units": K.check_units,
             "solver_convergence": K.check_solver, "dose_proportionality": K.check_proportionality,
             "stochastic": K.check_stochastic}
    results = []
    for name in CHECKS:
        if name in o.skip:
            results.append(CheckResult(name, "skip", reason=f"skipped by the user: {o.skip[name]}"))
            continue
        log.info("verify: %s", name)
        try:
            r = funcs[name](ctx)
        except WorkbenchError as exc:
            r = CheckResult(name, "fail", reason=f"the check could not be evaluated: {exc}")
        results.append(replace(r, check=name))
    return Verification(model=m.source, drug=drug, effect=effect, occupancy=occupancy,
                        checks=tuple(results), dose_response=ctx.dose_response_frame(),
                        options=o)


# ---------------------------------------------------------------------------
# figures and files
# ---------------------------------------------------------------------------

_COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "warn": "#ef6c00", "skip": "#757575"}


def _draw(ax, check: CheckResult) -> None:
    p = check.plot
    ax.set_title(f"{check.check}: {check.status.upper()}", fontsize=9,
                 color=_COLOURS[check.status])
    if p is None:
        import textwrap

        text = textwrap.fill((check.reason or check.evidence)[:400], 60)
        ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=6, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    if p.bars:
        label, x, y = p.series[0]
        ax.bar(range(len(x)), y, color="#5c6bc0")
        ax.set_xticks(range(len(x)), [str(v) for v in x], rotation=60, fontsize=6, ha="right")
    else:
        for label, x, y in p.series:
            ax.plot(x, y, marker="o" if len(x) <= 20 else None, ms=3, label=label)
        if len(p.series) > 1:
            ax.legend(fontsize=6)
    if p.limit is not None and math.isfinite(p.limit):
        ax.axhline(p.limit, ls="--", color="grey", lw=0.8)
    if p.logx:
        ax.set_xscale("log")
    if p.logy:
        ax.set_yscale("log")
    ax.set_xlabel(p.xlabel, fontsize=7)
    ax.set_ylabel(p.ylabel, fontsize=7)
    ax.tick_params(labelsize=6)
    ax.grid(alpha=0.3)


def plot_verification(result: Verification, path: str | os.PathLike[str]) -> None:
    """Summary figure: one small panel per check, titled with its status; written as PNG."""
    from workbench.core.plots import _figure, save_figure

    fig, axes = _figure(len(result.checks), 4.2, 3.2, ncol=4)
    for ax, c in zip(axes, result.checks, strict=True):
        _draw(ax, c)
    fig.suptitle(f"verification of {os.path.basename(result.model)} (drug {result.drug}, "
                 f"effect {result.effect})")
    save_figure(fig, path, dpi=100)


def write_verification(result: Verification, outdir: str | os.PathLike[str]) -> list[str]:
    """Write ``verification.csv``, ``verification_dose_response.csv``, the summary figure
    ``verification.png`` and one ``verify_<check>.png`` per check with a plot.

    Returns the paths written.
    """
    from workbench.core._io import atomic_write_text
    from workbench.core.plots import pyplot, save_figure

    plt = pyplot()
    out = os.fspath(outdir)
    written = []
    p = os.path.join(out, "verification.csv")
    atomic_write_text(p, result.to_frame().to_csv(index=False, float_format="%.6g"))
    written.append(p)
    p = os.path.join(out, "verification_dose_response.csv")
    atomic_write_text(p, result.dose_response.to_csv(index=False, float_format="%.8g"))
    written.append(p)
    for c in result.checks:
        if c.plot is None:
            continue
        fig, ax = plt.subplots(figsize=(4.2, 3.2))
        _draw(ax, c)
        p = os.path.join(out, f"verify_{c.check}.png")
        save_figure(fig, p, dpi=100)
        written.append(p)
    p = os.path.join(out, "verification.png")
    plot_verification(result, p)
    written.append(p)
    return written


def _unit_free_defaults(m: Model, drug: str, o: VerifyOptions) -> VerifyOptions:
    """Defaults that carry units apply only when the model declares them: for a model
    without a time unit the default span is 672 model time units, for a dosed species
    without a substance unit the default grid is 0.001-1000 model units (stated once)."""
    default = VerifyOptions()
    if not m.time_unit and o.end == default.end:
        log.warning("%s: the model declares no time unit, so the default span %r does not "
                    "apply; verifying over 672 model time units (give --end as a plain number "
                    "to choose)", m.source, default.end)
        o = replace(o, end=672.0)
    try:
        substance = m.unit_of(drug) if m.kind_of(drug) == "species" else "x"
    except WorkbenchError:
        substance = "x"
    if not substance and o.doses is None and o.dose_range == default.dose_range:
        log.warning("%s: species %r declares no substance unit, so the default dose range %s "
                    "does not apply; using 0.001-1000 model units (give --doses or "
                    "--dose-range as plain numbers to choose)", m.source, drug,
                    " to ".join(default.dose_range))
        o = replace(o, dose_range=("0.001", "1000"))
    return o
