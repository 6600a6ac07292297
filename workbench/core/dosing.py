"""Dosing regimens: IV bolus, zero-order infusion, repeats, loading/maintenance, step-up.

A :class:`Regimen` is a tuple of :class:`Dose` records. The simulator applies
doses between integration segments (a bolus adds amount to the target
species; an infusion switches on a zero-order input), so the model file is not
edited and one model serves every regimen. :func:`parse_regimen` reads the
compact text form used by the CLI and study files.

Text grammar (case-insensitive; ``[]`` optional, ``|`` alternatives)::

    regimen  := part ("then" part)*
    part     := NUMBER UNIT route [schedule] [start] [target]
              | NUMBER ["model units"] [route] [schedule] [start] [target]
    route    := "iv" ["bolus"] | "bolus" | ["iv"] "infusion" DURATION
                (a part after "then" may leave it out: it keeps the previous part's route)
    schedule := "q" [NUMBER] TIMEUNIT "x" INTEGER          e.g. q1w x4, q24h x7, qw x3
    start    := "at" NUMBER TIMEUNIT                       absolute start time
              | "after" NUMBER TIMEUNIT                    time after the previous part's last
                                                           dose (also before the schedule)
    target   := "into" SPECIES_ID
    UNIT     := mass | amount | mass/kg | amount/kg | mass/m2    (mg, ug, ng, g, nmol, umol,
                pmol, mg/kg, ug/kg, ng/kg, nmol/kg, mg/m2, ug/m2, ...), or any of these
                per time (mg/h, ug/kg/day) for an infusion given by its rate
    TIMEUNIT := min | h | d | day | w | wk | week  (plural forms too)

Examples: ``"0.1 mg/kg iv"``, ``"1 mg iv infusion 2 h q1w x4"``,
``"10 ug/kg iv then 30 ug/kg iv q1w x3"`` (loading then maintenance: the
maintenance starts one of its intervals after the loading dose),
``"5 ug/kg/day infusion 28 d"`` (continuous infusion given by its rate), and
step-up (priming) schedules such as the teclistamab pattern (0.06, 0.3, then
1.5 mg/kg weekly on days 1, 4 and 7; Moreau et al. 2022, N Engl J Med 387:495,
doi:10.1056/NEJMoa2203478): ``"0.06 mg/kg iv then 0.3 mg/kg after 3 d then 1.5
mg/kg after 3 d q1w x4"``, or with equal step intervals ``"60 ug/kg iv then 300
ug/kg then 1500 ug/kg q1w x4"`` (steps one week apart).

A part after ``then`` starts at the time given with ``at``, the time given with
``after`` past the previous part's last dose, or else one interval after the
previous part's last dose: the previous part's interval when it has one, else
its own, else that of the next part that has one (so the steps of a step-up
chain take the interval of the schedule that ends it).

Model units: a plain number (``"5"``, ``"5 model units"``, ``"5 q24h x3 into S"``)
is an amount in the dosed species' own substance unit, added as is (route
optional, bolus by default). This is how models that declare no units are dosed;
with a unit-free model, schedule times are model times.

Body-size scaling: ``/kg`` doses multiply by body weight; ``/m2`` doses by
body-surface area from a named formula (:data:`BSA_FORMULAS`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace

import pandas as pd

from workbench import columns as C
from workbench.core import units as U
from workbench.errors import DoseError, UnitError

__all__ = ["BSA_FORMULAS", "Dose", "Regimen", "Subject", "body_surface_area",
           "dose_in_model_units", "molecular_weight", "parse_regimen"]


# ---------------------------------------------------------------------------
# subjects and body size
# ---------------------------------------------------------------------------

def _mosteller(w: float, h: float) -> float:
    # Mosteller RD (1987) N Engl J Med 317:1098
    return math.sqrt(h * w / 3600.0)


def _du_bois(w: float, h: float) -> float:
    # Du Bois D, Du Bois EF (1916) Arch Intern Med 17:863
    return 0.007184 * w**0.425 * h**0.725


def _haycock(w: float, h: float) -> float:
    # Haycock GB et al. (1978) J Pediatr 93:62
    return 0.024265 * w**0.5378 * h**0.3964


def _gehan_george(w: float, h: float) -> float:
    # Gehan EA, George SL (1970) Cancer Chemother Rep 54:225
    return 0.0235 * w**0.51456 * h**0.42246


#: Body-surface-area formulas: name -> f(weight kg, height cm) in m^2.
BSA_FORMULAS = {"mosteller": _mosteller, "du_bois": _du_bois, "dubois": _du_bois,
                "haycock": _haycock, "gehan_george": _gehan_george}


def body_surface_area(weight_kg: float, height_cm: float, formula: str = "mosteller") -> float:
    """Body-surface area in m^2 from weight (kg) and height (cm).

    Parameters
    ----------
    formula
        ``"mosteller"`` (Mosteller 1987, NEJM 317:1098), ``"du_bois"`` (Du Bois &
        Du Bois 1916, Arch Intern Med 17:863), ``"haycock"`` (Haycock et al. 1978)
        or ``"gehan_george"`` (Gehan & George 1970).
    """
    key = formula.lower().replace("-", "_").replace(" ", "_")
    if key not in BSA_FORMULAS:
        raise DoseError(f"unknown body-surface-area formula {formula!r}",
                        fix="use one of " + ", ".join(sorted(set(BSA_FORMULAS) - {"dubois"})))
    if weight_kg <= 0 or height_cm <= 0:
        raise DoseError(f"weight ({weight_kg} kg) and height ({height_cm} cm) must be positive")
    return BSA_FORMULAS[key](weight_kg, height_cm)


@dataclass(frozen=True)
class Subject:
    """Body size of one subject, for mg/kg and mg/m2 doses.

    Attributes
    ----------
    weight
        Body weight in kg.
    height
        Height in cm (used for BSA when ``bsa`` is not given).
    bsa
        Body-surface area in m^2; computed with ``bsa_formula`` when None.
    """

    weight: float = 70.0
    height: float = 170.0
    bsa: float | None = None
    bsa_formula: str = "mosteller"

    def __post_init__(self) -> None:
        # a negative or NaN weight once gave negative concentrations with exit 0
        for name, unit in (("weight", "kg"), ("height", "cm"), ("bsa", "m2")):
            v = getattr(self, name)
            if v is None and name == "bsa":
                continue
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) \
                and v > 0
            if not ok:
                raise DoseError(f"the subject's {name} must be a positive number in {unit}, got "
                                f"{v!r}", element=f"subject.{name}",
                                fix=f"give the {name} in {unit}, e.g. "
                                    + {"weight": "70", "height": "170", "bsa": "1.8"}[name])

    @property
    def body_surface_area(self) -> float:
        """Body-surface area in m^2."""
        if self.bsa is not None:
            return self.bsa
        return body_surface_area(self.weight, self.height, self.bsa_formula)


def molecular_weight(mw: float | str | None) -> float | None:
    """Molecular weight in g/mol from a number (g/mol) or a string ("150 kDa", "54000 g/mol")."""
    if mw is None:
        return None
    if isinstance(mw, bool):  # True is an int to Python, not a molecular weight
        raise DoseError(f"molecular weight {mw!r} is not a number or a quantity",
                        fix="give it in g/mol (150000) or as '150 kDa'")
    if isinstance(mw, int | float):
        value = float(mw)
    else:
        v, unit = U.parse_quantity(mw)
        unit = unit.strip()
        if unit.lower() in ("da", "kda", "mda"):
            value = v * {"da": 1.0, "kda": 1e3, "mda": 1e6}[unit.lower()]
        else:
            try:
                value = U.convert(v, unit or "g/mol", "g/mol")
            except UnitError:
                raise DoseError(f"molecular weight {mw!r} is not a mass per amount",
                                fix="write it like '150 kDa' or '150000 g/mol'") from None
    if not 0 < value < math.inf:  # an infinite one would turn every mass dose into 0 moles
        raise DoseError(f"molecular weight must be a positive finite number, got {mw!r}",
                        fix="give it in g/mol (150000) or as '150 kDa'")
    return value


# ---------------------------------------------------------------------------
# doses and regimens
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Dose:
    """One administration.

    Attributes
    ----------
    time
        Start time, in the regimen's time unit.
    amount
        Total amount given (for an infusion: over its whole duration).
    unit
        Unit of ``amount``: mg, ug, nmol, mg/kg, ug/kg, mg/m2, ...
    route
        ``"bolus"`` or ``"infusion"``.
    duration
        Infusion duration in the regimen's time unit (0 for a bolus).
    target
        Species id receiving the dose; None uses the regimen's target.
    """

    time: float
    amount: float
    unit: str
    route: str = "bolus"
    duration: float = 0.0
    target: str | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.amount, int | float) and math.isfinite(self.amount)) or self.amount < 0:
            raise DoseError(f"dose amount must be a non-negative number, got {self.amount!r}",
                            element="dose")
        if not math.isfinite(self.time) or self.time < 0:
            raise DoseError(f"dose time must be a non-negative number, got {self.time!r}",
                            element="dose")
        if self.route not in ("bolus", "infusion"):
            raise DoseError(f"unknown route {self.route!r}", element="dose",
                            fix="use 'bolus' (iv) or 'infusion'")
        if self.route == "infusion" and not self.duration > 0:
            raise DoseError("an infusion needs a positive duration", element="dose",
                            fix="write for example '1 mg iv infusion 2 h'")
        _dose_unit_kind(self.unit)


@dataclass(frozen=True)
class Regimen:
    """A dosing regimen: doses into a species, times in ``time_unit``.

    Use :func:`parse_regimen` for the text form, or build from :class:`Dose` records.
    """

    doses: tuple[Dose, ...]
    target: str | None = None
    time_unit: str = "h"
    text: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "doses", tuple(sorted(self.doses, key=lambda d: d.time)))
        try:
            U.factor(self.time_unit, "h")
        except UnitError:
            raise DoseError(f"{self.time_unit!r} is not a time unit", element="time_unit") from None

    def __str__(self) -> str:
        return self.text or f"Regimen({len(self.doses)} doses)"

    def with_target(self, target: str) -> Regimen:
        """The same regimen dosing into ``target`` (doses without their own target)."""
        return replace(self, target=target)

    def scaled(self, factor: float) -> Regimen:
        """Every dose multiplied by ``factor`` (dose-level series of the same schedule)."""
        return replace(self, doses=tuple(replace(d, amount=d.amount * factor) for d in self.doses),
                       text=f"{factor:g} x ({self.text})" if self.text else "")

    def dose_times(self) -> list[float]:
        """Start times of all doses (regimen time unit)."""
        return [d.time for d in self.doses]

    def to_frame(self) -> pd.DataFrame:
        """Schedule table: columns :data:`workbench.columns.SCHEDULE_COLUMNS`; times in ``time_unit``."""
        rows = [{C.DOSE_TIME: d.time, C.DOSE_AMOUNT: d.amount, C.DOSE_UNIT: d.unit,
                 C.DOSE_ROUTE: d.route, C.DOSE_DURATION: d.duration,
                 C.DOSE_TARGET: d.target or self.target or ""} for d in self.doses]
        df = pd.DataFrame(rows, columns=list(C.SCHEDULE_COLUMNS))
        df.attrs["time_unit"] = self.time_unit
        return df


_TIME_WORDS = {"min": "min", "mins": "min", "minute": "min", "minutes": "min", "h": "h", "hr": "h",
               "hrs": "h", "hour": "h", "hours": "h", "d": "day", "day": "day", "days": "day",
               "w": "week", "wk": "week", "wks": "week", "week": "week", "weeks": "week"}


#: the dose unit of a plain number ("5", "5 model units"): the dosed species' own
#: substance unit, for models that declare none (many published models)
MODEL_UNITS = "model_units"
_MODEL_UNITS_RE = re.compile(r"^\s*(?P<num>\S+?)(?:\s+model[\s_]+units?)?(?=\s|$)(?P<rest>.*)$",
                             re.IGNORECASE)
_AFTER_AMOUNT = re.compile(r"^\s*($|iv\b|bolus\b|infusion\b|q\s*[\d.]*\s*[a-z]|at\s|after\s|"
                           r"into\s)",
                           re.IGNORECASE)


def _plain_number_dose(part: str) -> str:
    """``"5 iv"`` / ``"5 model units q24h x3"`` -> ``"5 model_units iv"`` ...: a dose in
    model units; other text unchanged."""
    m = _MODEL_UNITS_RE.match(part)
    if not m:
        return part
    try:
        float(m.group("num"))
    except ValueError:
        return part
    explicit = re.match(r"^\s*\S+\s+model[\s_]+units?\b", part, re.IGNORECASE) is not None
    if explicit or _AFTER_AMOUNT.match(m.group("rest")):
        return f"{m.group('num')} {MODEL_UNITS}{m.group('rest')}"
    return part


def _dose_unit_kind(unit: str) -> tuple[str, str, str]:
    """Split a dose unit into (base, per_body, per_time): ("mg", "kg", "h") for "mg/kg/h"."""
    if unit == MODEL_UNITS:
        return MODEL_UNITS, "", ""
    parts = [p.strip() for p in unit.replace("µ", "u").replace("μ", "u").split("/")]
    base = parts[0]
    per_body, per_time = "", ""
    for p in parts[1:]:
        pl = p.lower()
        if pl in ("kg", "m2", "m^2"):
            if per_body:
                raise DoseError(f"dose unit {unit!r} has two body-size denominators")
            per_body = "kg" if pl == "kg" else "m2"
        elif pl in _TIME_WORDS:
            if per_time:
                raise DoseError(f"dose unit {unit!r} has two time denominators")
            per_time = _TIME_WORDS[pl]
        else:
            raise DoseError(f"dose unit {unit!r}: cannot read {p!r}",
                            fix="use a mass or amount (mg, ug, ng, nmol, pmol), optionally per kg "
                                "or per m2, optionally per time for an infusion rate")
    try:
        is_mass = U.same_dimension(base, "g")
        is_amount = U.same_dimension(base, "mol")
    except UnitError:
        is_mass = is_amount = False
    if not (is_mass or is_amount):
        raise DoseError(f"dose unit {unit!r}: {base!r} is neither a mass nor an amount of substance",
                        fix="use mg, ug, ng, g, nmol, umol or pmol")
    return base, per_body, per_time


_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
_PART_RE = re.compile(
    rf"""^\s*(?P<amount>\S+)\s+(?P<unit>[^\s]+)\s*
        (?P<route>iv\s+bolus|iv\s+infusion|infusion|iv|bolus)?
        (?:\s+(?P<dur>{_NUM})\s*(?P<dur_u>[a-z]+))?
        (?:\s+after\s+(?P<after0>{_NUM})\s*(?P<after0_u>[a-z]+))?
        (?:\s+q\s*(?P<every>{_NUM})?\s*(?P<every_u>[a-z]+)(?:\s*x\s*(?P<count>\S+))?)?
        (?:\s+at\s+(?P<at>{_NUM})\s*(?P<at_u>[a-z]+))?
        (?:\s+after\s+(?P<after>{_NUM})\s*(?P<after_u>[a-z]+))?
        (?:\s+into\s+(?P<into>[A-Za-z_]\w*))?
        \s*$""", re.IGNORECASE | re.VERBOSE)


def _time(value: str, unit: str, to_unit: str, what: str, text: str) -> float:
    u = _TIME_WORDS.get(unit.lower())
    if u is None:
        raise DoseError(f"in {text!r}: {unit!r} is not a time unit ({what})",
                        fix="use min, h, d or w (for example 'q1w x4', 'infusion 2 h', 'at 7 d')")
    return float(value) * U.factor(u, to_unit)


def parse_regimen(text: str, target: str | None = None, time_unit: str = "h") -> Regimen:
    """Parse the compact text form of a regimen (grammar in the module docstring).

    Parameters
    ----------
    text
        For example ``"10 ug/kg iv then 30 ug/kg iv q1w x3"``.
    target
        Species id receiving the doses (parts may name their own with ``into``).
    time_unit
        Unit of the dose times in the returned regimen.

    Raises
    ------
    DoseError
        Naming the part that does not parse and what was expected.
    """
    if not isinstance(text, str) or not text.strip():
        raise DoseError("the dose text is empty", element="dose",
                        fix="write for example '0.1 mg/kg iv' or '1 mg iv infusion 2 h q1w x4'")
    parts = re.split(r"\s+then\s+", text.strip(), flags=re.IGNORECASE)
    matches = [_PART_RE.match(_plain_number_dose(p)) for p in parts]
    doses: list[Dose] = []
    prev_last: float | None = None
    prev_interval: float | None = None
    prev_route: tuple[str, str | None, str | None] | None = None
    for j, (part, m) in enumerate(zip(parts, matches, strict=True)):
        if not m:
            raise DoseError(f"cannot read the dose {part!r}", element="dose",
                            fix="write '<amount> <unit> iv [infusion <duration>] [q<interval> x<count>] "
                                "[at <time>] [into <species>]', for example '1 mg iv infusion 2 h q1w x4'")
        g = m.groupdict()
        if g["after0"] is not None:  # "after" before or after the schedule
            if g["after"] is not None:
                raise DoseError(f"in {part!r}: 'after' is given twice", element="dose")
            g["after"], g["after_u"] = g["after0"], g["after0_u"]
        try:
            amount = float(g["amount"])
        except ValueError:
            raise DoseError(f"in {part!r}: the amount {g['amount']!r} is not a number", element="dose",
                            fix="start each dose with a number, for example '0.1 mg/kg iv'") from None
        if not math.isfinite(amount) or amount < 0:
            raise DoseError(f"in {part!r}: the amount must be a non-negative number", element="dose")
        unit = g["unit"]
        base, per_body, per_time = _dose_unit_kind(unit)
        route_word = (g["route"] or "").lower()
        if not route_word and prev_route is not None and g["dur"] is None:
            route_word, g["dur"], g["dur_u"] = prev_route  # "then" part: the previous route
        if not route_word and base == MODEL_UNITS and not g["dur"]:
            route_word = "bolus"  # "5": an amount added to the species, in its own unit
        if not route_word:
            raise DoseError(f"in {part!r}: the route is missing", element="dose",
                            fix="add 'iv' (bolus) or 'iv infusion <duration>'")
        is_inf = "infusion" in route_word
        duration = 0.0
        if is_inf:
            if g["dur"] is None:
                raise DoseError(f"in {part!r}: an infusion needs its duration", element="dose",
                                fix="write for example '1 mg iv infusion 2 h'")
            duration = _time(g["dur"], g["dur_u"], time_unit, "infusion duration", part)
            if duration <= 0:
                raise DoseError(f"in {part!r}: the infusion duration must be positive", element="dose")
        elif g["dur"] is not None:
            raise DoseError(f"in {part!r}: unexpected {g['dur']} {g['dur_u']} after a bolus",
                            element="dose", fix="write 'iv infusion <duration>' for an infusion")
        if per_time:
            if not is_inf:
                raise DoseError(f"in {part!r}: a rate ({unit}) needs an infusion with a duration",
                                element="dose", fix="write for example '5 ug/kg/day iv infusion 28 d'")
            amount = amount * duration * U.factor(time_unit, per_time)
            unit = base + (f"/{per_body}" if per_body else "")
        interval, count = None, 1
        if g["every_u"] is not None:
            every = float(g["every"]) if g["every"] else 1.0
            interval = _time(str(every), g["every_u"], time_unit, "dosing interval", part)
            if g["count"] is None:
                raise DoseError(f"in {part!r}: the number of doses is missing", element="dose",
                                fix="add 'x<count>', for example 'q1w x4'")
            try:
                count = int(g["count"])
            except ValueError:
                raise DoseError(f"in {part!r}: the dose count {g['count']!r} is not a whole number",
                                element="dose") from None
            if count < 1 or interval <= 0:
                raise DoseError(f"in {part!r}: the interval and the count must be positive",
                                element="dose")
            if is_inf and duration > interval:
                raise DoseError(f"in {part!r}: the infusion ({duration:g} {time_unit}) is longer than "
                                f"the dosing interval ({interval:g} {time_unit})", element="dose")
        if g["at"] is not None and g["after"] is not None:
            raise DoseError(f"in {part!r}: give 'at' (absolute) or 'after' (relative), not both",
                            element="dose")
        if g["at"] is not None:
            start = _time(g["at"], g["at_u"], time_unit, "start time", part)
        elif prev_last is None:
            if g["after"] is not None:
                raise DoseError(f"in {part!r}: 'after' needs an earlier part to count from",
                                element="dose", fix="use 'at <time>' for the first part")
            start = 0.0
        elif g["after"] is not None:
            start = prev_last + _time(g["after"], g["after_u"], time_unit, "time after the "
                                      "previous dose", part)
        else:
            gap = prev_interval if prev_interval is not None else interval
            if gap is None:  # a step-up chain: the interval of the part that ends it
                gap = next((_time(mm["every"] or "1", mm["every_u"], time_unit,
                                  "dosing interval", pp)
                            for pp, mm in zip(parts[j + 1:], matches[j + 1:], strict=True)
                            if mm and mm["every_u"] is not None), None)
            if gap is None:
                raise DoseError(f"in {text!r}: when does {part!r} start?", element="dose",
                                fix="give the earlier part an interval ('q1w x1') or this part a "
                                    "start ('at 7 d')")
            start = prev_last + gap
        from workbench.core.limits import check_limit

        check_limit("administrations", len(doses) + count, f"in {part!r}: the number of "
                    "administrations", element="dose", error=DoseError)
        for k in range(count):
            doses.append(Dose(time=start + k * (interval or 0.0), amount=amount, unit=unit,
                              route="infusion" if is_inf else "bolus", duration=duration,
                              target=g["into"]))
        prev_last = start + (count - 1) * (interval or 0.0)
        prev_interval = interval
        prev_route = (route_word, g["dur"], g["dur_u"])
    return Regimen(doses=tuple(doses), target=target, time_unit=time_unit, text=text.strip())


def dose_in_model_units(dose: Dose, substance_unit: str, *, mw: float | str | None = None,
                        subject: Subject | None = None) -> float:
    """Amount of ``dose`` expressed in the model's ``substance_unit``.

    Body-size doses (/kg, /m2) are multiplied by the subject's weight or BSA;
    mass doses are divided by the molecular weight (g/mol) when the model counts
    substance in moles, and amounts multiplied by it when the model counts mass.

    Examples
    --------
    0.1 mg/kg for a 70 kg subject of a 150 kDa antibody is
    0.1 * 70 mg / 150000 g/mol = 46.67 nmol.
    """
    subject = subject or Subject()
    base, per_body, _ = _dose_unit_kind(dose.unit)
    amount = dose.amount
    if base == MODEL_UNITS:  # a plain number: already in the species' substance unit
        return float(amount)
    if per_body == "kg":
        amount *= subject.weight
    elif per_body == "m2":
        amount *= subject.body_surface_area
    if not substance_unit:
        raise DoseError("the model's substance unit is undeclared, so a dose cannot be converted",
                        element=dose.target or "dose",
                        fix="declare substanceUnits on the model or the dosed species")
    mwv = molecular_weight(mw)
    dose_is_mass = U.same_dimension(base, "g")
    try:
        model_is_mass = U.same_dimension(substance_unit, "g")
        model_is_amount = U.same_dimension(substance_unit, "mol")
    except UnitError:
        model_is_mass = model_is_amount = False
    if not (model_is_mass or model_is_amount):
        raise DoseError(f"the model's substance unit {substance_unit!r} is neither a mass nor an "
                        "amount of substance", element=dose.target or "dose",
                        fix="dose a species whose substance unit is a mole or gram multiple")
    if not math.isfinite(amount):
        raise DoseError(f"the dose {dose.amount:g} {dose.unit} for a subject of "
                        f"{subject.weight:g} kg is {amount:g} {base}: not a finite amount",
                        element=dose.target or "dose", fix="check the dose amount and its unit")
    out = _convert_dose(amount, base, dose, substance_unit, mwv, dose_is_mass, model_is_mass)
    if not math.isfinite(out) or (out == 0 and amount > 0):
        raise DoseError(f"the dose {dose.amount:g} {dose.unit} is {out:g} {substance_unit} in "
                        "model units: not a usable finite amount (overflow or underflow)",
                        element=dose.target or "dose", fix="check the dose amount and its unit")
    return out


def _convert_dose(amount: float, base: str, dose: Dose, substance_unit: str, mwv,
                  dose_is_mass: bool, model_is_mass: bool) -> float:
    if dose_is_mass == model_is_mass:
        return U.convert(amount, base, substance_unit)
    if mwv is None:
        raise DoseError(f"a dose in {dose.unit} into a model counting {substance_unit} needs the "
                        "drug's molecular weight", element="molecular_weight",
                        fix="pass mw='150 kDa' (or --mw on the command line)")
    if dose_is_mass:  # mass -> moles
        return U.convert(amount, base, "g") / mwv * U.factor("mol", substance_unit)
    return U.convert(amount, base, "mol") * mwv * U.factor("g", substance_unit)
