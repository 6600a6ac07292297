"""Numbers you can trust: a convergence check and blow-up detection for every simulation path.

An ODE solver returns a number even when it is wrong. Two failure patterns reach
published models:

- **Too loose tolerances.** On the Crauste PEtab problem (Crauste et al. 2017,
  Cell Systems 4:306) the observables at relative tolerance 1e-8 are off by up to
  1.9 % from the problem's own simulated data, which COPASI and CVODE at 1e-12
  reproduce within 1e-5: the pathogen and effector populations pass through
  several orders of magnitude and the error of each step is amplified.
- **An unstable, analytically zero subsystem.** States that should stay exactly
  0 (a metabolite of a drug that was never given, say) but feed themselves
  (positive feedback) grow without bound as soon as solver error enters them: a
  published PBPK-type model returns 1e46 at t = 100 with default tolerances,
  where BDF at rtol 1e-13 or Adams gives the converged 0.00725.

The check re-runs a small sample at ``factor`` (100) times tighter tolerances and
reports the largest relative difference per output (or metric). When it exceeds
``threshold`` it emits :class:`ConvergenceWarning`, or with ``strict`` raises
:class:`ConvergenceError`; when the tighter run itself disagrees it also runs the
other integrator (Adams for BDF and back), since a stiff-looking disagreement is
exactly where the two differ. Blow-up (a value, of any state, beyond
``blowup_limit`` in model units, or not finite) raises :class:`BlowUpError`
naming the states. The relative difference of an output is taken against
``max(|reference|, 1e-6 * max over time |reference|)``, so values that are zero
to solver precision do not produce spurious ratios.

The switches live in :class:`ConvergenceOptions`; a call site takes
``convergence_check=`` (True/False/options); ``None`` uses the options of the
enclosing :func:`convergence_options` block (the CLI's ``--no-convergence-check``
and ``--strict``), by default on, not strict.
"""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from workbench.errors import SimulationError
from workbench.sim._engine import IntegratorSettings

__all__ = [
    "BlowUpError",
    "ConvergenceError",
    "ConvergenceOptions",
    "ConvergenceReport",
    "ConvergenceWarning",
    "check_blowup",
    "check_ensemble",
    "check_objective",
    "check_simulation",
    "convergence_options",
    "relative_differences",
    "report_of",
    "resolve_options",
]

log = logging.getLogger(__name__)

#: columns of the convergence table
OUTPUT, MAX_REL_DIFF, AT_TIME, REFERENCE = "output", "max_rel_diff", "at_time", "reference"
LARGEST = "largest"


class ConvergenceWarning(UserWarning):
    """The result changes by more than the threshold at tighter tolerances (filterable)."""


class ConvergenceError(SimulationError):
    """Strict mode: the result changes by more than the threshold at tighter tolerances."""


class BlowUpError(SimulationError):
    """A state grew beyond any physical scale or lost finiteness."""


@dataclass(frozen=True)
class ConvergenceOptions:
    """Settings of the convergence check.

    Attributes
    ----------
    enabled
        Re-run a sample at tighter tolerances (default True; the re-run costs one
        extra simulation for :func:`workbench.simulate` and ``samples`` extra
        simulations for an ensemble).
    strict
        Raise :class:`ConvergenceError` instead of warning.
    threshold
        Largest acceptable relative difference (default 1e-4, the accuracy we
        ask of the defaults on the Crauste benchmark).
    factor
        How much tighter the re-run is (default 100: two more correct digits are
        expected from a converged solution).
    samples
        Ensemble rows re-run (first, middle, last; default 3).
    blowup_limit
        Absolute value (model units) beyond which a state has left any physical
        scale (default 1e30: a mole of molecules is 6e23, and no pharmacological
        amount or concentration in any unit the workbench converts reaches 1e30).
    """

    enabled: bool = True
    strict: bool = False
    threshold: float = 1e-4
    factor: float = 100.0
    samples: int = 3
    blowup_limit: float = 1e30


@dataclass(frozen=True, eq=False)
class ConvergenceReport:
    """What a check found: ``table`` (columns ``output``, ``max_rel_diff``, [``at_time``],
    [``adams_vs_tight``/``bdf_vs_tight``]) and whether every output is within ``threshold``.

    Kept in ``df.attrs["convergence"]`` of a result; compared by identity, so pandas
    operations that compare ``attrs`` (concat) stay well defined.
    """

    table: pd.DataFrame
    converged: bool
    threshold: float
    relative_tolerance: float
    factor: float


def report_of(table: pd.DataFrame | None) -> ConvergenceReport | None:
    """The :class:`ConvergenceReport` of a check's table (None stays None)."""
    if table is None:
        return None
    a = table.attrs
    return ConvergenceReport(table, bool(a.get("converged", True)), float(a.get("threshold", 0)),
                             float(a.get("relative_tolerance", 0)), float(a.get("factor", 0)))


_OPTIONS: ContextVar[ConvergenceOptions | None] = ContextVar("workbench_convergence",
                                                             default=None)
_DEFAULT = ConvergenceOptions()


@contextlib.contextmanager
def convergence_options(**changes) -> Iterator[ConvergenceOptions]:
    """Within the block, call sites that are not told otherwise use these options.

    Example: ``with convergence_options(enabled=False): run_mabel(...)`` (the
    CLI's ``--no-convergence-check``), ``with convergence_options(strict=True)``.
    """
    opts = replace(_OPTIONS.get() or _DEFAULT, **changes)
    token = _OPTIONS.set(opts)
    try:
        yield opts
    finally:
        _OPTIONS.reset(token)


def resolve_options(check: bool | ConvergenceOptions | None) -> ConvergenceOptions:
    """The options of a call site's ``convergence_check=`` argument."""
    if isinstance(check, ConvergenceOptions):
        return check
    opts = _OPTIONS.get() or _DEFAULT
    return opts if check is None else replace(opts, enabled=bool(check))


def tightened(settings: IntegratorSettings | None, factor: float,
              stiff: bool | None = None) -> IntegratorSettings:
    """``settings`` with tolerances divided by ``factor`` (and ``stiff`` switched if given).

    The relative tolerance is not taken below 1e-15: CVODE cannot meet tolerances
    near machine precision and would fail instead of converging. The tighter run may
    take 10 times more steps; a run with the other method keeps the step budget, so
    that Adams on a stiff model fails fast (and says so) instead of crawling.
    """
    s = settings or IntegratorSettings()
    rt = max(s.relative_tolerance / factor, 1e-15)
    at = max(s.absolute_tolerance / factor, 1e-30)
    steps = s.max_num_steps * 10 if stiff is None else s.max_num_steps
    return IntegratorSettings(rt, at, s.max_step, steps,
                              s.stiff if stiff is None else stiff,
                              max(s.discontinuous_relative_tolerance / factor, 1e-15))


def relative_differences(values: np.ndarray, reference: np.ndarray, names: Sequence[str],
                         times: np.ndarray | None = None, floor: float = 0.0) -> pd.DataFrame:
    """Largest relative difference per column of ``values`` against ``reference``.

    Differences are relative to ``max(|reference|, 1e-6 * max |reference| of the
    column, floor)``; ``floor`` is the absolute tolerance (values below it are not
    resolved by the solver).

    Columns: ``output``, ``max_rel_diff``, ``at_time`` (when ``times`` are given),
    ``reference`` (the reference value where the difference is largest) and ``largest``
    (the largest |reference| of the column): a reader sees whether a large relative
    difference sits on a value that matters or on one a million times below the rest.
    """
    a = np.asarray(values, float)
    b = np.asarray(reference, float)
    rows = []
    for j, name in enumerate(names):
        x, y = a[:, j], b[:, j]
        scale = np.nanmax(np.abs(y)) if np.any(np.isfinite(y)) else 0.0
        low = max(1e-6 * scale, floor, 1e-300)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            d = np.abs(x - y) / np.maximum(np.abs(y), low)
        d = np.where(np.isfinite(x) == np.isfinite(y), np.nan_to_num(d, nan=0.0, posinf=np.inf),
                     np.inf)
        if scale == 0.0 and np.all(x == 0.0):
            d = np.zeros_like(d)
        k = int(np.argmax(d)) if len(d) else 0
        rows.append({OUTPUT: name, MAX_REL_DIFF: float(d[k]) if len(d) else 0.0,
                     AT_TIME: float(times[k]) if times is not None and len(d) else math.nan,
                     REFERENCE: float(y[k]) if len(d) else math.nan, LARGEST: float(scale)})
    return pd.DataFrame(rows, columns=[OUTPUT, MAX_REL_DIFF, AT_TIME, REFERENCE, LARGEST])


def check_blowup(names: Sequence[str], values: np.ndarray, *, source: str | None,
                 limit: float, what: str = "state") -> None:
    """Raise :class:`BlowUpError` naming every column with a non-finite value or one beyond
    ``limit`` (rows: time points or samples)."""
    v = np.atleast_2d(np.asarray(values, float))
    bad = []
    for j, name in enumerate(names):
        col = v[:, j]
        if not np.all(np.isfinite(col)):
            bad.append(f"{name} (not finite)")
        elif len(col) and np.max(np.abs(col)) > limit:
            bad.append(f"{name} (reaches {np.max(np.abs(col)):.3g})")
    if bad:
        raise BlowUpError(f"the simulation blew up: {what} {', '.join(bad)} "
                          f"{'is' if len(bad) == 1 else 'are'} beyond any physical scale "
                          f"(limit {limit:.3g} in model units)", source=source or None,
                          element=bad[0].split(" ")[0],
                          fix="look for a subsystem that should stay at zero but feeds itself "
                              "(positive feedback amplifying solver error), a wrong sign or unit "
                              "in a rate law; try a tighter --rtol or the Adams method to confirm")


def engine_state(engine) -> tuple[list[str], np.ndarray]:
    """Ids and current values of every integrated state of an engine's model
    (floating species and rate-rule variables)."""
    rr = engine.rr
    m = rr.model
    n = m.getNumFloatingSpecies() + m.getNumRateRules()
    ids, vals = [], []
    for i in range(n):
        try:
            sid = m.getStateVectorId(i)
            ids.append(sid)
            vals.append(float(rr.getValue(sid)))
        except Exception:  # pragma: no cover - an id the selection parser refuses
            continue
    return ids, np.asarray(vals, float)


def _where(row: pd.Series) -> str:
    """`` (at 2.1e-11 of largest 7.8e-07)`` when the worst difference sits on a value far
    (over 100-fold) below the largest of its output: the reader judges whether it matters."""
    ref, big = row.get(REFERENCE, math.nan), row.get(LARGEST, math.nan)
    if not (math.isfinite(ref) and math.isfinite(big)) or abs(ref) * 100 >= big:
        return ""
    return f" (at {ref:.2g} of largest {big:.2g})"


def _report(table: pd.DataFrame, opts: ConvergenceOptions, settings: IntegratorSettings,
            source: str | None, what: str) -> pd.DataFrame:
    worst = table.sort_values(MAX_REL_DIFF, ascending=False).iloc[0] if len(table) else None
    table.attrs.update(threshold=opts.threshold, factor=opts.factor,
                       relative_tolerance=settings.relative_tolerance,
                       converged=bool(worst is None or worst[MAX_REL_DIFF] <= opts.threshold))
    if worst is None or worst[MAX_REL_DIFF] <= opts.threshold:
        log.info("%s: convergence check passed (largest relative difference %.2g at %gx "
                 "tighter tolerances)", source, 0.0 if worst is None else worst[MAX_REL_DIFF],
                 opts.factor)
        return table
    bad = table[table[MAX_REL_DIFF] > opts.threshold]
    listed = ", ".join(f"{r[OUTPUT]} {r[MAX_REL_DIFF]:.2g}{_where(r)}"
                       for _, r in bad.head(5).iterrows())
    extra = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
    ref = table.attrs.get("reference_note", "")
    msg = (f"{what} not converged: at {opts.factor:g}-fold tighter tolerances (rtol "
           f"{settings.relative_tolerance:g} -> {settings.relative_tolerance / opts.factor:g}) "
           f"the largest relative difference per output exceeds {opts.threshold:g}: "
           f"{listed}{extra}{ref}")
    fix = ("use tighter tolerances (--rtol, IntegratorSettings.relative_tolerance); a difference "
           "that grows with tightening points to an unstable subsystem in the model")
    if opts.strict:
        raise ConvergenceError(msg, source=source or None, element=str(worst[OUTPUT]), fix=fix)
    warnings.warn(f"{source + ': ' if source else ''}{msg}. Fix: {fix}.", ConvergenceWarning,
                  stacklevel=3)
    return table


def check_simulation(engine, grid: np.ndarray, outputs: Sequence[str], result: np.ndarray, *,
                     parameters, doses, settings: IntegratorSettings | None, predose: bool,
                     opts: ConvergenceOptions, source: str | None) -> pd.DataFrame | None:
    """The check of one :func:`workbench.simulate` run: blow-up of any state (at the end of
    the run, which the engine still holds), then the re-run at tighter tolerances.

    Returns the convergence table (None when the check is off).
    """
    ids, vals = engine_state(engine)
    check_blowup(ids, vals[None, :], source=source, limit=opts.blowup_limit)
    check_blowup(list(outputs), result[:, 1:], source=source, limit=opts.blowup_limit,
                 what="output")
    if not opts.enabled:
        return None
    s = settings or IntegratorSettings()

    def rerun(stiff: bool | None) -> np.ndarray:
        return engine.run(grid, list(outputs), parameters=parameters, doses=doses,
                          settings=tightened(s, opts.factor, stiff), predose=predose,
                          check_finite=False)

    try:
        ref = rerun(None)
    except SimulationError as exc:
        log.warning("%s: convergence check skipped: the tighter run failed (%s)", source, exc)
        return None
    table = relative_differences(result[:, 1:], ref[:, 1:], outputs, result[:, 0],
                                 floor=s.absolute_tolerance)
    # states that are not outputs, at the end of the run (an unobserved state that
    # should stay zero but grows is the unstable-subsystem pattern)
    ids2, vals2 = engine_state(engine)
    if ids2 == ids:
        extra = [i for i, sid in enumerate(ids) if sid not in set(outputs)]
        if extra:
            st = relative_differences(vals[None, extra], vals2[None, extra],
                                      [f"state {ids[i]} (end)" for i in extra],
                                      result[-1:, 0], floor=s.absolute_tolerance)
            table = pd.concat([table, st], ignore_index=True)
    if (table[MAX_REL_DIFF] > opts.threshold).any():
        _other_method(table, lambda: rerun(not s.stiff)[:, 1:], ref[:, 1:], outputs, s)
    return _report(table, opts, s, source, "the simulation is")


def _other_method(table: pd.DataFrame, run: Callable[[], np.ndarray], ref: np.ndarray,
                  names: Sequence[str], s: IntegratorSettings) -> None:
    """Add what the other integrator says (stiffness suspected) to the table's note.

    ``run()`` and ``ref`` hold the output (metric) columns only.
    """
    other = "Adams" if s.stiff else "BDF"
    try:
        alt = run()
    except SimulationError as exc:
        table.attrs["reference_note"] = f"; the {other} method failed ({str(exc)[:120]})"
        return
    agree = relative_differences(alt, ref, names)
    worst = float(agree[MAX_REL_DIFF].max()) if len(agree) else 0.0
    table[f"{other.lower()}_vs_tight"] = table[OUTPUT].map(
        dict(zip(agree[OUTPUT], agree[MAX_REL_DIFF], strict=True)))
    table.attrs["reference_note"] = (
        f"; the {other} method at the tight tolerances "
        + ("agrees with the tight run on the outputs" if worst <= 1e-3 else
           f"differs from the tight run by up to {worst:.2g} (the result is not reliable at "
           "any of these settings)"))


def sample_rows(n: int, k: int) -> list[int]:
    """Deterministic rows re-run by the ensemble check: first, middle, last (``k`` of them)."""
    if n <= 0:
        return []
    return sorted(set(np.linspace(0, n - 1, min(k, n)).round().astype(int).tolist()))


def check_ensemble(rerun: Callable[[IntegratorSettings, list[int]], pd.DataFrame],
                   result: pd.DataFrame, metric_columns: Sequence[str], status_column: str,
                   ok: str, *, settings: IntegratorSettings | None, opts: ConvergenceOptions,
                   source: str | None) -> pd.DataFrame | None:
    """The check of an ensemble: blow-up of any metric value, then ``opts.samples`` rows
    re-run (in this process) at tighter tolerances and their metrics compared.

    ``rerun(settings, rows)`` returns the ensemble result of those rows.
    """
    okrows = result[status_column] == ok
    vals = result.loc[okrows, list(metric_columns)].to_numpy(dtype=float)
    # a non-finite value in a row marked ok is never masked: it is reported (a NaN metric
    # already fails its row in the back end, so what reaches here is a blow-up)
    check_blowup(list(metric_columns), vals, source=source, limit=opts.blowup_limit,
                 what="metric")
    if not opts.enabled or not okrows.any():
        return None
    rows = [int(i) for i in np.flatnonzero(okrows.to_numpy())]
    rows = [rows[i] for i in sample_rows(len(rows), opts.samples)]
    s = settings or IntegratorSettings()
    try:
        ref = rerun(tightened(s, opts.factor), rows)
    except SimulationError as exc:
        log.warning("%s: convergence check skipped: the tighter run failed (%s)", source, exc)
        return None
    a = result.iloc[rows][list(metric_columns)].to_numpy(dtype=float)
    b = ref[list(metric_columns)].to_numpy(dtype=float)
    table = relative_differences(a, b, metric_columns)
    table = table.drop(columns=[AT_TIME])
    if (table[MAX_REL_DIFF] > opts.threshold).any():
        _other_method(table, lambda: rerun(tightened(s, opts.factor, not s.stiff), rows)[
            list(metric_columns)].to_numpy(dtype=float), b, metric_columns, s)
    return _report(table, opts, s, source, f"the ensemble ({len(rows)} samples re-run) is")


def check_objective(objective, x, opts: ConvergenceOptions | None = None, *,
                    fit: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """The check of a PEtab objective at parameters ``x``: its simulated observables
    against those of the same problem at tighter tolerances, per observable.

    ``fit`` is ``objective.fit_table(x)`` when already computed.
    """
    from workbench import columns as C

    opts = opts or resolve_options(None)
    fit = objective.fit_table(x) if fit is None else fit
    source = getattr(objective.problem, "source", None)
    sim = fit[C.SIMULATION].to_numpy(dtype=float)
    obs = fit[C.OBSERVABLE].astype(str).to_numpy()
    names = list(dict.fromkeys(obs))
    cols = [np.where(obs == o, sim, 0.0) for o in names]
    check_blowup(names, np.column_stack(cols) if cols else np.empty((0, 0)),
                 source=source, limit=opts.blowup_limit, what="observable")
    if not opts.enabled or not len(fit):
        return None
    s = objective.settings
    try:
        # the objective's own class (workbench.calibrate.petab_objective.Objective), so that this
        # module needs no import of the calibration layer
        tight = type(objective)(objective.problem, tightened(s, opts.factor)).fit_table(x)
    except SimulationError as exc:
        log.warning("%s: convergence check skipped: the tighter run failed (%s)", source, exc)
        return None
    ref = tight[C.SIMULATION].to_numpy(dtype=float)
    rows = []
    for o in names:
        k = obs == o
        t = relative_differences(sim[k, None], ref[k, None], [o], floor=s.absolute_tolerance)
        rows.append(t.iloc[0])
    table = pd.DataFrame(rows).drop(columns=[AT_TIME]).reset_index(drop=True)
    return _report(table, opts, s, source, "the PEtab simulation is")
