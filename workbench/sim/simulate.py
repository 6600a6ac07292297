"""One simulation: a model under a regimen -> a tidy DataFrame with units.

:func:`simulate` converts the regimen's doses (mg, ug/kg, mg/m2, ...) into the
dosed species' substance units and the model's time unit, hands them to the
engine as amounts and infusion rates, and returns ``time`` plus one column per
output. Units are in ``df.attrs["units"]`` (column -> unit string), and
:func:`write_trajectory` writes them into the CSV header as ``"id [unit]"``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbench.core import units as U
from workbench.core.dosing import Regimen, dose_in_model_units, parse_regimen
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.errors import DoseError, SimulationError, SpecError
from workbench.sim._batch import BatchRunner
from workbench.sim._engine import DoseEvent, engine_for
from workbench.sim._outputs import parse_output
from workbench.sim._timegrid import DEFAULT_POINTS, TimeGrid, resolve_time, time_grid
from workbench.sim.options import RunOptions, bundles

__all__ = ["DoseContext", "dose_times", "doses_to_events", "output_units", "read_trajectory", "resolve_time",
           "simulate", "write_trajectory"]

log = logging.getLogger(__name__)


#: What converts doses into model amounts (the drug's molecular weight, the subject, the
#: dosed species): the :class:`~workbench.core.options.Dosing` bundle, under its older name.
DoseContext = Dosing


def _as_model(model: Model | str | os.PathLike[str]) -> Model:
    return model if isinstance(model, Model) else load_model(model)


_STATED: set[str] = set()


def _regimen_factor(regimen: Regimen, model: Model) -> float:
    mt = model.time_unit
    if not mt:
        if not _STATED:  # once per process (derived models too), not once per run
            _STATED.add(model.source)
            log.warning("%s: model time unit undeclared; regimen times are taken as model "
                        "times", model.source)
        return 1.0
    return U.factor(regimen.time_unit, mt)


def doses_to_events(model: Model, regimen: Regimen, ctx: DoseContext | None = None,
                    target: str | None = None) -> list[DoseEvent]:
    """Engine dose events (model units) for ``regimen``.

    Raises
    ------
    DoseError
        When a dose has no target species, the target does not exist, or its
        units cannot be converted.
    """
    ctx = ctx or DoseContext()
    tf = _regimen_factor(regimen, model)
    sdoc = model.sim_document.getModel()
    events: list[DoseEvent] = []
    for d in regimen.doses:
        tgt = d.target or regimen.target or target or ctx.target
        if not tgt:
            raise DoseError("the dose has no target species", source=model.source, element="dose",
                            fix="name the dosed species (target=..., --into SPECIES, or "
                                "'into SPECIES' in the dose text)")
        sp = sdoc.getSpecies(tgt)
        if sp is None:
            from workbench.core.model import _did_you_mean

            species_ids = [sdoc.getSpecies(i).getId() for i in range(sdoc.getNumSpecies())]
            raise DoseError(f"cannot dose into {tgt!r}: the model has no such species",
                            source=model.source, element=tgt, fix=_did_you_mean(tgt, species_ids))
        amount = dose_in_model_units(d, model.units.species_substance(sp), mw=ctx.mw,
                                     subject=ctx.subject)
        t = d.time * tf
        if d.route == "bolus":
            events.append(DoseEvent(time=t, target=tgt, amount=amount))
        else:
            dur = d.duration * tf
            rate = amount / dur
            events.append(DoseEvent(time=t, target=tgt, rate=rate))
            events.append(DoseEvent(time=t + dur, target=tgt, rate=-rate))
    return events


def dose_times(model: Model, regimen: Regimen | str) -> list[float]:
    """Start times of the regimen's doses in model time units."""
    if isinstance(regimen, str):
        regimen = parse_regimen(regimen)
    tf = _regimen_factor(regimen, model)
    return sorted({d.time * tf for d in regimen.doses})


def output_units(model: Model, outputs: Sequence[str]) -> dict[str, str]:
    """Unit string of each output name (``S``, ``[S]``, ``amount(S)``, parameter ids, ...)."""
    out = {}
    m = model.sim_document.getModel()
    for o in outputs:
        form, sid = parse_output(o)
        if form != "symbol":
            s = m.getSpecies(sid)
            out[o] = "" if s is None else (model.units.concentration(s)
                                           if form == "concentration"
                                           else model.units.species_substance(s))
        else:
            try:
                out[o] = model.unit_of(sid)
            except Exception:
                out[o] = ""
    return out


#: the older keywords of :func:`simulate`
_SIMULATE_KEYS = ("target", "mw", "subject", "start", "end", "points", "times", "integrator")


def simulate(model: Model | str | os.PathLike[str], regimen: Regimen | str | None = None, *,
             outputs: Sequence[str] | None = None, parameters: Mapping[str, float] | None = None,
             dosing: Dosing | None = None, grid: TimeGrid | None = None,
             run: RunOptions | None = None, predose: bool = False, check_finite: bool = True,
             convergence_check=None, **legacy) -> pd.DataFrame:
    """Simulate a model, optionally under a dosing regimen.

    Parameters
    ----------
    model
        A :class:`~workbench.core.model.Model`, or anything :func:`~workbench.load_model` takes.
    regimen
        A :class:`~workbench.core.dosing.Regimen` or its text form (``"0.1 mg/kg iv q1w x4"``).
    outputs
        Output names: a species id (its SBML meaning: a concentration unless
        hasOnlySubstanceUnits), ``[S]`` (concentration), ``amount(S)``, or any
        parameter, compartment or reaction id. Default: every species.
    parameters
        Values to set before the run (model units): global parameters, species
        initial values (in the unit of the species symbol), compartment sizes.
        Initial assignments that depend on them are re-evaluated; a value set for
        an element with its own initial assignment wins over that assignment.
        Variables of assignment rules cannot be set (:class:`SpecError`).
    dosing
        :class:`~workbench.core.options.Dosing`: the species receiving doses that do
        not name their own, the drug's molecular weight (mass doses into models that
        count moles), the subject's body size (``/kg``, ``/m2`` doses).
    grid
        :class:`~workbench.sim._timegrid.TimeGrid`: start and end (numbers in model
        time units or text with a unit, ``"672 h"``) with ``points`` evenly spaced
        output points (default 101, :data:`workbench.sim._timegrid.DEFAULT_POINTS`), or
        explicit output ``times`` (model units) instead of ``end``/``points``.
    run
        :class:`~workbench.sim.options.RunOptions`; a single run uses its ``integrator``.
    check_finite
        Raise :class:`SimulationError` when an output is infinite or NaN (default);
        False returns such values (some models legitimately reach infinity).
    predose
        Repeat each output time that is a dose time: first the state just
        before the dose, then after it (used for troughs).
    convergence_check
        Re-run at 100-fold tighter tolerances and warn
        (:class:`~workbench.sim.convergence.ConvergenceWarning`) when an output moves
        by more than 1e-4 relative; True/False or
        :class:`~workbench.sim.convergence.ConvergenceOptions`; None (default): on,
        unless switched off by :func:`~workbench.sim.convergence.convergence_options`.
        A state beyond any physical scale raises
        :class:`~workbench.sim.convergence.BlowUpError` whenever ``check_finite``.
        The :class:`~workbench.sim.convergence.ConvergenceReport` is in
        ``df.attrs["convergence"]``.

    **legacy
        The older keywords, each building its bundle: ``target``, ``mw``,
        ``subject`` (``dosing``); ``start``, ``end``, ``points``, ``times`` (``grid``);
        ``integrator`` (``run``). Giving a bundle and one of its keywords is a
        :class:`SpecError`.

    Returns
    -------
    pandas.DataFrame
        Column ``time`` then one column per output; ``df.attrs["units"]`` maps
        each column to its unit string, ``df.attrs["regimen"]`` the regimen text.

    Notes
    -----
    A simulation is a batch of one row (:class:`workbench.sim._batch.BatchRunner`),
    run exactly as each sample of :func:`~workbench.run_ensemble`: the same
    parameters give the same numbers through both.

    Raises
    ------
    UnknownIdError, DoseError, UnitError, SimulationError, SpecError, UnsupportedFeatureError
    """
    dosing, grid_spec, run = bundles("simulate", legacy, dosing=dosing, grid=grid, run=run,
                                     allowed=_SIMULATE_KEYS)
    target, integrator = dosing.target, run.integrator
    m = _as_model(model)
    if isinstance(regimen, str):
        regimen = parse_regimen(regimen, target=target)
    # explicit times replace end/points
    out_times = time_grid(grid_spec, default_points=DEFAULT_POINTS, model=m)
    if outputs is None:
        outputs = list(m.species["id"])
    outputs = list(outputs)
    if not outputs:
        raise SimulationError("no outputs requested and the model has no species", source=m.source,
                              element="outputs", fix="name outputs, e.g. outputs=['Drug']")
    events = doses_to_events(m, regimen, dosing) if regimen is not None else []
    infusion_targets = tuple(sorted({e.target for e in events if e.rate}))
    from workbench.core.input_checks import check_integrator, check_set_values

    check_integrator(integrator, m.source)  # named here, not as a CVODE failure
    check_set_values(m, parameters)
    params = dict(parameters or {})
    try:
        values = np.array([float(v) for v in params.values()], dtype=float)
    except (TypeError, ValueError):
        raise SpecError("a parameter value is not a number", source=m.source,
                        element="parameters") from None
    engine = engine_for(m.sbml, infusion_targets, m.source)
    row = BatchRunner(engine, list(params), out_times, outputs, events, predose)
    arr = row.run(values, integrator, check_finite=check_finite)
    from workbench.sim.convergence import check_simulation, report_of, resolve_options

    conv = None
    if check_finite:
        conv = check_simulation(engine, out_times, outputs, arr, parameters=params,
                                doses=events, settings=integrator, predose=predose,
                                opts=resolve_options(convergence_check), source=m.source)
    df = pd.DataFrame(arr, columns=["time", *outputs])
    df.attrs["convergence"] = report_of(conv)
    df.attrs["units"] = {"time": m.time_unit, **output_units(m, outputs)}
    df.attrs["model"] = m.source
    df.attrs["regimen"] = str(regimen) if regimen is not None else ""
    return df


def write_trajectory(df: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a trajectory as CSV with ``"id [unit]"`` headers, atomically."""
    from workbench.core._io import atomic_write_text

    units = df.attrs.get("units", {})
    header = [f"{c} [{units.get(c, '')}]" if units.get(c, "") else str(c) for c in df.columns]
    out = df.copy()
    out.columns = header
    atomic_write_text(path, out.to_csv(index=False, float_format="%.10g"))


def read_trajectory(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV written by :func:`write_trajectory`; units go back to ``attrs["units"]``."""
    import re

    from workbench.core.textin import read_table

    df = read_table(path, "trajectory table")
    cols, units = [], {}
    for c in df.columns:
        mm = re.match(r"^(.*?) \[(.*)\]$", c)
        name, unit = (mm.group(1), mm.group(2)) if mm else (c, "")
        cols.append(name)
        units[name] = unit
    df.columns = cols
    df.attrs["units"] = units
    return df
