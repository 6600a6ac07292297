"""Value objects for the bundles every analysis repeats, and their command-line options.

Every analysis of a model under doses needs the same three bundles of settings:

* :class:`Dosing` (here): the dosed species, the drug's molecular weight, the subject's
  body size, the route and the dose unit: what turns "0.1 ug/kg" into model amounts;
* :class:`workbench.sim.options.TimeGrid`: start, end, points or explicit times;
* :class:`workbench.sim.options.RunOptions`: integrator settings, workers, backend,
  scheduler, chunk size, progress bar.

Each is a frozen dataclass that checks its fields when it is built, so a bad value is
named once, with its field and the fix, before any model is loaded or any worker starts.
The analyses take them as ``dosing=``, ``grid=`` and ``run=``; their older keywords
(``target=``, ``mw=``, ``end=``, ``workers=`` ...) are adapters that build the same
objects (:func:`workbench.sim.options.bundles`).

The command-line options of a bundle are declared once, in the metadata of its fields
(:func:`cli`), and added to a verb's parser by :func:`add_options`: ``--into``,
``--mw``, ``--weight`` come from :class:`Dosing`, ``--end``/``--points`` from
``TimeGrid``, ``--workers``/``--rtol``/``--backend`` from ``RunOptions``. A verb only
states which options it takes and its own defaults.

Doses travel as numbers: :meth:`Dosing.regimen` builds the :class:`Regimen` of one dose
amount directly (the schedule text is read once), so no dose is formatted into regimen
text and read back (``0.1 + 0.2`` ug/kg stays ``0.30000000000000004`` ug/kg).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from workbench.core.dosing import (
    MODEL_UNITS,
    Regimen,
    Subject,
    _dose_unit_kind,
    molecular_weight,
    parse_regimen,
)
from workbench.errors import DoseError, SpecError, WorkbenchError

__all__ = ["CliFlag", "Dosing", "add_options", "check_choice", "cli", "cli_flags"]

@dataclass(frozen=True)
class CliFlag:
    """One command-line option of a field: its flag, help, type and default.

    ``dest`` is the attribute name on the parsed namespace (the verbs read ``args.into``,
    ``args.rtol``, ...); ``choices`` and ``action`` as for :meth:`argparse.ArgumentParser.add_argument`.
    """

    flag: str
    help: str
    type: Callable[[str], Any] | None = None
    default: Any = None
    dest: str | None = None
    choices: tuple[str, ...] | None = None
    action: str | None = None
    #: what a default of None means, for the help ("every core", "the engine's")
    none: str = ""

    @property
    def name(self) -> str:
        """The namespace attribute: ``dest`` or the flag without dashes (``--dose-unit`` -> ``dose_unit``)."""
        return self.dest or self.flag.lstrip("-").replace("-", "_")


def cli(*flags: CliFlag) -> dict[str, tuple[CliFlag, ...]]:
    """Field metadata declaring the command-line flags of a bundle's field
    (``field(default=None, metadata=cli(CliFlag("--into", ...)))``)."""
    return {"cli": tuple(flags)}


def cli_flags(cls: type) -> dict[str, CliFlag]:
    """Every flag of a bundle class, by its namespace name (``into``, ``mw``, ``rtol``...)."""
    out: dict[str, CliFlag] = {}
    for f in dataclasses.fields(cls):
        for fl in f.metadata.get("cli", ()):
            out[fl.name] = fl
    return out


def add_options(parser: argparse.ArgumentParser, cls: type, names: Iterable[str], *,
                defaults: Mapping[str, Any] | None = None,
                helps: Mapping[str, str] | None = None,
                required: Iterable[str] = (), title: str | None = None) -> None:
    """Add the flags ``names`` of bundle ``cls`` to ``parser``, in an argument group.

    Parameters
    ----------
    parser
        A verb's parser.
    cls
        :class:`Dosing`, :class:`~workbench.sim.options.TimeGrid` or
        :class:`~workbench.sim.options.RunOptions`.
    names
        Namespace names of the flags this verb takes (``"into"``, ``"mw"``, ``"workers"``).
    defaults, helps
        This verb's own default or help for a flag (a verb that runs one process by
        default says so); a help that does not state the default gets ``(default X)``.
    required
        Flags the verb cannot run without.
    title
        Title of the argument group (default: the class's name).
    """
    flags = cli_flags(cls)
    defaults, helps, required = dict(defaults or {}), dict(helps or {}), set(required)
    group = parser.add_argument_group(title or f"{cls.__name__.lower()} options")
    for name in names:
        if name not in flags:
            raise KeyError(f"{cls.__name__} declares no command-line option {name!r}; "
                           f"known: {', '.join(sorted(flags))}")
        fl = flags[name]
        default = defaults.get(name, fl.default)
        text = helps.get(name, fl.help)
        if name not in required and "default" not in text:
            if default is None:
                text += f" (default: {fl.none})" if fl.none else ""
            elif default is not False:
                text += f" (default {default:g})" if isinstance(default, float) else \
                    f" (default {default})"
        kw: dict[str, Any] = {"dest": fl.name, "help": text}
        if fl.action:
            kw["action"] = fl.action
        else:
            if fl.type is not None:
                kw["type"] = fl.type
            if fl.choices:
                kw["choices"] = list(fl.choices)
        if name in required:
            kw["required"] = True
        else:
            kw["default"] = default
        group.add_argument(fl.flag, **kw)


def check_choice(value: Any, choices: Iterable[str], field_name: str, fix: str) -> None:
    """Raise :class:`SpecError` naming ``field_name`` unless ``value`` is one of ``choices``."""
    if value not in tuple(choices):
        raise SpecError(f"unknown {field_name.split('.')[-1]} {value!r}", element=field_name,
                        fix=fix)


# ---------------------------------------------------------------------------
# Dosing
# ---------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _unit_template(dose_unit: str, route: str, schedule: str) -> Regimen:
    """The regimen of one unit of ``dose_unit`` by ``route`` on ``schedule``: the schedule
    text is read once; :meth:`Dosing.regimen` scales the amounts by the dose as a number."""
    return parse_regimen(" ".join(x for x in ("1", dose_unit, route, schedule) if x))


def _grams_per_mole(mw: float | str | None) -> float | None:
    """``Dosing.mw`` in g/mol: a number, or a text such as ``"150 kDa"``; None stays None."""
    if mw is None:
        return None
    try:
        return molecular_weight(mw)
    except WorkbenchError as e:
        raise DoseError(e.message, element="Dosing.mw",
                        fix=e.fix or "give the molecular weight in g/mol or as '150 kDa'") from None
    except (TypeError, ValueError):
        raise DoseError(f"the molecular weight {mw!r} is not a number or a quantity",
                        element="Dosing.mw",
                        fix="give it in g/mol (150000) or as '150 kDa'") from None


@dataclass(frozen=True, init=False)
class Dosing:
    """What turns a dose into model amounts: where it goes, the drug, the subject, the route.

    Attributes
    ----------
    target
        Species id receiving doses that do not name their own (``--into``); None: each
        dose names its target (``"... into Drug"``).
    mw
        Molecular weight of the drug in g/mol (a string such as ``"150 kDa"`` or
        ``"54000 g/mol"`` is converted when the object is built), for mass doses into
        models that count moles; None when no conversion needs it.
    subject
        Body size for ``/kg`` and ``/m2`` doses (default 70 kg, 170 cm; ``--weight``).
    route
        Regimen text after the amount of a dose given as a number (:meth:`regimen`):
        ``"iv"``, ``"iv infusion 2 h"``.
    dose_unit
        Unit of a dose given as a number (``"ug/kg"``, ``"mg"``, ``"nmol"``); None where
        doses come as regimens.

    Raises
    ------
    DoseError
        A molecular weight that is not a positive mass per amount, a subject that is not a
        :class:`~workbench.core.dosing.Subject`, a dose unit or route that does not read.
    SpecError
        A target that is not a species id.
    """

    target: str | None = field(default=None, metadata=cli(
        CliFlag("--into", "species receiving the doses", dest="into")))
    mw: float | None = field(default=None, metadata=cli(
        CliFlag("--mw", "molecular weight of the drug, e.g. '150 kDa'")))
    subject: Subject = field(default_factory=Subject, metadata=cli(
        CliFlag("--weight", "body weight in kg", type=float, default=70.0)))
    route: str = field(default="iv", metadata=cli(
        CliFlag("--route", "route after each dose amount: 'iv' (bolus) or 'iv infusion 2 h'",
                default="iv")))
    dose_unit: str | None = field(default=None, metadata=cli(
        CliFlag("--dose-unit", "unit of the doses given as numbers, e.g. 'ug/kg'")))

    def __init__(self, target: str | None = None, mw: float | str | None = None,
                 subject: Subject | None = None, route: str = "iv",
                 dose_unit: str | None = None) -> None:
        # Written out (not generated) so that the constructor is typed for what it accepts,
        # a molecular weight as text and no subject, while the fields hold what readers
        # get: mw in g/mol or None, a Subject. dataclasses.replace() passes every field.
        if target is not None and not (isinstance(target, str) and target.isidentifier()):
            raise SpecError(f"the dosed species must be a species id, got {target!r}",
                            element="Dosing.target",
                            fix="give the id of the species receiving the doses, e.g. "
                                "target='Drug' (--into Drug)")
        grams = _grams_per_mole(mw)
        subject = Subject() if subject is None else subject
        if not isinstance(subject, Subject):
            raise DoseError(f"the subject must be a Subject, got {type(subject).__name__}",
                            element="Dosing.subject",
                            fix="pass workbench.Subject(weight=70, height=170)")
        for name, value in (("target", target), ("mw", grams),
                            ("subject", subject), ("route", route), ("dose_unit", dose_unit)):
            object.__setattr__(self, name, value)
        self._check_route_and_unit()

    def _check_route_and_unit(self) -> None:
        if not (isinstance(self.route, str) and self.route.strip()):
            raise DoseError(f"the route must be regimen text such as 'iv', got {self.route!r}",
                            element="Dosing.route", fix="use 'iv' or 'iv infusion 2 h'")
        if self.dose_unit is not None:
            if not isinstance(self.dose_unit, str):
                raise DoseError(f"the dose unit must be text, got {self.dose_unit!r}",
                                element="Dosing.dose_unit", fix="use e.g. 'ug/kg' or 'mg'")
            try:  # "model units": amounts in the dosed species' own unit (unit-free models)
                _dose_unit_kind(re.sub(r"(?i)^model[\s_]+units?$", MODEL_UNITS,
                                       self.dose_unit.strip()))
            except DoseError as e:
                raise DoseError(e.message, element="Dosing.dose_unit",
                                fix=e.fix or "use a dose unit such as 'ug/kg' or 'mg'") from None
            try:
                _unit_template(self.dose_unit, self.route.strip(), "")
            except DoseError as e:
                raise DoseError(f"the route {self.route!r} does not read: {e.message}",
                                element="Dosing.route",
                                fix="use 'iv' (bolus) or 'iv infusion 2 h'") from None

    def regimen(self, amount: float, schedule: str = "") -> Regimen:
        """The regimen of ``amount`` (in :attr:`dose_unit`) by :attr:`route` on ``schedule``.

        The amount stays the number given (no text round trip): every dose of the
        schedule is ``amount`` exactly. ``str()`` of the result reads like the text form.

        Raises
        ------
        SpecError
            No dose unit, or an amount that is not a finite non-negative number.
        DoseError
            A schedule that does not read.
        """
        if self.dose_unit is None:
            raise SpecError("a dose given as a number needs its unit", element="Dosing.dose_unit",
                            fix="give dose_unit, e.g. Dosing(dose_unit='ug/kg')")
        a = float(amount)
        if not (math.isfinite(a) and a >= 0):
            raise SpecError(f"the dose must be a non-negative number, got {amount!r}",
                            element="dose", fix="give the dose in " + self.dose_unit)
        tmpl = _unit_template(self.dose_unit, self.route.strip(), schedule.strip())
        text = " ".join(x for x in (f"{a:.12g}", self.dose_unit, self.route.strip(),
                                    schedule.strip()) if x)
        return Regimen(doses=tuple(replace(d, amount=d.amount * a) for d in tmpl.doses),
                       target=self.target, time_unit=tmpl.time_unit, text=text)
