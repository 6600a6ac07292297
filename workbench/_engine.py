"""The only module that talks to libRoadRunner.

An :class:`Engine` holds one ``RoadRunner`` built from SBML text and reuses it
for every run: restore the loaded state (``resetAll`` plus the initial values
this engine changed, which ``resetAll`` keeps), set the run's values, then
``reset`` so that initial assignments see them, then integrate.

Doses are applied between integration segments: a bolus adds amount to its
species; an infusion switches a zero-order input on and off. The input is a
reaction ``-> S; _wb_rate_S`` added to a *working copy* of the SBML (the
user's model is never edited), with the rate parameter at 0 outside infusions.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
from dataclasses import dataclass

import numpy as np

from ._sbmlmath import is_discontinuous, unsupported_features
from ._segments import DoseEvent, SegmentPlan
from .errors import ModelLoadError, SimulationError, UnknownIdError, UnsupportedFeatureError

__all__ = ["Engine", "IntegratorSettings", "SegmentPlan", "get_engine", "unsupported_features",
           "versions"]

log = logging.getLogger(__name__)

INFUSION_PREFIX = "_wb_rate_"


@dataclass(frozen=True)
class IntegratorSettings:
    """CVODE settings.

    Attributes
    ----------
    relative_tolerance, absolute_tolerance
        Local error tolerances.
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

    relative_tolerance: float = 1e-8
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


def libsbml_text(doc) -> str:
    """SBML text of a libSBML document."""
    import libsbml

    return libsbml.writeSBMLToString(doc)


class Engine:
    """One RoadRunner for one SBML text, reused across runs.

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
        self._doc = doc
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
        m = doc.getModel()
        self._species = {}
        for i in range(m.getNumSpecies()):
            s = m.getSpecies(i)
            self._species[s.getId()] = bool(s.getHasOnlySubstanceUnits())
        self._compartments = {m.getCompartment(i).getId() for i in range(m.getNumCompartments())}
        self._parameters = {m.getParameter(i).getId() for i in range(m.getNumParameters())}
        self._reactions = {m.getReaction(i).getId() for i in range(m.getNumReactions())}
        ruled = {m.getRule(i).getVariable() for i in range(m.getNumRules())}
        # dose targets set through the executable model's amount setter (see _apply_dose)
        self._float_index = {sid: np.array([i], np.int32) for i, sid in
                             enumerate(self.rr.model.getFloatingSpeciesIds()) if sid not in ruled}
        self._specrefs = set()
        for i in range(m.getNumReactions()):
            r = m.getReaction(i)
            for lst in (r.getListOfReactants(), r.getListOfProducts()):
                for j in range(lst.size()):
                    if lst.get(j).isSetId():
                        self._specrefs.add(lst.get(j).getId())
        self._selections: tuple[str, ...] | None = None
        self._settings: IntegratorSettings | None = None
        self._applied_from: tuple | None = None
        self._plan_options: tuple | None = None
        self.lock = threading.Lock()
        self._ia_base()  # loaded values the parameter initial assignments read, taken now

    # -- names ------------------------------------------------------------------
    def selection(self, output: str) -> str:
        """RoadRunner selection for an output name.

        ``S`` is the species as the SBML symbol means it (a concentration unless
        hasOnlySubstanceUnits), ``[S]`` its concentration, ``amount(S)`` its
        amount; other ids (parameters, compartments, reactions, species
        references) select their value.
        """
        o = output.strip()
        if o.startswith("[") and o.endswith("]") and o[1:-1] in self._species:
            return o
        if o.startswith("amount(") and o.endswith(")") and o[7:-1] in self._species:
            return o[7:-1]
        if o in self._species:
            return o if self._species[o] else f"[{o}]"
        if o in self._compartments or o in self._parameters or o in self._reactions \
                or o in self._specrefs or o == "time":
            return o
        known = sorted(self._species) + sorted(self._parameters) + sorted(self._compartments)
        import difflib

        close = difflib.get_close_matches(o.strip("[]"), known, n=3)
        raise UnknownIdError(f"unknown output {output!r}", source=self.source or None,
                             element=output,
                             fix=("did you mean " + " or ".join(map(repr, close)) + "? ") if close
                             else "use a species, parameter, compartment or reaction id; "
                                  "`workbench info MODEL` lists them")

    def init_selection(self, sid: str) -> str:
        """RoadRunner selection of the initial value that ``parameters={sid: v}`` sets."""
        if sid in self._species:
            return f"init({sid})" if self._species[sid] else f"init([{sid}])"
        if sid in self._compartments:
            return f"init({sid})"
        if sid in self._parameters:
            return sid
        raise UnknownIdError(f"cannot set {sid!r}: not a species, compartment or global parameter "
                             "of the model", source=self.source or None, element=sid,
                             fix="`workbench info MODEL` lists the settable ids (local reaction "
                                 "parameters cannot be set)")

    @functools.cached_property
    def _parameter_ias(self):
        from ._initial_assignments import ParameterInitialAssignments

        return ParameterInitialAssignments(libsbml_text(self._doc))

    def _ia_base(self) -> dict[str, float]:
        """Loaded values of every symbol the parameter initial assignments read."""
        if not hasattr(self, "_ia_base_cache"):
            rr = self.rr
            base = {}
            for name in self._parameter_ias.reads:
                try:
                    base[name] = float(rr.getValue(self.selection(name)))
                except Exception:  # a function name, a reaction, time: not a stored value
                    continue
            self._ia_base_cache = base
        return self._ia_base_cache

    # -- runs -------------------------------------------------------------------
    @functools.cached_property
    def _has_events(self) -> bool:
        return self._doc.getModel().getNumEvents() > 0

    @functools.cached_property
    def _discontinuous(self) -> bool:
        """True when the ODE right-hand side contains discontinuous math."""
        m = self._doc.getModel()
        roots = [m.getFunctionDefinition(i).getMath() for i in range(m.getNumFunctionDefinitions())]
        roots += [m.getRule(i).getMath() for i in range(m.getNumRules())]
        roots += [m.getReaction(i).getKineticLaw().getMath() for i in range(m.getNumReactions())
                  if m.getReaction(i).getKineticLaw() is not None]
        return is_discontinuous(roots)

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
            if self._has_events and times is not None and len(times) > 1:
                span = float(times[-1] - times[0])
                ms = span / (len(times) - 1) / 5.0 if span > 0 else 0.0
        rtol = s.relative_tolerance
        if self._discontinuous:
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
        integ.setValue("maximum_time_step", float(s.max_step))
        integ.setValue("maximum_num_steps", int(s.max_num_steps))
        self._settings = s

    def prepare(self, parameters: dict[str, float] | None) -> None:
        """Restore the loaded state, set ``parameters``, then reset (initial assignments re-evaluated).

        Species and compartment values go through the executable model's index
        setters (``init(...)`` selections would regenerate the model and drop the
        element's initial assignment for good); global parameters through
        ``setValue``. Parameter initial assignments that read a set value are
        evaluated here, because libRoadRunner 2.10 re-evaluates only those of
        species on ``reset``. A value the user set wins over the element's own
        initial assignment.
        """
        values = dict(parameters or {})
        for sid, v in values.items():
            if sid not in self._parameters:
                self.init_selection(sid)  # UnknownIdError for ids that cannot be set
            if not math.isfinite(float(v)):
                raise SimulationError(f"value of {sid!r} is not finite ({v})", element=sid)
        self._prepare_fast(values)

    def run(self, times: np.ndarray, outputs: list[str], *, parameters: dict[str, float] | None = None,
            doses: list[DoseEvent] | None = None,
            settings: IntegratorSettings | None = None, predose: bool = False,
            check_finite: bool = True) -> np.ndarray:
        """Simulate and return an array (rows, 1 + len(outputs)): time, then outputs.

        ``times`` must be sorted; the state at a dose time is the state after the dose.
        With ``predose`` a requested time that is a dose time appears twice: the
        state just before the dose, then the state after it.
        """
        settings = settings or IntegratorSettings()
        sels = tuple(self.selection(o) for o in outputs)
        with self.lock:
            self.prepare(parameters)  # may start a new RoadRunner (delayed events)
            self._apply_settings(settings, np.asarray(times, dtype=float))
            rr = self.rr
            # setting some initial values regenerates the model, which resets the
            # selections: compare with the live list, not a cached one
            if sels != self._selections or list(rr.timeCourseSelections) != ["time", *sels]:
                rr.timeCourseSelections = ["time", *sels]
                self._selections = sels
            try:
                return self.run_plan(SegmentPlan.build(np.asarray(times, dtype=float),
                                                       doses or [], predose),
                                     check_finite=check_finite)
            except SimulationError:
                raise
            except Exception as exc:
                raise self.solver_error(exc) from None

    def solver_error(self, exc: Exception) -> SimulationError:
        """A one-paragraph :class:`SimulationError` for a libRoadRunner failure."""
        msg = " ".join(str(exc).split())[:400]
        return SimulationError(f"the solver failed: {msg}", source=self.source or None,
                               fix="try tighter tolerances, a limited max_step, or a larger "
                                   "max_num_steps (IntegratorSettings / --rtol --max-step)")

    def run_plan(self, plan: SegmentPlan, *, dose_scale: float = 1.0,
                 check_finite: bool = True) -> np.ndarray:
        """Integrate segment by segment, applying each segment's doses (amounts and rates
        times ``dose_scale``) at its start."""
        rr = self.rr
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
        res = np.vstack(rows) if rows else np.empty((0, len(self._selections) + 1))
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
        vals = [t] + [rr.getValue(s) for s in self._selections]
        return np.array([vals], dtype=float)

    def _apply_dose(self, d: DoseEvent, scale: float = 1.0) -> None:
        rr = self.rr
        if d.amount:
            if d.target not in self._species:
                raise UnknownIdError(f"cannot dose into {d.target!r}: no such species",
                                     source=self.source or None, element=d.target,
                                     fix="name a species of the model (`workbench info MODEL`)")
            i = self._float_index.get(d.target)
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
        sels = tuple(self.selection(o) for o in outputs)
        times = np.asarray(times, dtype=float)
        finite = times[np.isfinite(times)]
        with self.lock:
            self._apply_settings(settings, finite if len(finite) > 1 else None)
            try:
                if preequilibration is None:
                    self._prepare_fast(parameters or {})
                else:
                    self._prepare_fast(preequilibration)
                    self._to_steady_state(settings, max_steady_time)
                    self._set_current(self._with_dependents(parameters or {}))
                rr = self.rr  # a new instance for models with delayed events
                # setting some initial values regenerates the model, which resets the
                # selections: set them every time
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
            except SimulationError:
                raise
            except Exception as exc:
                msg = " ".join(str(exc).split())[:400]
                raise SimulationError(f"the solver failed: {msg}", source=self.source or None,
                                      fix="check the parameter values and bounds; try other "
                                          "tolerances") from None
        return out  # not checked: an output the caller does not need may be NaN (0/0 at t=0)

    def _prepare_fast(self, values: dict[str, float]) -> None:
        """:meth:`prepare` through the executable model's index setters (as
        :class:`BatchRunner` does; setting ``init(...)`` selections regenerates the
        model, ~30 ms each). Initial values changed by the previous call are restored
        first. A species or compartment value wins over its initial assignment.
        Use on a private engine: the changed initial values persist between calls.
        Every way of preparing a run goes through here, so parameter initial
        assignments that read a set value are evaluated here (:meth:`_with_dependents`)."""
        values = self._with_dependents(values)
        if self._delayed_events:
            self._prepare_fresh(values)
            return
        rr = self.rr
        mod = rr.model
        if not hasattr(self, "_cal_original"):
            self._cal_original: dict[tuple[str, int], float] = {}
            self._cal_index: dict[str, tuple[str, int]] = {}
            m = self._doc.getModel()
            self._cal_ia = {m.getInitialAssignment(i).getSymbol()
                            for i in range(m.getNumInitialAssignments())}
        for (kind, i), v in self._cal_original.items():
            _INIT_SETTERS[kind](mod, np.array([i], np.int32), np.array([v]))
        self._cal_original.clear()
        gidx, gval, after = [], [], []
        # compartments first: a species concentration set before its compartment's new
        # volume would be converted to an amount with the old volume
        ordered = sorted(values.items(), key=lambda kv: kv[0] not in self._compartments)
        for sid, v in ordered:
            v = float(v)
            if not math.isfinite(v):
                raise SimulationError(f"value of {sid!r} is not finite ({v})", element=sid)
            key = self._cal_index.get(sid)
            if key is None:
                key = self._cal_index[sid] = self._fast_key(sid)
            kind, i = key
            if kind == "global":
                gidx.append(i)
                gval.append(v)
                continue
            if sid in self._cal_ia:
                # the element's initial assignment would override an initial value (and
                # libRoadRunner refuses to set one): set the value after the reset
                after.append((sid, v))
                continue
            rk = _RESTORE_KIND[kind]
            if (rk, i) not in self._cal_original:
                self._cal_original[(rk, i)] = float(np.asarray(_INIT_GETTERS[rk](mod))[i])
            _INIT_SETTERS[kind](mod, np.array([i], np.int32), np.array([v]))
        rr.resetAll()
        # resetAll() fired the t = 0 events; reset() below fires them again but does not
        # restore global parameters: put the ones events may change back first, or an
        # event at t = 0 acts twice (SBML test suite cases 01696-01699, 01820, ...)
        if self._event_globals[0].size:
            mod.setGlobalParameterValues(*self._event_globals)
        if gidx:
            gi, gv = np.array(gidx, np.int32), np.array(gval)
            mod.setGlobalParameterValues(gi, gv)
            rr.reset()
            mod.setGlobalParameterValues(gi, gv)
        else:
            rr.reset()
        for sid, v in after:
            rr.setValue(self.selection(sid) if sid in self._species else sid, v)

    def _with_dependents(self, values: dict[str, float]) -> dict[str, float]:
        """``values`` plus the parameters whose initial assignments read them (libRoadRunner
        2.10 re-evaluates only those of species on ``reset``); a set value wins."""
        if not values:
            return values
        dep = self._parameter_ias.dependent_values(values, self._ia_base())
        return {**values, **dep} if dep else values

    @functools.cached_property
    def _delayed_events(self) -> bool:
        m = self._doc.getModel()
        return any(m.getEvent(i).isSetDelay() for i in range(m.getNumEvents()))

    def _prepare_fresh(self, values: dict[str, float]) -> None:
        """Prepare on a new RoadRunner: for models with delayed events.

        libRoadRunner never clears its queue of pending delayed events: every
        ``reset``/``resetAll`` queues a t = 0 delayed event once more, and an event
        still pending when a run ended fires in the next one (SBML test suite case
        01757). A new instance (0.5-5 ms: libRoadRunner caches the compiled model)
        has exactly the events of a fresh load. Set values become the current
        state directly; a ``reset`` (which queues a t = 0 delayed event once more)
        is needed only when an initial assignment reads a set value, a remaining
        limitation for models with delayed events triggering at t = 0.
        """
        import roadrunner

        prev = self._settings
        self.rr = rr = roadrunner.RoadRunner(self._text)
        self._settings, self._selections = None, None
        if prev is not None:
            self._apply_settings(prev)
        if not values:
            return
        mod = rr.model
        m = self._doc.getModel()
        ia = {m.getInitialAssignment(i).getSymbol() for i in range(m.getNumInitialAssignments())}
        gidx, gval, after = [], [], []
        for sid, v in sorted(values.items(), key=lambda kv: kv[0] not in self._compartments):
            kind, i = self._fast_key(sid)
            if kind == "global":
                gidx.append(i)
                gval.append(float(v))
            elif sid in ia:
                after.append((sid, float(v)))
            else:
                _INIT_SETTERS[kind](mod, np.array([i], np.int32), np.array([float(v)]))
        if gidx:
            mod.setGlobalParameterValues(np.array(gidx, np.int32), np.array(gval))
        if set(values) & self._ia_reads:
            rr.reset()
            if gidx:
                mod.setGlobalParameterValues(np.array(gidx, np.int32), np.array(gval))
        else:  # the fresh state is the initial state: set the current values too
            for sid, v in values.items():
                if sid not in self._parameters and sid not in ia:
                    rr.setValue(self.selection(sid) if sid in self._species else sid, float(v))
        for sid, v in after:
            rr.setValue(self.selection(sid) if sid in self._species else sid, v)

    @functools.cached_property
    def _ia_reads(self) -> set[str]:
        """Every id read by an initial assignment of the model."""
        from ._sbmlmath import names

        m = self._doc.getModel()
        return names(m.getInitialAssignment(i).getMath()
                     for i in range(m.getNumInitialAssignments()))

    @functools.cached_property
    def _event_globals(self) -> tuple[np.ndarray, np.ndarray]:
        """(indices, initial values) of global parameters that events assign."""
        m = self._doc.getModel()
        assigned = {a.getVariable() for i in range(m.getNumEvents())
                    for a in m.getEvent(i).getListOfEventAssignments()}
        rules = {m.getRule(i).getVariable() for i in range(m.getNumRules())}
        ids = list(self.rr.model.getGlobalParameterIds())
        idx = [i for i, g in enumerate(ids) if g in assigned and g not in rules]
        # reading init(p) is cheap (setting it would regenerate the model); the
        # ExecutableModel.getGlobalParameterInitValues binding is broken in 2.10
        init = [float(self.rr.getValue(f"init({ids[i]})")) for i in idx]
        return np.array(idx, np.int32), np.array(init, float)

    def _fast_key(self, sid: str) -> tuple[str, int]:
        mod = self.rr.model
        if sid in self._parameters:
            return "global", list(mod.getGlobalParameterIds()).index(sid)
        if sid in self._compartments:
            return "compartment", list(mod.getCompartmentIds()).index(sid)
        if sid in self._species:
            conc = not self._species[sid]
            fids = list(mod.getFloatingSpeciesIds())
            if sid in fids:
                return ("float_conc" if conc else "float_amount"), fids.index(sid)
            bids = list(mod.getBoundarySpeciesIds())
            return ("boundary_conc" if conc else "boundary_amount"), bids.index(sid)
        self.init_selection(sid)  # UnknownIdError
        raise UnknownIdError(f"cannot set {sid!r}", element=sid)

    def _set_current(self, values: dict[str, float]) -> None:
        """Set current values: global parameters; species (as the symbol means) and compartments."""
        rr = self.rr
        for sid, v in values.items():
            if not math.isfinite(float(v)):
                raise SimulationError(f"value of {sid!r} is not finite ({v})", element=sid)
            if sid in self._species:
                rr.setValue(self.selection(sid), float(v))
            elif sid in self._compartments or sid in self._parameters:
                rr.setValue(sid, float(v))
            else:
                self.init_selection(sid)  # UnknownIdError

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
        with self.lock:
            rr = self.rr
            self.prepare(parameters)
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
        sels = tuple(self.selection(o) for o in outputs)
        times = np.asarray(times, dtype=float)
        out = []
        with self.lock:
            rr = self.rr
            try:
                rr.setIntegrator("gillespie")
                integ = rr.getIntegrator()
                integ.setValue("variable_step_size", False)
                rr.timeCourseSelections = ["time", *sels]
                self._selections = sels
                plan = SegmentPlan.build(times, list(doses or []), False)
                for seed in seeds:
                    self.prepare(parameters)
                    integ.setValue("seed", int(seed))
                    out.append(self.run_plan(plan))
            except SimulationError:
                raise
            except Exception as exc:
                msg = " ".join(str(exc).split())[:400]
                raise SimulationError(f"the stochastic simulation failed: {msg}",
                                      source=self.source or None) from None
            finally:
                rr.setIntegrator("cvode")
                self._settings = None
        return np.stack(out)


@functools.lru_cache(maxsize=16)
def get_engine(sbml: str, infusion_targets: tuple[str, ...] = (), source: str = "") -> Engine:
    """A cached :class:`Engine` for this SBML text and set of infusion targets."""
    return Engine(sbml, infusion_targets, source)


# ---------------------------------------------------------------------------
# batch runs: one RoadRunner, many samples with the same times, outputs and doses
# (workbench.ensemble). Values are set through index arrays on the executable
# model (setGlobalParameterValues & co.: no model regeneration, ~1 us), and the
# integration segments between doses are planned once. A run gives the same
# numbers as Engine.run with the same parameters (tests/integration/test_ensemble.py).
# ---------------------------------------------------------------------------

_INIT_SETTERS = {
    "compartment": lambda m, i, v: m.setCompartmentInitVolumes(i, v),
    "float_conc": lambda m, i, v: m.setFloatingSpeciesInitConcentrations(i, v),
    "float_amount": lambda m, i, v: m.setFloatingSpeciesInitAmounts(i, v),
    "boundary_conc": lambda m, i, v: m.setBoundarySpeciesInitConcentrations(i, v),
    "boundary_amount": lambda m, i, v: m.setBoundarySpeciesInitAmounts(i, v),
}
_RESTORE_KIND = {"compartment": "compartment", "float_conc": "float_amount",
                 "float_amount": "float_amount", "boundary_conc": "boundary_amount",
                 "boundary_amount": "boundary_amount"}
_INIT_GETTERS = {
    "compartment": lambda m: m.getCompartmentInitVolumes(),
    "float_amount": lambda m: m.getFloatingSpeciesInitAmounts(),
    "boundary_amount": lambda m: m.getBoundarySpeciesInitAmounts(),
}
