"""Units: one registry, and SBML unit definitions as readable strings.

SBML states units as ``UnitDefinition`` objects (kind, exponent, scale,
multiplier). The workbench shows them as short strings a modeller reads
(``"nmol/L"``, ``"1/h"``, ``"L/nmol/h"``) and converts between them with pint
(Grecco et al., pint, https://pint.readthedocs.io), through a single registry
built on first use (no import-time side effects).
"""

from __future__ import annotations

import functools
import math
import re
from typing import TYPE_CHECKING, cast

from workbench.errors import UnitError

if TYPE_CHECKING:
    import libsbml
    import pint

__all__ = ["UnitResolver", "convert", "factor", "parse_quantity", "registry", "same_dimension"]

# SBML base unit kinds -> symbols pint understands (and that read well).
_KIND_SYMBOL = {
    "ampere": "A", "avogadro": "avogadro_number", "becquerel": "Bq", "candela": "cd",
    "celsius": "degC", "coulomb": "C", "dimensionless": "", "farad": "F", "gram": "g",
    "gray": "Gy", "henry": "H", "hertz": "Hz", "item": "item", "joule": "J", "katal": "kat",
    "kelvin": "K", "kilogram": "kg", "liter": "L", "litre": "L", "lumen": "lm", "lux": "lx",
    "meter": "m", "metre": "m", "mole": "mol", "newton": "N", "ohm": "ohm", "pascal": "Pa",
    "radian": "rad", "second": "s", "siemens": "S", "sievert": "Sv", "steradian": "sr",
    "tesla": "T", "volt": "V", "watt": "W", "weber": "Wb",
}
_PREFIX = {-15: "f", -12: "p", -9: "n", -6: "u", -3: "m", -2: "c", -1: "d", 0: "", 3: "k",
           6: "M", 9: "G"}
_PREFIXABLE = {"mol", "L", "g", "m", "item", "kat", "Bq", "J", "N", "Pa", "V", "A"}
_TIME_NAMES = {1.0: "s", 60.0: "min", 3600.0: "h", 86400.0: "day", 604800.0: "week"}
# SBML Level 2 built-in unit ids and what they mean by default
_L2_BUILTIN = {"substance": "mol", "volume": "L", "area": "m^2", "length": "m", "time": "s"}


@functools.lru_cache(maxsize=1)
def registry() -> pint.UnitRegistry:
    """Return the workbench's pint unit registry (built once, on first use)."""
    import pint

    ureg: pint.UnitRegistry = pint.UnitRegistry(autoconvert_offset_to_baseunit=True)
    ureg.define("item = mole / avogadro_number = cells = cell = molecules")
    ureg.define("w = week")
    ureg.define("wk = week")
    return ureg


_POWER_RE = re.compile(r"(?<=[A-Za-z])(\d+)(?![\d.])")


def _normalise(text: str) -> str:
    t = text.strip().replace("µ", "u").replace("μ", "u").replace("^", "**")
    t = _POWER_RE.sub(r"**\1", t)  # m2 -> m**2
    return t or "dimensionless"


@functools.lru_cache(maxsize=4096)
def _units(text: str) -> pint.Unit:
    ureg = registry()
    try:
        q = ureg.parse_expression(_normalise(text))
    except Exception as exc:  # pint raises several unrelated types
        raise UnitError(f"cannot read the unit {text!r} ({exc})",
                        fix="write units like 'mg', 'mg/kg', 'nmol/L', '1/h', 'L/h', 'mg/m2'") from None
    if not hasattr(q, "units"):
        return ureg.dimensionless
    if not math.isclose(q.magnitude, 1.0):
        # a unit string like "1e-9 mol": fold the number into a new unit
        name = f"_u{abs(hash(text))}"
        ureg.define(f"{name} = {q.magnitude!r} * {q.units}")
        return ureg.parse_units(name)
    # pint types Quantity.units as its facet base PlainUnit; a registry's units are pint.Unit
    return cast("pint.Unit", q.units)


def factor(from_unit: str, to_unit: str) -> float:
    """Return the number that converts a value in ``from_unit`` into ``to_unit``.

    Raises
    ------
    UnitError
        When a unit cannot be read or the two have different dimensions.
    """
    ureg = registry()
    a, b = _units(from_unit), _units(to_unit)
    try:
        return float(ureg.Quantity(1.0, a).to(b).magnitude)
    except Exception:
        raise UnitError(f"cannot convert {from_unit!r} to {to_unit!r}: the dimensions differ "
                        f"({ureg.Quantity(1.0, a).dimensionality} vs "
                        f"{ureg.Quantity(1.0, b).dimensionality})") from None


def convert(value: float, from_unit: str, to_unit: str) -> float:
    """Convert ``value`` from ``from_unit`` to ``to_unit``."""
    return value * factor(from_unit, to_unit)


def same_dimension(unit_a: str, unit_b: str) -> bool:
    """True when the two unit strings measure the same kind of quantity."""
    ureg = registry()
    return ureg.Quantity(1.0, _units(unit_a)).dimensionality == \
        ureg.Quantity(1.0, _units(unit_b)).dimensionality


_QTY_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def parse_quantity(text: str) -> tuple[float, str]:
    """Split ``"0.1 mg/kg"`` into ``(0.1, "mg/kg")`` and check the unit reads.

    Raises
    ------
    UnitError
        When the text is not a number followed by a unit.
    """
    m = _QTY_RE.match(str(text))
    if not m:
        raise UnitError(f"{text!r} is not a number followed by a unit",
                        fix="write for example '150 kDa', '0.1 mg/kg' or '1.9 nM'")
    value, unit = float(m.group(1)), m.group(2)
    _units(unit)
    return value, unit


# ---------------------------------------------------------------------------
# SBML unit definitions
# ---------------------------------------------------------------------------

def _fmt_num(x: float) -> str:
    return f"{x:.6g}"


def _unit_term(kind: str, exponent: float, scale: int, multiplier: float) -> tuple[str, float]:
    """Return (symbol, exponent) for one SBML <unit>; the symbol carries the factor."""
    sym = _KIND_SYMBOL.get(kind, kind)
    f = multiplier * 10.0 ** scale
    if sym == "kg":  # express kilogram factors on the gram
        sym, f = "g", f * 1e3
    if sym == "":
        return ("", exponent) if math.isclose(f, 1.0) else (_fmt_num(f), exponent)
    if sym == "s":
        for secs, name in _TIME_NAMES.items():
            if math.isclose(f, secs, rel_tol=1e-12):
                return name, exponent
    if (sym in _PREFIXABLE or sym == "s") and f > 0:
        p = round(math.log10(f))
        if p in _PREFIX and math.isclose(f, 10.0 ** p, rel_tol=1e-12):
            return _PREFIX[p] + sym, exponent
    if math.isclose(f, 1.0):
        return sym, exponent
    return f"({_fmt_num(f)}*{sym})", exponent


def _join(terms: list[tuple[str, float]]) -> str:
    def one(sym: str, e: float) -> str:
        e = abs(e)
        if math.isclose(e, 1.0):
            return sym
        es = str(int(e)) if float(e).is_integer() else _fmt_num(e)
        return f"{sym}^{es}"

    num = [one(s, e) for s, e in terms if e > 0 and s]
    den = [one(s, e) for s, e in terms if e < 0 and s]
    numbers = [s for s, e in terms if s and s[0].isdigit()]
    if not num and not den:
        return "dimensionless" if not numbers else numbers[0]
    text = "*".join(num) if num else "1"
    for d in den:
        text += "/" + d
    return text


def unit_definition_string(ud: libsbml.UnitDefinition) -> str:
    """Readable string of a libSBML ``UnitDefinition`` (``"nmol/L"``, ``"1/h"``)."""
    import libsbml

    terms = []
    for i in range(ud.getNumUnits()):
        u = ud.getUnit(i)
        kind = libsbml.UnitKind_toString(u.getKind())
        terms.append(_unit_term(kind, float(u.getExponentAsDouble()), int(u.getScale()),
                                float(u.getMultiplier())))
    return _join(terms)


class UnitResolver:
    """Unit strings of the elements of one SBML model.

    Parameters
    ----------
    model
        A libSBML ``Model``.

    Notes
    -----
    Undeclared units give ``""``. In SBML Level 2 the built-in ``substance``,
    ``volume``, ``area``, ``length`` and ``time`` default to mole, litre,
    square metre, metre and second unless the model redefines them.
    """

    def __init__(self, model: libsbml.Model) -> None:
        self._model = model
        self._level = model.getLevel()
        self._defs = {}
        for i in range(model.getNumUnitDefinitions()):
            ud = model.getUnitDefinition(i)
            self._defs[ud.getId()] = unit_definition_string(ud)

    def ref(self, unit_id: str) -> str:
        """Readable string for a unit reference (a UnitDefinition id or a base kind)."""
        import libsbml

        if not unit_id:
            return ""
        if unit_id in self._defs:
            return self._defs[unit_id]
        if self._level < 3 and unit_id in _L2_BUILTIN:
            return _L2_BUILTIN[unit_id]
        if libsbml.UnitKind_isValidUnitKindString(unit_id, self._level, 4 if self._level == 2 else 2):
            return _join([_unit_term(unit_id, 1.0, 0, 1.0)])
        return unit_id

    def _model_default(self, what: str) -> str:
        m = self._model
        if self._level >= 3:
            getter = {"substance": m.getSubstanceUnits, "volume": m.getVolumeUnits,
                      "area": m.getAreaUnits, "length": m.getLengthUnits,
                      "time": m.getTimeUnits, "extent": m.getExtentUnits}[what]
            return self.ref(getter())
        return self.ref("substance" if what == "extent" else what)

    @property
    def time(self) -> str:
        """Unit of model time."""
        return self._model_default("time")

    @property
    def substance(self) -> str:
        """Model-wide substance unit."""
        return self._model_default("substance")

    @property
    def extent(self) -> str:
        """Model-wide extent unit (the unit of reaction extents)."""
        return self._model_default("extent")

    def compartment(self, c: libsbml.Compartment) -> str:
        """Unit of a compartment's size."""
        if c.isSetUnits():
            return self.ref(c.getUnits())
        dims = c.getSpatialDimensionsAsDouble() if c.isSetSpatialDimensions() else 3.0
        if self._level < 3 and not c.isSetSpatialDimensions():
            dims = 3.0
        return {3.0: self._model_default("volume"), 2.0: self._model_default("area"),
                1.0: self._model_default("length")}.get(dims, "dimensionless")

    def species_substance(self, s: libsbml.Species) -> str:
        """Substance unit of a species' amount."""
        if s.isSetSubstanceUnits():
            return self.ref(s.getSubstanceUnits())
        return self.substance

    def species(self, s: libsbml.Species) -> str:
        """Unit of the species symbol (a concentration unless hasOnlySubstanceUnits)."""
        sub = self.species_substance(s)
        if s.getHasOnlySubstanceUnits():
            return sub
        comp = self._model.getCompartment(s.getCompartment())
        size = self.compartment(comp) if comp is not None else ""
        if not sub or not size:
            return ""
        if comp is not None and comp.isSetSpatialDimensions() and comp.getSpatialDimensionsAsDouble() == 0:
            return sub
        return f"{sub}/{size}" if "/" not in size and "*" not in size else f"{sub}/({size})"

    def concentration(self, s: libsbml.Species) -> str:
        """Unit of the species' concentration whatever its hasOnlySubstanceUnits."""
        sub = self.species_substance(s)
        comp = self._model.getCompartment(s.getCompartment())
        size = self.compartment(comp) if comp is not None else ""
        if not sub or not size:
            return ""
        return f"{sub}/{size}" if "/" not in size and "*" not in size else f"{sub}/({size})"

    def parameter(self, p: libsbml.Parameter) -> str:
        """Declared unit of a parameter ("" when undeclared)."""
        return self.ref(p.getUnits()) if p.isSetUnits() else ""

    def reaction_rate(self) -> str:
        """Unit of a reaction rate (extent per time)."""
        ext, t = self.extent, self.time
        if not ext or not t:
            return ""
        return f"{ext}/{t}"
