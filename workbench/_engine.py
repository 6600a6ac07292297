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

from .errors import ModelLoadError, SimulationError, UnknownIdError, UnsupportedFeatureError

__all__ = ["Engine", "IntegratorSettings", "get_engine", "unsupported_features", "versions"]

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
        Largest internal step in model time units; 0 lets CVODE choose. Limiting
        it keeps the solver from stepping over short events and pulses.
    max_num_steps
        Internal steps allowed between two output points before failing.
    stiff
        BDF (True) or Adams (False).
    """

    relative_tolerance: float = 1e-8
    absolute_tolerance: float = 1e-12
    max_step: float = 0.0
    max_num_steps: int = 200_000
    stiff: bool = True

    def tightened(self, factor: float = 100.0) -> IntegratorSettings:
        """Tolerances divided by ``factor``."""
        return IntegratorSettings(self.relative_tolerance / factor, self.absolute_tolerance / factor,
                                  self.max_step, self.max_num_steps * 10, self.stiff)


@dataclass(frozen=True)
class DoseEvent:
    """A change applied at ``time`` (model units): add ``amount`` to ``target``
    (bolus) or add ``rate`` to its infusion input (negative to stop)."""

    time: float
    target: str
    amount: float = 0.0
    rate: float = 0.0


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


# ---------------------------------------------------------------------------
# what libRoadRunner cannot simulate
# ---------------------------------------------------------------------------

def _math_has_csymbol(ast, url_part: str) -> bool:
    import libsbml

    if ast is None:
        return False
    stack = [ast]
    while stack:
        node = stack.pop()
        if node.getType() == libsbml.AST_FUNCTION_DELAY and url_part == "delay":
            return True
        if node.isCSymbolFunction() if hasattr(node, "isCSymbolFunction") else False:
            if url_part in (node.getDefinitionURLString() or ""):
                return True
        for i in range(node.getNumChildren()):
            stack.append(node.getChild(i))
    return False


def _all_math(model):
    for i in range(model.getNumFunctionDefinitions()):
        yield model.getFunctionDefinition(i).getMath()
    for i in range(model.getNumRules()):
        yield model.getRule(i).getMath()
    for i in range(model.getNumInitialAssignments()):
        yield model.getInitialAssignment(i).getMath()
    for i in range(model.getNumConstraints()):
        yield model.getConstraint(i).getMath()
    for i in range(model.getNumReactions()):
        r = model.getReaction(i)
        if r.getKineticLaw() is not None:
            yield r.getKineticLaw().getMath()
        for lst in (r.getListOfReactants(), r.getListOfProducts()):
            for j in range(lst.size()):
                sr = lst.get(j)
                if hasattr(sr, "isSetStoichiometryMath") and sr.isSetStoichiometryMath():
                    yield sr.getStoichiometryMath().getMath()
    for i in range(model.getNumEvents()):
        e = model.getEvent(i)
        if e.isSetTrigger():
            yield e.getTrigger().getMath()
        if e.isSetDelay():
            yield e.getDelay().getMath()
        if e.isSetPriority():
            yield e.getPriority().getMath()
        for a in e.getListOfEventAssignments():
            yield a.getMath()


def unsupported_features(doc) -> list[tuple[str, str, str]]:
    """Features of an SBML document libRoadRunner cannot simulate.

    Returns
    -------
    list of (feature, element, detail)
        Empty when the model can be simulated.
    """
    out: list[tuple[str, str, str]] = []
    m = doc.getModel()
    if m is None:
        return out
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        if r.isSetFast() and r.getFast():
            out.append(("fast reactions", r.getId(),
                        f"fast reactions are not supported; reaction '{r.getId()}' has fast='true'"))
            break
    for i in range(m.getNumRules()):
        if m.getRule(i).isAlgebraic():
            out.append(("algebraic rules", f"rule {i + 1}",
                        "algebraic rules are not supported by libRoadRunner"))
            break
    if any(_math_has_csymbol(a, "delay") for a in _all_math(m)):
        out.append(("delays", "", "the delay() csymbol is not supported by libRoadRunner"))
    for i in range(doc.getNumPlugins()):
        pkg = doc.getPlugin(i).getPackageName()
        if pkg == "fbc" and doc.isPackageEnabled("fbc"):
            out.append(("flux balance constraints (fbc)", "",
                        "flux balance analysis is not a time-course simulation"))
    return out


# ---------------------------------------------------------------------------
# engine
# ---------------------------------------------------------------------------

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
        self._specrefs = set()
        for i in range(m.getNumReactions()):
            r = m.getReaction(i)
            for lst in (r.getListOfReactants(), r.getListOfProducts()):
                for j in range(lst.size()):
                    if lst.get(j).isSetId():
                        self._specrefs.add(lst.get(j).getId())
        self._changed_init: dict[str, float] = {}
        self._selections: tuple[str, ...] | None = None
        self._settings: IntegratorSettings | None = None
        self.lock = threading.Lock()

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

    # -- runs -------------------------------------------------------------------
    def _apply_settings(self, s: IntegratorSettings) -> None:
        if s == self._settings:
            return
        integ = self.rr.getIntegrator()
        # attribute assignment on the SWIG proxy is silently ignored: use setValue
        integ.setValue("relative_tolerance", float(s.relative_tolerance))
        integ.setValue("absolute_tolerance", float(s.absolute_tolerance))
        integ.setValue("maximum_time_step", float(s.max_step))
        integ.setValue("maximum_num_steps", int(s.max_num_steps))
        integ.setValue("stiff", bool(s.stiff))
        self._settings = s

    def prepare(self, parameters: dict[str, float] | None) -> None:
        """Restore the loaded state, set ``parameters``, then reset (initial assignments re-evaluated)."""
        rr = self.rr
        rr.resetAll()
        for sel, v in self._changed_init.items():
            rr.setValue(sel, v)
        self._changed_init = {}
        if parameters:
            globals_ = []
            for sid, v in parameters.items():
                sel = self.init_selection(sid)
                if not math.isfinite(float(v)):
                    raise SimulationError(f"value of {sid!r} is not finite ({v})", element=sid)
                if sel.startswith("init("):
                    self._changed_init.setdefault(sel, rr.getValue(sel))
                    rr.setValue(sel, float(v))
                else:
                    globals_.append((sel, float(v)))
            for sel, v in globals_:
                rr.setValue(sel, v)
        rr.reset()
        if parameters:  # a value the user set wins over the model's initial assignment
            for sid, v in parameters.items():
                if sid in self._parameters:
                    rr.setValue(sid, float(v))

    def run(self, times: np.ndarray, outputs: list[str], *, parameters: dict[str, float] | None = None,
            doses: list[DoseEvent] | None = None,
            settings: IntegratorSettings | None = None, predose: bool = False) -> np.ndarray:
        """Simulate and return an array (rows, 1 + len(outputs)): time, then outputs.

        ``times`` must be sorted; the state at a dose time is the state after the dose.
        With ``predose`` a requested time that is a dose time appears twice: the
        state just before the dose, then the state after it.
        """
        settings = settings or IntegratorSettings()
        sels = tuple(self.selection(o) for o in outputs)
        with self.lock:
            rr = self.rr
            self._apply_settings(settings)
            self.prepare(parameters)
            if sels != self._selections:
                rr.timeCourseSelections = ["time", *sels]
                self._selections = sels
            try:
                return self._integrate(np.asarray(times, dtype=float), doses or [], predose)
            except SimulationError:
                raise
            except Exception as exc:
                msg = " ".join(str(exc).split())[:400]
                raise SimulationError(f"the solver failed: {msg}", source=self.source or None,
                                      fix="try tighter tolerances, a limited max_step, or a larger "
                                          "max_num_steps (IntegratorSettings / --rtol --max-step)") from None

    def _integrate(self, times: np.ndarray, doses: list[DoseEvent], predose: bool) -> np.ndarray:
        rr = self.rr
        t0, tend = float(times[0]), float(times[-1])
        if not doses:
            res = np.array(rr.simulate(times=times.tolist()) if len(times) > 1
                           else self._snapshot(t0))
            return self._check(res)
        by_time: dict[float, list[DoseEvent]] = {}
        for d in doses:
            if d.time < t0 - 1e-12:
                raise SimulationError(f"a dose at t={d.time:g} comes before the simulation start "
                                      f"t={t0:g}", element=d.target, fix="start the simulation at "
                                      "or before the first dose")
            if d.time <= tend:
                by_time.setdefault(float(d.time), []).append(d)
        bounds = [*sorted(t for t in by_time if t0 < t < tend), tend]
        seg_all = set(times.tolist())
        rows = []
        t = t0
        for b in bounds:
            for d in by_time.get(t, []):
                self._apply_dose(d)
            mask = (times >= t) & ((times < b) | (b == tend))
            seg = times[mask]
            sim_t = [t, *[x for x in seg.tolist() if x > t]]
            if sim_t[-1] < b:
                sim_t.append(b)
            if len(sim_t) == 1:  # zero-length segment at the end
                res = self._snapshot(t)
            else:
                res = np.array(rr.simulate(times=sim_t))
            keep = np.isin(res[:, 0], seg)
            if predose and b != tend and b in seg_all:
                keep[-1] = True  # the state at b before the dose at b
            rows.append(res[keep])
            t = b
        if tend in by_time and tend > t0:
            # doses exactly at the last time point: the row shows the state after them
            for d in by_time[tend]:
                self._apply_dose(d)
            last = rows[-1]
            if len(last) and last[-1, 0] == tend:
                post = self._snapshot(tend)
                rows[-1] = np.vstack([last, post]) if predose else np.vstack([last[:-1], post])
        return self._check(np.vstack(rows) if rows else np.empty((0, len(self._selections) + 1)))

    def _snapshot(self, t: float) -> np.ndarray:
        rr = self.rr
        vals = [t] + [rr.getValue(s) for s in self._selections]
        return np.array([vals], dtype=float)

    def _apply_dose(self, d: DoseEvent) -> None:
        rr = self.rr
        if d.amount:
            if d.target not in self._species:
                raise UnknownIdError(f"cannot dose into {d.target!r}: no such species",
                                     source=self.source or None, element=d.target,
                                     fix="name a species of the model (`workbench info MODEL`)")
            rr.setValue(d.target, rr.getValue(d.target) + d.amount)
        if d.rate:
            pid = INFUSION_PREFIX + d.target
            cur = rr.getValue(pid)
            new = cur + d.rate
            rr.setValue(pid, 0.0 if abs(new) < 1e-12 * max(abs(d.rate), 1e-300) else new)

    def _check(self, res: np.ndarray) -> np.ndarray:
        if not np.all(np.isfinite(res)):
            bad = [self._selections[j - 1] for j in range(1, res.shape[1])
                   if not np.all(np.isfinite(res[:, j]))]
            raise SimulationError(f"the simulation produced non-finite values in {', '.join(bad)}",
                                  source=self.source or None,
                                  fix="check the rate laws for division by zero or blow-up, and the "
                                      "parameter values")
        return res


@functools.lru_cache(maxsize=16)
def get_engine(sbml: str, infusion_targets: tuple[str, ...] = (), source: str = "") -> Engine:
    """A cached :class:`Engine` for this SBML text and set of infusion targets."""
    return Engine(sbml, infusion_targets, source)
