"""QSP MABEL: the lowest dose at which a model predicts a minimal biological effect.

A *minimal-effect definition* is a metric of the metric language of
:func:`workbench.run_ensemble`, a comparison and a threshold::

    max(RO_CD3) >= 0.10            peak CD3 occupancy of at least 10 %
    max(IL6) >= 1.2 x baseline     peak IL-6 at least 1.2 times its drug-free value
    max(IL6) >= max(2 x baseline, 10 pg/mL)   twice baseline, and at least 10 pg/mL
    max(Trimer_pM) >= 0.05         peak trimer (synapse) concentration, output units
    min(Tgt_frac) <= 0.9           at least 10 % of target cells lost

``x baseline`` thresholds are multiplied by the metric's value without drug;
an absolute floor (``max(2 x baseline, 10 pg/mL)``, in the metric's unit when
no unit is written) keeps a relative threshold above what an assay can
measure. An effect may carry the lower limit of quantification of its assay
(``lloq``): it is *measurable* when its threshold is at least the LLOQ and its
change from baseline is at least one LLOQ (a smaller change cannot be told
from the baseline by that assay); the report flags effects that are not.

:func:`qsp_mabel` evaluates each definition on a log-spaced grid of single
doses (``route``, e.g. an IV bolus), takes the first grid interval in which the
effect is reached and refines the dose in it by Brent's method on log dose
(Brent 1973, *Algorithms for Minimization without Derivatives*, ch. 4;
``scipy.optimize.brentq``). When the effect is not reached up to the highest
dose the result says so (``"not reached up to 10 mg/kg"``) and the dose is NaN:
no dose is ever extrapolated. When it is reached already at the lowest dose,
the status is ``"below range"`` and the dose is that lowest dose (an upper
bound).

Under parameter uncertainty (:class:`workbench.analysis.uncertainty.Uncertainty`) the
same search runs for every sampled parameter set (the grid for all samples at
once with :func:`workbench.run_ensemble`, then Brent per sample), giving the
distribution of the MABEL dose: median and 5-95 % interval (samples that never
reach the effect are counted, and the upper percentile is then reported as
"not reached"), and the dose-response band (percentiles of the effect metric at
each grid dose).

Steepness of the nominal dose-response (the caution the FDA draft guidance
asks for when the dose-response is steep): with ``E(d)`` the change of the
metric from baseline and ``Emax`` its largest change over the grid, ``D10`` and
``D50`` are the lowest doses reaching 10 % and 50 % of ``Emax`` and the ratio
``D50/D10`` is compared with that of a Hill curve: ``D50/D10 = 9^(1/n)`` for a
Hill coefficient ``n`` (Hill 1910; Goutelle et al. 2008, Fundam Clin Pharmacol
22:633). The response is called *steep* when the ratio corresponds to ``n >=
1.5`` (ratio <= 4.33, the default ``steep_ratio``), else *shallow*. The local
log-log slope ``d ln E / d ln d`` at the MABEL dose is reported too (1 for
simple binding at low occupancy).
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core import units as U
from workbench.core.dosing import Regimen
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.errors import SpecError
from workbench.sim._timegrid import TimeGrid
from workbench.sim.options import RunOptions, bundles

__all__ = ["EffectDefinition", "MabelEstimate", "QspMabelResult", "Steepness", "dose_response",
           "parse_effect", "qsp_mabel"]

log = logging.getLogger(__name__)

#: D50/D10 of a Hill curve with coefficient 1.5: at or below it the dose-response is "steep".
STEEP_RATIO = 9.0 ** (1 / 1.5)

_EFFECT_RE = re.compile(r"^\s*(?P<metric>.+?\))\s*(?P<op>>=|<=|>|<)\s*(?P<num>[-+0-9.eE]+)\s*"
                        r"(?P<rel>(x|\*|times)\s*baseline)?\s*$")
#: ``max(IL6) >= max(2 x baseline, 10 pg/mL)`` (``<=``: ``min(0.9 x baseline, 0.5)``)
_FLOOR_RE = re.compile(r"^\s*(?P<metric>.+?\))\s*(?P<op>>=|<=|>|<)\s*(?P<fn>max|min)\s*\(\s*"
                       r"(?P<num>[-+0-9.eE]+)\s*(x|\*|times)\s*baseline\s*,\s*"
                       r"(?P<floor>[-+0-9.eE]+)\s*(?P<funit>[^)]*?)\s*\)\s*$")


@dataclass(frozen=True)
class EffectDefinition:
    """A minimal-effect definition (:func:`parse_effect`).

    Attributes
    ----------
    text
        As written (``"max(IL6) >= 1.2 x baseline"``).
    metric
        The metric text (``"max(IL6)"``).
    op
        ``">="`` or ``"<="`` (``>``/``<`` are read as these).
    threshold
        The number; a factor of the baseline when ``relative``.
    relative
        True for ``x baseline`` thresholds.
    name
        A label for tables (default: the text).
    """

    text: str
    metric: str
    op: str
    threshold: float
    relative: bool = False
    name: str = ""
    floor: float = math.nan
    floor_unit: str = ""
    lloq: float = math.nan
    lloq_unit: str = ""
    lloq_source: str = ""

    @property
    def label(self) -> str:
        return self.name or self.text

    def absolute(self, baseline, unit: str = ""):
        """The absolute threshold for a drug-free ``baseline`` (a number or an array, in
        the metric's ``unit``): the factor times the baseline when relative, bounded by
        the floor (``>=``: at least the floor; ``<=``: at most)."""
        thr = self.threshold * np.asarray(baseline, float) if self.relative else \
            np.full(np.shape(baseline), self.threshold, float)
        if math.isfinite(self.floor):
            fl = _in_unit(self.floor, self.floor_unit, unit)
            thr = np.maximum(thr, fl) if self.op == ">=" else np.minimum(thr, fl)
        return float(thr) if np.ndim(thr) == 0 else thr

    def measurable(self, baseline: float, unit: str = "") -> tuple[bool | None, str]:
        """(measurable?, reason) against the assay LLOQ (None: no LLOQ stated)."""
        if not math.isfinite(self.lloq):
            return None, "no assay limit stated"
        lq = _in_unit(self.lloq, self.lloq_unit, unit)
        thr = self.absolute(baseline, unit)
        change = abs(thr - baseline)
        u = f" {unit}" if unit else ""
        if thr < lq:
            return False, f"threshold {thr:.3g}{u} is below the assay LLOQ {lq:.3g}{u}"
        if change < lq:
            return False, (f"the change from baseline, {change:.3g}{u}, is smaller than the assay "
                           f"LLOQ {lq:.3g}{u}: within assay noise")
        return True, (f"threshold {thr:.3g}{u} and change {change:.3g}{u} are at least the "
                      f"assay LLOQ {lq:.3g}{u}")

    def reached(self, value: float, threshold: float) -> bool:
        """True when ``value`` meets the (absolute) threshold."""
        if not math.isfinite(value):
            return False
        return value >= threshold if self.op == ">=" else value <= threshold


def _in_unit(value: float, unit: str, to: str) -> float:
    if not unit or not to or unit == to:
        return float(value)
    try:
        return float(U.convert(value, unit, to))
    except Exception:
        raise SpecError(f"{value:g} {unit} cannot be compared with the metric's unit {to!r}",
                        element="effect", fix=f"give the floor or LLOQ in a unit of {to!r}") \
            from None


def parse_effect(text: str, name: str = "", model: Model | None = None, *,
                 lloq: str | float | None = None, lloq_source: str = "") -> EffectDefinition:
    """Read ``"max(RO_CD3) >= 0.10"``, ``"max(IL6) >= 1.2 x baseline"`` or
    ``"max(IL6) >= max(2 x baseline, 10 pg/mL)"``; ``lloq`` (``"5 pg/mL"`` or a number in
    the metric's unit) is the assay's lower limit of quantification.

    Raises
    ------
    SpecError
        When the text does not parse or the metric is not valid.
    UnknownIdError
        When ``model`` is given and the metric's output is not in it.
    """
    from workbench.sim.ensemble import parse_metric

    lq, lu = math.nan, ""
    if lloq not in (None, ""):
        try:
            lq, lu = (float(lloq), "") if isinstance(lloq, int | float) else U.parse_quantity(
                str(lloq))
        except Exception:
            raise SpecError(f"cannot read the assay limit {lloq!r}", element="effect.lloq",
                            fix="write e.g. lloq: 5 pg/mL") from None
        if not (math.isfinite(lq) and lq > 0):
            raise SpecError(f"the assay limit {lloq!r} must be positive", element="effect.lloq")
    fm = _FLOOR_RE.match(str(text))
    if fm:
        if (fm.group("fn") == "max") != fm.group("op").startswith(">"):
            raise SpecError(f"{text!r}: use max(...) with >= and min(...) with <=",
                            element="effect", fix="write 'max(IL6) >= max(2 x baseline, 10 pg/mL)'")
        metric = parse_metric(fm.group("metric"), model).text
        try:
            thr, floor = float(fm.group("num")), float(fm.group("floor"))
        except ValueError:
            raise SpecError(f"{text!r}: a threshold is not a number", element="effect") from None
        funit = fm.group("funit").strip()
        if funit:
            try:
                U._units(funit)
            except Exception:
                raise SpecError(f"{text!r}: the floor unit {funit!r} is not a unit",
                                element="effect", fix="write e.g. 10 pg/mL") from None
        op = ">=" if fm.group("op").startswith(">") else "<="
        return EffectDefinition(str(text).strip(), metric, op, thr, True, name, floor, funit,
                                lq, lu, str(lloq_source or ""))
    mm = _EFFECT_RE.match(str(text))
    if not mm:
        raise SpecError(f"cannot read the effect definition {text!r}", element="effect",
                        fix="write e.g. 'max(RO_CD3) >= 0.10', 'max(IL6) >= 1.2 x baseline', "
                            "'max(IL6) >= max(2 x baseline, 10 pg/mL)' or 'min(Tgt_frac) <= 0.9'")
    metric = parse_metric(mm.group("metric"), model).text
    try:
        thr = float(mm.group("num"))
    except ValueError:
        raise SpecError(f"{text!r}: the threshold {mm.group('num')!r} is not a number",
                        element="effect") from None
    op = ">=" if mm.group("op").startswith(">") else "<="
    return EffectDefinition(str(text).strip(), metric, op, thr, bool(mm.group("rel")), name,
                            lloq=lq, lloq_unit=lu, lloq_source=str(lloq_source or ""))


@dataclass(frozen=True)
class Steepness:
    """Steepness of the nominal dose-response around the MABEL (module docstring).

    ``d10``/``d50``: doses reaching 10 %/50 % of the largest change (NaN when not
    reached); ``ratio`` = d50/d10; ``hill`` = ln 9 / ln ratio; ``slope``: local
    d ln(change) / d ln(dose) at the MABEL dose; ``classification``:
    ``"steep"``, ``"shallow"`` or ``"undetermined"``.
    """

    d10: float
    d50: float
    ratio: float
    hill: float
    slope: float
    emax: float
    classification: str


@dataclass(frozen=True, eq=False)
class MabelEstimate:
    """The QSP MABEL for one effect definition.

    Attributes
    ----------
    effect
        The definition.
    threshold, unit, baseline
        Absolute threshold and metric value without drug (metric units).
    dose, dose_unit, status
        The nominal MABEL dose (NaN unless reached) and ``"reached"``,
        ``"not reached"`` or ``"below range"``.
    dose_range
        Lowest and highest dose searched (``dose_unit``).
    steepness
        :class:`Steepness`.
    median, lower, upper, n_samples, n_not_reached
        Distribution under parameter uncertainty (NaN without it; ``upper`` is
        inf when more than 5 % of samples never reach the effect).
    per_sample
        The dose per sample (NaN: not reached) and its unit, with the sample's
        parameters (model units).
    """

    effect: EffectDefinition
    threshold: float
    unit: str
    baseline: float
    dose: float
    dose_unit: str
    status: str
    dose_range: tuple[float, float]
    steepness: Steepness
    median: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    n_samples: int = 0
    n_not_reached: int = 0
    per_sample: pd.DataFrame | None = field(default=None, repr=False)

    def dose_text(self, value: float | None = None) -> str:
        """``"0.031 ug/kg"``, or ``"not reached up to 10000 ug/kg"``."""
        v = self.dose if value is None else value
        if (value is None and self.status == "not reached") or (value is not None and
                                                               not math.isfinite(v)):
            return f"not reached up to {self.dose_range[1]:.4g} {self.dose_unit}"
        if value is None and self.status == "below range":
            return f"<= {v:.4g} {self.dose_unit} (reached at the lowest dose searched)"
        return f"{v:.4g} {self.dose_unit}"


@dataclass(frozen=True, eq=False)
class QspMabelResult:
    """Result of :func:`qsp_mabel`.

    Attributes
    ----------
    estimates
        One :class:`MabelEstimate` per effect definition.
    dose_response
        Nominal and percentile effect per grid dose, columns
        :data:`workbench.columns.QSP_DOSE_RESPONSE_COLUMNS`.
    settings
        What was run (route, grid, n, seed, ...).
    """

    estimates: tuple[MabelEstimate, ...]
    dose_response: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per effect: columns :data:`workbench.columns.QSP_MABEL_COLUMNS`."""
        rows = []
        for e in self.estimates:
            s = e.steepness
            rows.append({C.EFFECT: e.effect.label, C.DEFINITION: e.effect.text,
                         C.THRESHOLD: e.threshold, C.UNIT: e.unit, C.BASELINE: e.baseline,
                         C.STATUS: e.status, C.DOSE: e.dose, C.DOSE_UNIT: e.dose_unit,
                         C.MEDIAN: e.median, C.LOWER: e.lower, C.UPPER: e.upper,
                         C.N_SAMPLES: e.n_samples, C.N_NOT_REACHED: e.n_not_reached,
                         C.D10: s.d10, C.D50: s.d50, C.STEEPNESS_RATIO: s.ratio,
                         C.HILL: s.hill, C.SLOPE: s.slope, C.STEEPNESS: s.classification,
                         C.TEXT: e.dose_text()})
        return pd.DataFrame(rows, columns=list(C.QSP_MABEL_COLUMNS))

    def _repr_html_(self) -> str:
        """Summary for Jupyter (:mod:`workbench._html_repr`)."""
        from workbench.core._html_repr import qsp_mabel_html

        return qsp_mabel_html(self)

    def lowest(self) -> MabelEstimate | None:
        """The reached estimate with the lowest nominal dose (None when none is reached)."""
        ok = [e for e in self.estimates if math.isfinite(e.dose)]
        return min(ok, key=lambda e: e.dose) if ok else None


# ---------------------------------------------------------------------------
# evaluation
# ---------------------------------------------------------------------------

def output_times(end: float, points: int) -> np.ndarray:
    """Even points over ``[0, end]`` plus log-spaced early points (peaks of fast outputs)."""
    early = np.geomspace(end * 1e-5, end / 10, 40)
    return np.unique(np.concatenate([[0.0], early, np.linspace(0, end, int(points))]))


@dataclass(frozen=True)
class _Runner:
    """One model, dosing, schedule, output times and run options: the ensemble at a dose."""

    model: Model
    dosing: Dosing
    schedule: str
    times: tuple[float, ...]
    run_options: RunOptions

    @property
    def dose_unit(self) -> str:
        return str(self.dosing.dose_unit)

    def regimen(self, dose: float) -> Regimen:
        """The regimen of ``dose`` as a number (no text round trip: :meth:`Dosing.regimen`)."""
        return self.dosing.regimen(dose, self.schedule)

    def run(self, samples: pd.DataFrame, dose: float | None, metrics: Sequence[str]) -> pd.DataFrame:
        from workbench.sim.ensemble import run_ensemble

        reg = self.regimen(dose) if dose else None  # None or 0: no drug
        return run_ensemble(self.model, samples, reg, metrics=list(metrics),
                            dosing=self.dosing, grid=TimeGrid(times=self.times),
                            run=replace(self.run_options, progress=False))


#: the older keywords of :func:`dose_response` and :func:`qsp_mabel`, and their defaults
_QSP_KEYS = ("target", "mw", "subject", "route", "end", "points", "integrator", "workers",
             "progress")
_QSP_DEFAULTS = {"route": "iv", "end": "672 h", "points": 200, "workers": 1}


def _bundles(func: str, legacy: dict, dosing, grid, run, dose_unit: str | None
             ) -> tuple[Dosing, TimeGrid, RunOptions]:
    """The bundles of a QSP call; ``dose_unit`` (of the dose range or the doses) goes into
    ``dosing`` unless it has its own."""
    d, g, r = bundles(func, legacy, dosing=dosing, grid=grid, run=run, allowed=_QSP_KEYS,
                      defaults=_QSP_DEFAULTS)
    if d.dose_unit is None and dose_unit is not None:
        d = replace(d, dose_unit=dose_unit)
    return d, g, r


def dose_response(model: Model | str | os.PathLike[str], metrics: Sequence[str], doses: Sequence[float],
                  dose_unit: str | None = None, *, samples: pd.DataFrame | None = None,
                  schedule: str = "", dosing: Dosing | None = None, grid: TimeGrid | None = None,
                  run: RunOptions | None = None, **legacy) -> pd.DataFrame:
    """Metrics at each dose (single doses of ``dose`` ``dose_unit`` by ``dosing.route`` on
    ``schedule``, built as numbers: :meth:`Dosing.regimen`; a dose of 0 is the drug-free
    baseline).

    ``dose_unit`` may instead be given in ``dosing``; ``grid``: ``end`` and ``points``
    (default 672 h and 200 points, with early log-spaced points: :func:`output_times`) or
    explicit ``times``; ``run``: integrator and workers (default 1). The older keywords
    ``route``, ``target``, ``mw``, ``subject``, ``end``, ``points``, ``integrator``,
    ``workers`` build the same bundles.

    Returns one row per (dose, sample): ``dose``, ``sample``, one column per metric
    (``attrs["units"]``) and ``status``; ``samples`` None means the nominal model (sample 0).
    """
    d, g, r = _bundles("dose_response", legacy, dosing, grid, run, dose_unit)
    if d.dose_unit is None:
        raise SpecError("the doses need their unit", element="dose_unit",
                        fix="give dose_unit='ug/kg' (or Dosing(dose_unit=...))")
    if dose_unit is not None and d.dose_unit != dose_unit:
        raise SpecError(f"dose_response: the dose unit is given twice ({dose_unit!r} and "
                        f"Dosing.dose_unit {d.dose_unit!r})", element="dose_unit",
                        fix="give it once")
    runner = _runner(model, d, schedule, g, r)
    return _at_doses(runner, pd.DataFrame(index=[0]) if samples is None else samples, doses,
                     metrics)


def _at_doses(r: _Runner, samples: pd.DataFrame, doses: Sequence[float] | np.ndarray,
              metrics: Sequence[str], progress: bool | None = False,
              desc: str = "doses") -> pd.DataFrame:
    """The table of :func:`dose_response`: one ensemble of ``samples`` per dose."""
    from tqdm.auto import tqdm

    out = []
    units: dict = {}
    for d in tqdm(doses, desc=desc, disable=not progress, leave=False):
        res = r.run(samples, float(d), metrics)
        units = res.attrs.get("units", {})
        out.append(res[[C.SAMPLE, *metrics, C.STATUS]].assign(**{C.DOSE: float(d)}))
    cols = [C.DOSE, C.SAMPLE, *metrics, C.STATUS]
    df = pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)
    df.attrs["units"] = units
    return df


def _runner(model, dosing: Dosing, schedule: str, grid: TimeGrid, run: RunOptions) -> _Runner:
    """The runner of ``grid``: its explicit times, or :func:`output_times` over
    [0, end] with ``points`` (default 200) even points; the runs start at time 0."""
    from workbench.sim.simulate import resolve_time

    m = model if isinstance(model, Model) else load_model(model)
    if resolve_time(grid.start, m, "start") != 0:
        raise SpecError(f"the dose-response runs start at time 0, not {grid.start!r}",
                        source=m.source, element="TimeGrid.start",
                        fix="leave the start at 0")
    if grid.times is not None:
        times = tuple(sorted({0.0, *grid.times}))
    else:
        if grid.end is None:
            raise SpecError("the dose-response runs need their end time", source=m.source,
                            element="TimeGrid.end", fix="give e.g. end='672 h'")
        times = tuple(output_times(resolve_time(grid.end, m, "end"),
                                   200 if grid.points is None else grid.points).tolist())
    return _Runner(m, dosing, schedule, times, run)


def _search(f, grid: np.ndarray, vals: np.ndarray, eff: EffectDefinition, thr: float,
            xtol: float) -> tuple[float, str]:
    """First crossing on the grid, refined by Brent's method on log dose."""
    from scipy.optimize import brentq

    hit = [eff.reached(v, thr) for v in vals]
    if not any(hit):
        return math.nan, "not reached"
    i = hit.index(True)
    if i == 0:
        return float(grid[0]), "below range"
    sign = 1.0 if eff.op == ">=" else -1.0

    def g(logd: float) -> float:
        v = f(math.exp(logd))
        return sign * (v - thr) if math.isfinite(v) else -1.0

    lo, hi = math.log(grid[i - 1]), math.log(grid[i])
    try:
        x = brentq(g, lo, hi, xtol=xtol, rtol=1e-10, maxiter=100)
    except ValueError:  # the bracket's ends computed differently (solver noise): take the grid point
        return float(grid[i]), "reached"
    return float(math.exp(x)), "reached"


def _steepness(f, grid: np.ndarray, vals: np.ndarray, baseline: float, mabel: float,
               steep_ratio: float) -> Steepness:
    change = np.abs(vals - baseline)
    emax = float(np.nanmax(change)) if np.isfinite(change).any() else math.nan
    nan = math.nan
    if not emax > 0:
        return Steepness(nan, nan, nan, nan, nan, emax, "undetermined")

    def level_dose(frac: float) -> float:
        target = frac * emax
        idx = np.flatnonzero(change >= target)
        if not len(idx):
            return nan
        i = int(idx[0])
        if i == 0:
            return float(grid[0])
        (d0, d1), (y0, y1) = grid[i - 1:i + 1], change[i - 1:i + 1]
        from scipy.optimize import brentq

        try:
            return float(math.exp(brentq(lambda x: abs(f(math.exp(x)) - baseline) - target,
                                         math.log(d0), math.log(d1), xtol=1e-6)))
        except ValueError:
            w = (target - y0) / (y1 - y0) if y1 != y0 else 1.0
            return float(math.exp(math.log(d0) + w * (math.log(d1) - math.log(d0))))

    d10, d50 = level_dose(0.1), level_dose(0.5)
    ratio = d50 / d10 if d10 > 0 and math.isfinite(d50) else nan
    hill = math.log(9.0) / math.log(ratio) if ratio > 1 else nan
    slope = nan
    if math.isfinite(mabel) and mabel > 0:
        h = 0.05
        yp, ym = abs(f(mabel * math.exp(h)) - baseline), abs(f(mabel * math.exp(-h)) - baseline)
        if yp > 0 and ym > 0:
            slope = (math.log(yp) - math.log(ym)) / (2 * h)
    if math.isfinite(ratio):
        cls = "steep" if ratio <= steep_ratio else "shallow"
    else:
        cls = "undetermined"
    return Steepness(d10, d50, ratio, hill, slope, emax, cls)


def qsp_mabel(model: Model | str | os.PathLike[str], effects: Sequence[str | EffectDefinition], *,
              schedule: str = "", dose_range: tuple[str, str] = ("0.001 ug/kg", "10 mg/kg"),
              grid_points: int = 25, uncertainty=None, n: int = 64, seed: int | None = 0,
              method: str = "lhs", samples: pd.DataFrame | None = None,
              percentiles: Sequence[float] = (5, 50, 95), steep_ratio: float = STEEP_RATIO,
              xtol: float = 1e-4, dosing: Dosing | None = None, grid: TimeGrid | None = None,
              run: RunOptions | None = None, **legacy) -> QspMabelResult:
    """The lowest single dose reaching each minimal-effect definition (module docstring).

    Parameters
    ----------
    model
        A model or a path.
    effects
        Effect definitions (texts for :func:`parse_effect` or :class:`EffectDefinition`).
    schedule
        Regimen text after the dose and its route (e.g. ``"q1w x4"``).
    dose_range, grid_points
        Lowest and highest dose (same kind of unit) and the number of log-spaced grid
        doses; the MABEL is in the unit of the lowest dose unless ``dosing.dose_unit``
        names another.
    uncertainty, n, seed, method
        :class:`workbench.analysis.uncertainty.Uncertainty` and its sampling; None: nominal only.
    samples
        Instead of ``uncertainty``: the sample table itself (one row per parameter
        set, model ids as columns, optionally ``dose_scale``), e.g. virtual
        subjects of a population (:mod:`workbench.mabel_population`).
    percentiles
        Lower, middle and upper percentile of the MABEL distribution and band.
    steep_ratio
        D50/D10 at or below which the dose-response is called steep.
    xtol
        Tolerance of Brent's method in ln(dose).
    dosing
        :class:`~workbench.core.options.Dosing`: dosed species, molecular weight, body
        size (as for :func:`workbench.simulate`) and the route after each dose (``"iv"``).
    grid
        :class:`~workbench.sim._timegrid.TimeGrid`: simulated span ``end`` (default
        ``"672 h"``) and even output ``points`` (default 200; early log-spaced points are
        added), or explicit ``times``; the runs start at 0.
    run
        :class:`~workbench.sim.options.RunOptions`: integrator, workers (default 1),
        progress, as for :func:`workbench.run_ensemble`.
    **legacy
        The older keywords, each building its bundle: ``target``, ``mw``, ``subject``,
        ``route``; ``end``, ``points``; ``integrator``, ``workers``, ``progress``. Giving
        a bundle and one of its keywords is a :class:`SpecError`.

    Returns
    -------
    QspMabelResult

    Raises
    ------
    SpecError, UnknownIdError, DoseError, SimulationError
    """
    dosing, tgrid, run = bundles("qsp_mabel", legacy, dosing=dosing, grid=grid, run=run,
                                 allowed=_QSP_KEYS, defaults=_QSP_DEFAULTS)
    progress = run.progress
    m = model if isinstance(model, Model) else load_model(model)
    effs = [e if isinstance(e, EffectDefinition) else parse_effect(e, model=m) for e in effects]
    if not effs:
        raise SpecError("no effect definition given", element="effects",
                        fix="give e.g. 'max(RO_CD3) >= 0.10'")
    if samples is not None and uncertainty is not None:
        raise SpecError("give either uncertainty or samples, not both", element="samples")
    if samples is not None and not len(samples):
        raise SpecError("the sample table is empty", element="samples")
    (lo, lu), (hi, hu) = (U.parse_quantity(x) for x in dose_range)
    unit = dosing.dose_unit or lu
    lo, hi = lo * U.factor(lu, unit), hi * U.factor(hu, unit)
    if not 0 < lo < hi or grid_points < 3:
        raise SpecError(f"the dose range {dose_range} must be positive and increasing, with at "
                        "least 3 grid points", element="dose_range")
    dgrid = np.geomspace(lo, hi, int(grid_points))
    dosing = replace(dosing, dose_unit=unit)
    r = _runner(m, dosing, schedule, tgrid, run)
    metrics = list(dict.fromkeys(e.metric for e in effs))
    nominal = pd.DataFrame(index=[0])
    base = r.run(nominal, None, metrics)
    units = base.attrs.get("units", {})
    baseline = {mt: float(base[mt].iloc[0]) for mt in metrics}
    nom = _at_doses(r, nominal, dgrid, metrics)
    band = None
    pct = tuple(float(p) for p in percentiles)
    if uncertainty is not None:
        samples = uncertainty.with_model(m).sample(n, seed=seed, method=method)
    if samples is not None:
        band = _at_doses(r, samples, dgrid, metrics, progress, "QSP MABEL grid")
        sbase = r.run(samples, None, metrics)
    rows = []
    for d, g in nom.groupby(C.DOSE, sort=True):
        for mt in metrics:
            row = {C.DOSE: d, C.DOSE_UNIT: unit, C.METRIC: mt, C.UNIT: units.get(mt, ""),
                   C.NOMINAL: float(g[mt].iloc[0])}
            if band is not None:
                v = band.loc[(band[C.DOSE] == d) & (band[C.STATUS] == C.STATUS_OK), mt].to_numpy()
                q = np.percentile(v, pct) if len(v) else [math.nan] * len(pct)
                row.update({C.LOWER: q[0], C.MEDIAN: q[len(q) // 2], C.UPPER: q[-1]})
            else:
                row.update({C.LOWER: math.nan, C.MEDIAN: math.nan, C.UPPER: math.nan})
            rows.append(row)
    dr = pd.DataFrame(rows, columns=list(C.QSP_DOSE_RESPONSE_COLUMNS))
    estimates = []
    for eff in effs:
        b = baseline[eff.metric]
        thr = eff.absolute(b, units.get(eff.metric, ""))

        def f(dose: float, _mt=eff.metric, _tab=nominal) -> float:
            return float(r.run(_tab, dose, [_mt])[_mt].iloc[0])

        vals = nom[eff.metric].to_numpy(float)
        dose, status = _search(f, dgrid, vals, eff, thr, xtol)
        steep = _steepness(f, dgrid, vals, b, dose, steep_ratio)
        est = dict(effect=eff, threshold=thr, unit=units.get(eff.metric, ""), baseline=b,
                   dose=dose, dose_unit=unit, status=status, dose_range=(float(lo), float(hi)),
                   steepness=steep)
        if band is not None:
            est.update(_sample_mabels(r, eff, samples, sbase, band, dgrid, xtol, pct, progress))
        estimates.append(MabelEstimate(**est))
        log.info("QSP MABEL for %s: %s", eff.text, estimates[-1].dose_text())
    settings = dict(route=dosing.route, schedule=schedule, dose_range=tuple(dose_range),
                    grid_points=int(grid_points), end=str(tgrid.end),
                    points=int(200 if tgrid.points is None else tgrid.points),
                    n=len(samples) if samples is not None else 0, seed=seed,
                    method=method if uncertainty is not None else "given samples",
                    distribution="parameter uncertainty" if uncertainty is not None else
                    ("given samples" if samples is not None else ""),
                    percentiles=pct, steep_ratio=steep_ratio, target=dosing.target,
                    mw=dosing.mw)
    return QspMabelResult(tuple(estimates), dr, settings)


def _sample_mabels(r: _Runner, eff: EffectDefinition, samples: pd.DataFrame, sbase: pd.DataFrame,
                   band: pd.DataFrame, grid: np.ndarray, xtol: float, pct: tuple[float, ...],
                   progress: bool | None) -> dict:
    """The MABEL of every sample: the first grid crossing, then bisection on log dose for
    all samples at once (one ensemble per step; each sample's trial dose through the
    ``dose_scale`` column), to ``max(xtol, 1e-3)`` in ln(dose)."""
    from tqdm.auto import tqdm

    n = len(samples)
    labels = list(samples.index)
    sign = 1.0 if eff.op == ">=" else -1.0
    base = sbase[eff.metric].to_numpy(float)
    thr = eff.absolute(base, sbase.attrs.get("units", {}).get(eff.metric, ""))
    by = band.pivot_table(index=C.SAMPLE, columns=C.DOSE, values=eff.metric, aggfunc="first",
                          dropna=False)
    vals = by.reindex(index=labels, columns=sorted(by.columns)).to_numpy(float)
    doses = np.full(n, math.nan)
    lo, hi = np.full(n, math.nan), np.full(n, math.nan)
    for k in range(n):
        hit = [eff.reached(v, thr[k]) for v in vals[k]]
        if not any(hit):
            continue
        i = hit.index(True)
        if i == 0:
            doses[k] = float(grid[0])  # reached at the lowest dose searched
        else:
            lo[k], hi[k] = math.log(grid[i - 1]), math.log(grid[i])
    todo = np.flatnonzero(np.isfinite(lo))
    tol = max(xtol, 1e-3)
    steps = math.ceil(math.log2(max(float(np.max(hi[todo] - lo[todo])), tol) / tol)) \
        if len(todo) else 0
    scale0 = (samples[C.DOSE_SCALE].to_numpy(float) if C.DOSE_SCALE in samples.columns
              else np.ones(n))
    bar = tqdm(total=steps, desc=f"MABEL per sample: {eff.metric}", disable=not progress,
               leave=False)
    for _ in range(steps):
        mid = 0.5 * (lo[todo] + hi[todo])
        trial = samples.iloc[todo].copy()
        trial[C.DOSE_SCALE] = scale0[todo] * np.exp(mid)
        res = r.run(trial, 1.0, [eff.metric])
        v = res[eff.metric].to_numpy(float)
        ok = np.isfinite(v)
        up = ok & (sign * (v - thr[todo]) >= 0)   # reached: the crossing is below mid
        hi[todo[up]] = mid[up]
        lo[todo[~up]] = mid[~up]                 # not reached (or failed): above mid
        bar.update()
    bar.close()
    doses[todo] = np.exp(0.5 * (lo[todo] + hi[todo]))
    per = samples.copy()
    per.insert(0, C.DOSE, doses)
    per.insert(1, C.DOSE_UNIT, r.dose_unit)
    n_nr = int(np.count_nonzero(~np.isfinite(doses)))
    # samples that never reach the effect count as +inf dose: percentiles stay honest
    q = np.percentile(np.where(np.isfinite(doses), doses, np.inf), pct, method="nearest")
    return dict(median=float(q[len(q) // 2]), lower=float(q[0]), upper=float(q[-1]),
                n_samples=n, n_not_reached=n_nr, per_sample=per)
