"""The only module that talks to libRoadRunner.

An :class:`Engine` holds one ``RoadRunner`` built from SBML text and reuses it
for every run. A run is :meth:`Engine.prepare` (restore what earlier runs
changed, set the run's values through index setters, ``reset`` so that initial
assignments see them) then :meth:`Engine.integrate` (the segments between doses
of a :class:`~workbench.sim._segments.SegmentPlan`). What the engine knows about the
model, and how to set a given list of ids, is computed once
(:mod:`workbench._model_index`). :func:`engine_for` is the one engine cache.

Doses are applied between integration segments: a bolus adds amount to its
species; an infusion switches a zero-order input on and off. The input is a
reaction ``-> S; _wb_rate_S`` added to a *working copy* of the SBML (the
user's model is never edited), with the rate parameter at 0 outside infusions.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import threading
from dataclasses import dataclass

import numpy as np

from workbench.core._sbmlmath import unsupported_features
from workbench.errors import (
    ModelLoadError,
    SimulationError,
    UnknownIdError,
    UnsupportedFeatureError,
    WorkbenchError,
)
from workbench.sim._model_index import INIT_GETTERS, INIT_SETTERS, Assignment, ModelIndex
from workbench.sim._segments import DoseEvent, SegmentPlan

__all__ = ["Engine", "IntegratorSettings", "SegmentPlan", "engine_for", "get_engine",
           "unsupported_features", "versions"]

log = logging.getLogger(__name__)

INFUSION_PREFIX = "_wb_rate_"


@dataclass(frozen=True)
class IntegratorSettings:
    """CVODE settings.

    Attributes
    ----------
    relative_tolerance, absolute_tolerance
        Local error tolerances. Defaults 1e-11 and 1e-12 (model units): at 1e-8
        the Crauste PEtab benchmark's observables are off by up to 1.9 % from the
        problem's reference simulation, at 1e-10 by 5e-4, at 1e-11 by 3e-5 (about
        1.5-1.9x the CPU time of 1e-8 on the TMDD ensemble benchmark);
        :mod:`workbench.convergence` checks every result at 100-fold tighter ones.
    max_step
        Largest internal step in model time units; 0 lets CVODE choose. None (the
        default) is automatic: a fifth of the output interval for models with SBML
        events (so the solver cannot step over a short trigger window), no limit
        otherwise.
    max_num_steps
        Internal steps allowed between two output points before failing.
    stiff
        BDF (True) or Adams (False).
    discontinuous_relative_tolerance
        Relative tolerance used instead, when smaller, for models whose ODE
        right-hand side contains discontinuous math (piecewise, relational or
        logical operators, floor/ceiling): BDF with a difference-quotient Jacobian
        can step over a state-dependent switch at looser tolerances (SBML test
        suite cases 00028, 00173, 00269).
    """

    relative_tolerance: float = 1e-11
    absolute_tolerance: float = 1e-12
    max_step: float | None = None
    max_num_steps: int = 200_000
    stiff: bool = True
    discontinuous_relative_tolerance: float = 1e-10

    def tightened(self, factor: float = 100.0) -> IntegratorSettings:
        """Tolerances divided by ``factor``."""
        return IntegratorSettings(self.relative_tolerance / factor, self.absolute_tolerance / factor,
                                  self.max_step, self.max_num_steps * 10, self.stiff,
                                  self.discontinuous_relative_tolerance / factor)


def versions() -> dict[str, str]:
    """Versions of the numerical software in use."""
    import libsbml
    import roadrunner

    out = {"libroadrunner": roadrunner.__version__, "libsbml": libsbml.getLibSBMLDottedVersion()}
    try:
        import antimony

        out["antimony"] = antimony.__version__
    except Exception:  # pragma: no cover - optional
        pass
    return out


def _add_infusion_inputs(sbml: str, targets: tuple[str, ...]) -> str:
    """Working copy of ``sbml`` with one zero-order input reaction per target species."""
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    m = doc.getModel()
    rule_vars = {m.getRule(i).getVariable() for i in range(m.getNumRules())}
    for t in targets:
        s = m.getSpecies(t)
        if s is None:
            raise UnknownIdError(f"cannot infuse into {t!r}: no such species", element=t)
        if s.getBoundaryCondition() or s.getConstant() or t in rule_vars:
            raise SimulationError(f"cannot infuse into species {t!r}: it is a boundary or constant "
                                  "species, or set by a rule, so a reaction cannot change it",
                                  element=t, fix="dose a species that reactions change")
        if s.isSetConversionFactor() or (m.getLevel() >= 3 and m.isSetConversionFactor()):
            raise SimulationError(f"cannot infuse into species {t!r}: it has a conversion factor",
                                  element=t, fix="dose a species without a conversion factor")
        pid = INFUSION_PREFIX + t
        p = m.createParameter()
        p.setId(pid)
        p.setValue(0.0)
        p.setConstant(False)
        r = m.createReaction()
        r.setId("_wb_infusion_" + t)
        r.setReversible(False)
        if m.getLevel() >= 3:
            r.setFast(False)
        pr = r.createProduct()
        pr.setSpecies(t)
        pr.setStoichiometry(1.0)
        if m.getLevel() >= 3:
            pr.setConstant(True)
        kl = r.createKineticLaw()
        kl.setMath(libsbml.parseL3Formula(pid))
    return libsbml.writeSBMLToString(doc)


_SOLVER_FIX = ("try tighter tolerances, a limited max_step, or a larger max_num_steps "
               "(IntegratorSettings / --rtol --max-step)")
_DEFAULT_SETTINGS = IntegratorSettings()


class Engine:
    """One RoadRunner for one SBML text, reused across runs.

    Every run goes through :meth:`prepare` (set the values of an
    :class:`~workbench.sim._model_index.Assignment`) and :meth:`integrate` (a
    :class:`~workbench.sim._segments.SegmentPlan`); :meth:`run_row` is the two under
    the engine's lock, and is what :func:`workbench.simulate` and each sample of
    :func:`workbench.run_ensemble` call.

    Parameters
    ----------
    sbml
        Simulatable SBML text (comp already flattened).
    infusion_targets
        Species that can receive zero-order infusions.
    source
        Name used in error messages.
    """

    def __init__(self, sbml: str, infusion_targets: tuple[str, ...] = (), source: str = "") -> None:
        import libsbml
        import roadrunner

        self.source = source
        doc = libsbml.readSBMLFromString(sbml)
        bad = unsupported_features(doc)
        if bad:
            feature, element, detail = bad[0]
            raise UnsupportedFeatureError(feature, source=source or None, element=element or None,
                                          detail=detail)
        self.infusion_targets = tuple(infusion_targets)
        text = _add_infusion_inputs(sbml, self.infusion_targets) if infusion_targets else sbml
        roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
        # libRoadRunner's Python layer installs each model id as a property on the
        # RoadRunner *class* and deletes them at the next load: a model with an element
        # named `reset` or `simulate` would delete those methods for the whole process.
        roadrunner.Config.setValue(roadrunner.Config.ROADRUNNER_DISABLE_PYTHON_DYNAMIC_PROPERTIES,
                                   True)
        self._text = text
        try:
            self.rr = roadrunner.RoadRunner(text)
        except Exception as exc:
            msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if "fast" in msg.lower():
                raise UnsupportedFeatureError("fast reactions", source=source or None,
                                              detail="fast reactions are not supported") from None
            raise ModelLoadError(f"libRoadRunner cannot build the model: {msg}",
                                 source=source or None,
                                 fix="run `workbench validate` on the model and fix its errors") from None
        self.index = ModelIndex.build(doc, self.rr, self.infusion_targets, source)
        self.lock = threading.Lock()
        self._selections: tuple[str, ...] | None = None
        self._settings: IntegratorSettings | None = None
        self._applied_from: tuple | None = None
        self._plan_options: tuple | None = None
        self._assignments: dict[tuple[str, ...], Assignment] = {}
        self._output_sels: dict[tuple[str, ...], tuple[str, ...]] = {}
        # the one restore ledger: loaded initial values (restore kind, index) -> value that
        # some assignment overwrote, and the assignment whose values the model holds now
        self._ledger: dict[tuple[str, int], float] = {}
        self._holder: Assignment | None = None

    # -- names ------------------------------------------------------------------
    def selection(self, output: str) -> str:
        """RoadRunner selection for an output name (:mod:`workbench._outputs`).

        ``S`` is the species as the SBML symbol means it (a concentration unless
        hasOnlySubstanceUnits), ``[S]`` its concentration, ``amount(S)`` its
        amount; other ids (parameters, compartments, reactions, species
        references) select their value.
        """
        return self.index.selection(output)

    def _selections_of(self, outputs: tuple[str, ...]) -> tuple[str, ...]:
        sels = self._output_sels.get(outputs)
        if sels is None:
            sels = tuple(self.index.selection(o) for o in outputs)
            if len(self._output_sels) > 64:
                self._output_sels.clear()
            self._output_sels[outputs] = sels
        return sels

    def assignment(self, ids: tuple[str, ...]) -> Assignment:
        """The compiled :class:`~workbench.sim._model_index.Assignment` for ``ids`` (cached).

        Raises
        ------
        UnknownIdError, SpecError
            An id cannot be set (not a global parameter, species or compartment, or
            defined by an assignment rule).
        """
        ids = tuple(ids)
        a = self._assignments.get(ids)
        if a is None:
            a = self.index.assignment(ids)
            if len(self._assignments) > 64:
                self._assignments = {k: v for k, v in self._assignments.items()
                                     if v is self._holder}
            self._assignments[ids] = a
        return a

    @contextlib.contextmanager
    def solver_errors(self, what: str = "the solver failed", fix: str = _SOLVER_FIX):
        """Turn a libRoadRunner exception into a one-paragraph :class:`SimulationError`
        (workbench errors pass through)."""
        try:
            yield
        except WorkbenchError:
            raise
        except Exception as exc:
            msg = " ".join(str(exc).split())[:400]
            raise SimulationError(f"{what}: {msg}", source=self.source or None,
                                  fix=fix) from None

    # -- one run ------------------------------------------------------------------
    def prepare(self, a: Assignment, values: np.ndarray) -> None:
        """Put the model in the initial state of a run that sets ``a.ids`` to ``values``.

        The one sequence every run goes through (caller holds :attr:`lock`):

        1. when another assignment set values last, the initial values it
           overwrote are restored from the ledger (and ``resetAll`` is forced);
        2. species and compartment initial values go through the executable
           model's index setters, compartments first (``init(...)`` selections
           would regenerate the model and drop the element's initial assignment);
        3. ``resetAll`` when a run can change compartments or globals (events,
           rate rules, infusion inputs, a compartment set), then the globals events
           assign back to their loaded values: ``reset`` fires t = 0 events again
           (SBML test suite cases 01696-01699, 01820);
        4. global parameters, with the parameters whose initial assignments read a
           set value (evaluated here: libRoadRunner 2.10 re-evaluates only those of
           species), are set, ``reset`` re-evaluates initial assignments, and the
           globals are set again (a set value wins over the parameter's own
           initial assignment);
        5. species and compartments with an initial assignment are set as current
           values (a value the user set wins over the element's assignment).

        Models with delayed events take a new RoadRunner instead
        (:meth:`_prepare_fresh`). Raises :class:`SimulationError` for a value that
        is not finite.
        """
        values = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(values)):
            bad = [a.ids[i] for i in np.flatnonzero(~np.isfinite(values))]
            raise SimulationError(f"value of {', '.join(map(repr, bad))} is not finite",
                                  source=self.source or None, element=bad[0])
        dep = self._dependents(a, values)
        if self.index.delayed_events:
            self._prepare_fresh(a, values, dep)
            return
        rr = self.rr
        mod = rr.model
        full = a.reset_all
        if self._holder is not a:
            self._restore(a)
            full = True
        for setter, at, idx in a.init:
            setter(mod, idx, values[at])
        if len(dep) < len(a.dependents):
            full = True  # an assignment could not be evaluated: back to its loaded value
        if full:
            rr.resetAll()
            eg = self.index.event_globals
            if eg[0].size:
                mod.setGlobalParameterValues(*eg)
        gi, gv = self._globals(a, values, dep)
        if gi.size:
            mod.setGlobalParameterValues(gi, gv)
            rr.reset()
            mod.setGlobalParameterValues(gi, gv)
        else:
            rr.reset()
        for pos, sel in a.after:
            rr.setValue(sel, float(values[pos]))

    def _restore(self, a: Assignment) -> None:
        """Ledger: put back the initial values other assignments overwrote, and note the
        loaded values ``a`` is about to overwrite."""
        mod = self.rr.model
        for (kind, i), v in self._ledger.items():
            if (kind, i) not in a.init_keys:
                INIT_SETTERS[kind](mod, np.array([i], np.int32), np.array([v]))
        for kind, i in sorted(a.init_keys, key=lambda k: k[0] != "compartment"):
            if (kind, i) not in self._ledger:
                self._ledger[(kind, i)] = float(np.asarray(INIT_GETTERS[kind](mod))[i])
        self._holder = a

    def _dependents(self, a: Assignment, values: np.ndarray) -> dict[str, float]:
        if not a.dependents:
            return {}
        return a.dependent_plan.evaluate(values.tolist())

    @staticmethod
    def _globals(a: Assignment, values: np.ndarray, dep: dict[str, float]
                 ) -> tuple[np.ndarray, np.ndarray]:
        if not dep:
            return a.gidx, values[a.gpos]
        idx = np.concatenate([a.gidx, np.array([a.dependents[p] for p in dep], np.int32)])
        return idx, np.concatenate([values[a.gpos], np.array(list(dep.values()), float)])

    def _prepare_fresh(self, a: Assignment, values: np.ndarray, dep: dict[str, float]) -> None:
        """:meth:`prepare` on a new RoadRunner: for models with delayed events.

        libRoadRunner never clears its queue of pending delayed events: every
        ``reset``/``resetAll`` queues a t = 0 delayed event once more, and an event
        still pending when a run ended fires in the next one (SBML test suite case
        01757). A new instance (0.5-5 ms: libRoadRunner caches the compiled model)
        has exactly the events of a fresh load. Set values become the current
        state directly; a ``reset`` (which queues a t = 0 delayed event once more)
        is needed only when an initial assignment reads a set value or a
        compartment size changes under an initial assignment
        (:attr:`Assignment.fresh_reset`), a remaining limitation for models with
        delayed events triggering at t = 0.
        """
        import roadrunner

        prev = self._settings
        self.rr = rr = roadrunner.RoadRunner(self._text)
        self._settings, self._selections, self._applied_from = None, None, None
        self._ledger.clear()  # a new instance holds the loaded values
        self._holder = None
        if prev is not None:
            self._apply_settings(prev)
        if not a.ids:
            return
        mod = rr.model
        for setter, at, idx in a.init:
            setter(mod, idx, values[at])
        for pos, sid in a.compartments_current:  # the current size too, before any reset
            rr.setValue(sid, float(values[pos]))
        gi, gv = self._globals(a, values, dep)
        if gi.size:
            mod.setGlobalParameterValues(gi, gv)
        if a.fresh_reset:
            rr.reset()
            if gi.size:
                mod.setGlobalParameterValues(gi, gv)
        else:  # the fresh state is the initial state: set the current values too
            for pos, sel in a.init_current:
                rr.setValue(sel, float(values[pos]))
        for pos, sel in a.after:
            rr.setValue(sel, float(values[pos]))

    def integrate(self, plan: SegmentPlan, outputs: tuple[str, ...],
                  settings: IntegratorSettings | None = None, dose_scale: float = 1.0,
                  check_finite: bool = True) -> np.ndarray:
        """Integrate the prepared model along ``plan``: array (rows, 1 + len(outputs)).

        Each segment's doses (amounts and infusion rates times ``dose_scale``) are
        applied at its start. Caller holds :attr:`lock`, after :meth:`prepare`.
        """
        self._apply_settings(settings or _DEFAULT_SETTINGS, plan.times)
        sels = self._selections_of(outputs)
        if sels != self._selections:
            self.rr.timeCourseSelections = ["time", *sels]
            self._selections = sels
        return self.run_plan(plan, dose_scale=dose_scale, check_finite=check_finite)

    def run_row(self, a: Assignment, values: np.ndarray, plan: SegmentPlan,
                outputs: tuple[str, ...], settings: IntegratorSettings | None = None,
                dose_scale: float = 1.0, check_finite: bool = True) -> np.ndarray:
        """:meth:`prepare` then :meth:`integrate`, under the lock: one run.

        Raises
        ------
        SimulationError
            The solver failed, a value is not finite, or (``check_finite``) the result
            is not finite.
        """
        with self.lock, self.solver_errors():
            self.prepare(a, values)
            return self.integrate(plan, outputs, settings, dose_scale, check_finite)

    def run(self, times: np.ndarray, outputs: list[str], *, parameters: dict[str, float] | None = None,
            doses: list[DoseEvent] | None = None,
            settings: IntegratorSettings | None = None, predose: bool = False,
            check_finite: bool = True) -> np.ndarray:
        """Simulate and return an array (rows, 1 + len(outputs)): time, then outputs.

        ``times`` must be sorted; the state at a dose time is the state after the dose.
        With ``predose`` a requested time that is a dose time appears twice: the
        state just before the dose, then the state after it.
        """
        params = dict(parameters or {})
        a = self.assignment(tuple(params))
        plan = SegmentPlan.build(np.asarray(times, dtype=float), list(doses or []), predose)
        return self.run_row(a, np.array([float(v) for v in params.values()]), plan,
                            tuple(outputs), settings, check_finite=check_finite)

    def _prepare_dict(self, parameters: dict[str, float] | None) -> None:
        params = dict(parameters or {})
        self.prepare(self.assignment(tuple(params)),
                     np.array([float(v) for v in params.values()]))

    def _apply_settings(self, s: IntegratorSettings, times: np.ndarray | None = None) -> None:
        # per-sample calls of a batch pass the same objects: nothing to resolve again
        # (the objects are held, so an identity match cannot be a reused address)
        last = self._applied_from
        if self._settings is not None and last is not None and last[0] is s and last[1] is times:
            return
        self._applied_from = (s, times)
        ms = s.max_step
        if ms is None:
            ms = 0.0
            if self.index.has_events and times is not None and len(times) > 1:
                span = float(times[-1] - times[0])
                ms = span / (len(times) - 1) / 5.0 if span > 0 else 0.0
        rtol = s.relative_tolerance
        if self.index.discontinuous:
            rtol = min(rtol, s.discontinuous_relative_tolerance)
        s = IntegratorSettings(rtol, s.absolute_tolerance, ms, s.max_num_steps, s.stiff,
                               s.discontinuous_relative_tolerance)
        if s == self._settings:
            return
        integ = self.rr.getIntegrator()
        # attribute assignment on the SWIG proxy is silently ignored: use setValue.
        # `stiff` first: changing it re-creates CVODE's memory and silently drops a
        # maximum step set before it (SBML test suite case 01511)
        integ.setValue("stiff", bool(s.stiff))
        integ.setValue("relative_tolerance", float(s.relative_tolerance))
        integ.setValue("absolute_tolerance", float(s.absolute_tolerance))
        integ.setValue("maximum_time_step", float(ms))  # s.max_step, resolved above
        integ.setValue("maximum_num_steps", int(s.max_num_steps))
        self._settings = s

    def run_plan(self, plan: SegmentPlan, *, dose_scale: float = 1.0,
                 check_finite: bool = True) -> np.ndarray:
        """Integrate segment by segment, applying each segment's doses (amounts and rates
        times ``dose_scale``) at its start."""
        rr = self.rr
        sels = self._selections
        assert sels is not None, "the output selections are set before a run"
        rows = []
        for s, opts in zip(plan.segments, self._simulate_options(plan), strict=True):
            for d in s.doses:
                self._apply_dose(d, dose_scale)
            if opts is None:
                res = self._snapshot(s.sim_times[0])
            else:
                res = np.asarray(rr._simulate(opts))
            rows.append(res if s.keep_all else res[s.keep])
        if plan.end_doses:
            # doses exactly at the last time point: the row shows the state after them
            tend = plan.segments[-1].sim_times[-1]
            for d in plan.end_doses:
                self._apply_dose(d, dose_scale)
            last = rows[-1]
            if len(last) and last[-1, 0] == tend:
                post = self._snapshot(tend)
                rows[-1] = np.vstack([last, post]) if plan.predose else np.vstack([last[:-1], post])
        res = np.vstack(rows) if rows else np.empty((0, len(sels) + 1))
        return self._check(res) if check_finite else res

    def _simulate_options(self, plan: SegmentPlan) -> list:
        """One ``SimulateOptions`` per integrating segment of ``plan`` (None: a snapshot).

        Batch runs execute one plan many times; building the options once and
        calling ``RoadRunner._simulate`` directly skips the Python ``simulate``
        wrapper, which re-parses its arguments and re-reads the integrator on
        every call (about 30 us, 5 % of a 12-species run). The options hold
        only the output times, as the wrapper's own do after ``reset``.
        """
        import roadrunner

        held = self._plan_options
        if held is not None and held[0] is plan:
            return held[1]
        opts: list = []
        for s in plan.segments:
            if len(s.sim_times) == 1:
                opts.append(None)
                continue
            o = roadrunner.SimulateOptions()
            self.rr._setSimulateOptionsTimes(o, list(s.sim_times))
            opts.append(o)
        self._plan_options = (plan, opts)  # the plan is held: an identity match is this plan
        return opts

    def _snapshot(self, t: float) -> np.ndarray:
        rr = self.rr
        assert self._selections is not None, "the output selections are set before a run"
        vals = [t] + [rr.getValue(s) for s in self._selections]
        return np.array([vals], dtype=float)

    def _apply_dose(self, d: DoseEvent, scale: float = 1.0) -> None:
        rr = self.rr
        if d.amount:
            if d.target not in self.index.species:
                raise UnknownIdError(f"cannot dose into {d.target!r}: no such species",
                                     source=self.source or None, element=d.target,
                                     fix="name a species of the model (`workbench info MODEL`)")
            i = self.index.dose_index.get(d.target)
            if i is None:  # boundary species: through the selection
                rr.setValue(d.target, rr.getValue(d.target) + d.amount * scale)
            else:  # the executable model's amount setter (same numbers, no selection parsing)
                mod = rr.model
                mod.setFloatingSpeciesAmounts(i, mod.getFloatingSpeciesAmounts(i)
                                              + d.amount * scale)
        if d.rate:
            pid = INFUSION_PREFIX + d.target
            rate = d.rate * scale
            new = rr.getValue(pid) + rate
            rr.setValue(pid, 0.0 if abs(new) < 1e-12 * max(abs(rate), 1e-300) else new)

    def _check(self, res: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(res)):
            assert self._selections is not None, "the output selections are set before a run"
            bad = [self._selections[j - 1] for j in range(1, res.shape[1])
                   if not np.all(np.isfinite(res[:, j]))]
            raise SimulationError(f"the simulation produced non-finite values in {', '.join(bad)}",
                                  source=self.source or None,
                                  fix="check the rate laws for division by zero or blow-up, and the "
                                      "parameter values")
        return res

    # -- calibration support (workbench.petab_problem) -----------------------------
    # PEtab semantics: an optional pre-equilibration (the steady state under its own
    # values), then the simulation condition's values set on that state (no reset),
    # then integration from t = 0; a time of inf asks for the steady state.

    def run_condition(self, times: np.ndarray, outputs: list[str], *,
                      parameters: dict[str, float] | None = None,
                      preequilibration: dict[str, float] | None = None,
                      settings: IntegratorSettings | None = None,
                      max_steady_time: float = 1e10) -> np.ndarray:
        """Simulate one PEtab condition; array (len(times), 1 + len(outputs)), possibly NaN.

        ``times`` sorted, unique, >= 0; ``inf`` (last) is the steady state.
        Without ``preequilibration``, ``parameters`` are set as in :meth:`prepare`
        (species and compartments: initial values). With it, ``preequilibration``
        is set that way, the model is run to steady state, then ``parameters``
        set on that state (species and compartments: current values).
        """
        settings = settings or IntegratorSettings()
        sels = self._selections_of(tuple(outputs))
        times = np.asarray(times, dtype=float)
        finite = times[np.isfinite(times)]
        with self.lock, self.solver_errors(fix="check the parameter values and bounds; try "
                                               "other tolerances"):
            self._apply_settings(settings, finite if len(finite) > 1 else None)
            if preequilibration is None:
                self._prepare_dict(parameters)
            else:
                self._prepare_dict(preequilibration)
                self._to_steady_state(settings, max_steady_time)
                self._set_current(parameters or {})
            rr = self.rr  # a new instance for models with delayed events
            if sels != self._selections:
                rr.timeCourseSelections = ["time", *sels]
                self._selections = sels
            rows = []
            if len(finite):
                grid = [0.0, *[float(t) for t in finite if t > 0]]
                res = (np.array(rr.simulate(times=grid)) if len(grid) > 1
                       else self._snapshot(0.0))
                rows.append(res if finite[0] == 0 else res[1:])
            if len(finite) < len(times):
                self._to_steady_state(settings, max_steady_time)
                rows.append(self._snapshot(math.inf))
            out = np.vstack(rows)
        return out  # not checked: an output the caller does not need may be NaN (0/0 at t=0)

    def _set_current(self, values: dict[str, float]) -> None:
        """Set current values (no reset): global parameters, species (as the symbol means),
        compartments, and the parameters whose initial assignments read them. The model
        then holds values no ledger knows: the next :meth:`prepare` restores everything."""
        a = self.assignment(tuple(values))  # UnknownIdError, SpecError
        vals = np.array([float(v) for v in values.values()])
        if not np.all(np.isfinite(vals)):
            bad = [s for s, v in zip(a.ids, vals, strict=True) if not math.isfinite(v)]
            raise SimulationError(f"value of {bad[0]!r} is not finite", element=bad[0])
        self._holder = None
        rr = self.rr
        for sid, v in {**values, **self._dependents(a, vals)}.items():
            rr.setValue(self.selection(sid) if sid in self.index.species else sid, float(v))

    def _to_steady_state(self, settings: IntegratorSettings, max_time: float) -> None:
        """Integrate from the current state over doubling spans until every state's rate of
        change is below ``atol + rtol |x|`` in root-mean-square (the simulation-based
        steady-state criterion of AMICI; Fröhlich et al. 2017, doi:10.1371/journal.pcbi.1005331)."""
        rr = self.rr
        names = [n.rstrip("'") for n in rr.getRatesOfChangeNamedArray().colnames]
        rtol, atol = settings.relative_tolerance, settings.absolute_tolerance
        t, dt = 0.0, 1.0
        while True:
            rates = np.asarray(rr.getRatesOfChange(), dtype=float)
            x = np.array([rr.getValue(n) for n in names], dtype=float)
            if not len(x) or np.sqrt(np.mean((rates / (atol + rtol * np.abs(x))) ** 2)) < 1.0:
                return
            if not (np.all(np.isfinite(rates)) and np.all(np.isfinite(x))):
                raise SimulationError("non-finite values while running to steady state",
                                      source=self.source or None)
            if t >= max_time:
                raise SimulationError(f"no steady state reached by t={t:g}",
                                      source=self.source or None,
                                      fix="check that the pre-equilibration condition has a "
                                          "steady state")
            rr.simulate(t, t + dt, 2)
            t += dt
            dt *= 2.0

    # -- verification support (workbench.verify) ----------------------------------
    def state_rates(self, parameters: dict[str, float] | None = None
                    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The state at the start (after :meth:`prepare`, no dose) and its rates of change.

        Returns
        -------
        (ids, values, rates)
            State variables (floating species, rate-rule variables), their
            values (species as amounts) and time derivatives (``getRatesOfChange``).
        """
        with self.lock, self.solver_errors():
            self._prepare_dict(parameters)
            rr = self.rr
            arr = rr.getRatesOfChangeNamedArray()
            ids = [n.rstrip("'") for n in arr.colnames]
            rates = np.asarray(arr, dtype=float).ravel()
            values = np.array([rr.getValue(n) for n in ids], dtype=float)
        return ids, values, rates

    def run_gillespie(self, times: np.ndarray, outputs: list[str], seeds: list[int], *,
                      parameters: dict[str, float] | None = None,
                      doses: list[DoseEvent] | None = None) -> np.ndarray:
        """Stochastic replicates with libRoadRunner's Gillespie direct method.

        Species amounts are taken as molecule counts. One replicate per seed;
        returns an array (len(seeds), len(times), 1 + len(outputs)). CVODE is
        restored afterwards.
        """
        sels = self._selections_of(tuple(outputs))
        times = np.asarray(times, dtype=float)
        out = []

        def gillespie():
            # on self.rr, again after a prepare that made a new instance (delayed events):
            # the new one has CVODE and no output selections
            rr = self.rr
            rr.setIntegrator("gillespie")
            integ = rr.getIntegrator()
            integ.setValue("variable_step_size", False)
            rr.timeCourseSelections = ["time", *sels]
            self._selections = sels
            return rr, integ

        with self.lock:
            try:
                with self.solver_errors("the stochastic simulation failed", fix=""):
                    rr, integ = gillespie()
                    plan = SegmentPlan.build(times, list(doses or []), False)
                    for seed in seeds:
                        self._prepare_dict(parameters)
                        if self.rr is not rr:
                            rr, integ = gillespie()
                        integ.setValue("seed", int(seed))
                        out.append(self.run_plan(plan))
            finally:
                self.rr.setIntegrator("cvode")
                self._settings = None
        return np.stack(out)


@functools.lru_cache(maxsize=16)
def engine_for(sbml: str, infusion_targets: tuple[str, ...] = (), source: str = "") -> Engine:
    """The process's :class:`Engine` for this SBML text and set of infusion targets (cached).

    The one engine cache: :func:`workbench.simulate`, ensembles run in this
    process, and each ensemble worker process take their engines here. Every run
    goes through :meth:`Engine.prepare`, which restores what earlier runs changed,
    so one engine serves any sequence of runs. Build an :class:`Engine` directly
    for a private one (a calibration objective, an independent repeat).
    """
    return Engine(sbml, infusion_targets, source)


#: former name of :func:`engine_for`
get_engine = engine_for
