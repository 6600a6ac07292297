"""The checks behind :func:`workbench.verify` (one function per check).

Each function takes the shared :class:`Context` (the drug-free run and the
dose-grid runs, simulated once) and returns a
:class:`workbench.verify.check_result.CheckResult`; see :mod:`workbench.verify` for what
each check means and the methods it uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core import units as U
from workbench.core.dosing import Regimen, Subject
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.core.stoichiometry import conserved_moieties, moiety_text, stoichiometry
from workbench.errors import SimulationError, SpecError, UnitError
from workbench.sim._engine import Engine, IntegratorSettings, get_engine
from workbench.sim.metrics import auc
from workbench.sim.simulate import DoseContext, doses_to_events, resolve_time, simulate
from workbench.verify.check_result import CheckResult, PlotData, VerifyOptions

AVOGADRO = 6.02214076e23
# libSBML findings meaning "units undeclared, cannot be checked" (not an inconsistency)
_INCOMPLETE_UNIT_CODES = {99505, 99508, 10599, 20702, 80701, 81121}

_BELL = ("some biology is bell-shaped: the CD3:drug:target trimer of a bispecific T-cell engager "
         "falls at high doses when each arm binds a different drug molecule (hook effect), and "
         "so do the responses it drives")


def _g(x: float, d: int = 3) -> str:
    return f"{x:.{d}g}"


def _result(status, value=math.nan, limit=math.nan, unit="", evidence="", reason="", plot=None):
    return CheckResult("", status, float(value), float(limit), unit, evidence, reason, plot)


def _plot(*args, **kw):
    return PlotData(*args, **kw)


def _t(a) -> tuple:
    return tuple(float(v) for v in np.asarray(a, float))


# ---------------------------------------------------------------------------
# shared simulations
# ---------------------------------------------------------------------------

@dataclass
class Context:
    """The model, the settings, the drug-free run and one run per grid dose."""

    m: Model
    drug: str
    effect: str
    occupancy: str | None
    exposure: str
    mw: float | str | None
    subject: Subject
    o: VerifyOptions
    seed: int
    levels: np.ndarray
    dose_unit: str
    end: float
    times: np.ndarray
    species: list[str]
    outputs: list[str]
    none: pd.DataFrame
    runs: list[pd.DataFrame]
    e0: float
    peak: np.ndarray             # signed largest change of the effect from e0, per dose
    occ_max: np.ndarray | None
    aucs: np.ndarray
    ref: int                     # grid index of the dose with the largest effect

    @classmethod
    def build(cls, m, drug, effect, occupancy, *, mw, subject, options, seed) -> Context:
        o = options
        levels, unit = dose_grid(o)
        end = resolve_time(o.end, m, "end")
        if not end > 0:
            raise SimulationError("the verification span must be positive", element="end")
        times = np.unique(np.concatenate([np.linspace(0.0, end, max(int(o.points), 11)),
                                          np.geomspace(end * 1e-4, end, 60)]))
        species = list(m.species[C.ID])
        exposure = o.exposure or drug
        outputs = list(dict.fromkeys([effect, *([occupancy] if occupancy else []), exposure,
                                      *species]))
        ctx = cls(m, drug, effect, occupancy, exposure, mw, subject, o, seed, levels, unit, end,
                  times, species, outputs, pd.DataFrame(), [], math.nan, np.array([]), None,
                  np.array([]), 0)
        ctx.none = ctx.simulate(None)
        ctx.runs = [ctx.simulate(ctx.regimen(i)) for i in range(len(levels))]
        ctx.e0 = float(ctx.none[effect].iloc[0])
        peaks = []
        for df in ctx.runs:
            dev = df[effect].to_numpy(float) - ctx.e0
            peaks.append(float(dev[int(np.argmax(np.abs(dev)))]))
        ctx.peak = np.array(peaks)
        if occupancy:
            ctx.occ_max = np.array([float(df[occupancy].max()) for df in ctx.runs])
        ctx.aucs = np.array([auc(df["time"].to_numpy(float), df[exposure].to_numpy(float))
                             for df in ctx.runs])
        ctx.ref = int(np.argmax(np.abs(ctx.peak)))
        return ctx

    def regimen(self, i: int) -> Regimen:
        """Dose level ``i`` as a regimen built from the number (no text round trip)."""
        return Dosing(target=self.drug, route=self.o.route,
                      dose_unit=self.dose_unit).regimen(self.levels[i])

    def dose_label(self, i: int) -> str:
        return f"{self.levels[i]:g} {self.dose_unit}"

    def unit(self, output: str) -> str:
        return self.none.attrs.get("units", {}).get(output, "")

    def simulate(self, regimen, *, outputs=None, integrator=None, model=None) -> pd.DataFrame:
        return simulate(model or self.m, regimen, times=self.times, outputs=outputs or self.outputs,
                        target=self.drug, mw=self.mw, subject=self.subject,
                        integrator=integrator or self.o.integrator)

    def dose_response_frame(self) -> pd.DataFrame:
        rows = []
        for i, d in enumerate(self.levels):
            base = {C.DOSE: float(d), C.DOSE_UNIT: self.dose_unit}
            rows.append({**base, C.OUTPUT: self.effect, C.METRIC: "peak_change",
                         C.VALUE: self.peak[i], C.UNIT: self.unit(self.effect)})
            if self.occ_max is not None and self.occupancy is not None:  # set together
                rows.append({**base, C.OUTPUT: self.occupancy, C.METRIC: "max",
                             C.VALUE: self.occ_max[i], C.UNIT: self.unit(self.occupancy)})
            eu, tu = self.unit(self.exposure), self.m.time_unit
            rows.append({**base, C.OUTPUT: self.exposure, C.METRIC: "auc", C.VALUE: self.aucs[i],
                         C.UNIT: f"{eu}*{tu}" if eu and tu else ""})
        return pd.DataFrame(rows, columns=list(C.VERIFY_DOSE_RESPONSE_COLUMNS))


# ---------------------------------------------------------------------------
# no drug
# ---------------------------------------------------------------------------

def check_baseline(ctx: Context):
    o, e, tu = ctx.o, ctx.effect, ctx.m.time_unit
    t = ctx.none["time"].to_numpy(float)
    y = ctx.none[e].to_numpy(float)
    u = ctx.unit(e)
    drift = float(np.max(np.abs(y - y[0])))
    scale = max(abs(y[0]), float(np.max(np.abs(ctx.peak))))
    rel = drift / scale if scale > 0 else (0.0 if drift == 0 else math.inf)
    ev = (f"without drug, {e} stays at {_g(y[0], 4)} {u}: its largest change over "
          f"0-{_g(ctx.end)} {tu} is {_g(drift, 2)} {u}, {_g(rel, 2)} of {_g(scale)} {u} (the "
          "larger of the baseline and the largest drug-induced change)")
    value = rel
    series = [(e, _t(t), _t(y))]
    if ctx.occupancy:
        occ = ctx.none[ctx.occupancy].to_numpy(float)
        od = float(np.max(np.abs(occ - occ[0])))
        ev += f"; {ctx.occupancy} stays at {_g(occ[0])} (largest change {_g(od, 2)})"
        value = max(value, od)
    ok = value <= o.baseline_tol
    reason = "" if ok else (f"without drug the effect moves by {_g(drift)} {u} (relative "
                            f"{_g(value, 2)} > {o.baseline_tol:g}): the model has an effect "
                            "without drug, or its baseline is not a steady state")
    return _result("pass" if ok else "fail", value, o.baseline_tol, "fraction", ev, reason,
                   _plot(f"no dose: {e}", f"time [{tu}]", f"{e} [{u}]", tuple(series)))


def check_steady_state(ctx: Context):
    o = ctx.o
    ids, x, r = get_engine(ctx.m.sbml, (), ctx.m.source).state_rates()
    if not ids:
        return _result("skip", reason="the model has no state variables")
    atol = o.integrator.absolute_tolerance
    floor = np.maximum(np.abs(x), max(1e-9 * float(np.max(np.abs(x))), atol))
    rel = np.abs(r) * ctx.end / floor
    k = int(np.argmax(rel))
    ok = bool(rel[k] <= o.steady_state_tol)
    ev = (f"without drug, the largest rate of change at t = 0 is {_g(r[k], 2)} per "
          f"{ctx.m.time_unit} ({ids[k]}, value {_g(x[k])}): over {_g(ctx.end)} "
          f"{ctx.m.time_unit} it would move {ids[k]} by {_g(rel[k], 2)} of its value; "
          f"{len(ids)} state variables checked")
    reason = "" if ok else (f"the drug-free initial state is not a steady state: {ids[k]} "
                            f"changes at {_g(r[k])} per {ctx.m.time_unit}; set its initial "
                            "value to the steady state (e.g. an initial assignment from the "
                            "synthesis and degradation rates)")
    return _result("pass" if ok else "fail", rel[k], o.steady_state_tol, "fraction", ev, reason,
                   _plot("drift at t = 0 (no dose)", "state", "|dx/dt| * T / |x|",
                         (("", tuple(ids), _t(np.maximum(rel, 1e-20))),), logy=True,
                         limit=o.steady_state_tol, bars=True))


# ---------------------------------------------------------------------------
# dose-response
# ---------------------------------------------------------------------------

def check_high_dose_occupancy(ctx: Context):
    o = ctx.o
    if not ctx.occupancy:
        return _result("skip", reason="no occupancy output given (occupancy=..., --occupancy)")
    occ = ctx.occ_max
    assert occ is not None  # Context.build fills it whenever an occupancy output is given
    top = float(occ[-1])
    ev = (f"peak {ctx.occupancy} is {_g(occ[0])} at {ctx.dose_label(0)}, {_g(occ[ctx.ref])} at "
          f"{ctx.dose_label(ctx.ref)} and {top:.4f} at the highest dose {ctx.dose_label(-1)}")
    if top > 1 + 1e-6:
        return _result("fail", top, o.occupancy_min, "fraction", ev,
                       f"{ctx.occupancy} exceeds 1, so it is not an occupied fraction")
    ok = top >= o.occupancy_min
    reason = "" if ok else (f"the highest dose does not saturate the target ({top:.3g} < "
                            f"{o.occupancy_min:g}): raise the dose range or check binding "
                            "parameters and target levels")
    return _result("pass" if ok else "fail", top, o.occupancy_min, "fraction", ev, reason,
                   _plot(f"peak {ctx.occupancy} vs dose", f"dose [{ctx.dose_unit}]",
                         f"max {ctx.occupancy} [fraction]",
                         (("", _t(ctx.levels), _t(occ)),), logx=True, limit=o.occupancy_min))


def _effect_plot(ctx: Context, title: str):
    u = ctx.unit(ctx.effect)
    mag = np.abs(ctx.peak)
    logy = bool(mag.min() > 0 and mag.max() > 100 * mag.min())
    return _plot(title, f"dose [{ctx.dose_unit}]", f"peak |change| of {ctx.effect} [{u}]",
                 (("", _t(ctx.levels), _t(mag)),), logx=True, logy=logy)


def check_high_dose_plateau(ctx: Context):
    o = ctx.o
    mag = np.abs(ctx.peak)
    u = ctx.unit(ctx.effect)
    rng = float(mag.max() - mag.min())
    if rng <= 1e-12 * max(abs(ctx.e0), 1e-300):
        return _result("warn", 0.0, o.plateau_tol, "fraction",
                       f"the peak change of {ctx.effect} is {_g(mag.max())} {u} at every dose",
                       "the effect does not respond to the drug over the dose grid; check that "
                       "the effect output is the right one and the dose range reaches it",
                       _effect_plot(ctx, "effect vs dose"))
    change = abs(float(mag[-1] - mag[-2])) / rng
    ev = (f"the peak change of {ctx.effect} is {_g(mag[-2])} {u} at {ctx.dose_label(-2)} and "
          f"{_g(mag[-1])} {u} at {ctx.dose_label(-1)}: a change of {_g(change, 2)} of its range "
          f"({_g(rng)} {u}) over the grid")
    if change > o.plateau_tol:
        return _result("fail", change, o.plateau_tol, "fraction", ev,
                       "the effect still changes at the highest doses: extend the dose range "
                       "upwards, or check the response's saturation (Emax) terms",
                       _effect_plot(ctx, "effect vs dose"))
    imax = int(np.argmax(mag))
    if mag[-1] < 0.5 * mag[imax]:
        reason = (f"the effect plateaus at high doses, but near its baseline: it peaks at "
                  f"{_g(mag[imax])} {u} at {ctx.dose_label(imax)} and falls to {_g(mag[-1])} {u}; "
                  f"{_BELL}. Do not read the high-dose fall as safety")
        return _result("warn", change, o.plateau_tol, "fraction", ev, reason,
                       _effect_plot(ctx, "effect vs dose"))
    return _result("pass", change, o.plateau_tol, "fraction", ev, "",
                   _effect_plot(ctx, "effect vs dose"))


def check_monotone(ctx: Context):
    o = ctx.o
    mag = np.abs(ctx.peak)
    u = ctx.unit(ctx.effect)
    rng = float(mag.max() - mag.min())
    falls = (mag[:-1] - mag[1:]) / rng if rng > 0 else np.zeros(len(mag) - 1)
    worst = float(np.max(falls, initial=0.0))  # max(largest fall, 0)
    imax = int(np.argmax(mag))
    ev = (f"peak change of {ctx.effect} over {len(mag)} doses {ctx.dose_label(0)}-"
          f"{ctx.dose_label(-1)}: largest {_g(mag[imax])} {u} at {ctx.dose_label(imax)}, "
          f"{_g(mag[-1])} {u} at the highest dose; largest fall between neighbouring doses "
          f"{_g(worst, 2)} of the range")
    reasons = []
    if worst > o.monotone_tol:
        reasons.append(f"the dose-response of {ctx.effect} is not monotone (it rises to "
                       f"{ctx.dose_label(imax)}, then falls). This is a warning, not a failure: "
                       f"{_BELL}; confirm that the model's mechanism explains the fall")
    if ctx.occ_max is not None:
        ofall = float(max((ctx.occ_max[:-1] - ctx.occ_max[1:]).max(), 0.0))
        ev += f"; peak {ctx.occupancy} falls by at most {_g(ofall, 2)}"
        if ofall > o.monotone_tol:
            reasons.append(f"peak {ctx.occupancy} falls by {_g(ofall)} as the dose rises, which "
                           "a binding equilibrium cannot explain; check the binding reactions")
            worst = max(worst, ofall)
    return _result("warn" if reasons else "pass", worst, o.monotone_tol, "fraction", ev,
                   "; ".join(reasons), _effect_plot(ctx, "dose-response"))


# ---------------------------------------------------------------------------
# state
# ---------------------------------------------------------------------------

def check_non_negative(ctx: Context):
    o = ctx.o
    atol = o.integrator.absolute_tolerance
    runs = [("no dose", ctx.none)] + [(ctx.dose_label(i), df) for i, df in enumerate(ctx.runs)]
    worst = (0.0, "", "", 0.0, 0.0)    # (relative, species, run, value, time)
    bad = []
    for label, df in runs:
        for s in ctx.species:
            y = df[s].to_numpy(float)
            big = float(np.max(np.abs(y)))
            if big == 0:
                continue
            j = int(np.argmin(y))
            rel = -y[j] / big
            if rel > worst[0]:
                worst = (rel, s, label, float(y[j]), float(df["time"].iloc[j]))
            if y[j] < -(o.negative_tol * big + 10 * atol):
                bad.append((s, label, float(y[j]), float(df["time"].iloc[j])))
    tu = ctx.m.time_unit
    ev = f"{len(ctx.species)} species in {len(runs)} runs (no dose and {len(ctx.runs)} doses)"
    if worst[1]:
        ev += (f"; lowest value {_g(worst[3], 2)} {ctx.unit(worst[1])} ({worst[1]}, "
               f"{worst[2]}, t = {_g(worst[4])} {tu}), {_g(worst[0], 2)} of its largest")
    else:
        ev += "; no species goes below zero"
    mins = []
    for s in ctx.species:
        lo = min(float(df[s].min()) for _, df in runs)
        big = max(float(df[s].abs().max()) for _, df in runs)
        mins.append(lo / big if big > 0 else 0.0)
    plot = _plot("lowest value / largest value", "species", "fraction",
                 (("", tuple(ctx.species), _t(mins)),), limit=-o.negative_tol, bars=True)
    if worst[1]:
        df = ctx.none if worst[2] == "no dose" else ctx.runs[
            [ctx.dose_label(i) for i in range(len(ctx.runs))].index(worst[2])]
        plot = _plot(f"{worst[1]} ({worst[2]})", f"time [{tu}]",
                     f"{worst[1]} [{ctx.unit(worst[1])}]",
                     ((worst[1], _t(df["time"]), _t(df[worst[1]])),), limit=0.0)
    if bad:
        s, label, v, t = min(bad, key=lambda b: b[2])
        names = sorted({b[0] for b in bad})
        reason = (f"{', '.join(names)} go{'es' if len(names) == 1 else ''} negative: {s} reaches "
                  f"{_g(v)} {ctx.unit(s)} at t = {_g(t)} {tu} ({label}); a rate law removes "
                  "the species faster than it is present (e.g. a zero-order sink without "
                  "saturation)")
        return _result("fail", worst[0], o.negative_tol, "fraction", ev, reason, plot)
    return _result("pass", worst[0], o.negative_tol, "fraction", ev, "", plot)


def _zero_reactions(sbml: str, ids: list[str]) -> str:
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    mod = doc.getModel()
    for rid in ids:
        r = mod.getReaction(rid)
        kl = r.getKineticLaw() or r.createKineticLaw()
        kl.setMath(libsbml.parseL3Formula("0"))
    return libsbml.writeSBMLToString(doc)


def _outside_changers(m: Model, species: set[str]) -> list[str]:
    mod = m.sim_document.getModel()
    out = []
    for i in range(mod.getNumEvents()):
        ev = mod.getEvent(i)
        for a in ev.getListOfEventAssignments():
            if a.getVariable() in species:
                out.append(f"event {ev.getId() or i + 1} sets {a.getVariable()}")
    for s in sorted(species):
        sp = mod.getSpecies(s)
        if sp.isSetConversionFactor() or mod.isSetConversionFactor():
            out.append(f"{s} has a conversion factor")
    return out


def check_conservation(ctx: Context):
    o = ctx.o
    n, sp, rx, open_ = stoichiometry(ctx.m)
    closed = [k for k, op in enumerate(open_) if not op]
    sources = [rx[k] for k, op in enumerate(open_) if op]
    basis = conserved_moieties(n[:, closed]) if sp else np.zeros((0, 0))
    basis = np.array([c for c in basis if np.count_nonzero(c) > 1])  # drop lone species
    if len(basis) == 0:
        return _result("skip", reason=f"the stoichiometry has no conserved moieties once its "
                       f"{len(sources)} source and sink reactions are switched off")
    model = load_model(_zero_reactions(ctx.m.sbml, sources)) if sources else ctx.m
    amounts = [f"amount({s})" for s in sp]
    df = ctx.simulate(ctx.regimen(ctx.ref), outputs=amounts, model=model)
    a = df[amounts].to_numpy(float)
    totals = a @ basis.T
    scale = np.max(np.abs(a) @ np.abs(basis).T, axis=0)
    scale[scale == 0] = 1.0
    dev = np.abs(totals - totals[0]) / scale
    k = int(np.argmax(dev.max(axis=0)))
    worst = float(dev[:, k].max())
    texts = [moiety_text(c, sp) for c in basis]
    su = ctx.m.units.substance
    ev = (f"{len(sources)} source/sink reaction(s) switched off "
          f"({', '.join(sources[:6])}{', ...' if len(sources) > 6 else ''}); after "
          f"{ctx.dose_label(ctx.ref)} the {len(basis)} conserved moieties ("
          + "; ".join(texts[:4]) + ("; ..." if len(texts) > 4 else "")
          + f") change by at most {_g(worst, 2)} of their size (largest: {texts[k]})")
    plot = _plot("moiety totals (sources/sinks off)", f"time [{ctx.m.time_unit}]",
                 "relative change", tuple((texts[j][:30], _t(df["time"]), _t(dev[:, j]))
                                          for j in range(min(len(texts), 6))),
                 limit=o.conservation_tol)
    if worst > o.conservation_tol:
        involved = {s for s, v in zip(sp, basis[k], strict=True) if v}
        causes = _outside_changers(ctx.m, involved)
        reason = (f"the moiety {texts[k]} is not conserved: it goes from {_g(totals[0, k])} to "
                  f"{_g(totals[-1, k])} {su}. Something outside the reactions' stoichiometry "
                  "changes these species" + (f" ({'; '.join(causes)})" if causes else
                                             " (an event, a rule or a conversion factor), or the "
                                             "solver loses mass"))
        return _result("fail", worst, o.conservation_tol, "fraction", ev, reason, plot)
    return _result("pass", worst, o.conservation_tol, "fraction", ev, "", plot)


# ---------------------------------------------------------------------------
# units
# ---------------------------------------------------------------------------

def scale_problems(m: Model) -> tuple[list[str], int, int]:
    """Kinetic laws, rules and initial assignments whose units have the right dimension
    but the wrong scale (libSBML compares dimensions only): (problems, checked, unchecked)."""
    mod = m.sim_document.getModel()
    ur = m.units
    items = []
    for i in range(mod.getNumReactions()):
        r = mod.getReaction(i)
        if r.getKineticLaw() is not None:
            items.append((f"reaction {r.getId()}", r.getKineticLaw(), ur.reaction_rate()))
    for i in range(mod.getNumRules()):
        ru = mod.getRule(i)
        if ru.isAlgebraic():
            continue
        want = _unit_or_blank(m, ru.getVariable())
        if ru.isRate() and want:
            want = f"1/{ur.time}" if want == "dimensionless" else f"({want})/{ur.time}"
        items.append((f"rule {ru.getVariable()}", ru, want))
    for i in range(mod.getNumInitialAssignments()):
        ia = mod.getInitialAssignment(i)
        items.append((f"initial assignment {ia.getSymbol()}", ia, _unit_or_blank(m, ia.getSymbol())))
    problems, checked, unchecked = [], 0, 0
    for name, el, want in items:
        ud = el.getDerivedUnitDefinition()
        if not want or ud is None or el.containsUndeclaredUnits():
            unchecked += 1
            continue
        got = U.unit_definition_string(ud)
        try:
            f = U.factor(got, want)
        except UnitError:
            checked += 1
            continue  # a dimension error: libSBML reports it
        checked += 1
        if not math.isclose(f, 1.0, rel_tol=1e-9):
            problems.append(f"{name}: the formula has units {got} but {want} is expected "
                            f"(a factor of {_g(f)})")
    return problems, checked, unchecked


def _unit_or_blank(m: Model, sid: str) -> str:
    try:
        return m.unit_of(sid)
    except Exception:
        return ""


def check_units(ctx: Context):
    from workbench.core.sbml_checks import validate

    vf = validate(ctx.m)
    is_unit = vf[C.CATEGORY].str.contains("unit", case=False) | vf[C.CODE].isin(
        _INCOMPLETE_UNIT_CODES)
    rows = vf[is_unit]
    incomplete = rows[rows[C.CODE].isin(_INCOMPLETE_UNIT_CODES)]
    errors = rows[~rows[C.CODE].isin(_INCOMPLETE_UNIT_CODES)]
    scale, checked, unchecked = scale_problems(ctx.m)
    n_bad = len(errors) + len(scale)
    plot = _plot("unit findings", "", "count",
                 (("", ("libSBML errors", "undeclared", "scale checked", "scale wrong",
                        "not checkable"),
                   (len(errors), len(incomplete), checked, len(scale), unchecked)),), bars=True)
    ev = (f"libSBML unit consistency: {len(errors)} inconsistencies, {len(incomplete)} "
          f"'cannot be fully checked' findings; scale check (nM vs pM and the like): "
          f"{checked} kinetic laws, rules and initial assignments checked, {len(scale)} wrong, "
          f"{unchecked} not checkable (undeclared units)")
    if n_bad:
        found = [f"{r[C.ELEMENT]}: {r[C.MESSAGE][:160]}" for _, r in errors.head(3).iterrows()]
        found += scale[:3]
        return _result("fail", n_bad, 0, "findings", ev, "unit errors: " + " | ".join(found),
                       plot)
    if len(incomplete) or unchecked:
        elems = sorted(set(incomplete[C.ELEMENT]))[:5]
        return _result("warn", 0, 0, "findings", ev,
                       "some units are undeclared, so not every expression could be checked"
                       + (f" ({', '.join(elems)})" if elems else "")
                       + "; declare the units of every parameter", plot)
    return _result("pass", 0, 0, "findings", ev, "", plot)


# ---------------------------------------------------------------------------
# numerics
# ---------------------------------------------------------------------------

def check_solver(ctx: Context):
    o = ctx.o
    base: IntegratorSettings = o.integrator
    ms = o.solver_max_step if o.solver_max_step else ctx.end / 1000.0
    if base.max_step:
        ms = min(ms, base.max_step)
    tight = replace(base.tightened(o.solver_factor), max_step=ms)
    floor = 10 * base.absolute_tolerance
    worst = (0.0, "", -1)
    pairs = {}
    for i in sorted({ctx.ref, len(ctx.levels) - 1}):
        a = ctx.runs[i]
        try:
            b = ctx.simulate(ctx.regimen(i), integrator=tight)
        except SimulationError as exc:
            return _result("fail", math.inf, o.solver_tol, "fraction", "",
                           f"with tolerances {o.solver_factor:g}x tighter and max step {_g(ms)} "
                           f"the solver fails at {ctx.dose_label(i)} ({exc.message}): the "
                           "results are not robust to the solver settings")
        pairs[i] = b
        for col in ctx.outputs:
            ya, yb = a[col].to_numpy(float), b[col].to_numpy(float)
            scale = max(float(np.max(np.abs(yb))), floor)
            d = float(np.max(np.abs(ya - yb))) / scale
            if d > worst[0]:
                worst = (d, col, i)
    d, col, i = worst
    tu = ctx.m.time_unit
    ev = (f"rerun at {' and '.join(ctx.dose_label(j) for j in pairs)} with rtol "
          f"{base.relative_tolerance:g}->{tight.relative_tolerance:g}, atol "
          f"{base.absolute_tolerance:g}->{tight.absolute_tolerance:g}, max step "
          f"{_g(ms)} {tu}: every output changes by at most {_g(d, 2)} of its largest value"
          + (f" ({col}, {ctx.dose_label(i)})" if col else ""))
    plot = None
    if col:
        a, b = ctx.runs[i], pairs[i]
        plot = _plot(f"{col} at {ctx.dose_label(i)}", f"time [{tu}]",
                     f"{col} [{ctx.unit(col)}]",
                     (("as set", _t(a["time"]), _t(a[col])),
                      ("tightened", _t(b["time"]), _t(b[col]))))
    if d > o.solver_tol:
        reason = (f"the results depend on the solver settings ({col} changes by {_g(d, 2)} of its "
                  f"largest value): use tighter tolerances (rtol <= {tight.relative_tolerance:g}) "
                  "or a limited max step")
        return _result("fail", d, o.solver_tol, "fraction", ev, reason, plot)
    return _result("pass", d, o.solver_tol, "fraction", ev, "", plot)


def check_proportionality(ctx: Context):
    o = ctx.o
    k = min(max(int(o.linear_doses), 2), len(ctx.levels))
    d, a = ctx.levels[-k:], ctx.aucs[-k:]
    tu = ctx.m.time_unit
    u = ctx.unit(ctx.exposure)
    if not np.all(a > 0):
        return _result("fail", math.inf, o.proportionality_tol, "", f"AUC of {ctx.exposure}: "
                       + ", ".join(_g(v) for v in a),
                       f"the exposure {ctx.exposure} is not positive after the highest doses; "
                       "is it the dosed drug's concentration?")
    beta = float(np.polyfit(np.log(d), np.log(a), 1)[0])
    dn = ctx.aucs / ctx.levels
    ev = (f"AUC(0-{_g(ctx.end)} {tu}) of {ctx.exposure} over the {k} highest doses "
          f"({ctx.dose_label(-k)}-{ctx.dose_label(-1)}) rises with power-model slope "
          f"beta = {beta:.4f}")
    ratio = dn[0] / dn[-1]
    if abs(ratio - 1) > 0.05:
        ev += (f"; the dose-normalised AUC at {ctx.dose_label(0)} is {_g(ratio)} x that at the "
               "highest dose (nonlinear PK at low doses, e.g. target-mediated disposition)")
    plot = _plot("dose-normalised exposure", f"dose [{ctx.dose_unit}]",
                 f"AUC/dose [{u}*{tu}/{ctx.dose_unit}]",
                 (("all doses", _t(ctx.levels), _t(dn)), ("linear range", _t(d), _t(dn[-k:]))),
                 logx=True, logy=True)
    dev = abs(beta - 1.0)
    if dev > o.proportionality_tol:
        reason = (f"exposure is not dose-proportional over {ctx.dose_label(-k)}-"
                  f"{ctx.dose_label(-1)} (beta = {beta:.3f}); if the PK is nonlinear there "
                  "(saturable elimination), set the linear range (linear_doses) or skip the check "
                  "with that reason; otherwise check the dose conversion and clearance terms")
        return _result("fail", dev, o.proportionality_tol, "|beta - 1|", ev, reason, plot)
    return _result("pass", dev, o.proportionality_tol, "|beta - 1|", ev, "", plot)


# ---------------------------------------------------------------------------
# stochastic
# ---------------------------------------------------------------------------

def molecule_counts(m: Model, engine) -> dict[str, float]:
    """Initial amount of each species in molecules (empty when the unit is not an amount)."""
    su = m.units.substance
    try:
        per = U.factor(su, "mol") * AVOGADRO
    except UnitError:
        return {}
    ids, x, _ = engine.state_rates()
    fl = set(m.species[C.ID])
    return {i: abs(v) * per for i, v in zip(ids, x, strict=True) if i in fl}


def _repeatability(ctx: Context, eng, events, big: str, n_big: float):
    """Deterministic models: repeated runs (cached engine, fresh engine) must be identical."""
    ref = ctx.runs[ctx.ref]
    again = [ctx.simulate(ctx.regimen(ctx.ref)) for _ in range(2)]
    fresh = eng.run(ctx.times, ctx.outputs, doses=events, settings=ctx.o.integrator)
    a = ref[ctx.outputs].to_numpy(float)
    diffs = [np.abs(df[ctx.outputs].to_numpy(float) - a) for df in again]
    diffs.append(np.abs(fresh[:, 1:] - a))
    scale = np.maximum(np.max(np.abs(a), axis=0), 1e-300)
    d = float(max(np.max(x / scale) for x in diffs))
    ev = (f"deterministic model: the largest initial species amount is {_g(n_big, 2)} molecules "
          f"({big}), so stochastic fluctuations (about 1/sqrt(N) = {_g(1 / math.sqrt(n_big), 1)}) "
          f"are negligible and no Gillespie simulation is needed (force one with "
          f"stochastic=True); run-to-run spread: 3 repeats of {ctx.dose_label(ctx.ref)} (2 in the "
          f"shared engine, 1 in a fresh one) differ from the first run by at most {_g(d, 2)} of "
          "each output's largest value")
    plot = _plot(f"{ctx.effect}: repeated runs", f"time [{ctx.m.time_unit}]",
                 f"{ctx.effect} [{ctx.unit(ctx.effect)}]",
                 (("first", _t(ref["time"]), _t(ref[ctx.effect])),
                  ("fresh engine", _t(fresh[:, 0]), _t(fresh[:, 1 + ctx.outputs.index(ctx.effect)]))))
    if d > 1e-9:
        return _result("fail", d, 1e-9, "fraction", ev,
                       "repeated deterministic runs differ: state leaks from one run into the next",
                       plot)
    return _result("pass", d, 1e-9, "fraction", ev, "", plot)


def check_stochastic(ctx: Context):
    o = ctx.o
    if o.stochastic is False:
        return _result("skip", reason="switched off (stochastic=False): the model is run "
                                      "deterministically")
    eng = Engine(ctx.m.sbml, (), ctx.m.source)
    counts = molecule_counts(ctx.m, eng)
    if not counts:
        return _result("skip", reason="species amounts have no substance unit convertible to "
                                      "moles, so their molecule counts are unknown")
    big = max(counts, key=lambda s: counts[s])
    n_big = counts[big]
    reg = ctx.regimen(ctx.ref)
    # ctx.mw is a number or a text such as "150 kDa": DoseContext converts it to g/mol
    events = doses_to_events(ctx.m, reg, DoseContext(mw=ctx.mw, subject=ctx.subject))
    if o.stochastic is None and n_big > o.max_molecules:
        return _repeatability(ctx, eng, events, big, n_big)
    times = np.linspace(0.0, ctx.end, 51)
    outs = [ctx.effect] + ([ctx.occupancy] if ctx.occupancy else [])
    rng = np.random.default_rng(ctx.seed)
    r = int(o.replicates)
    seeds = [int(s) for s in rng.integers(1, 2**31 - 1, size=r)]
    res = eng.run_gillespie(times, outs, seeds, doses=events)
    rows, worst, plot = [], 0.0, None
    sd_tol = o.stochastic_z * math.sqrt(1.0 / (2 * r))
    identical = True
    for j, out in enumerate(outs):
        y = res[:, :, j + 1]
        stats = {"final": y[:, -1], "time-average": np.trapezoid(y, times, axis=1) / ctx.end}
        for name, v in stats.items():
            half = v[: r // 2]
            sd = float(np.std(v, ddof=1))
            if sd == 0:
                continue
            identical = False
            z = abs(float(half.mean() - v.mean())) / (sd / math.sqrt(r))
            sdr = abs(float(np.std(half, ddof=1)) / sd - 1.0)
            worst = max(worst, z, sdr / sd_tol * o.stochastic_z)
            rows.append(f"{name} {out}: mean {_g(half.mean(), 4)} (n={len(half)}) vs "
                        f"{_g(v.mean(), 4)} (n={r}), {_g(z, 2)} SE; SD {_g(np.std(half, ddof=1))}"
                        f" vs {_g(sd)}")
        if j == 0:
            run = np.cumsum(y[:, -1]) / np.arange(1, r + 1)
            plot = _plot(f"running mean of final {out}", "replicates",
                         f"{out} [{ctx.unit(out)}]", (("", _t(np.arange(1, r + 1)), _t(run)),),
                         logx=True)
    ev = f"{r} Gillespie replicates at {ctx.dose_label(ctx.ref)}: " + "; ".join(rows)
    if identical:
        return _result("warn", 0.0, o.stochastic_z, "SE", ev,
                       "every replicate is identical: the model shows no stochastic behaviour "
                       "at this dose", plot)
    if worst > o.stochastic_z:
        return _result("fail", worst, o.stochastic_z, "SE", ev,
                       f"the replicate statistics have not converged ({_g(worst, 2)} standard "
                       f"errors between {r // 2} and {r} replicates): run more replicates, or "
                       "the spread is unstable", plot)
    return _result("pass", worst, o.stochastic_z, "SE", ev, "", plot)


def dose_grid(options) -> tuple[np.ndarray, str]:
    """The dose levels (ascending) and their unit, from a
    :class:`~workbench.verify.suite.VerifyOptions` (``doses``, or ``dose_range`` and ``n_doses``)."""
    if options.doses is not None:
        vals = [U.parse_quantity(d) for d in options.doses]
        unit = vals[0][1]
        levels = np.array([v * U.factor(u, unit) for v, u in vals], float)
    else:
        (lo, unit), (hi, hu) = (U.parse_quantity(x) for x in options.dose_range)
        hi = hi * U.factor(hu, unit)
        if not 0 < lo < hi:
            raise SpecError(f"the dose range {options.dose_range} must be positive and increasing",
                            element="dose_range")
        levels = np.geomspace(lo, hi, options.n_doses)
    levels = np.unique(levels)
    if len(levels) < 3 or levels[0] <= 0:
        raise SpecError("the dose grid needs at least 3 distinct positive levels", element="doses")
    return levels, unit or "model units"
