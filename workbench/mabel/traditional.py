"""Traditional MABEL calculators: dose, concentration, occupancy, activity, HED, Css.

The arithmetic of a first-in-human dose rationale without a mechanistic model
(EMA 2017 first-in-human guideline, EMEA/CHMP/SWP/28367/07 Rev. 1; Muller &
Brennan 2009, Clin Pharmacol Ther 85:247): initial plasma concentration of a
dose, receptor occupancy with or without target depletion, the concentration
of an in vitro activity level (EC10, EC20), body-surface-area scaling of an
animal dose (FDA 2005 guidance on the maximum safe starting dose, Table 1) and
the steady state of a continuous infusion.

Inputs are numbers with units, as text (``"0.1 mg/kg"``, ``"1.88 nM"``,
``"150 kDa"``, ``"40 mL/kg"``), :class:`Quantity` or ``(value, unit)``; every
result is a :class:`Quantity`. Units are converted by :mod:`workbench.units`;
per-kg and per-m² doses use a :class:`workbench.core.dosing.Subject` (70 kg, 170 cm).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from workbench.core import units as U
from workbench.core.dosing import Subject, _dose_unit_kind, molecular_weight
from workbench.errors import DoseError, UnitError

__all__ = [
    "KM_FACTORS", "HumanEquivalentDose", "Quantity", "activity_concentration",
    "animal_to_human_dose", "concentration_for_occupancy", "concentration_to_dose",
    "css_infusion", "dose_to_concentration", "hed_from_noael", "occupancy",
    "receptor_concentration",
]

#: Avogadro constant, 1/mol (exact since the 2019 SI redefinition).
AVOGADRO = 6.02214076e23

#: Default human plasma volume, 40 mL/kg (2.8 L for 70 kg), as in published MABEL
#: calculations (anti-CD28 domain antibody, J Pharmacol Exp Ther: "0.04 l/kg").
DEFAULT_PLASMA_VOLUME = "40 mL/kg"

#: Km (body weight / body-surface area, kg/m²) by species, FDA 2005 guidance
#: Table 1 (Freireich et al. 1966, Cancer Chemother Rep 50:219).
KM_FACTORS = {
    "human": 37.0, "mouse": 3.0, "hamster": 5.0, "rat": 6.0, "ferret": 7.0,
    "guinea pig": 8.0, "rabbit": 12.0, "dog": 20.0, "monkey": 12.0, "marmoset": 6.0,
    "squirrel monkey": 7.0, "baboon": 20.0, "micro-pig": 27.0, "mini-pig": 35.0,
}
_SPECIES_ALIASES = {
    "mice": "mouse", "rats": "rat", "dogs": "dog", "beagle": "dog", "guinea-pig": "guinea pig",
    "cynomolgus": "monkey", "cynomolgus monkey": "monkey", "cyno": "monkey", "rhesus": "monkey",
    "rhesus monkey": "monkey", "macaque": "monkey", "nhp": "monkey", "minipig": "mini-pig",
    "mini pig": "mini-pig", "micropig": "micro-pig", "micro pig": "micro-pig", "man": "human",
}


@dataclass(frozen=True)
class Quantity:
    """A number with its unit (``"nM"``, ``"ug/kg"``, ``"1"`` for a fraction): every result."""

    value: float
    unit: str

    def to(self, unit: str) -> Quantity:
        """The same quantity in ``unit`` (UnitError when the dimensions differ)."""
        return Quantity(U.convert(self.value, self.unit, unit), unit)

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        return f"{self.value:.4g} {self.unit}".strip()


@dataclass(frozen=True)
class HumanEquivalentDose:
    """Result of :func:`hed_from_noael`; the inputs are kept for the report."""

    hed: Quantity  #: human equivalent dose of the NOAEL
    mrsd: Quantity  #: maximum recommended starting dose, ``hed / safety_factor``
    species: str
    km_animal: float
    km_human: float
    safety_factor: float


# --- argument reading: every error names the argument and says how to fix it ----------------------

def _parse(x, name: str, example: str) -> tuple[float, str]:
    """(value, unit) of an argument given as text, :class:`Quantity` or ``(value, unit)``."""
    fix = f"give {name} as a number and a unit, for example {example!r}"
    v, u = (x.value, x.unit) if isinstance(x, Quantity) else \
        (x[0], str(x[1])) if isinstance(x, tuple) and len(x) == 2 else (None, "")
    if isinstance(x, str):
        try:
            v, u = U.parse_quantity(x)
        except UnitError as exc:
            raise UnitError(f"{name}={x!r} cannot be read ({exc.message})", element=name,
                            fix=fix) from None
    if not u.strip():
        raise UnitError(f"{name}={x!r} has no unit", element=name, fix=fix)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise DoseError(f"{name}={x!r}: the value must be a finite number", element=name, fix=fix)
    return float(v), u.strip()


def _positive(v: float, name: str, x, example: str) -> float:
    if not v > 0:
        raise DoseError(f"{name} must be positive, got {x!r}", element=name,
                        fix=f"write for example {example!r}")
    return v


def _number(x, name: str, lo: float, hi: float, fix: str, *, closed_lo: bool = False) -> float:
    """A plain number in the open interval (lo, hi) ([lo, hi) when closed_lo)."""
    ok = not isinstance(x, bool) and isinstance(x, int | float) and math.isfinite(x) \
        and (lo <= x if closed_lo else lo < x) and x < hi
    if not ok:
        rng = f"{'[' if closed_lo else '('}{lo:g}, {hi:g})"
        raise DoseError(f"{name} must be a number in {rng}, got {x!r}", element=name, fix=fix)
    return float(x)


def _is(unit: str, ref: str) -> bool:
    try:
        return U.same_dimension(unit, ref)
    except UnitError:
        return False


def _subject(subject: Subject | None, body_weight) -> Subject:
    s = subject or Subject()
    if body_weight is not None:
        s = replace(s, weight=_absolute(body_weight, "body_weight", "kg", "70 kg", "a body weight"))
    return replace(s, weight=_positive(s.weight, "subject.weight", s.weight, "Subject(weight=70)"))


def _dose_parts(unit: str, name: str, x, example: str) -> tuple[str, str, str]:
    try:
        return _dose_unit_kind(unit)
    except DoseError as exc:
        raise DoseError(f"{name}={x!r}: {exc.message}", element=name,
                        fix=f"write {name} like {example!r} (mg, ug, nmol; per kg or per m2)") from None


def _per_body(subject: Subject, per_body: str) -> float:
    return {"": 1.0, "kg": subject.weight, "m2": subject.body_surface_area}[per_body]


def _kind(unit: str, name: str, x=None, example: str = "1.88 nM") -> str:
    """'mol' for a molar concentration unit, 'g' for a mass concentration, else UnitError."""
    for kind in ("mol", "g"):
        if _is(unit, f"{kind}/L"):
            return kind
    raise UnitError(f"{name}={unit if x is None else x!r} is not a concentration", element=name,
                    fix=f"give a molar (nM, pM) or mass (ug/mL, ng/mL) concentration, e.g. {example!r}")


def _switch(value: float, src: str, dst: str, mw, what: str) -> float:
    """Convert ``value`` between g and mol (src, dst in {'g', 'mol'}) with the molecular weight."""
    if src == dst:
        return value
    weight = molecular_weight(mw)
    if weight is None:
        raise DoseError(f"converting {what} between mass and moles needs the molecular weight",
                        element="mw", fix="pass mw='150 kDa' (an IgG) or mw='54 kDa' (a BiTE)")
    return value / weight if src == "g" else value * weight


def _amount(value: float, base: str, to: str, mw, what: str) -> float:
    """An amount in ``base`` (mg, nmol, ...) expressed in ``to`` (mass or amount unit)."""
    src, dst = ("g" if _is(base, "g") else "mol"), ("g" if _is(to, "g") else "mol")
    return _switch(U.convert(value, base, src), src, dst, mw, what) * U.factor(dst, to)


def _conc(x, name: str, out: str, mw, example: str = "1.88 nM", allow_zero: bool = False) -> float:
    """A concentration argument converted to ``out`` (molar or mass per volume)."""
    v, u = _parse(x, name, example)
    src, dst = _kind(u, name, x, example), _kind(out, "unit")
    result = _switch(U.convert(v, u, f"{src}/L"), src, dst, mw, name) * U.factor(f"{dst}/L", out)
    return 0.0 if allow_zero and result == 0 else _positive(result, name, x, example)


def _absolute(x, name: str, ref: str, example: str, what: str) -> float:
    """A positive argument of the dimension of ``ref``, converted to ``ref``."""
    v, u = _parse(x, name, example)
    if not _is(u, ref):
        raise UnitError(f"{name}={x!r} is not {what}", element=name, fix=f"write for example {example!r}")
    return _positive(U.convert(v, u, ref), name, x, example)


def _per_weight(x, name: str, ref: str, subject: Subject, example: str, what: str) -> float:
    """A quantity given absolute (``ref``, e.g. L) or per body weight (``ref``/kg), in ``ref``."""
    v, u = _parse(x, name, example)
    if _is(u, ref):
        out = U.convert(v, u, ref)
    elif _is(u, f"{ref}/kg"):
        out = U.convert(v, u, f"{ref}/kg") * subject.weight
    else:
        raise UnitError(f"{name}={x!r} is not {what} (absolute or per kg of body weight)",
                        element=name, fix=f"write for example {example!r}")
    return _positive(out, name, x, example)


def _fraction(x, name: str) -> float:
    """A fraction in (0, 1) from a number or a percentage such as ``"10 %"``."""
    fix = "give a number between 0 and 1 or a percentage like '10 %'"
    if isinstance(x, str | Quantity | tuple):
        v, u = _parse(x, name, "10 %")
        if not _is(u, "1"):
            raise UnitError(f"{name}={x!r} is not a fraction", element=name, fix=fix)
        x = U.convert(v, u, "1")
    return _number(x, name, 0.0, 1.0, fix)


# --- dose <-> initial concentration ---------------------------------------------------------------

def dose_to_concentration(dose, *, mw=None, plasma_volume=DEFAULT_PLASMA_VOLUME,
                          body_weight=None, subject: Subject | None = None,
                          unit: str = "nM") -> Quantity:
    """Initial plasma concentration of an IV bolus dose, ``C0 = D x S / Vp``.

    ``S`` is the body weight (dose per kg), the body-surface area (dose per m²)
    or 1 (flat dose); ``Vp`` the plasma volume, absolute or per kg times body
    weight; a mass is turned into moles with the molecular weight. The MABEL
    convention for antibodies, whose initial volume is about the plasma volume
    (Muller & Brennan 2009, Clin Pharmacol Ther 85:247; Duff report 2006).

    Parameters
    ----------
    dose
        ``"0.1 mg/kg"``, ``"7 mg"``, ``"10 mg/m2"``, ``"46 nmol"``.
    mw
        Molecular weight (``"150 kDa"``), needed to convert between mass and moles.
    plasma_volume
        ``"40 mL/kg"`` (default) or absolute (``"3 L"``).
    body_weight, subject
        Body size (:class:`~workbench.core.dosing.Subject`, default 70 kg, 170 cm);
        ``body_weight`` (``"70 kg"``) overrides the subject's weight.
    unit
        Unit of the result: molar (``"nM"``) or mass per volume (``"ug/mL"``).
    """
    s = _subject(subject, body_weight)
    v, u = _parse(dose, "dose", "0.1 mg/kg")
    base, per_body, per_time = _dose_parts(u, "dose", dose, "0.1 mg/kg")
    if per_time:
        raise DoseError(f"dose={dose!r} is a rate", element="dose",
                        fix="use css_infusion for an infusion rate, or give a bolus dose like '0.1 mg/kg'")
    kind = _kind(unit, "unit")
    amount = _amount(_positive(v, "dose", dose, "0.1 mg/kg") * _per_body(s, per_body), base,
                     kind, mw, "the dose")
    volume = _per_weight(plasma_volume, "plasma_volume", "L", s, "40 mL/kg", "a volume")
    return Quantity(amount / volume * U.factor(f"{kind}/L", unit), unit)


def concentration_to_dose(concentration, *, mw=None, plasma_volume=DEFAULT_PLASMA_VOLUME,
                          body_weight=None, subject: Subject | None = None,
                          unit: str = "ug/kg") -> Quantity:
    """IV bolus dose giving ``concentration`` in plasma at time zero, ``D = C x Vp / S``.

    The inverse of :func:`dose_to_concentration`; it turns a MABEL concentration
    (an EC10, the concentration of 10 % occupancy) into a starting dose (Muller &
    Brennan 2009; Saber et al. 2017, Regul Toxicol Pharmacol 90:144).

    Parameters
    ----------
    concentration
        ``"0.32 nM"``, ``"1 ng/mL"``.
    unit
        Dose unit: ``"ug/kg"`` (default), ``"mg"``, ``"nmol"``, ``"ug/m2"``, ...
    mw, plasma_volume, body_weight, subject
        As for :func:`dose_to_concentration`.
    """
    s = _subject(subject, body_weight)
    base, per_body, per_time = _dose_parts(unit, "unit", unit, "ug/kg")
    if per_time:
        raise DoseError(f"unit={unit!r} is a rate", element="unit",
                        fix="ask for a dose unit such as 'ug/kg' or 'mg'")
    kind = _kind(_parse(concentration, "concentration", "0.32 nM")[1], "concentration",
                 concentration, "0.32 nM")
    c = _conc(concentration, "concentration", f"{kind}/L", mw, "0.32 nM")
    volume = _per_weight(plasma_volume, "plasma_volume", "L", s, "40 mL/kg", "a volume")
    return Quantity(_amount(c * volume, kind, base, mw, "the concentration")
                    / _per_body(s, per_body), unit)


# --- receptor occupancy ---------------------------------------------------------------------------

def occupancy(concentration, kd, *, receptor_total=None, mw=None) -> Quantity:
    """Fraction of receptors bound at equilibrium (unit ``"1"``; ``.to("%")`` for percent).

    Without ``receptor_total``: ``RO = C / (C + Kd)`` (Hill-Langmuir), where ``C``
    is the *free* drug concentration, equal to the total when the drug is in
    large excess over its target.

    With ``receptor_total`` ``Rt``, ``concentration`` is the *total* drug ``Lt``
    (free + bound); the complex solves ``Kd = (Lt - RL)(Rt - RL) / RL`` exactly
    (target depletion): ``RL = [b - sqrt(b^2 - 4 Lt Rt)] / 2``, ``b = Lt + Rt + Kd``
    (evaluated without cancellation), ``RO = RL / Rt`` (Morrison 1969, Biochim
    Biophys Acta 185:269; Muller & Brennan 2009, Clin Pharmacol Ther 85:247).

    Parameters
    ----------
    concentration
        Drug concentration; molar, or mass per volume with ``mw`` (as may be ``kd``).
    kd
        Equilibrium dissociation constant, ``"1.88 nM"``.
    receptor_total
        Total receptor concentration, ``"0.65 nM"`` (see :func:`receptor_concentration`).
    """
    k = _conc(kd, "kd", "nM", mw, "1.88 nM")
    lt = _conc(concentration, "concentration", "nM", mw, "16.7 nM", allow_zero=True)
    if receptor_total is None:
        return Quantity(lt / (lt + k), "1")
    rt = _conc(receptor_total, "receptor_total", "nM", mw, "0.65 nM")
    b = lt + rt + k
    return Quantity(2.0 * lt / (b + math.sqrt(max(b * b - 4.0 * lt * rt, 0.0))), "1")


def concentration_for_occupancy(target, kd, *, receptor_total=None, unit: str | None = None,
                                mw=None) -> Quantity:
    """Drug concentration giving receptor occupancy ``target``; the inverse of :func:`occupancy`.

    Without target depletion the free (= total) concentration is ``C = Kd f/(1 - f)``.
    With ``receptor_total`` the *total* concentration is ``Lt = f Rt + Kd f/(1 - f)``,
    free drug plus drug bound to ``f Rt`` receptors (Muller & Brennan 2009).

    Parameters
    ----------
    target
        Occupancy as a fraction (``0.1``) or a percentage (``"10 %"``).
    kd, receptor_total
        As for :func:`occupancy`.
    unit
        Unit of the result, by default that of ``kd``; a mass unit needs ``mw``.
    """
    f = _fraction(target, "target")
    c = _conc(kd, "kd", "nM", mw, "1.88 nM") * f / (1.0 - f)
    if receptor_total is not None:
        c += f * _conc(receptor_total, "receptor_total", "nM", mw, "0.65 nM")
    out = unit or _parse(kd, "kd", "1.88 nM")[1]
    dst = _kind(out, "unit")
    return Quantity(_switch(U.convert(c, "nM", "mol/L"), "mol", dst, mw, "the concentration")
                    * U.factor(f"{dst}/L", out), out)


def receptor_concentration(receptors_per_cell, cells, *, unit: str = "nM") -> Quantity:
    """Molar receptor concentration from copy number and cell density, ``R = n N / N_A``.

    ``n`` receptors per cell, ``N`` cells per volume, ``N_A`` the Avogadro
    constant (exact, SI 2019): 10,000 receptors on 1e6 cells/mL is 1e13/L, 16.6 pM.

    Parameters
    ----------
    receptors_per_cell
        Copy number per cell (``2e4``).
    cells
        Cell density, ``"1e6 cells/mL"`` or ``"1e9 1/L"``; ``unit`` is molar.
    """
    n = _number(receptors_per_cell, "receptors_per_cell", 0.0, math.inf,
                "give the copy number per cell as a number, e.g. 2e4")
    v, u = _parse(cells, "cells", "1e6 cells/mL")
    if not (_is(u, "mol/L") or _is(u, "1/L")):  # 'cells' counts 1/N_A mol in the registry
        raise UnitError(f"cells={cells!r} is not a number of cells per volume", element="cells",
                        fix="write for example '1e6 cells/mL' or '1e9 1/L'")
    if _kind(unit, "unit") != "mol":
        raise UnitError(f"unit={unit!r} is not a molar concentration", element="unit",
                        fix="use nM, pM or nmol/L")
    per_litre = U.convert(v, u, "mol/L") * AVOGADRO if _is(u, "mol/L") else U.convert(v, u, "1/L")
    per_litre = _positive(per_litre, "cells", cells, "1e6 cells/mL")
    return Quantity(U.convert(n * per_litre / AVOGADRO, "mol/L", unit), unit)


# --- in vitro activity ----------------------------------------------------------------------------

def activity_concentration(ec50, percent, hill: float = 1.0) -> Quantity:
    """Concentration of an activity level (EC10, EC20, ...), ``EC_F = EC50 (F/(100-F))^(1/h)``.

    The inverse of the Hill equation ``E = Emax C^h / (EC50^h + C^h)`` at ``F`` %
    of the maximal effect (GraphPad Prism guide, "Equation: ECanything"); the
    same holds for inhibition (IC_F). MABEL often uses the EC10-EC20 of the most
    sensitive human in vitro assay (EMA 2017 first-in-human guideline; Saber et
    al. 2017, Regul Toxicol Pharmacol 90:144).

    Parameters
    ----------
    ec50
        ``"0.5 nM"``, ``"35 ng/mL"``; the result has the same unit.
    percent
        Activity level in percent of maximum, in (0, 100): ``20`` for the EC20.
    hill
        Hill coefficient (slope), positive.
    """
    v, u = _parse(ec50, "ec50", "0.5 nM")
    _kind(u, "ec50", ec50, "0.5 nM")
    _positive(v, "ec50", ec50, "0.5 nM")
    f = _number(percent, "percent", 0.0, 100.0, "write 10 for the EC10, 20 for the EC20")
    h = _number(hill, "hill", 0.0, math.inf, "use the fitted Hill slope (1 for a standard curve)")
    return Quantity(v * (f / (100.0 - f)) ** (1.0 / h), u)


# --- animal scaling (FDA 2005) --------------------------------------------------------------------

def _species(species: str) -> str:
    key = str(species).strip().lower().replace("_", " ")
    key = _SPECIES_ALIASES.get(key, key)
    if key not in KM_FACTORS:
        raise DoseError(f"unknown species {species!r} for body-surface-area scaling",
                        element="species", fix="use one of " + ", ".join(sorted(KM_FACTORS)))
    return key


def animal_to_human_dose(dose, species: str) -> Quantity:
    """Human equivalent of an animal dose by body-surface-area scaling (FDA 2005).

    ``HED = animal dose x Km_animal / Km_human``, Km from the FDA 2005 guidance
    Table 1 (:data:`KM_FACTORS`, human 37): the animal dose in mg/kg is divided
    by 12.3 (mouse), 6.2 (rat), 3.1 (monkey, rabbit), 1.8 (dog), ... A dose
    per m² is the same in every species and is returned unchanged.

    Parameters
    ----------
    dose
        Animal dose per kg (``"50 mg/kg"``, ``"4 ug/kg"``) or per m².
    species
        ``"mouse"``, ``"rat"``, ``"dog"``, ``"monkey"`` (also cynomolgus, rhesus), ...
    """
    v, u = _parse(dose, "dose", "50 mg/kg")
    _positive(v, "dose", dose, "50 mg/kg")
    _base, per_body, per_time = _dose_parts(u, "dose", dose, "50 mg/kg")
    if per_time:
        raise DoseError(f"dose={dose!r} is a rate", element="dose",
                        fix="scale the daily dose, e.g. '50 mg/kg' for 50 mg/kg/day")
    if per_body == "m2":
        return Quantity(v, u)
    if per_body != "kg":
        raise DoseError(f"dose={dose!r} is a flat dose; body-surface-area scaling needs a dose per kg",
                        element="dose", fix="divide by the animal's body weight, e.g. '50 mg/kg'")
    return Quantity(v * KM_FACTORS[_species(species)] / KM_FACTORS["human"], u)


def hed_from_noael(noael, species: str, *, safety_factor: float = 10.0) -> HumanEquivalentDose:
    """Human equivalent dose of an animal NOAEL and the maximum recommended starting dose.

    Steps 2-4 of the FDA 2005 guidance ("Estimating the Maximum Safe Starting
    Dose in Initial Clinical Trials for Therapeutics in Adult Healthy
    Volunteers"): ``HED = NOAEL x Km_animal / Km_human`` (Table 1) and
    ``MRSD = HED / safety_factor`` (default 10; larger for a steep dose-response
    or severe, irreversible or novel toxicity). A rat NOAEL of 50 mg/kg gives an
    HED of 50 / 6.2 = 8 mg/kg and an MRSD of 0.8 mg/kg.

    Parameters
    ----------
    noael
        NOAEL of the animal study, per kg (``"50 mg/kg"``).
    species
        Species of the study (see :data:`KM_FACTORS`).
    safety_factor
        Divisor of the HED, at least 1.
    """
    sf = _number(safety_factor, "safety_factor", 1.0, math.inf,
                 "use 10 (the FDA default) or more", closed_lo=True)
    key = _species(species)
    hed = animal_to_human_dose(noael, key)
    return HumanEquivalentDose(hed=hed, mrsd=Quantity(hed.value / sf, hed.unit), species=key,
                               km_animal=KM_FACTORS[key], km_human=KM_FACTORS["human"],
                               safety_factor=sf)


# --- continuous infusion --------------------------------------------------------------------------

def css_infusion(rate, clearance, *, mw=None, body_weight=None, subject: Subject | None = None,
                 unit: str = "ng/mL") -> Quantity:
    """Steady-state plasma concentration of a constant-rate infusion, ``Css = R0 / CL``.

    At steady state the infusion rate equals the elimination rate ``CL x Css``
    for linear elimination, whatever the number of compartments (Rowland &
    Tozer, Clinical Pharmacokinetics and Pharmacodynamics, 4th ed. 2011).

    Parameters
    ----------
    rate
        ``"28 ug/day"``, ``"15 ug/m2/day"``, ``"0.5 mg/kg/h"``, ``"1 nmol/h"``.
    clearance
        Systemic clearance, ``"2 L/h"`` or per body weight ``"0.64 mL/min/kg"``.
    mw, body_weight, subject
        As for :func:`dose_to_concentration`.
    unit
        Unit of the result: mass (``"ng/mL"``, default) or molar (``"nM"``).
    """
    s = _subject(subject, body_weight)
    v, u = _parse(rate, "rate", "28 ug/day")
    base, per_body, per_time = _dose_parts(u, "rate", rate, "28 ug/day")
    if not per_time:
        raise DoseError(f"rate={rate!r} has no time unit", element="rate",
                        fix="write an infusion rate such as '28 ug/day' or '0.5 mg/kg/h'")
    kind = _kind(unit, "unit")
    per_hour = _positive(v, "rate", rate, "28 ug/day") * U.factor(f"1/{per_time}", "1/h")
    amount = _amount(per_hour * _per_body(s, per_body), base, kind, mw, "the infusion rate")
    cl = _per_weight(clearance, "clearance", "L/h", s, "2 L/h", "a clearance")
    return Quantity(amount / cl * U.factor(f"{kind}/L", unit), unit)
