"""What the engine knows about one model, computed once: :class:`ModelIndex` and
:class:`Assignment`.

A run sets some ids (global parameters, species initial values, compartment
sizes), resets, and integrates. Which setter each id needs, which ids an
initial assignment defines (those are set after the reset, so the user's value
wins), which parameter initial assignments must be evaluated in Python
(libRoadRunner 2.10 re-evaluates only those of species on ``reset``), which
global parameters events change, and whether a run can change compartments or
globals (then ``resetAll`` is needed): all of this depends on the model and on
the *list* of ids, never on the values. :class:`ModelIndex` holds the model
part, built once per engine (one per SBML text); :class:`Assignment` the
per-list part, compiled once per tuple of ids and reused for every sample.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from workbench.core._sbmlmath import is_discontinuous, names
from workbench.errors import SpecError, UnknownIdError, WorkbenchError
from workbench.sim._initial_assignments import DependentPlan, ParameterInitialAssignments
from workbench.sim._outputs import parse_output

__all__ = ["Assignment", "ModelIndex", "settable_error"]

#: initial-value setters of libRoadRunner's executable model, by kind (index arrays: no
#: model regeneration, about a microsecond; ``init(...)`` selections regenerate the model)
INIT_SETTERS: dict[str, Callable] = {
    "compartment": lambda m, i, v: m.setCompartmentInitVolumes(i, v),
    "float_conc": lambda m, i, v: m.setFloatingSpeciesInitConcentrations(i, v),
    "float_amount": lambda m, i, v: m.setFloatingSpeciesInitAmounts(i, v),
    "boundary_conc": lambda m, i, v: m.setBoundarySpeciesInitConcentrations(i, v),
    "boundary_amount": lambda m, i, v: m.setBoundarySpeciesInitAmounts(i, v),
}
#: what a setter changes, as the engine restores it (a concentration is stored as an amount)
RESTORE_KIND = {"compartment": "compartment", "float_conc": "float_amount",
                "float_amount": "float_amount", "boundary_conc": "boundary_amount",
                "boundary_amount": "boundary_amount"}
INIT_GETTERS: dict[str, Callable] = {
    "compartment": lambda m: m.getCompartmentInitVolumes(),
    "float_amount": lambda m: m.getFloatingSpeciesInitAmounts(),
    "boundary_amount": lambda m: m.getBoundarySpeciesInitAmounts(),
}
#: setting order: compartments first (a species concentration set before its compartment's
#: new volume would be converted to an amount with the old volume)
_ORDER = ("compartment", "float_amount", "float_conc", "boundary_amount", "boundary_conc")


def settable_error(sid: str, kind: str | None, rule: str | None, *, source: str | None = None,
                   known: Iterable[str] = ()) -> WorkbenchError | None:
    """Why ``sid`` cannot be set before a run, or None when it can.

    Parameters
    ----------
    kind
        The element kind (``parameter``, ``species``, ``compartment``, ``reaction``,
        ``species_reference``), None when the model has no such id.
    rule
        The formula of the assignment rule that defines ``sid``, if any (a value set
        for it would be overwritten by the rule, silently).
    known
        Ids for a did-you-mean suggestion.
    """
    if kind is None:
        close = difflib.get_close_matches(sid, sorted(known), n=3)
        return UnknownIdError(f"cannot set {sid!r}: the model has no such element",
                              source=source, element=sid,
                              fix=("did you mean " + " or ".join(map(repr, close)) + "?")
                              if close else "`workbench info MODEL` lists the settable ids")
    if kind not in ("parameter", "species", "compartment"):
        return UnknownIdError(f"cannot set {sid!r}: it is a {kind.replace('_', ' ')}",
                              source=source, element=sid,
                              fix="set global parameters, species or compartments (local "
                                  "reaction parameters cannot be set)")
    if rule is not None:
        return SpecError(f"cannot set {sid!r}: the assignment rule {sid} := {rule} defines it",
                         source=source, element=sid, fix="set the ids the rule uses")
    return None


@dataclass(frozen=True, eq=False)
class ModelIndex:
    """Immutable facts about one engine's model (its working SBML text and RoadRunner).

    Attributes
    ----------
    species
        Species id -> True when it has only substance units (its symbol is an amount).
    compartments, parameters, reactions, species_references
        Ids by kind (``parameters``: global parameters, infusion inputs included).
    assignment_rules
        Variable -> formula of each assignment rule.
    initial_assigned
        Ids with an initial assignment.
    ia_reads
        Every id an initial assignment reads, directly or through assignment rules.
    parameter_ias
        The parameter initial assignments, evaluated in Python.
    ia_base
        Loaded values of the ids the parameter initial assignments read.
    setters
        Settable id -> (setter kind, index): ``global`` or a key of :data:`INIT_SETTERS`.
    dose_index
        Floating species a bolus can change through the amount setter -> index array.
    event_globals
        (indices, loaded values) of global parameters events assign.
    has_events, delayed_events, rate_rules, discontinuous
        Model flags: events; events with a delay; rate rules; discontinuous math in
        the right-hand side.
    infusion_targets
        Species with a zero-order input.
    """

    source: str
    species: Mapping[str, bool]
    compartments: frozenset[str]
    parameters: frozenset[str]
    reactions: frozenset[str]
    species_references: frozenset[str]
    assignment_rules: Mapping[str, str]
    initial_assigned: frozenset[str]
    ia_reads: frozenset[str]
    parameter_ias: ParameterInitialAssignments
    ia_base: Mapping[str, float]
    setters: Mapping[str, tuple[str, int]]
    dose_index: Mapping[str, np.ndarray]
    event_globals: tuple[np.ndarray, np.ndarray]
    has_events: bool
    delayed_events: bool
    rate_rules: bool
    discontinuous: bool
    infusion_targets: tuple[str, ...]

    @classmethod
    def build(cls, doc, rr, infusion_targets: tuple[str, ...], source: str) -> ModelIndex:
        """Index the libSBML document ``doc`` (the user's model) and its RoadRunner ``rr``
        (built from the working copy with infusion inputs)."""
        import libsbml

        m = doc.getModel()
        species = {m.getSpecies(i).getId(): bool(m.getSpecies(i).getHasOnlySubstanceUnits())
                   for i in range(m.getNumSpecies())}
        comps = frozenset(m.getCompartment(i).getId() for i in range(m.getNumCompartments()))
        mod = rr.model
        params = frozenset(m.getParameter(i).getId() for i in range(m.getNumParameters()))
        reactions = frozenset(m.getReaction(i).getId() for i in range(m.getNumReactions()))
        refs: set[str] = set()
        for i in range(m.getNumReactions()):
            r = m.getReaction(i)
            for lst in (r.getListOfReactants(), r.getListOfProducts()):
                refs.update(lst.get(j).getId() for j in range(lst.size()) if lst.get(j).isSetId())
        rules = [m.getRule(i) for i in range(m.getNumRules())]
        ruled = {r.getVariable() for r in rules}
        arules = {r.getVariable(): libsbml.formulaToL3String(r.getMath()) if r.getMath() else ""
                  for r in rules if r.isAssignment()}
        ias = [m.getInitialAssignment(i) for i in range(m.getNumInitialAssignments())]
        ia_reads = names(a.getMath() for a in ias)
        rule_math = {r.getVariable(): r.getMath() for r in rules
                     if r.isAssignment() and r.getMath() is not None}
        todo = [v for v in ia_reads if v in rule_math]
        while todo:  # an initial assignment reading X0 := k / d reads k too
            for n in names([rule_math[todo.pop()]]) - ia_reads:
                ia_reads.add(n)
                if n in rule_math:
                    todo.append(n)
        events = [m.getEvent(i) for i in range(m.getNumEvents())]
        gids = list(mod.getGlobalParameterIds())
        gpos = {g: i for i, g in enumerate(gids)}
        fids = list(mod.getFloatingSpeciesIds())
        fpos = {s: i for i, s in enumerate(fids)}
        bpos = {s: i for i, s in enumerate(mod.getBoundarySpeciesIds())}
        cpos = {c: i for i, c in enumerate(mod.getCompartmentIds())}
        setters: dict[str, tuple[str, int]] = {}
        for p in params:
            if p in gpos:
                setters[p] = ("global", gpos[p])
        for c in comps:
            if c in cpos:
                setters[c] = ("compartment", cpos[c])
        for s, amount in species.items():
            suffix = "amount" if amount else "conc"
            if s in fpos:
                setters[s] = (f"float_{suffix}", fpos[s])
            elif s in bpos:
                setters[s] = (f"boundary_{suffix}", bpos[s])
        assigned = {a.getVariable() for e in events for a in e.getListOfEventAssignments()}
        eidx = [i for i, g in enumerate(gids) if g in assigned and g not in ruled]
        # reading init(p) is cheap (setting it would regenerate the model); the
        # ExecutableModel.getGlobalParameterInitValues binding is broken in 2.10
        einit = [float(rr.getValue(f"init({gids[i]})")) for i in eidx]
        roots = [m.getFunctionDefinition(i).getMath() for i in range(m.getNumFunctionDefinitions())]
        roots += [r.getMath() for r in rules]
        roots += [m.getReaction(i).getKineticLaw().getMath() for i in range(m.getNumReactions())
                  if m.getReaction(i).getKineticLaw() is not None]
        pias = ParameterInitialAssignments(libsbml.writeSBMLToString(doc))
        index = cls(
            source=source, species=MappingProxyType(species), compartments=comps,
            parameters=params, reactions=reactions, species_references=frozenset(refs),
            assignment_rules=MappingProxyType(arules),
            initial_assigned=frozenset(a.getSymbol() for a in ias),
            ia_reads=frozenset(ia_reads), parameter_ias=pias,
            ia_base=MappingProxyType({}), setters=MappingProxyType(setters),
            dose_index=MappingProxyType({s: np.array([i], np.int32) for s, i in fpos.items()
                                         if s not in ruled}),
            event_globals=(np.array(eidx, np.int32), np.array(einit, float)),
            has_events=bool(events), delayed_events=any(e.isSetDelay() for e in events),
            rate_rules=any(r.isRate() for r in rules), discontinuous=is_discontinuous(roots),
            infusion_targets=tuple(infusion_targets))
        base = {}
        for name in pias.reads:
            try:
                base[name] = float(rr.getValue(index.selection(name)))
            except Exception:  # a function name, a reaction, time: not a stored value
                continue
        object.__setattr__(index, "ia_base", MappingProxyType(base))
        return index

    # -- names ------------------------------------------------------------------
    def kind_of(self, sid: str) -> str | None:
        """``parameter``, ``species``, ``compartment``, ``reaction``, ``species_reference``
        or None."""
        if sid in self.species:
            return "species"
        if sid in self.compartments:
            return "compartment"
        if sid in self.parameters:
            return "parameter"
        if sid in self.reactions:
            return "reaction"
        if sid in self.species_references:
            return "species_reference"
        return None

    def selection(self, output: str) -> str:
        """libRoadRunner selection for an output name (:mod:`workbench._outputs`).

        Raises
        ------
        UnknownIdError
            The name is not an output of the model.
        """
        form, sid = parse_output(output)
        if form != "symbol" and sid in self.species:
            return f"[{sid}]" if form == "concentration" else sid
        if form == "symbol":
            if sid in self.species:
                return sid if self.species[sid] else f"[{sid}]"
            if sid == "time" or self.kind_of(sid) is not None:
                return sid
        known = sorted(self.species) + sorted(self.parameters) + sorted(self.compartments)
        close = difflib.get_close_matches(sid, known, n=3)
        raise UnknownIdError(f"unknown output {output!r}", source=self.source or None,
                             element=output,
                             fix=("did you mean " + " or ".join(map(repr, close)) + "? ") if close
                             else "use a species, parameter, compartment or reaction id; "
                                  "`workbench info MODEL` lists them")

    def check_settable(self, sid: str) -> None:
        """Raise :class:`UnknownIdError` or :class:`SpecError` unless ``sid`` can be set."""
        err = settable_error(sid, self.kind_of(sid), self.assignment_rules.get(sid),
                             source=self.source or None,
                             known=[*self.species, *self.parameters, *self.compartments])
        if err is None and sid not in self.setters:
            err = UnknownIdError(f"cannot set {sid!r}", source=self.source or None, element=sid)
        if err is not None:
            raise err

    def assignment(self, ids: Iterable[str]) -> Assignment:
        """Compile the setting of ``ids`` (see :class:`Assignment`)."""
        return Assignment.compile(self, tuple(ids))


@dataclass(frozen=True, eq=False)
class Assignment:
    """How to set one tuple of ids, compiled once and reused for every sample.

    Attributes
    ----------
    ids
        The ids, in the order of the value arrays.
    init
        Per setter kind, compartments first: (setter, positions in the values,
        index array). Species and compartments without an initial assignment.
    init_keys
        The loaded initial values ``init`` overwrites, as (restore kind, index).
    gpos, gidx
        Positions and indices of global parameters (set before and after ``reset``,
        so a set value wins over the parameter's own initial assignment).
    init_current
        (position, selection) of the ids in ``init``: the fresh-instance path sets
        them as current values too.
    after
        (position, selection) of species and compartments with an initial assignment:
        set as current values after ``reset`` (the user's value wins).
    dependents
        Parameters whose initial assignment (transitively) reads an id, and their
        global indices: evaluated per sample, libRoadRunner does not.
    dependent_plan
        How to evaluate them for one sample (compiled here, once).
    reset_all
        True when a run can change compartments or global parameters (events, rate
        rules, infusion inputs, a compartment set): ``resetAll`` before each sample.
    fresh_reset
        True when the fresh-instance path needs a ``reset``: an initial assignment
        reads an id or a dependent, or a compartment is set in a model with initial
        assignments (a species' assigned concentration becomes an amount with the
        new size).
    compartments_current
        (position, id) of the compartments in ``init``: the fresh-instance path sets
        their current size before any ``reset``.
    """

    ids: tuple[str, ...]
    init: tuple[tuple[Callable, np.ndarray, np.ndarray], ...]
    init_keys: frozenset[tuple[str, int]]
    gpos: np.ndarray
    gidx: np.ndarray
    init_current: tuple[tuple[int, str], ...]
    after: tuple[tuple[int, str], ...]
    dependents: Mapping[str, int]
    dependent_plan: DependentPlan
    reset_all: bool
    fresh_reset: bool
    compartments_current: tuple[tuple[int, str], ...]

    @classmethod
    def compile(cls, index: ModelIndex, ids: tuple[str, ...]) -> Assignment:
        """Raises :class:`UnknownIdError` or :class:`SpecError` for an id that cannot be set."""
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise SpecError(f"{dup!r} is set twice", source=index.source or None, element=dup)
        groups: dict[str, tuple[list[int], list[int]]] = {}
        gpos, gidx, current, after = [], [], [], []
        for pos, sid in enumerate(ids):
            index.check_settable(sid)
            kind, i = index.setters[sid]
            sel = index.selection(sid) if sid in index.species else sid
            if kind == "global":
                gpos.append(pos)
                gidx.append(i)
            elif sid in index.initial_assigned:
                # the element's initial assignment would override an initial value (and
                # libRoadRunner refuses to set one): set the current value after the reset
                after.append((pos, sel))
            else:
                g = groups.setdefault(kind, ([], []))
                g[0].append(pos)
                g[1].append(i)
                current.append((pos, sel))
        init = tuple((INIT_SETTERS[k], np.array(groups[k][0], np.intp),
                      np.array(groups[k][1], np.int32)) for k in _ORDER if k in groups)
        keys = frozenset((RESTORE_KIND[k], int(i)) for k in groups for i in groups[k][1])
        pias = index.parameter_ias
        changed, deps = set(ids), {}
        for p in pias.targets:
            if p not in changed and p in index.setters and pias.reads_of(p) & changed:
                deps[p] = index.setters[p][1]
                changed.add(p)
        sets_compartment = any(index.kind_of(s) == "compartment" for s in ids)
        # reset() restores floating species and re-evaluates initial assignments; resetAll()
        # also restores compartments and global parameters, needed when a run can change
        # them or a compartment is set
        reset_all = bool(index.has_events or index.rate_rules or index.infusion_targets
                         or sets_compartment)
        return cls(ids=ids, init=init, init_keys=keys, gpos=np.array(gpos, np.intp),
                   gidx=np.array(gidx, np.int32), init_current=tuple(current),
                   after=tuple(after),
                   dependents=MappingProxyType(deps),
                   dependent_plan=pias.plan(ids, index.ia_base),
                   reset_all=reset_all,
                   fresh_reset=bool(changed & index.ia_reads
                                    or (sets_compartment and index.initial_assigned)),
                   compartments_current=tuple((pos, sid) for pos, sid in current
                                              if sid in index.compartments))
