"""Priors of the provenance table: the distribution each uncertain parameter is drawn from.

The provenance table (:mod:`workbench.provenance`) records every candidate
value considered for a parameter. Candidates are not a distribution: the
lowest and highest of them may measure another quantity (a tumour-stasis
concentration is not a half-maximal activation concentration), come from
another species or format, or be listed for comparison only. Sampling between
their minimum and maximum puts the chosen value at the edge of the range and
moves every median. So the uncertainty analysis draws from a *prior* stated on
the chosen row, and each candidate says how it may inform that prior:

``candidate_use`` (every row)
    ``same`` (same quantity, same species: informs the spread), ``scaled: <how>``
    (another species or format, scaled as stated, e.g. ``scaled: per-kg x 70 kg``:
    informs the spread), ``comparison`` (a different quantity: shown beside the
    prior, never widens it). Empty means ``same``.
``prior`` (chosen row)
    ``lognormal`` | ``normal`` | ``uniform`` | ``loguniform`` | ``fixed``;
    empty: the parameter is not sampled.
``prior_centre`` (chosen row)
    median (normal: mean) in the row's unit; empty: the chosen value (the
    model's value, so that calibrated values are followed).
``prior_spread`` (chosen row)
    ``cv=0.3`` (lognormal, normal, uniform), ``fold=3`` (lognormal: 95 % of the
    mass between centre/3 and centre x 3, ``ln(3)/1.96`` = sd of ln; loguniform:
    the bounds), ``sd=0.2`` (normal, the row's unit). Empty: the largest fold
    between the centre and a ``same``/``scaled`` candidate is taken as the 95 %
    fold (lognormal, loguniform) or as 1.96 sd (normal).
``prior_rationale`` (chosen row)
    why this prior.

Every prior is centred: the median of a lognormal or loguniform prior, and
the mean of a normal or uniform one, is the centre, so the median of the
draws is the chosen value within sampling error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import pandas as pd

from workbench import columns as C
from workbench.core import units as U
from workbench.core._provenance_base import _model_quantities, _typed
from workbench.core.parameter_space import ParameterRange
from workbench.errors import SpecError, UnitError

__all__ = ["PRIOR_DISTRIBUTIONS", "USES", "candidate_use", "parse_spread", "prior_findings",
           "prior_ranges", "prior_table"]

#: Allowed values of the ``prior`` column.
PRIOR_DISTRIBUTIONS = ("lognormal", "normal", "uniform", "loguniform", "fixed")
#: Allowed candidate uses (``scaled`` may be followed by ``: <how>``).
USES = ("same", "scaled", "comparison")
_Z975 = 1.959963984540054
_SPREAD_RE = re.compile(r"^\s*(cv|fold|sd)\s*=\s*([-+0-9.eE]+)\s*$", re.I)


def candidate_use(text: str) -> tuple[str, str]:
    """``("same" | "scaled" | "comparison", how)`` of a ``candidate_use`` cell.

    Raises
    ------
    SpecError
        When the cell is none of the uses.
    """
    t = str(text or "").strip()
    if not t:
        return "same", ""
    head, _, how = t.partition(":")
    head = head.strip().lower()
    if head not in USES:
        raise SpecError(f"candidate_use {t!r} is not one of same, scaled: <how>, comparison",
                        element=C.CANDIDATE_USE,
                        fix="write same, comparison, or scaled: per-kg x 70 kg (say how)")
    return head, how.strip()


def parse_spread(text: str) -> tuple[str, float] | None:
    """``("cv" | "fold" | "sd", value)`` of a ``prior_spread`` cell; None when empty.

    Raises
    ------
    SpecError
    """
    t = str(text or "").strip()
    if not t:
        return None
    m = _SPREAD_RE.match(t)
    if not m:
        raise SpecError(f"prior_spread {t!r} cannot be read", element=C.PRIOR_SPREAD,
                        fix="write cv=0.3, fold=3 or sd=0.2")
    kind, v = m.group(1).lower(), float(m.group(2))
    if not (math.isfinite(v) and v > 0) or (kind == "fold" and v <= 1):
        raise SpecError(f"prior_spread {t!r}: the {kind} must be positive"
                        + (" and above 1" if kind == "fold" else ""), element=C.PRIOR_SPREAD)
    return kind, v


def _conv(value: float, unit: str, to: str) -> float:
    if not to or unit == to:
        return value
    return U.convert(value, unit or "dimensionless", to)


def _entry(g: pd.DataFrame, unit: str, centre_default: float | None):
    """The prior of one entry: (distribution, centre, spread kind, spread, fold95,
    informing values, comparison values, candidates text), values in ``unit``."""
    chosen = g[g[C.CHOSEN]]
    ci = chosen.index[0] if len(chosen) else g.index[0]
    c = g.loc[ci]
    dist = str(c[C.PRIOR]).strip().lower()
    value = _conv(float(c[C.VALUE]), c[C.UNIT], unit) if math.isfinite(c[C.VALUE]) else math.nan
    centre = (_conv(float(c[C.PRIOR_CENTRE]), c[C.UNIT], unit)
              if math.isfinite(c[C.PRIOR_CENTRE]) else
              (centre_default if centre_default is not None else value))
    inform: list[float] = []
    compare: list[float] = []
    parts: list[str] = []
    for i, r in g.iterrows():
        if i == ci or not math.isfinite(r[C.VALUE]):
            continue
        use, how = candidate_use(r[C.CANDIDATE_USE])
        try:
            v = _conv(float(r[C.VALUE]), r[C.UNIT], unit)
        except UnitError:
            continue
        (compare if use == "comparison" else inform).append(v)
        parts.append(f"{v:.4g} ({use}{': ' + how if how else ''})")
    spread = parse_spread(c[C.PRIOR_SPREAD])
    fold95 = math.nan
    kind, sv = spread if spread else ("", math.nan)
    if dist in ("lognormal", "loguniform"):
        if kind == "cv":
            fold95 = math.exp(_Z975 * math.sqrt(math.log1p(sv * sv))) if dist == "lognormal" \
                else math.nan
        elif kind == "fold":
            fold95 = sv
        elif not spread:
            folds = [max(v / centre, centre / v) for v in inform if v > 0 and centre > 0]
            fold95 = max(folds) if folds and max(folds) > 1 + 1e-9 else math.nan
    elif dist in ("normal", "uniform") and not spread:
        devs = [abs(v - centre) for v in inform]
        if devs and max(devs) > 0:
            kind, sv = "sd", max(devs) / _Z975
    return dict(dist=dist, centre=centre, value=value, kind=kind, spread=sv, fold95=fold95,
                inform=inform, compare=compare, candidates="; ".join(parts),
                rationale=str(c[C.PRIOR_RATIONALE]), unit=unit)


def _range(sid: str, e: dict):
    """The :class:`workbench.analysis.sensitivity.ParameterRange` of a prior (None: fixed/none)."""
    d, ctr, kind, sv, unit = e["dist"], e["centre"], e["kind"], e["spread"], e["unit"]
    if d in ("", "fixed"):
        return None
    if d not in PRIOR_DISTRIBUTIONS:
        raise SpecError(f"{sid}: prior {d!r} is not one of " + ", ".join(PRIOR_DISTRIBUTIONS),
                        element=sid, fix="set prior to lognormal, normal, uniform, loguniform "
                                         "or fixed")
    if not math.isfinite(ctr) or (d in ("lognormal", "loguniform") and ctr <= 0):
        raise SpecError(f"{sid}: the prior centre {ctr!r} is not usable for a {d} prior",
                        element=sid, fix="give a positive prior_centre or chosen value")
    if d in ("lognormal", "loguniform"):
        if not math.isfinite(e["fold95"]):
            raise SpecError(f"{sid}: the {d} prior has no spread (prior_spread is empty and no "
                            "same or scaled candidate differs from the centre)", element=sid,
                            fix="write prior_spread, e.g. cv=0.3 or fold=3")
        if d == "lognormal":
            return ParameterRange(sid, "lognormal", None, None, ctr, None,
                                  math.log(e["fold95"]) / _Z975, unit)
        return ParameterRange(sid, "loguniform", ctr / e["fold95"], ctr * e["fold95"], ctr,
                              None, None, unit)
    sd = sv * abs(ctr) if kind == "cv" else sv
    if not (math.isfinite(sd) and sd > 0):
        raise SpecError(f"{sid}: the {d} prior has no spread", element=sid,
                        fix="write prior_spread, e.g. cv=0.2 or sd=0.5")
    if d == "normal":
        return ParameterRange(sid, "normal", None, None, ctr, None, sd, unit)
    half = math.sqrt(3.0) * sd  # a uniform with this sd
    return ParameterRange(sid, "uniform", ctr - half, ctr + half, ctr, None, None, unit)


def _groups(table: pd.DataFrame):
    df = _typed(table)
    for (sid, scope), g in df.groupby([C.ID, C.SCOPE], sort=False):
        if sid:
            yield sid, scope, g


def prior_ranges(table: pd.DataFrame, model=None, *, ids: Iterable[str] | None = None) -> list:
    """One :class:`~workbench.analysis.sensitivity.ParameterRange` per global entry with a prior.

    Values are in the model's unit (``model`` given); a default centre is the
    model's value, so calibrated values are followed.

    Raises
    ------
    SpecError
        When a prior cannot be built (unknown distribution, no spread).
    """
    q = {(x.id, x.scope): x for x in _model_quantities(model)} if model is not None else {}
    want = set(ids) if ids is not None else None
    out = []
    for sid, scope, g in _groups(table):
        if scope or (want is not None and sid not in want):
            continue
        quant = q.get((sid, scope))
        unit = quant.unit if quant is not None and quant.unit else str(g.iloc[0][C.UNIT])
        default = quant.value if quant is not None and math.isfinite(quant.value) else None
        r = _range(sid, _entry(g, unit, default))
        if r is not None:
            out.append(r)
    return out


def prior_table(table: pd.DataFrame, model=None) -> pd.DataFrame:
    """Each entry's prior beside its candidates (columns :data:`workbench.columns.PRIOR_COLUMNS`):
    the entries with a prior, or with candidates besides the chosen value."""
    q = {(x.id, x.scope): x for x in _model_quantities(model)} if model is not None else {}
    rows = []
    for sid, scope, g in _groups(table):
        quant = q.get((sid, scope))
        unit = quant.unit if quant is not None and quant.unit else str(g.iloc[0][C.UNIT])
        try:
            e = _entry(g, unit, None)
        except (SpecError, UnitError, ValueError):
            continue
        if not e["dist"] and len(g) < 2:
            continue
        spread = (f"{e['kind']}={e['spread']:.3g}" if e["kind"] and math.isfinite(e["spread"])
                  else ("from candidates" if e["dist"] not in ("", "fixed") else ""))
        rows.append({C.ID: sid, C.UNIT: unit, C.VALUE: e["value"],
                     C.PRIOR: e["dist"] or "(none: not sampled)", C.PRIOR_CENTRE: e["centre"],
                     C.PRIOR_SPREAD: spread, C.FOLD95: e["fold95"],
                     C.N_INFORMING: len(e["inform"]), C.N_COMPARISON: len(e["compare"]),
                     C.CANDIDATES: e["candidates"], C.PRIOR_RATIONALE: e["rationale"]})
    return pd.DataFrame(rows, columns=list(C.PRIOR_COLUMNS))


def prior_findings(table: pd.DataFrame, lines: list[int], quantities: dict,
                   influential: Iterable[str] = ()) -> list[dict]:
    """Lint findings about candidates and priors (dicts with the fields of a lint row).

    * ``bad-candidate-use`` (error): an unreadable ``candidate_use``;
    * ``bad-prior`` (error): a prior that cannot be built (unknown distribution,
      unreadable spread, no spread);
    * ``scaled-without-how`` (warning): ``scaled`` without saying how;
    * ``chosen-outside-candidates`` (warning): the chosen value lies outside the
      span of its ``same``/``scaled`` candidates (two or more of them);
    * ``no-prior`` (warning): a parameter of the study's influential set has no prior.
    """
    out: list[dict] = []

    def add(sev, code, where, line, msg, fix=""):
        out.append(dict(severity=sev, code=code, element=where, line=line, message=msg, fix=fix))

    has_prior: set[str] = set()
    for sid, scope, g in _groups(table):
        where = f"{scope}/{sid}" if scope else sid
        line = lines[g.index[0]] if g.index[0] < len(lines) else 0
        ok = True
        for i, r in g.iterrows():
            try:
                use, how = candidate_use(r[C.CANDIDATE_USE])
            except SpecError as exc:
                add("error", "bad-candidate-use", where, lines[i] if i < len(lines) else 0,
                    exc.message, exc.fix or "")
                ok = False
                continue
            if use == "scaled" and not how:
                add("warning", "scaled-without-how", where, lines[i] if i < len(lines) else 0,
                    f"a candidate of {where} is marked scaled without saying how",
                    "write scaled: <how>, e.g. scaled: per-kg x 70 kg")
        if not ok:
            continue
        quant = quantities.get((sid, scope))
        if quant is None:
            continue  # an unknown id: reported by the provenance lint
        unit = quant.unit or str(g.iloc[0][C.UNIT])
        try:
            e = _entry(g, unit, None)
            if e["dist"] and not scope:
                if _range(sid, e) is not None or e["dist"] == "fixed":
                    has_prior.add(sid)
        except UnitError:
            continue  # reported by the unit check of the provenance lint
        except SpecError as exc:
            add("error", "bad-prior", where, line, exc.message, exc.fix or "")
            continue
        v, inf = e["value"], e["inform"]
        if len(inf) >= 2 and math.isfinite(v) and not (min(inf) * (1 - 1e-9) <= v <= max(inf) * (1 + 1e-9)):
            add("warning", "chosen-outside-candidates", where, line,
                f"the chosen value {v:.4g} {unit} of {where} lies outside its same/scaled "
                f"candidates ({min(inf):.4g} to {max(inf):.4g} {unit})".rstrip(),
                "state in the rationale why, or record the candidates that support it")
    for sid in influential:
        if sid not in has_prior:
            add("warning", "no-prior", sid, 0,
                f"{sid} is in the study's influential set but has no prior in the provenance "
                "table, so its uncertainty is not sampled",
                "fill prior and prior_spread on its chosen row (or prior = fixed with a reason)")
    return out
