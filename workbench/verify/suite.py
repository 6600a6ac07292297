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
import os
from dataclasses import replace

import workbench.verify._checks as K
from workbench.core.dosing import Subject
from workbench.core.model import Model, load_model
from workbench.errors import SpecError, WorkbenchError
from workbench.verify._checks import dose_grid as dose_grid  # re-exported (former home)
from workbench.verify.check_result import CHECKS, CheckResult, PlotData, Verification, VerifyOptions
from workbench.verify.check_result import STATUSES as STATUSES  # re-exported (former home)
from workbench.verify.plots import draw_check
from workbench.verify.plots import (
    plot_verification as plot_verification,  # re-exported (former home)
)

__all__ = ["CHECKS", "CheckResult", "PlotData", "Verification", "VerifyOptions",
           "plot_verification", "verify", "write_verification"]

log = logging.getLogger(__name__)


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
# files
# ---------------------------------------------------------------------------

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
        draw_check(ax, c)
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
