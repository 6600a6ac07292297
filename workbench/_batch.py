"""Batch runs for the ensemble engine: one :class:`BatchEngine` per process, many samples.

Samples set the same ids each time, so values go through libRoadRunner's index
setters (no model regeneration) and the dose plan is built once. This module
reaches libRoadRunner only through :class:`workbench._engine.Engine` (its ``rr``);
:mod:`workbench._engine` stays the only module that imports it.
"""

from __future__ import annotations

import functools

import numpy as np

from ._engine import (
    _INIT_GETTERS,
    _INIT_SETTERS,
    _RESTORE_KIND,
    DoseEvent,
    Engine,
    IntegratorSettings,
    SegmentPlan,
)
from .errors import SimulationError

__all__ = ["BatchEngine", "BatchRunner", "get_batch_engine"]


class BatchEngine:
    """A private :class:`Engine` for batch runs (never shared with :func:`get_engine`).

    It remembers the loaded initial values that batch runs overwrite, so each
    new :class:`BatchRunner` starts from the model as loaded.
    """

    def __init__(self, sbml: str, infusion_targets: tuple[str, ...] = (), source: str = "") -> None:
        self.engine = Engine(sbml, infusion_targets, source)
        self.lock = self.engine.lock
        self._original: dict[tuple[str, int], float] = {}
        self.owner: BatchRunner | None = None  # the runner whose values the engine holds

    def _restore(self) -> None:
        mod = self.engine.rr.model
        for (kind, i), v in self._original.items():
            _INIT_SETTERS[kind](mod, np.array([i], np.int32), np.array([v]))

    def runner(self, ids: list[str], times: np.ndarray, outputs: list[str],
               doses: list[DoseEvent], predose: bool = False) -> BatchRunner:
        """A :class:`BatchRunner` setting ``ids`` (in this order) for each sample."""
        return BatchRunner(self, ids, times, outputs, doses, predose)



class BatchRunner:
    """Runs samples of one :class:`BatchEngine`: the same ids set, times, outputs and doses.

    Per sample: initial volumes and species values through index setters,
    ``resetAll`` (globals, infusion inputs and event-changed values back to
    their loaded values; skipped when no run can change them), global
    parameters through ``setGlobalParameterValues``,
    ``reset`` (initial assignments see the new values), the global parameters
    again (a set value wins over an initial assignment, as in :meth:`Engine.prepare`),
    then the planned segments.

    Raises
    ------
    UnknownIdError
        An id is not a global parameter, species or compartment of the model.
    """

    def __init__(self, be: BatchEngine, ids: list[str], times: np.ndarray, outputs: list[str],
                 doses: list[DoseEvent], predose: bool) -> None:
        eng = be.engine
        self.be = be
        self.ids = list(ids)
        self.outputs = list(outputs)
        self.selections = ["time", *(eng.selection(o) for o in outputs)]
        self._times = np.asarray(times, float)
        self._default_settings = IntegratorSettings()
        self.plan = SegmentPlan.build(self._times, list(doses), predose)
        # ids are checked by workbench.ensemble (settable, not rule- or IA-defined) and dose
        # targets by the dose conversion: here only their kinds and indices
        groups: dict[str, tuple[list[int], list[int]]] = {}
        gpos, gidx = [], []
        for pos, sid in enumerate(self.ids):
            kind, idx = eng._fast_key(sid)  # UnknownIdError for ids that cannot be set
            if kind == "global":
                gpos.append(pos)
                gidx.append(idx)
                continue
            groups.setdefault(kind, ([], []))
            groups[kind][0].append(pos)
            groups[kind][1].append(idx)
        m = eng._doc.getModel()
        mod = eng.rr.model
        order = ["compartment", "float_amount", "float_conc", "boundary_amount", "boundary_conc"]
        self._init = [(_INIT_SETTERS[k], np.array(groups[k][0], np.intp),
                       np.array(groups[k][1], np.int32)) for k in order if k in groups]
        self._gpos = np.array(gpos, np.intp)
        self._gidx = np.array(gidx, np.int32)
        # reset() restores floating species and re-evaluates initial assignments; resetAll()
        # also restores compartments and global parameters, needed when a run can change
        # them (events, rate rules, infusion inputs) or a sample sets a compartment
        self._reset_all = bool(m.getNumEvents() or any(m.getRule(i).isRate()
                                                       for i in range(m.getNumRules()))
                               or eng.infusion_targets or "compartment" in groups)
        # parameter initial assignments that read a sampled value (libRoadRunner 2.10
        # does not re-evaluate them on reset): evaluated per sample
        ias = eng._parameter_ias
        self._ia = ias if ias.reads & set(self.ids) else None
        with be.lock:
            self._restore_engine()
            be.owner = self
            for k in order:
                if k in groups:
                    rk = _RESTORE_KIND[k]
                    for i in groups[k][1]:
                        key = (rk, int(i))
                        if key not in be._original:
                            be._original[key] = float(np.asarray(_INIT_GETTERS[rk](mod))[i])

    def _restore_engine(self) -> None:
        # globals and event-changed values left by earlier runs on this cached engine
        # (another ensemble, other ids) must not leak into this one
        self.be._restore()
        self.be.engine.rr.resetAll()

    def run(self, values: np.ndarray, settings: IntegratorSettings | None = None,
            dose_scale: float = 1.0) -> np.ndarray:
        """One sample (values in the order of ``ids``; every dose times ``dose_scale``)
        -> array (rows, 1 + len(outputs)).

        When another runner used the shared engine since this one's last sample (a kept
        worker serving several ensembles), the engine is first put back to the model as
        loaded.

        Raises
        ------
        SimulationError
            The solver failed, a value is not finite, or the result is not finite.
        """
        eng = self.be.engine
        values = np.asarray(values, dtype=float)
        if not np.all(np.isfinite(values)):
            bad = [self.ids[i] for i in np.flatnonzero(~np.isfinite(values))]
            raise SimulationError(f"value of {', '.join(map(repr, bad))} is not finite",
                                  element=bad[0])
        with self.be.lock:
            if self.be.owner is not self:
                self._restore_engine()
                self.be.owner = self
            try:
                if eng._delayed_events:
                    # the engine's own path: a fresh instance, or delayed events queue twice
                    eng._prepare_fast(dict(zip(self.ids, values.tolist(), strict=True)))
                else:
                    self._prepare(eng, values)
                eng._apply_settings(settings or self._default_settings, self._times)
                rr = eng.rr
                sels = tuple(self.selections[1:])
                if sels != eng._selections:
                    rr.timeCourseSelections = self.selections
                    eng._selections = sels
                return eng.run_plan(self.plan, dose_scale=dose_scale)
            except SimulationError:
                raise
            except Exception as exc:
                raise eng.solver_error(exc) from None

    def _prepare(self, eng: Engine, values: np.ndarray) -> None:
        """Set one sample through the index setters, then reset (see the class docstring)."""
        rr = eng.rr
        mod = rr.model
        for setter, pos, idx in self._init:
            setter(mod, idx, values[pos])
        if self._reset_all:
            rr.resetAll()
            # reset() below fires t = 0 events again: put the globals they assign back
            if eng._event_globals[0].size:
                mod.setGlobalParameterValues(*eng._event_globals)
        if self._ia is not None:
            dep = self._ia.dependent_values(dict(zip(self.ids, values.tolist(), strict=True)),
                                            eng._ia_base())
            for pid, v in dep.items():
                rr.setValue(pid, v)
        if len(self._gidx):
            gv = values[self._gpos]
            mod.setGlobalParameterValues(self._gidx, gv)
            rr.reset()
            mod.setGlobalParameterValues(self._gidx, gv)
        else:
            rr.reset()


@functools.lru_cache(maxsize=4)
def get_batch_engine(sbml: str, infusion_targets: tuple[str, ...] = (), source: str = "") -> BatchEngine:
    """A cached :class:`BatchEngine` for in-process batch runs."""
    return BatchEngine(sbml, infusion_targets, source)
