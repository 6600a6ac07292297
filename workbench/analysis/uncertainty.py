"""Uncertainty propagation: Monte Carlo prediction bands of time courses and dose-response.

Parameter distributions (:class:`Uncertainty`) come either from the provenance
table (:func:`uncertainty_from_provenance`: the prior stated on each entry's
chosen row, :mod:`workbench.priors`) or from the user (lognormal with a
CV or an sd of ln, normal, uniform, log-uniform; optional truncation bounds;
correlations). Each distribution is a
:class:`workbench.analysis.sensitivity.ParameterRange`, so the tables of the
sensitivity and uncertainty analyses are the same; unlike there, a normal or
lognormal without bounds is not truncated here (bounds at 8.3 sd, 1e-16 of the
mass).

:func:`propagate` draws ``n`` points of the unit hypercube (Latin hypercube,
McKay, Beckman & Conover 1979, Technometrics 21:239; scrambled Sobol' points,
Sobol' 1967 and Owen 1998; or independent uniforms), correlates them through a
Gaussian copula (normal scores multiplied by the Cholesky factor of the
correlation matrix; for lognormals this is the correlation of ln values; the
Latin-hypercube strata are kept only without correlations), maps them through
each inverse distribution function and runs the ensemble
(:func:`workbench.run_ensemble`) once per regimen, with the same samples for
every regimen. Percentiles (default 5, 50, 95) of each output at each time and
of each metric at each dose give the bands, columns
:data:`workbench.columns.BAND_COLUMNS`.

Convergence: the bands from the first half of the samples are compared with
the bands from all of them (for Latin hypercubes the two halves are separate
designs, a replicated Latin hypercube, Iman 1981); ``shift`` is the largest
movement of a percentile over time as a fraction of the band width, columns
:data:`workbench.columns.BAND_CONVERGENCE_COLUMNS`.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.analysis.plots import plot_bands
from workbench.core.dosing import Regimen, parse_regimen
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.core.parameter_space import ParameterRange, ParameterSpace, read_parameter_space
from workbench.errors import SimulationError, SpecError
from workbench.sim._timegrid import TimeGrid
from workbench.sim.options import RunOptions, bundles

__all__ = ["Uncertainty", "UncertaintyResult", "build_uncertainty", "parse_distribution", "plot_bands", "propagate",
           "uncertainty_from_provenance", "write_uncertainty"]

log = logging.getLogger(__name__)

_UNBOUNDED_SD = 8.3   # "no truncation": bounds at +-8.3 sd hold all but 1e-16 of the mass


def _sd_from_cv(cv: float) -> float:
    """sd of ln(X) for a lognormal X with coefficient of variation ``cv``."""
    return math.sqrt(math.log1p(cv * cv))


def _complete(r: ParameterRange) -> ParameterRange:
    """Untruncated normal/lognormal unless bounds were given."""
    if r.distribution not in ("normal", "lognormal") or r.nominal is None:
        return r
    if r.low is not None and r.high is not None:
        return r
    sd = r._sd()
    if r.distribution == "normal":
        lo, hi = r.nominal - _UNBOUNDED_SD * sd, r.nominal + _UNBOUNDED_SD * sd
    else:
        lo, hi = r.nominal * math.exp(-_UNBOUNDED_SD * sd), r.nominal * math.exp(_UNBOUNDED_SD * sd)
    return ParameterRange(r.id, r.distribution, r.low if r.low is not None else lo,
                          r.high if r.high is not None else hi, r.nominal, r.fold, sd, r.unit)


@dataclass(frozen=True)
class Uncertainty:
    """Parameter distributions and their correlations.

    Attributes
    ----------
    space
        One :class:`~workbench.analysis.sensitivity.ParameterRange` per uncertain id.
    correlations
        ``(id_1, id_2, rho)``: correlation of the normal scores (lognormal: of ln values).
    origin
        ``(id, "provenance" | "user")`` pairs, for the table.
    """

    space: ParameterSpace
    correlations: tuple[tuple[str, str, float], ...] = ()
    origin: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        ids = self.space.ids
        for a, b, rho in self.correlations:
            if a not in ids or b not in ids:
                raise SpecError(f"correlation {a}, {b}: both ids must be uncertain parameters",
                                element=a if a not in ids else b)
            if a == b or not -1 < float(rho) < 1:
                raise SpecError(f"correlation {a}, {b} = {rho}: needs two ids and -1 < rho < 1",
                                element=a)
        self.matrix()  # positive definite?

    @property
    def ids(self) -> list[str]:
        """The uncertain ids."""
        return self.space.ids

    def matrix(self) -> np.ndarray:
        """Correlation matrix of the normal scores, in the order of :attr:`ids`."""
        ids = self.ids
        r = np.eye(len(ids))
        for a, b, rho in self.correlations:
            i, j = ids.index(a), ids.index(b)
            r[i, j] = r[j, i] = float(rho)
        try:
            np.linalg.cholesky(r)
        except np.linalg.LinAlgError:
            raise SpecError("the correlations do not form a valid (positive definite) "
                            "correlation matrix", element="correlations",
                            fix="lower the correlations or remove contradictory ones") from None
        return r

    def with_model(self, model: Model) -> Uncertainty:
        """Nominal values and units filled from the model; bounds completed."""
        sp = self.space.with_model(model, check=False)
        sp = ParameterSpace(tuple(_complete(r) for r in sp.ranges))
        for r in sp.ranges:
            r._bounds()
        return Uncertainty(sp, self.correlations, self.origin)

    def to_frame(self) -> pd.DataFrame:
        """Columns :data:`workbench.columns.DISTRIBUTION_COLUMNS`."""
        org = dict(self.origin)
        rows = []
        for r in self.space.ranges:
            cv = (math.sqrt(math.expm1(r.sd ** 2)) if r.distribution == "lognormal" and r.sd
                  else (r.sd / abs(r.nominal) if r.distribution == "normal" and r.sd and r.nominal
                        else math.nan))
            rows.append({C.ID: r.id, C.DISTRIBUTION: r.distribution, C.NOMINAL: r.nominal,
                         C.SD: r.sd, C.CV: cv, C.LOW: r.low, C.HIGH: r.high, C.UNIT: r.unit,
                         C.ORIGIN: org.get(r.id, "user")})
        return pd.DataFrame(rows, columns=list(C.DISTRIBUTION_COLUMNS))

    def correlation_frame(self) -> pd.DataFrame:
        """Columns :data:`workbench.columns.CORRELATION_COLUMNS`."""
        return pd.DataFrame([{C.PARAMETER_1: a, C.PARAMETER_2: b, C.CORRELATION: float(r)}
                             for a, b, r in self.correlations],
                            columns=list(C.CORRELATION_COLUMNS))

    def unit_points(self, n: int, seed: int | None = 0, method: str = "lhs") -> np.ndarray:
        """``n`` points of the unit hypercube, correlated as asked (rows, one column per id).

        Latin hypercubes are drawn as two designs of n/2 (the convergence check
        compares the first with both); Sobol' and random points are one sequence.
        """
        from scipy.special import ndtr, ndtri
        from scipy.stats import qmc

        d = len(self.ids)
        rng = np.random.default_rng(seed)
        if n < 4:
            raise SpecError("at least 4 samples are needed", element="n")
        if method == "random":
            u = rng.random((n, d))
        elif method == "lhs":
            h = n // 2
            u = np.vstack([qmc.LatinHypercube(d=d, rng=rng).random(h),
                           qmc.LatinHypercube(d=d, rng=rng).random(n - h)])
        elif method == "sobol":
            import warnings

            with warnings.catch_warnings():  # n not a power of 2: balance is only approximate
                warnings.simplefilter("ignore", UserWarning)
                u = qmc.Sobol(d=d, scramble=True, rng=rng).random(n)
        else:
            raise SpecError(f"unknown sampling method {method!r}", element="method",
                            fix="use 'lhs', 'sobol' or 'random'")
        if self.correlations:
            eps = 0.5 / n
            z = ndtri(np.clip(u, eps, 1 - eps)) @ np.linalg.cholesky(self.matrix()).T
            u = ndtr(z)
        return u

    def sample(self, n: int, seed: int | None = 0, method: str = "lhs") -> pd.DataFrame:
        """``n`` parameter sets (one column per id, model units); same seed, same table."""
        return self.space.transform(self.unit_points(n, seed, method))


def parse_distribution(text: str) -> ParameterRange:
    """Read ``"CL=lognormal,cv=0.3"``, ``"kon=loguniform,low=0.5,high=5"``,
    ``"V=normal,sd=0.4,low=2"``, ``"ka=lognormal,sd=0.5,median=0.2"`` (median/mean:
    the nominal value; default: the model value).

    Raises
    ------
    SpecError
    """
    m = re.match(r"^\s*([A-Za-z_]\w*)\s*=\s*([A-Za-z_-]+)\s*(?:,(.*))?$", str(text))
    if not m:
        raise SpecError(f"cannot read the distribution {text!r}", element="--param",
                        fix="write id=lognormal,cv=0.3 or id=loguniform,low=0.5,high=5")
    sid, dist, rest = m.group(1), m.group(2), m.group(3) or ""
    kw: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        if "=" not in part:
            raise SpecError(f"{text!r}: {part!r} is not key=value", element=sid)
        k, v = (x.strip().lower() for x in part.split("=", 1))
        try:
            kw[k] = float(v)
        except ValueError:
            raise SpecError(f"{text!r}: {v!r} is not a number", element=sid) from None
    unknown = set(kw) - {"cv", "sd", "low", "high", "median", "mean", "nominal", "fold"}
    if unknown:
        raise SpecError(f"{text!r}: unknown key(s) {', '.join(sorted(unknown))}", element=sid,
                        fix="keys: cv, sd, low, high, median (lognormal), mean (normal), fold")
    sd = kw.get("sd")
    if "cv" in kw:
        if kw["cv"] <= 0:
            raise SpecError(f"{text!r}: the CV must be positive", element=sid)
        if dist.lower().replace("-", "") == "lognormal":
            sd = _sd_from_cv(kw["cv"])
        elif "mean" in kw or "nominal" in kw:
            sd = kw["cv"] * abs(kw["mean"] if "mean" in kw else kw["nominal"])
        else:
            raise SpecError(f"{text!r}: a normal with a CV needs its mean", element=sid)
    nominal = kw.get("median", kw.get("mean", kw.get("nominal")))
    return ParameterRange(sid, dist, kw.get("low"), kw.get("high"), nominal, kw.get("fold"), sd)


def build_uncertainty(model: Model | str | os.PathLike[str], *, params: Sequence[str] = (),
                      table: str | os.PathLike[str] | pd.DataFrame | None = None,
                      provenance: str | os.PathLike[str] | pd.DataFrame | None = None,
                      correlations: Sequence[str] = ()) -> Uncertainty:
    """Distributions from every source at once: a provenance table (the priors of
    :mod:`workbench.priors`), a parameter-space table (:data:`workbench.columns.PARAMETER_SPACE_COLUMNS`),
    and ``id=distribution,...`` texts (:func:`parse_distribution`); later sources replace
    earlier ones for the same id. ``correlations``: texts ``"CL,V=0.5"``.

    Raises
    ------
    SpecError
    """
    ranges: dict[str, ParameterRange] = {}
    origin: dict[str, str] = {}
    if provenance is not None:
        u = uncertainty_from_provenance(provenance, model)
        ranges.update({r.id: r for r in u.space.ranges})
        origin.update(dict(u.origin))
    if table is not None:
        sp = ParameterSpace.from_frame(table) if isinstance(table, pd.DataFrame) \
            else read_parameter_space(table)
        for r in sp.ranges:
            ranges[r.id], origin[r.id] = r, "user"
    for text in params:
        r = parse_distribution(text)
        ranges[r.id], origin[r.id] = r, "user"
    if not ranges:
        raise SpecError("no uncertain parameters", element="--param",
                        fix="give --param id=lognormal,cv=0.3, a --params table or --provenance")
    corr = []
    for text in correlations:
        mm = re.match(r"^\s*([A-Za-z_]\w*)\s*,\s*([A-Za-z_]\w*)\s*=\s*(\S+)\s*$", str(text))
        if not mm:
            raise SpecError(f"cannot read the correlation {text!r}", element="--corr",
                            fix="write id1,id2=rho, e.g. CL,V=0.5")
        try:
            corr.append((mm.group(1), mm.group(2), float(mm.group(3))))
        except ValueError:
            raise SpecError(f"{text!r}: {mm.group(3)!r} is not a number", element="--corr") from None
    return Uncertainty(ParameterSpace(tuple(ranges.values())), tuple(corr),
                       tuple(origin.items()))


def uncertainty_from_provenance(table, model: Model | str | os.PathLike[str], *,
                                ids: Sequence[str] | None = None) -> Uncertainty:
    """The priors stated in the provenance table (:mod:`workbench.priors`).

    Each entry whose chosen row names a prior (lognormal, normal, uniform,
    loguniform) is drawn from it, centred on the chosen value unless another
    centre is stated; its spread is stated, or taken from the candidates marked
    ``same`` or ``scaled`` (never from ``comparison`` candidates). Entries
    without a prior, or with ``fixed``, are not sampled. The minimum and maximum
    of the candidates are never used as bounds.

    Parameters
    ----------
    table
        A provenance table (DataFrame, or a path :func:`workbench.core.provenance.read_provenance` reads).
    model
        The model (values are converted into its units; a default centre is its value).
    ids
        Only these entries (each must have a prior).

    Raises
    ------
    SpecError
        When no entry has a prior, a requested id has none, or a prior cannot be built.
    """
    from workbench.core.priors import prior_ranges
    from workbench.core.provenance import read_provenance

    m = model if isinstance(model, Model) else load_model(model)
    tab = table if isinstance(table, pd.DataFrame) else read_provenance(table)
    settable = _settable(m)
    ranges = [r for r in prior_ranges(tab, m, ids=ids) if r.id in settable]
    if ids is not None:
        missing = sorted(set(ids) - {r.id for r in ranges})
        if missing:
            raise SpecError(f"no prior in the provenance table for {', '.join(missing)}",
                            element=missing[0],
                            fix="fill prior and prior_spread on the chosen row, or give its "
                                "distribution yourself")
    if not ranges:
        raise SpecError("no provenance entry states a prior for a settable quantity",
                        element="provenance",
                        fix="fill the prior columns of the provenance table (prior, "
                            "prior_spread), or give distributions with --param")
    return Uncertainty(ParameterSpace(tuple(ranges)), (), tuple((r.id, "provenance")
                                                               for r in ranges))


def _settable(m: Model) -> set[str]:
    rules = m.rules
    ruled = set(rules.loc[rules[C.RULE_TYPE] == "assignment", C.VARIABLE])
    par = m.parameters
    out = set(par.loc[par[C.SCOPE] == "global", C.ID]) if C.SCOPE in par else set(par[C.ID])
    for tab in (m.species, m.compartments):
        out |= set(tab.loc[tab[C.INITIAL_ASSIGNMENT] == "", C.ID])
    return out - ruled


# ---------------------------------------------------------------------------
# propagation
# ---------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class UncertaintyResult:
    """Result of :func:`propagate`.

    Attributes
    ----------
    bands
        :data:`workbench.columns.BAND_COLUMNS`.
    convergence
        :data:`workbench.columns.BAND_CONVERGENCE_COLUMNS`.
    samples
        The parameter sets (one column per id, model units).
    runs
        The ensemble tables, one row per (regimen, sample): ``regimen``, then
        :func:`workbench.run_ensemble`'s columns.
    uncertainty
        The distributions (nominal values and units filled).
    percentiles, method, seed, tol
        Settings.
    """

    bands: pd.DataFrame
    convergence: pd.DataFrame
    samples: pd.DataFrame
    runs: pd.DataFrame
    uncertainty: Uncertainty
    percentiles: tuple[float, ...]
    method: str
    seed: int | None
    tol: float
    units: Mapping[str, str] = field(default_factory=dict)
    time_unit: str = ""

    @property
    def converged(self) -> bool:
        """True when no band edge moved by more than ``tol`` of the band width."""
        return bool(self.convergence[C.CONVERGED].all()) if len(self.convergence) else True

    def to_frame(self) -> pd.DataFrame:
        """The bands."""
        return self.bands.copy()

    def _repr_html_(self) -> str:
        """Summary for Jupyter (:mod:`workbench._html_repr`)."""
        from workbench.core._html_repr import uncertainty_html

        return uncertainty_html(self)


def _value_text(output: str, t: float) -> str:
    return f"value({output}, {float(t):.10g})"


def _pct(values: np.ndarray, ok: np.ndarray, percentiles) -> np.ndarray:
    v = values[ok]
    if v.size == 0:
        return np.full(len(percentiles), np.nan)
    return np.percentile(v, percentiles)


#: the older keywords of :func:`propagate` (adapters of ``dosing``, ``grid``, ``run``)
_PROPAGATE_KEYS = ("target", "mw", "subject", "start", "end", "points", "times", "integrator",
                   "workers", "progress")


def propagate(model: Model | str | os.PathLike[str], uncertainty: Uncertainty,
              regimens: Sequence[Regimen | str | None] | Regimen | str | None = None, *,
              outputs: Sequence[str] | None = None,
              metrics: Sequence[str] | None = None, n: int = 256, method: str = "lhs",
              seed: int | None = 0, percentiles: Sequence[float] = (5, 50, 95),
              tol: float = 0.05, dosing: Dosing | None = None, grid: TimeGrid | None = None,
              run: RunOptions | None = None, **legacy) -> UncertaintyResult:
    """Monte Carlo propagation of parameter uncertainty to prediction bands.

    Parameters
    ----------
    model
        A model or anything :func:`workbench.load_model` takes.
    uncertainty
        The distributions (:class:`Uncertainty`).
    regimens
        One regimen or several (dose levels); None: no dose.
    outputs
        Time-course bands: each output at each time of ``grid`` (``grid.times``, model
        units; without them, ``grid.points`` (default 101) evenly spaced times from
        ``grid.start`` to ``grid.end``).
    metrics
        Dose-response bands: metric texts of :func:`workbench.run_ensemble`
        (``"max(IL6)"``, ``"auc(Drug)"``), one band per regimen.
    n, method, seed
        Number of samples, ``"lhs"``, ``"sobol"`` or ``"random"``, and the seed
        (same seed: identical samples and bands).
    percentiles
        Percentiles of the bands (at least two; the outermost define the width).
    tol
        Convergence: largest acceptable shift of a percentile between n/2 and n
        samples, as a fraction of the band width.
    dosing, grid, run
        :class:`~workbench.core.options.Dosing`, :class:`~workbench.sim._timegrid.TimeGrid`
        and :class:`~workbench.sim.options.RunOptions`, as for :func:`workbench.run_ensemble`
        (``grid.end``/``grid.points`` are the grid of metrics over the run).
    **legacy
        The older keywords, each building its bundle: ``target``, ``mw``, ``subject``;
        ``start``, ``end``, ``points``, ``times``; ``integrator``, ``workers``,
        ``progress``. Giving a bundle and one of its keywords is a :class:`SpecError`.

    Returns
    -------
    UncertaintyResult

    Raises
    ------
    SpecError, UnknownIdError, DoseError, SimulationError
        Bad settings; or every sample failed.
    """
    from workbench.sim.ensemble import parse_metric, run_ensemble

    dosing, tgrid, run = bundles("propagate", legacy, dosing=dosing, grid=grid, run=run,
                                 allowed=_PROPAGATE_KEYS)
    target, times = dosing.target, tgrid.times
    m = model if isinstance(model, Model) else load_model(model)
    unc = uncertainty.with_model(m)
    pcts = tuple(float(p) for p in percentiles)
    if len(pcts) < 2 or not all(0 <= p <= 100 for p in pcts) or len(set(pcts)) != len(pcts):
        raise SpecError(f"percentiles {percentiles} must be at least two distinct values in "
                        "[0, 100]", element="percentiles")
    given = ([regimens] if regimens is None or isinstance(regimens, str | Regimen)
             else list(regimens))
    regs = [parse_regimen(r, target=target) if isinstance(r, str) else r for r in given]
    mtexts = list(metrics or [])
    tc: list[tuple[str, float]] = []
    if outputs is not None and times is None and tgrid.end is not None:
        from workbench.sim.simulate import resolve_time

        t0, t1 = resolve_time(tgrid.start, m, "start"), resolve_time(tgrid.end, m, "end")
        times = tuple(np.linspace(t0, t1, int(tgrid.points or 101)).tolist())
    if outputs is not None or times is not None:
        if not outputs or times is None or not len(times):
            raise SpecError("time-course bands need outputs and times (or end)",
                            element="outputs")
        tc = [(o, float(t)) for o in outputs for t in times]
    if not tc and not mtexts:
        raise SpecError("nothing to predict", element="outputs",
                        fix="give outputs and times (time courses), or metrics (dose-response)")
    samples = unc.sample(n, seed, method)
    allm = mtexts + [_value_text(o, t) for o, t in tc]
    # every output point costs integration time: the run-wide grid (end, points) only
    # for metrics over the run; each value(X, t) puts its own time on the grid
    over_run = any(parse_metric(t, m).kind != "value" for t in mtexts)
    egrid = TimeGrid(start=tgrid.start, end=tgrid.end if over_run else None,
                     points=tgrid.points if over_run else None)
    frames, units = [], {}
    for reg in regs:
        res = run_ensemble(m, samples, reg, metrics=allm, dosing=dosing, grid=egrid, run=run)
        units.update(res.attrs.get("units", {}))
        res.insert(0, C.REGIMEN, str(reg) if reg is not None else "no dose")
        frames.append(res)
    runs = pd.concat(frames, ignore_index=True)
    ok_all = runs[C.STATUS] == C.STATUS_OK
    if not ok_all.any():
        raise SimulationError(f"every sample failed; first: {runs[C.STATUS].iloc[0]}",
                              source=m.source, element="samples")
    if not ok_all.all():
        log.warning("%d of %d runs failed; percentiles use the others",
                    int((~ok_all).sum()), len(runs))
    bands, conv = _bands(runs, mtexts, tc, pcts, units, n, tol)
    return UncertaintyResult(bands, conv, samples, runs, unc, pcts, method, seed, tol, units,
                             m.time_unit)


def _bands(runs: pd.DataFrame, mtexts: list[str], tc: list[tuple[str, float]],
           pcts: tuple[float, ...], units: Mapping[str, str], n: int, tol: float
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bands of every quantity and regimen, and their convergence (n/2 vs n)."""
    half = n // 2
    brows, crows = [], []
    lo_i, hi_i = int(np.argmin(pcts)), int(np.argmax(pcts))
    out_units: dict[str, str] = {}
    for o, t in tc:
        out_units.setdefault(o, units.get(_value_text(o, t), ""))
    for reg, g in runs.groupby(C.REGIMEN, sort=False):
        ok = (g[C.STATUS] == C.STATUS_OK).to_numpy()
        first = np.zeros(len(g), bool)
        first[:half] = True
        groups: list[tuple[str, float, str, list[str]]] = []
        groups += [(mt, math.nan, units.get(mt, ""), [mt]) for mt in mtexts]
        for o in dict.fromkeys(o for o, _ in tc):
            cols = [_value_text(o, t) for oo, t in tc if oo == o]
            groups.append((o, 0.0, out_units[o], cols))
        for qty, _, unit, cols in groups:
            full = np.array([_pct(g[c].to_numpy(float), ok, pcts) for c in cols])
            hal = np.array([_pct(g[c].to_numpy(float), ok & first, pcts) for c in cols])
            ts = [math.nan] if len(cols) == 1 and cols[0] == qty else \
                [t for oo, t in tc if oo == qty]
            for k, t in enumerate(ts):
                for j, p in enumerate(pcts):
                    brows.append({C.REGIMEN: reg, C.QUANTITY: qty, C.TIME: t, C.PERCENTILE: p,
                                  C.VALUE: full[k, j], C.UNIT: unit, C.N_OK: int(ok.sum())})
            width = float(np.nanmax(full[:, hi_i] - full[:, lo_i]))
            for j, p in enumerate(pcts):
                move = float(np.nanmax(np.abs(full[:, j] - hal[:, j])))
                shift = move / width if width > 0 else (0.0 if move == 0 else math.inf)
                crows.append({C.REGIMEN: reg, C.QUANTITY: qty, C.PERCENTILE: p,
                              C.N_HALF: int((ok & first).sum()), C.N_OK: int(ok.sum()),
                              C.SHIFT: shift, C.CONVERGED: bool(shift <= tol)})
    return (pd.DataFrame(brows, columns=list(C.BAND_COLUMNS)),
            pd.DataFrame(crows, columns=list(C.BAND_CONVERGENCE_COLUMNS)))


# ---------------------------------------------------------------------------
# figures and files
# ---------------------------------------------------------------------------

def write_uncertainty(result: UncertaintyResult, outdir: str | os.PathLike[str]) -> list[str]:
    """Write ``bands.csv``, ``band_convergence.csv``, ``samples.csv``, ``runs.csv``,
    ``distributions.csv``, ``correlations.csv`` and ``bands.png``; returns the paths."""
    from workbench.core._io import atomic_write_text

    out = os.fspath(outdir)
    paths = []
    for name, df in (("bands.csv", result.bands), ("band_convergence.csv", result.convergence),
                     ("samples.csv", result.samples), ("runs.csv", result.runs),
                     ("distributions.csv", result.uncertainty.to_frame()),
                     ("correlations.csv", result.uncertainty.correlation_frame())):
        p = os.path.join(out, name)
        atomic_write_text(p, df.to_csv(index=False, float_format="%.10g"))
        paths.append(p)
    p = os.path.join(out, "bands.png")
    plot_bands(result, p)
    paths.append(p)
    return paths
