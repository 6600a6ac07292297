"""Alternative model structures: run the same analysis on model variants, side by side.

The FDA draft guidance on QSP-based MABEL asks whether elements left out of a
model, or a different structure, change the prediction. A :class:`Variant` is
either a separate model file (a quasi-steady-state instead of a full TMDD
binding scheme, Michaelis-Menten elimination, an added tumour compartment) or
a patch of the base model:

* ``set``: fix quantities at values (model units); a quantity computed by an
  assignment rule or initial assignment becomes a constant;
* ``remove``: reactions, rules (by variable), events, or species (with every
  reaction it takes part in); an id still used in some formula is an error;
* ``antimony``: statements added at the end of the base Antimony model (a new
  reaction or species, a changed rate law: Antimony lets a later definition
  replace an earlier one).

:func:`compare_variants` evaluates decision-relevant quantities on each
variant: metrics (``"max(RO)"``, ``"value(IL6, 24 h)"``, the metric language of
:func:`workbench.run_ensemble`) at given regimens, and doses that reach a level
of a metric (the dose giving 10 % occupancy: the metric on a log-spaced dose
grid, then Brent's root finding in log dose; Brent 1973, *Algorithms for
Minimization without Derivatives*). The table has one row per (variant,
quantity, regimen), columns :data:`workbench.columns.VARIANT_COLUMNS`, with the
relative difference to the reference variant, so structural uncertainty is
visible next to parameter uncertainty (:mod:`workbench.uncertainty`).
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.analysis.plots import plot_variants
from workbench.core import units as U
from workbench.core._sbmlmath import names
from workbench.core.dosing import Regimen
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.errors import SpecError, UnknownIdError
from workbench.sim._timegrid import TimeGrid
from workbench.sim.options import RunOptions, bundles

__all__ = ["DoseFor", "Variant", "VariantComparison", "build_variant", "compare_variants",
           "plot_variants", "read_variants", "write_variants"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Variant:
    """One model structure.

    Attributes
    ----------
    name
        Label in the tables.
    model
        A model file or :class:`~workbench.Model`; None: the base model.
    target
        Species receiving the doses in this variant (``Ltot`` in a QSS model whose
        base doses ``L``); None: the comparison's target.
    set
        Quantities fixed at values (model units).
    remove
        Ids of reactions, species, rules (their variable) or events to remove.
    antimony
        Antimony statements added at the end of the model (Antimony sources only).
    description
        Free text (what the variant represents and why).
    """

    name: str
    model: str | os.PathLike[str] | Model | None = None
    target: str | None = None
    set: Mapping[str, float] = field(default_factory=dict)
    remove: tuple[str, ...] = ()
    antimony: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not str(self.name).strip():
            raise SpecError("a variant needs a name", element="variant")
        object.__setattr__(self, "remove", tuple(self.remove))

    def changes(self) -> str:
        """What the variant changes, in words."""
        parts = []
        if self.model is not None:
            src = self.model.source if isinstance(self.model, Model) else os.fspath(self.model)
            parts.append(f"model {os.path.basename(src)}")
        if self.set:
            parts.append("set " + ", ".join(f"{k}={v:g}" for k, v in self.set.items()))
        if self.remove:
            parts.append("removed " + ", ".join(self.remove))
        if self.antimony.strip():
            n = len([s for s in re.split(r"[;\n]", self.antimony) if s.strip()])
            parts.append(f"{n} Antimony statement(s) added")
        if self.description:
            parts.append(self.description)
        return "; ".join(parts) or "base model"


@dataclass(frozen=True)
class DoseFor:
    """A dose to find: the dose at which ``metric`` reaches ``level`` (e.g. max(RO) = 0.1)."""

    metric: str
    level: float

    @property
    def text(self) -> str:
        """Label of the quantity in the tables."""
        return f"dose for {self.metric} = {self.level:g}"


# ---------------------------------------------------------------------------
# building variants
# ---------------------------------------------------------------------------

def _insert_antimony(text: str, statements: str) -> str:
    lines = text.splitlines()
    for k in range(len(lines) - 1, -1, -1):
        if lines[k].strip() == "end":
            body = "\n".join("  " + s.strip() for s in statements.splitlines() if s.strip())
            return "\n".join([*lines[:k], "  // --- variant patch ---", body, *lines[k:]]) + "\n"
    raise SpecError("cannot find the end of the Antimony model to patch", element="antimony")


def _ast_names(ast, out: set[str]) -> None:
    if ast is not None:
        out |= names([ast])


def _remove(doc, ids: Sequence[str], source: str) -> None:
    m = doc.getModel()
    for sid in ids:
        done = False
        if m.getReaction(sid) is not None:
            m.removeReaction(sid)
            done = True
        if m.getEvent(sid) is not None:
            m.removeEvent(sid)
            done = True
        if m.getRule(sid) is not None:
            m.removeRule(sid)
            done = True
        if m.getSpecies(sid) is not None:
            for i in range(m.getNumReactions() - 1, -1, -1):
                r = m.getReaction(i)
                if r.getReactant(sid) or r.getProduct(sid) or r.getModifier(sid):
                    m.removeReaction(i)
            if m.getInitialAssignment(sid) is not None:
                m.removeInitialAssignment(sid)
            m.removeSpecies(sid)
            done = True
        if not done:
            raise UnknownIdError(f"cannot remove {sid!r}: not a reaction, species, rule variable "
                                 "or event", source=source, element=sid)
    defined = {"time"}
    for lst in (m.getListOfCompartments(), m.getListOfSpecies(), m.getListOfParameters(),
                m.getListOfReactions(), m.getListOfFunctionDefinitions()):
        defined |= {lst.get(i).getId() for i in range(lst.size())}
    for i in range(m.getNumReactions()):
        kl = m.getReaction(i).getKineticLaw()
        if kl is not None:
            defined |= {kl.getParameter(j).getId() for j in range(kl.getNumParameters())}
            defined |= {kl.getLocalParameter(j).getId() for j in range(kl.getNumLocalParameters())}
    used: set[str] = set()
    for i in range(m.getNumRules()):
        _ast_names(m.getRule(i).getMath(), used)
    for i in range(m.getNumInitialAssignments()):
        _ast_names(m.getInitialAssignment(i).getMath(), used)
    for i in range(m.getNumReactions()):
        kl = m.getReaction(i).getKineticLaw()
        if kl is not None:
            _ast_names(kl.getMath(), used)
    for i in range(m.getNumEvents()):
        ev = m.getEvent(i)
        if ev.isSetTrigger():
            _ast_names(ev.getTrigger().getMath(), used)
        for a in ev.getListOfEventAssignments():
            _ast_names(a.getMath(), used)
    dangling = sorted(used - defined)
    if dangling:
        raise SpecError(f"after removing {', '.join(ids)}, formulas still use "
                        f"{', '.join(dangling)}", source=source, element=dangling[0],
                        fix="also redefine the rules that use them (antimony='RO := 0'), or "
                            "remove those too")


def _set(doc, values: Mapping[str, float], source: str) -> None:
    m = doc.getModel()
    for sid, v in values.items():
        v = float(v)
        if not math.isfinite(v):
            raise SpecError(f"value of {sid!r} is not finite", element=sid)
        if m.getRule(sid) is not None:
            m.removeRule(sid)
        if m.getInitialAssignment(sid) is not None:
            m.removeInitialAssignment(sid)
        p, s, c = m.getParameter(sid), m.getSpecies(sid), m.getCompartment(sid)
        if p is not None:
            p.setValue(v)
            p.setConstant(True)
        elif s is not None:
            if s.isSetInitialConcentration() or (not s.isSetInitialAmount()
                                                 and not s.getHasOnlySubstanceUnits()):
                s.setInitialConcentration(v)
            else:
                s.setInitialAmount(v)
        elif c is not None:
            c.setSize(v)
        else:
            raise UnknownIdError(f"cannot set {sid!r}: not a parameter, species or compartment",
                                 source=source, element=sid)


def build_variant(base: Model | str | os.PathLike[str], variant: Variant) -> Model:
    """The variant's model: its file (or the base), Antimony patch, removals, fixed values.

    Raises
    ------
    SpecError, UnknownIdError, ModelLoadError
    """
    import libsbml

    b = base if isinstance(base, Model) else load_model(base)
    if variant.model is None:
        m = b
    else:
        m = variant.model if isinstance(variant.model, Model) else load_model(variant.model)
    src = f"{m.source} [variant {variant.name}]"
    if variant.antimony.strip():
        if m.antimony is None:
            raise SpecError("an Antimony patch needs an Antimony model", source=m.source,
                            element=variant.name,
                            fix="write the variant as a separate model file, or use set/remove")
        m = load_model(_insert_antimony(m.antimony, variant.antimony))
    if variant.remove or variant.set:
        doc = libsbml.readSBMLFromString(m.sbml)
        if variant.remove:
            _remove(doc, variant.remove, src)
        if variant.set:
            _set(doc, variant.set, src)
        m = load_model(libsbml.writeSBMLToString(doc))
    return replace(m, source=src)


def read_variants(path: str | os.PathLike[str]) -> list[Variant]:
    """Read variants from a TOML file: one ``[[variant]]`` table per variant with keys
    ``name``, ``model`` (path relative to the file), ``target``, ``set`` (a table),
    ``remove`` (a list), ``antimony`` (text), ``description``.

    Raises
    ------
    InputFileError, SpecError
    """
    import tomllib

    from workbench.errors import InputFileError

    p = os.fspath(path)
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise InputFileError("variants file not found", source=p) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputFileError(f"not a valid TOML file ({exc})", source=p) from None
    items = data.get("variant")
    if not isinstance(items, list) or not items:
        raise SpecError("the file lists no [[variant]] tables", source=p, element="variant")
    out = []
    base = os.path.dirname(os.path.abspath(p))
    for it in items:
        unknown = set(it) - {"name", "model", "target", "set", "remove", "antimony", "description"}
        if unknown:
            raise SpecError(f"unknown key(s) {', '.join(sorted(unknown))} in a variant", source=p,
                            element=str(it.get("name", "variant")))
        model = it.get("model")
        if model is not None and not os.path.isabs(model):
            model = os.path.join(base, model)
        out.append(Variant(str(it.get("name", "")), model, it.get("target"),
                           {k: float(v) for k, v in dict(it.get("set", {})).items()},
                           tuple(it.get("remove", ())), str(it.get("antimony", "")),
                           str(it.get("description", ""))))
    return out


# ---------------------------------------------------------------------------
# comparison
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class VariantComparison:
    """Result of :func:`compare_variants`.

    Attributes
    ----------
    table
        :data:`workbench.columns.VARIANT_COLUMNS`.
    variants
        :data:`workbench.columns.VARIANT_SPEC_COLUMNS`.
    reference
        Name of the variant the relative differences refer to.
    curves
        For each dose search: the metric on the dose grid, columns
        ``variant, quantity, dose, amount_unit, value, unit``.
    """

    table: pd.DataFrame
    variants: pd.DataFrame
    reference: str
    curves: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The long table."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        """Summary for Jupyter (:mod:`workbench._html_repr`)."""
        from workbench.core._html_repr import variants_html

        return variants_html(self)

    def to_wide(self) -> pd.DataFrame:
        """Side by side: one row per (quantity, regimen, unit), one column per variant,
        and ``max_rel_diff`` (largest |relative difference| to the reference)."""
        t = self.table
        names = list(dict.fromkeys(t[C.VARIANT]))
        rows = []
        for (q, reg), g in t.groupby([C.QUANTITY, C.REGIMEN], sort=False):
            row = {C.QUANTITY: q, C.REGIMEN: reg, C.UNIT: g[C.UNIT].iloc[0]}
            vals = dict(zip(g[C.VARIANT], g[C.VALUE], strict=True))
            row.update({n: vals.get(n, math.nan) for n in names})
            rd = g[C.REL_DIFF].abs()
            row["max_rel_diff"] = float(rd.max()) if rd.notna().any() else math.nan
            rows.append(row)
        return pd.DataFrame(rows, columns=[C.QUANTITY, C.REGIMEN, C.UNIT, *names,
                                           "max_rel_diff"])


def _metric_value(m: Model, metric: str, regimen: Regimen | str | None, kw: dict) -> tuple[float, str]:
    from workbench.sim.ensemble import run_ensemble

    if "run" in kw:  # the bundles
        r = run_ensemble(m, pd.DataFrame(index=[0]), regimen, metrics=[metric], **kw)
    else:  # the older keywords
        r = run_ensemble(m, pd.DataFrame(index=[0]), regimen, metrics=[metric], workers=1,
                         progress=False, **kw)
    col = next(c for c in r.columns if c not in (C.SAMPLE, C.STATUS))
    if r[C.STATUS].iloc[0] != C.STATUS_OK:
        log.warning("%s, %s, %s: %s", m.source, metric, regimen, r[C.STATUS].iloc[0])
        return math.nan, r.attrs["units"].get(col, "")
    return float(r[col].iloc[0]), r.attrs["units"].get(col, "")


def _dose_search(m: Model, q: DoseFor, grid: np.ndarray, unit: str, route: str, kw: dict,
                 xtol: float) -> tuple[float, list[float]]:
    from scipy.optimize import brentq

    dosing = Dosing(route=route, dose_unit=unit)

    def f(logd: float) -> float:  # the dose travels as a number, not as regimen text
        return _metric_value(m, q.metric, dosing.regimen(10 ** logd), kw)[0] - q.level

    logs = np.log10(grid)
    vals = [f(x) for x in logs]
    for k in range(len(logs) - 1):
        a, b = vals[k], vals[k + 1]
        if a == 0:
            return float(grid[k]), vals
        if np.isfinite(a) and np.isfinite(b) and a * b < 0:
            x = brentq(f, logs[k], logs[k + 1], xtol=xtol)
            return float(10 ** x), vals
    return math.nan, vals


def compare_variants(base: Model | str | os.PathLike[str], variants: Sequence[Variant], *,
                     regimens: Sequence[Regimen | str] = (), metrics: Sequence[str] = (),
                     dose_for: Sequence[DoseFor] | Mapping[str, float] = (),
                     dose_range: tuple[str, str] = ("0.001 ug/kg", "100 mg/kg"),
                     grid_points: int = 17, reference: str | None = None,
                     dosing: Dosing | None = None, grid: TimeGrid | None = None,
                     run: RunOptions | None = None, **legacy) -> VariantComparison:
    """Evaluate the same decision quantities on each model variant.

    Parameters
    ----------
    base
        The base model.
    variants
        The variants (include ``Variant("base")`` to compare with the base model).
    regimens, metrics
        Each metric (e.g. ``"max(RO)"``, ``"value(IL6, 24 h)"``) at each regimen.
    dose_for
        Doses to find: :class:`DoseFor` items, or a mapping metric -> level
        (``{"max(RO)": 0.1}``: the dose giving 10 % peak occupancy).
    dose_range, grid_points
        Single doses searched (by ``dosing.route``, as numbers): ``grid_points``
        log-spaced levels over the range (same kind of unit), then Brent's method to
        0.01 % in dose.
    reference
        The variant the relative differences refer to (default: the first).
    dosing, grid, run
        As for :func:`workbench.run_ensemble` (a variant's own ``target`` wins over
        ``dosing.target``); one run per row, in this process.
    **legacy
        The older keywords ``route``, ``target``, ``mw``, ``subject`` (``dosing``),
        ``end``, ``points`` (``grid``), ``integrator`` (``run``).

    Returns
    -------
    VariantComparison
    """
    dosing, tgrid, run = bundles("compare_variants", legacy, dosing=dosing, grid=grid, run=run,
                                 allowed=("route", "target", "mw", "subject", "end", "points",
                                          "integrator"))
    run = replace(run, workers=run.workers or 1,
                  progress=False if run.progress is None else run.progress)
    route = dosing.route
    if not variants:
        raise SpecError("no variants to compare", element="variants")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise SpecError("variant names must be unique", element="variants")
    ref = reference or names[0]
    if ref not in names:
        raise SpecError(f"the reference {ref!r} is not a variant", element="reference")
    dfs = [DoseFor(k, float(v)) for k, v in dose_for.items()] if isinstance(dose_for, Mapping) \
        else list(dose_for)
    if not (metrics and regimens) and not dfs:
        raise SpecError("nothing to compare", element="metrics",
                        fix="give metrics and regimens, or dose_for={'max(RO)': 0.1}")
    (lo, unit), (hi, hu) = (U.parse_quantity(x) for x in dose_range)
    hi *= U.factor(hu, unit)
    dgrid = np.geomspace(lo, hi, max(int(grid_points), 3))
    b = base if isinstance(base, Model) else load_model(base)
    rows, spec, curves = [], [], []
    for v in variants:
        m = build_variant(b, v)
        tgt = v.target or dosing.target
        spec.append({C.VARIANT: v.name, C.MODEL: m.source, C.DOSE_TARGET: tgt or "",
                     C.CHANGES: v.changes()})
        kw = dict(dosing=replace(dosing, target=tgt), grid=tgrid, run=run)
        for mt in metrics:
            for reg in regimens:
                val, u = _metric_value(m, mt, reg, kw)
                rows.append({C.VARIANT: v.name, C.QUANTITY: mt, C.REGIMEN: str(reg), C.VALUE: val,
                             C.UNIT: u})
        for q in dfs:
            dose, vals = _dose_search(m, q, dgrid, unit, route, kw, 1e-4 / math.log(10))
            rows.append({C.VARIANT: v.name, C.QUANTITY: q.text, C.REGIMEN: "", C.VALUE: dose,
                         C.UNIT: unit})
            u = _metric_value(m, q.metric, Dosing(route=route, dose_unit=unit).regimen(dgrid[0]),
                              kw)[1]
            curves += [{C.VARIANT: v.name, C.QUANTITY: q.metric, C.DOSE: float(d),
                        C.DOSE_UNIT: unit, C.VALUE: val + q.level, C.UNIT: u}
                       for d, val in zip(dgrid, vals, strict=True)]
    table = pd.DataFrame(rows, columns=[*C.VARIANT_COLUMNS[:-1]])
    refv = table[table[C.VARIANT] == ref].set_index([C.QUANTITY, C.REGIMEN])[C.VALUE]
    keys = list(zip(table[C.QUANTITY], table[C.REGIMEN], strict=True))
    r = np.array([refv.get(k, math.nan) for k in keys], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        table[C.REL_DIFF] = np.where(r != 0, (table[C.VALUE].to_numpy(float) - r) / np.abs(r),
                                     np.where(table[C.VALUE].to_numpy(float) == r, 0.0, np.nan))
    return VariantComparison(table, pd.DataFrame(spec, columns=list(C.VARIANT_SPEC_COLUMNS)),
                             ref, pd.DataFrame(curves, columns=[C.VARIANT, C.QUANTITY, C.DOSE,
                                                                C.DOSE_UNIT, C.VALUE, C.UNIT]))


# ---------------------------------------------------------------------------
# figure and files
# ---------------------------------------------------------------------------

def write_variants(result: VariantComparison, outdir: str | os.PathLike[str]) -> list[str]:
    """Write ``variants.csv`` (long), ``variants_wide.csv``, ``variant_specs.csv``,
    ``variant_curves.csv`` and ``variants.png``; returns the paths."""
    from workbench.core._io import atomic_write_text

    out = os.fspath(outdir)
    paths = []
    for name, df in (("variants.csv", result.table), ("variants_wide.csv", result.to_wide()),
                     ("variant_specs.csv", result.variants),
                     ("variant_curves.csv", result.curves)):
        p = os.path.join(out, name)
        atomic_write_text(p, df.to_csv(index=False, float_format="%.10g"))
        paths.append(p)
    p = os.path.join(out, "variants.png")
    plot_variants(result, p)
    paths.append(p)
    return paths
