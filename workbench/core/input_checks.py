"""Bad numbers are named before any solver runs.

A negative tolerance, a NaN weight, a zero volume or a dose of ``1e308 mg/kg``
used to reach CVODE, which then failed with raw log lines and blamed "the
solver" (or, for a negative body weight, returned negative concentrations with
exit 0). These checks name the value, where it came from and the fix instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from workbench.errors import SpecError

__all__ = ["check_cli_numbers", "check_integrator", "check_set_values", "check_space_unit"]


def _num(x) -> float | None:
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def check_integrator(settings, source: str | None = None) -> None:
    """Tolerances positive and finite (relative < 1), max_step >= 0, max_num_steps >= 1."""
    if settings is None:
        return
    for name, opt in (("relative_tolerance", "--rtol"), ("absolute_tolerance", "--atol")):
        v = _num(getattr(settings, name, None))
        if v is None or not math.isfinite(v) or v <= 0 or (name == "relative_tolerance"
                                                            and v >= 1):
            raise SpecError(f"the {name.replace('_', ' ')} must be a positive number"
                            + (" below 1" if name == "relative_tolerance" else "")
                            + f", got {getattr(settings, name, None)!r}", source=source,
                            element=f"{opt} / IntegratorSettings.{name}",
                            fix="use for example --rtol 1e-8 --atol 1e-12 (the defaults)")
    ms = getattr(settings, "max_step", None)
    if ms is not None and (_num(ms) is None or not math.isfinite(float(ms)) or float(ms) < 0):
        raise SpecError(f"max_step must be a non-negative number in model time units, got {ms!r}",
                        source=source, element="--max-step / IntegratorSettings.max_step",
                        fix="leave it unset (automatic) or give a positive step")
    n = getattr(settings, "max_num_steps", 1)
    if _num(n) is None or not float(n) >= 1:
        raise SpecError(f"max_num_steps must be at least 1, got {n!r}", source=source,
                        element="IntegratorSettings.max_num_steps")


def check_set_values(model, values: Mapping[str, float] | None) -> None:
    """Values set on a model (``--set``, ``parameters=``) are finite numbers and a set
    compartment size is positive."""
    if not values:
        return
    comps = None
    for sid, v in values.items():
        x = _num(v)
        if x is None or not math.isfinite(x):
            raise SpecError(f"the value set for {sid!r} is {v!r}, not a finite number",
                            source=getattr(model, "source", None), element=sid,
                            fix=f"give {sid} a finite value in model units")
        if x <= 0:
            if comps is None:
                comps = set(model.compartments["id"]) if model is not None else set()
            if sid in comps:
                raise SpecError(f"the size set for compartment {sid!r} is {x:g}; a volume must "
                                "be positive (concentrations would be infinite or negative)",
                                source=getattr(model, "source", None), element=sid,
                                fix=f"give {sid} its positive size in model units")


_POSITIVE = {"weight": "--weight (kg)", "height": "--height (cm)", "rtol": "--rtol",
             "atol": "--atol", "level": "--level", "sd_log": "--sd-log"}
_COUNTS = {"points": "--points", "n": "--n", "workers": "--workers", "starts": "--starts",
           "n_doses": "--n-doses", "levels": "--levels"}


def check_cli_numbers(args) -> None:
    """Numbers on the command line: finite, positive where a quantity must be."""
    for attr, opt in _POSITIVE.items():
        v = getattr(args, attr, None)
        if v is None:
            continue
        if not math.isfinite(v) or v <= 0 or (attr == "rtol" and v >= 1) or (
                attr == "level" and v >= 1):
            bound = " below 1" if attr in ("rtol", "level") else ""
            raise SpecError(f"{opt} must be a positive finite number{bound}, got {v!r}",
                            element=opt.split()[0],
                            fix=f"give {opt.split()[0]} a positive value" + (
                                " (the body weight of the subject in kg)" if attr == "weight"
                                else ""))
    ms = getattr(args, "max_step", None)
    if ms is not None and (not math.isfinite(ms) or ms < 0):
        raise SpecError(f"--max-step must be a non-negative number, got {ms!r}",
                        element="--max-step")
    for attr, opt in _COUNTS.items():
        v = getattr(args, attr, None)
        if v is not None and isinstance(v, int) and v < 1:
            raise SpecError(f"{opt} must be at least 1, got {v}", element=opt)


def check_space_unit(model, r) -> None:
    """The table's unit must be the model's: values are taken in model units, so a
    different unit (``kg`` for a clearance, or ``L/day`` for one in ``L/h``) would be a
    silently wrong range."""
    from workbench.core import units as U
    from workbench.errors import UnitError

    try:
        model_unit = model.unit_of(r.id)
    except Exception:  # unknown id: reported where the id is resolved
        return
    if not model_unit:
        return
    try:
        same = U.same_dimension(r.unit, model_unit)
    except UnitError as exc:
        raise SpecError(f"the unit {r.unit!r} of {r.id!r} cannot be read ({exc.message})",
                        element=f"{r.id} (unit)", fix=exc.fix) from None
    if not same:
        ureg = U.registry()
        have = ureg.Quantity(1.0, U._units(r.unit)).dimensionality
        want = ureg.Quantity(1.0, U._units(model_unit)).dimensionality
        raise SpecError(f"{r.id!r} is given in {r.unit!r} ({have}), but the model measures it "
                        f"in {model_unit!r} ({want}): the dimensions differ", element=f"{r.id} "
                        "(unit)", fix=f"give the range of {r.id} in {model_unit} (or leave the "
                        "unit empty: values are in model units)")
    f = U.factor(r.unit, model_unit)
    if abs(f - 1.0) > 1e-9:
        raise SpecError(f"{r.id!r} is given in {r.unit!r} but the model measures it in "
                        f"{model_unit!r} (1 {r.unit} = {f:g} {model_unit}); the table's values "
                        "are taken in model units, so the range would be off by that factor",
                        element=f"{r.id} (unit)", fix=f"convert the values of {r.id} to "
                        f"{model_unit} and write that unit")
