"""Parameter spaces: the ids an analysis varies and their distributions.

A :class:`ParameterSpace` is a table with columns
:data:`workbench.columns.PARAMETER_SPACE_COLUMNS`, one :class:`ParameterRange`
per row:

=============  ==========================================================
``id``         a global parameter, species (initial value) or compartment
``distribution``  ``uniform``, ``loguniform``, ``normal``, ``lognormal``, ``triangular``
``low, high``  bounds (uniform, loguniform, triangular), or truncation bounds
               (normal, lognormal; default: 3 standard deviations)
``nominal``    the model value when empty; the mean (normal), median
               (lognormal) or mode (triangular)
``fold``       range ``[nominal / fold, nominal * fold]`` when ``low, high``
               are empty; for lognormal without ``sd``: 95 % of the mass in it
``sd``         normal: standard deviation; lognormal: sd of ln(value)
``unit``       documentation (values are in model units)
=============  ==========================================================

It sits below every analysis that samples (ensembles, sensitivity,
uncertainty, populations), so none of them imports another for it. The names
stay importable from :mod:`workbench.sensitivity`.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core._io import atomic_write_text
from workbench.core.input_checks import check_space_unit
from workbench.core.model import Model
from workbench.core.textin import read_table
from workbench.errors import InputFileError, SpecError

__all__ = ["DISTRIBUTIONS", "ParameterRange", "ParameterSpace", "model_value",
           "read_parameter_space", "scale", "unscale"]

DISTRIBUTIONS = ("uniform", "loguniform", "normal", "lognormal", "triangular")
_ALIASES = {"log-uniform": "loguniform", "log_uniform": "loguniform", "log uniform": "loguniform",
            "log-normal": "lognormal", "log_normal": "lognormal", "gaussian": "normal",
            "triang": "triangular"}


def scale(x, s: str):
    """Value(s) ``x`` on parameter scale ``s`` (lin, log, log10)."""
    x = np.asarray(x, dtype=float)
    return x if s == "lin" else np.log(x) if s == "log" else np.log10(x)


def unscale(x, s: str):
    """Inverse of :func:`scale`."""
    x = np.asarray(x, dtype=float)
    return x if s == "lin" else np.exp(x) if s == "log" else np.power(10.0, x)


def _num(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


@dataclass(frozen=True)
class ParameterRange:
    """One varied id and its distribution (see the module docstring for the fields)."""

    id: str
    distribution: str = "uniform"
    low: float | None = None
    high: float | None = None
    nominal: float | None = None
    fold: float | None = None
    sd: float | None = None
    unit: str = ""

    def __post_init__(self) -> None:
        d = _ALIASES.get(self.distribution.strip().lower(), self.distribution.strip().lower())
        object.__setattr__(self, "distribution", d)
        if d not in DISTRIBUTIONS:
            raise SpecError(f"unknown distribution {self.distribution!r}", element=self.id,
                            fix="use one of " + ", ".join(DISTRIBUTIONS))
        if self.fold is not None and not self.fold > 1:
            raise SpecError(f"the fold range must be > 1, got {self.fold}", element=self.id)
        if self.sd is not None and not self.sd > 0:
            raise SpecError(f"the sd must be > 0, got {self.sd}", element=self.id)

    def with_nominal(self, value: float) -> ParameterRange:
        """The same range with ``nominal`` filled when it was empty."""
        if self.nominal is not None:
            return self
        return ParameterRange(self.id, self.distribution, self.low, self.high, float(value),
                              self.fold, self.sd, self.unit)

    def _bounds(self) -> tuple[float, float]:
        """(low, high) of the support actually sampled."""
        d, nom = self.distribution, self.nominal
        if self.low is not None and self.high is not None:
            lo, hi = self.low, self.high
        elif d in ("normal", "lognormal"):
            sd = self._sd()
            assert nom is not None  # _sd raised otherwise
            if d == "normal":
                lo, hi = nom - 3 * sd, nom + 3 * sd
            else:
                lo, hi = nom * math.exp(-3 * sd), nom * math.exp(3 * sd)
            lo = self.low if self.low is not None else lo
            hi = self.high if self.high is not None else hi
        elif self.fold is not None and nom is not None:
            lo, hi = nom / self.fold, nom * self.fold
            if nom < 0:
                lo, hi = hi, lo
        else:
            raise SpecError("give low and high, or a fold range around the nominal value",
                            element=self.id, fix="fill low and high, or fold (e.g. 10)")
        if not (math.isfinite(lo) and math.isfinite(hi)) or not hi > lo:
            raise SpecError(f"the range [{lo}, {hi}] is empty or not finite", element=self.id)
        if d in ("loguniform", "lognormal") and lo <= 0:
            raise SpecError(f"a {d} range must be positive, got low = {lo}", element=self.id)
        return lo, hi

    def _sd(self) -> float:
        if self.nominal is None:
            raise SpecError(f"a {self.distribution} distribution needs the nominal value",
                            element=self.id)
        if self.sd is not None:
            return self.sd
        if self.distribution == "lognormal" and self.fold is not None:
            return math.log(self.fold) / 1.959963984540054
        raise SpecError(f"a {self.distribution} distribution needs sd", element=self.id,
                        fix="fill the sd column (lognormal: sd of ln(value), or a fold range)")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse distribution function: points in [0, 1] -> values."""
        from scipy.special import ndtr, ndtri

        u = np.asarray(u, dtype=float)
        lo, hi = self._bounds()
        d = self.distribution
        if d == "uniform":
            return lo + u * (hi - lo)
        if d == "loguniform":
            return np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
        if d == "triangular":
            mode = self.nominal if self.nominal is not None and lo <= self.nominal <= hi \
                else (lo + hi) / 2
            c = (mode - lo) / (hi - lo)
            return np.where(u < c, lo + np.sqrt(u * (hi - lo) * (mode - lo)),
                            hi - np.sqrt((1 - u) * (hi - lo) * (hi - mode)))
        sd = self._sd()
        assert self.nominal is not None  # _sd raised otherwise
        if d == "normal":
            mu, a, b = self.nominal, lo, hi
        else:
            mu, a, b = math.log(self.nominal), math.log(lo), math.log(hi)
        pa, pb = ndtr((a - mu) / sd), ndtr((b - mu) / sd)
        z = mu + sd * ndtri(pa + np.clip(u, 0, 1) * (pb - pa))
        z = np.clip(z, a, b)
        return z if d == "normal" else np.exp(z)


@dataclass(frozen=True)
class ParameterSpace:
    """The varied ids and their distributions: a table of :class:`ParameterRange` rows."""

    ranges: tuple[ParameterRange, ...]

    def __post_init__(self) -> None:
        ids = [r.id for r in self.ranges]
        if not ids:
            raise SpecError("the parameter space is empty", element="params")
        dup = sorted(i for i, k in Counter(ids).items() if k > 1)  # linear, not ids.count
        if dup:
            raise SpecError(f"ids listed twice in the parameter space: {', '.join(dup)}",
                            element=dup[0])

    @property
    def ids(self) -> list[str]:
        """The varied ids, in table order."""
        return [r.id for r in self.ranges]

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> ParameterSpace:
        """From a table with columns :data:`workbench.columns.PARAMETER_SPACE_COLUMNS`
        (only ``id`` is required; ``distribution`` defaults to uniform)."""
        if C.ID not in df.columns:
            raise SpecError("the parameter table has no 'id' column", element="id",
                            fix="columns: " + ", ".join(C.PARAMETER_SPACE_COLUMNS))
        ranges = []
        for _, row in df.iterrows():
            dist = row.get(C.DISTRIBUTION, "uniform")
            dist = "uniform" if not isinstance(dist, str) or not dist.strip() else dist
            unit = row.get(C.UNIT, "")
            ranges.append(ParameterRange(
                id=str(row[C.ID]).strip(), distribution=dist, low=_num(row.get(C.LOW)),
                high=_num(row.get(C.HIGH)), nominal=_num(row.get(C.NOMINAL)),
                fold=_num(row.get(C.FOLD)), sd=_num(row.get(C.SD)),
                unit=unit if isinstance(unit, str) else ""))
        return cls(tuple(ranges))

    def to_frame(self) -> pd.DataFrame:
        """Columns :data:`workbench.columns.PARAMETER_SPACE_COLUMNS`."""
        rows = [{C.ID: r.id, C.DISTRIBUTION: r.distribution, C.LOW: r.low, C.HIGH: r.high,
                 C.NOMINAL: r.nominal, C.FOLD: r.fold, C.SD: r.sd, C.UNIT: r.unit}
                for r in self.ranges]
        return pd.DataFrame(rows, columns=list(C.PARAMETER_SPACE_COLUMNS))

    def with_model(self, model: Model, check: bool = True) -> ParameterSpace:
        """Empty nominal values and units filled from the model; ``check``: the ranges too."""
        out = []
        values = _model_values(model)  # once: model.parameters copies a table per call
        for r in self.ranges:
            nom = r.nominal if r.nominal is not None else model_value(model, r.id, values)
            rr = r.with_nominal(nom)
            if rr.unit:
                check_space_unit(model, rr)
            if not rr.unit:
                try:
                    unit = model.unit_of(r.id)
                except Exception:
                    unit = ""
                rr = ParameterRange(rr.id, rr.distribution, rr.low, rr.high, rr.nominal,
                                    rr.fold, rr.sd, unit)
            out.append(rr)
        space = ParameterSpace(tuple(out))
        for r in space.ranges if check else ():
            r._bounds()  # errors now rather than in the middle of an analysis
        return space

    def transform(self, u: np.ndarray) -> pd.DataFrame:
        """Points of the unit hypercube (rows, one column per id) -> sample table."""
        u = np.atleast_2d(np.asarray(u, dtype=float))
        return pd.DataFrame({r.id: r.ppf(u[:, j]) for j, r in enumerate(self.ranges)})

    def sample(self, n: int, seed: int | None = None, method: str = "random") -> pd.DataFrame:
        """``n`` draws: ``method`` "random" (independent), "lhs" (Latin hypercube) or
        "sobol" (scrambled Sobol' points); the same seed gives the same table."""
        d = len(self.ranges)
        rng = np.random.default_rng(seed)
        if method == "random":
            u = rng.random((n, d))
        elif method in ("lhs", "sobol"):
            from scipy.stats import qmc

            eng = qmc.LatinHypercube(d=d, seed=rng) if method == "lhs" \
                else qmc.Sobol(d=d, scramble=True, seed=rng)
            u = eng.random(n)
        else:
            raise SpecError(f"unknown sampling method {method!r}", element="method",
                            fix="use 'random', 'lhs' or 'sobol'")
        return self.transform(u)

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the table as CSV, atomically."""
        atomic_write_text(path, self.to_frame().to_csv(index=False))


def read_parameter_space(path: str | os.PathLike[str]) -> ParameterSpace:
    """Read a parameter-space CSV (columns :data:`workbench.columns.PARAMETER_SPACE_COLUMNS`)."""
    p = Path(path)
    if not p.exists():
        raise InputFileError("parameter table not found", source=str(p),
                             fix="give a CSV with columns " + ", ".join(C.PARAMETER_SPACE_COLUMNS))
    df = read_table(p, "parameter table", skipinitialspace=True, comment="#")
    try:
        return ParameterSpace.from_frame(df)
    except SpecError as exc:
        raise SpecError(exc.message, source=str(p), element=exc.element, fix=exc.fix) from None


def _model_values(model: Model) -> dict[str, float]:
    """id -> value of every global parameter, species and compartment (one pass)."""
    p = model.parameters
    p = p[p["scope"] == "global"]
    out: dict[str, float] = {}
    for tab in (model.compartments, model.species, p):
        out.update(zip(tab[C.ID], tab[C.VALUE].astype(float), strict=True))
    return out


def model_value(model: Model, sid: str, values: dict[str, float] | None = None) -> float:
    """The loaded value of a global parameter, species (initial) or compartment of ``model``
    (``values``: the table of :func:`_model_values`, when the caller looks up many ids)."""
    kind = model.kind_of(sid)
    if kind not in ("parameter", "species", "compartment"):
        raise SpecError(f"{sid!r} is a {kind}, not a parameter, species or compartment",
                        source=model.source, element=sid)
    values = _model_values(model) if values is None else values
    v = values.get(sid, float("nan"))
    if not np.isfinite(v):
        raise SpecError(f"{sid!r} has no numeric value in the model", source=model.source,
                        element=sid, fix="give its nominal value in the parameter table")
    return float(v)
