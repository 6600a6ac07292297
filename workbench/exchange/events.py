"""Dosing regimens as SBML events, for the exchange SBML of :mod:`workbench.export`.

A bolus adds its amount to the dosed species (``S = S + D / compartment`` for a
concentration species, with ``D`` a parameter carrying the substance unit); an
infusion switches a zero-order input reaction on at its start and off at its
end through the rate parameter ``wb_infusion_rate_<S>``. Doses at the same time
into the same species share one event (events fired together read the state
before any of them, so separate events would lose doses). With several
regimens the events are gated by the constant parameter ``wb_regimen``.
Amounts come from :func:`workbench.sim.simulate.doses_to_events`, the conversion the
simulator itself uses (mg/kg, body size, molecular weight).
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.core.dosing import Regimen, Subject
from workbench.core.model import Model
from workbench.errors import DoseError, WorkbenchError

__all__ = ["add_regimen_events"]


def _unit_terms(m, uid: str) -> list[tuple[int, float, int, float]]:
    import libsbml

    ud = m.getUnitDefinition(uid) if uid else None
    if ud is not None:
        return [(ud.getUnit(i).getKind(), ud.getUnit(i).getExponentAsDouble(),
                 ud.getUnit(i).getScale(), ud.getUnit(i).getMultiplier())
                for i in range(ud.getNumUnits())]
    if uid and libsbml.UnitKind_isValidUnitKindString(uid, 3, 2):
        return [(libsbml.UnitKind_forName(uid), 1.0, 0, 1.0)]
    return []


def _rate_unit(m, substance_uid: str) -> str:
    """Id of a unit definition substance/time (created when missing); "" when unknown."""
    sub = _unit_terms(m, substance_uid)
    tim = _unit_terms(m, m.getTimeUnits() if m.isSetTimeUnits() else "")
    if not sub or not tim:
        return ""
    uid = f"wb_{substance_uid}_per_{m.getTimeUnits()}"
    if m.getUnitDefinition(uid) is None:
        ud = m.createUnitDefinition()
        ud.setId(uid)
        for kind, e, s, mult in sub:
            u = ud.createUnit()
            u.setKind(kind), u.setExponent(e), u.setScale(s), u.setMultiplier(mult)
        for kind, e, s, mult in tim:
            u = ud.createUnit()
            u.setKind(kind), u.setExponent(-e), u.setScale(s), u.setMultiplier(mult)
    return uid


def _param(m, pid: str, value: float, units: str, name: str, constant: bool = True) -> None:
    p = m.createParameter()
    p.setId(pid)
    p.setName(name)
    p.setValue(float(value))
    p.setConstant(constant)
    if units:
        p.setUnits(units)
    p.setSBOTerm(2)


def _math(formula: str):
    import libsbml

    ast = libsbml.parseL3Formula(formula)
    if ast is None:  # pragma: no cover - formulas are generated here
        raise WorkbenchError(f"internal: cannot parse {formula!r}: {libsbml.getLastParseL3Error()}")
    return ast


def _dosable(m, sid: str):
    s = m.getSpecies(sid)
    if s is None:
        raise DoseError(f"cannot dose into {sid!r}: the model has no such species", element=sid)
    rule_vars = {m.getRule(i).getVariable() for i in range(m.getNumRules())}
    if s.getBoundaryCondition() or s.getConstant() or sid in rule_vars:
        raise DoseError(f"cannot dose into species {sid!r}: it is a boundary or constant species, "
                        "or set by a rule", element=sid, fix="dose a species that reactions change")
    return s


def add_regimen_events(doc, model: Model, regimens: Sequence[Regimen], mw, subject: Subject,
                  target: str | None) -> list[str]:
    from workbench.sim.simulate import DoseContext, doses_to_events

    m = doc.getModel()
    ctx = DoseContext(mw=mw, subject=subject)
    gate = len(regimens) > 1
    if gate:
        _param(m, "wb_regimen", 1.0, "dimensionless",
               f"index of the dosing regimen whose events are active (1..{len(regimens)})")
    infusion_rate: dict[str, str] = {}
    added: list[str] = []
    for k, reg in enumerate(regimens, 1):
        evs = doses_to_events(model, reg, ctx, target=target)
        by_time: dict[float, dict[str, list[float]]] = {}
        for e in evs:
            slot = by_time.setdefault(float(e.time), {}).setdefault(e.target, [0.0, 0.0])
            slot[0] += e.amount
            slot[1] += e.rate
        for j, t in enumerate(sorted(by_time), 1):
            eid = f"wb_dose_r{k}_{j}"
            ev = m.createEvent()
            ev.setId(eid)
            ev.setName(f"regimen {k} ({reg.text or 'doses'}): doses at t = {t:g}")
            ev.setUseValuesFromTriggerTime(True)
            trig = ev.createTrigger()
            trig.setInitialValue(False)
            trig.setPersistent(True)
            tu = m.getTimeUnits() if m.isSetTimeUnits() else ""
            cond = f"time >= {t!r}" + (f" {tu}" if tu else "")
            trig.setMath(_math(f"({cond}) && (wb_regimen == {k} dimensionless)" if gate else cond))
            for sid, (amount, rate) in sorted(by_time[t].items()):
                s = _dosable(m, sid)
                sub_uid = s.getSubstanceUnits() if s.isSetSubstanceUnits() else \
                    (m.getSubstanceUnits() if m.isSetSubstanceUnits() else "")
                if amount:
                    pid = f"{eid}_{sid}"
                    _param(m, pid, amount, sub_uid, f"bolus amount into {sid}")
                    ea = ev.createEventAssignment()
                    ea.setVariable(sid)
                    comp = s.getCompartment()
                    ea.setMath(_math(f"{sid} + {pid}" if s.getHasOnlySubstanceUnits()
                                     else f"{sid} + {pid} / {comp}"))
                if rate:
                    rid = infusion_rate.get(sid) or _infusion_input(m, sid, sub_uid)
                    infusion_rate[sid] = rid
                    pid = f"{eid}_{sid}_rate"
                    _param(m, pid, rate, _rate_unit(m, sub_uid),
                           f"change of the infusion rate into {sid}")
                    ea = ev.createEventAssignment()
                    ea.setVariable(rid)
                    ea.setMath(_math(f"{rid} + {pid}"))
            added.append(eid)
    return added


def _infusion_input(m, sid: str, sub_uid: str) -> str:
    rid = f"wb_infusion_rate_{sid}"
    _param(m, rid, 0.0, _rate_unit(m, sub_uid), f"zero-order infusion rate into {sid}",
           constant=False)
    r = m.createReaction()
    r.setId(f"wb_infusion_{sid}")
    r.setName(f"infusion into {sid}")
    r.setReversible(False)
    r.setSBOTerm(393)  # production
    pr = r.createProduct()
    pr.setSpecies(sid)
    pr.setStoichiometry(1.0)
    pr.setConstant(True)
    kl = r.createKineticLaw()
    kl.setMath(_math(rid))
    return rid
