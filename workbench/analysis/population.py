"""Virtual populations: covariates, between-subject variability, covariate models,
plausible-patient filtering and prevalence weighting.

A population is a table with one row per subject (columns
:data:`workbench.columns.POPULATION_COLUMNS` plus user covariates and one column
per individual parameter). Individual values follow the usual population-PK
form

    theta_i = TV * prod_k f_k(covariates_i) * exp(eta_i),   eta_i ~ N(0, Omega)

with ``TV`` the model value (the typical 70 kg subject), covariate effects
``f_k`` (power models such as allometry, ``(WT / 70)^0.75`` for clearances and
``(WT / 70)^1`` for volumes, Anderson & Holford 2008, Annu Rev Pharmacol Toxicol
48:303; categorical factors), and between-subject variability ``eta``
(log-normal; ``omega^2 = ln(1 + CV^2)``; correlations through the covariance
matrix ``Omega``).

Covariates come from distributions (:class:`Covariate`, correlated through a
Gaussian copula) or from a CSV table of real or previously sampled subjects;
body-surface area is derived from weight and height (Mosteller 1987) unless
given. The sampling reuses :class:`workbench.analysis.uncertainty.Uncertainty` (inverse
distribution functions and copula), with one seed per step drawn from a
``numpy.random.SeedSequence``: the same seed gives the same table.

Plausible patients and prevalence weights follow Allen, Rieger & Musante (2016,
CPT Pharmacometrics Syst Pharmacol 5:140, doi:10.1002/psp4.12063) as implemented
in gQSPsim (Cheng et al. 2022, CPT Pharmacometrics Syst Pharmacol 11:1440,
doi:10.1002/psp4.12858): subjects whose baseline outputs fall outside observed
ranges are rejected (:func:`filter_plausible`); the remaining ones get weights
proportional to the ratio of the observed density to the density of the
plausible population at their baseline outputs (:func:`prevalence_weights`), so
weighted summaries match the observed distribution. Allen et al. accept each
plausible patient with probability ``w / max(w)``; :func:`resample_population`
draws such a virtual-patient cohort.
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
from workbench.core.model import Model, load_model
from workbench.core.parameter_space import ParameterRange, ParameterSpace, model_value
from workbench.errors import SpecError

__all__ = ["ADULT_COVARIATES", "Covariate", "CovariateEffect", "Population", "Variability",
           "allometric", "build_population", "filter_plausible", "prevalence_weights", "read_population",
           "resample_population", "sample_population"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# specifications
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Covariate:
    """One covariate: continuous (``distribution``) or categorical (``levels``).

    Attributes
    ----------
    name
        Column name (``weight``, ``height``, ``age``, ``sex``, or any other).
    distribution
        For a continuous covariate: a :class:`~workbench.analysis.sensitivity.ParameterRange`
        whose ``low``/``high`` truncate it (its ``id`` is ignored).
    levels
        For a categorical covariate: ``((level, probability), ...)``.
    unit
        Unit of a continuous covariate (kg, cm, years).
    """

    name: str
    distribution: ParameterRange | None = None
    levels: tuple[tuple[str, float], ...] = ()
    unit: str = ""

    def __post_init__(self) -> None:
        if (self.distribution is None) == (not self.levels):
            raise SpecError(f"covariate {self.name!r}: give a distribution or levels, not both",
                            element=self.name)
        if self.levels:
            p = np.array([float(x) for _, x in self.levels])
            if np.any(p < 0) or not math.isclose(p.sum(), 1.0, rel_tol=1e-6):
                raise SpecError(f"covariate {self.name!r}: level probabilities must be >= 0 and "
                                "sum to 1", element=self.name)


def _rng(dist: str, **kw) -> ParameterRange:
    return ParameterRange("x", dist, **kw)


#: A generic adult population: weight log-normal (median 75 kg, CV 20 %, 40-160 kg),
#: height normal (170 +- 9.5 cm, 145-205 cm), age uniform 18-75 years, sex 50 % F;
#: weight-height correlation 0.5 (use a CSV of real subjects for a specific population).
ADULT_COVARIATES = (
    Covariate(C.WEIGHT, _rng("lognormal", nominal=75.0, sd=math.sqrt(math.log1p(0.04)),
                             low=40.0, high=160.0), unit="kg"),
    Covariate(C.HEIGHT, _rng("normal", nominal=170.0, sd=9.5, low=145.0, high=205.0), unit="cm"),
    Covariate(C.AGE, _rng("uniform", low=18.0, high=75.0), unit="year"),
    Covariate(C.SEX, levels=(("F", 0.5), ("M", 0.5))),
)
ADULT_CORRELATIONS = ((C.WEIGHT, C.HEIGHT, 0.5),)


@dataclass(frozen=True)
class CovariateEffect:
    """A covariate effect on one parameter (a multiplicative factor).

    Power model (``exponent`` set): ``(covariate / reference) ** exponent``.
    Categorical (``level`` set): ``factor`` when ``covariate == level``, else 1.
    """

    parameter: str
    covariate: str
    exponent: float | None = None
    reference: float = 70.0
    level: str | None = None
    factor: float = 1.0

    def __post_init__(self) -> None:
        if (self.exponent is None) == (self.level is None):
            raise SpecError(f"effect of {self.covariate} on {self.parameter}: give an exponent "
                            "(power model) or a level (categorical)", element=self.parameter)
        if self.exponent is not None and not self.reference > 0:
            raise SpecError("the reference value must be positive", element=self.parameter)
        if not self.factor > 0:
            raise SpecError("a categorical factor must be positive", element=self.parameter)

    def apply(self, table: pd.DataFrame) -> np.ndarray:
        """Factor per subject (rows of ``table``)."""
        if self.covariate not in table.columns:
            raise SpecError(f"effect on {self.parameter}: no covariate {self.covariate!r}",
                            element=self.covariate, fix="add it to the covariates")
        col = table[self.covariate]
        if self.exponent is not None:
            x = col.to_numpy(dtype=float)
            if np.any(~(x > 0)):
                raise SpecError(f"covariate {self.covariate!r} must be positive for a power "
                                "model", element=self.covariate)
            return (x / self.reference) ** self.exponent
        return np.where(col.astype(str).to_numpy() == str(self.level), self.factor, 1.0)


def allometric(clearances: Sequence[str] = (), volumes: Sequence[str] = (), *,
               cl_exponent: float = 0.75, v_exponent: float = 1.0, reference: float = 70.0,
               covariate: str = C.WEIGHT) -> tuple[CovariateEffect, ...]:
    """Allometric weight effects: clearances ``(WT/ref)^0.75``, volumes ``(WT/ref)^1``
    (Anderson & Holford 2008, Annu Rev Pharmacol Toxicol 48:303).

    First-order rate constants (k = CL/V) scale with ``0.75 - 1 = -0.25``: list
    them as clearances with ``cl_exponent=-0.25`` in a second call.
    """
    return (tuple(CovariateEffect(p, covariate, exponent=cl_exponent, reference=reference)
                  for p in clearances)
            + tuple(CovariateEffect(p, covariate, exponent=v_exponent, reference=reference)
                    for p in volumes))


@dataclass(frozen=True)
class Variability:
    """Between-subject variability: ``eta ~ N(0, omega)``, ``theta = TV exp(eta)``.

    Attributes
    ----------
    ids
        The parameters with variability.
    omega
        Covariance matrix of eta (rows/columns in the order of ``ids``), as nested tuples.
    """

    ids: tuple[str, ...]
    omega: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        om = np.asarray(self.omega, dtype=float)
        k = len(self.ids)
        if om.shape != (k, k) or not np.allclose(om, om.T):
            raise SpecError(f"omega must be a symmetric {k} x {k} matrix", element="omega")
        if len(set(self.ids)) != k:
            raise SpecError("a parameter has variability twice", element="omega")
        try:
            np.linalg.cholesky(om)
        except np.linalg.LinAlgError:
            raise SpecError("omega is not positive definite", element="omega",
                            fix="lower the correlations or raise the variances") from None

    @classmethod
    def from_cv(cls, cv: Mapping[str, float],
                correlations: Sequence[tuple[str, str, float]] = ()) -> Variability:
        """From CVs (``omega^2 = ln(1 + CV^2)``) and correlations of the etas."""
        ids = tuple(cv)
        sd = np.array([math.sqrt(math.log1p(float(cv[i]) ** 2)) for i in ids])
        r = np.eye(len(ids))
        for a, b, rho in correlations:
            if a not in ids or b not in ids:
                raise SpecError(f"correlation {a}, {b}: both need a CV", element=a)
            r[ids.index(a), ids.index(b)] = r[ids.index(b), ids.index(a)] = float(rho)
        om = r * np.outer(sd, sd)
        return cls(ids, tuple(map(tuple, om.tolist())))

    @property
    def sd(self) -> np.ndarray:
        """Standard deviations of eta (omega, not omega^2)."""
        return np.sqrt(np.diag(np.asarray(self.omega, float)))

    @property
    def cv(self) -> np.ndarray:
        """CV of each log-normal parameter, ``sqrt(exp(omega^2) - 1)``."""
        return np.sqrt(np.expm1(self.sd ** 2))

    def correlation(self) -> np.ndarray:
        """Correlation matrix of the etas."""
        sd = self.sd
        return np.asarray(self.omega, float) / np.outer(sd, sd)

    def sample(self, n: int, seed: int | np.random.SeedSequence | None) -> pd.DataFrame:
        """``n`` draws of ``exp(eta)`` (one column per id); reuses the Gaussian copula of
        :class:`workbench.analysis.uncertainty.Uncertainty`."""
        from workbench.analysis.uncertainty import Uncertainty, _complete

        space = ParameterSpace(tuple(_complete(ParameterRange(i, "lognormal", nominal=1.0,
                                                              sd=float(s)))
                                     for i, s in zip(self.ids, self.sd, strict=True)))
        rho = self.correlation()
        cors = tuple((a, b, float(rho[i, j])) for i, a in enumerate(self.ids)
                     for j, b in enumerate(self.ids) if j > i and rho[i, j] != 0)
        return Uncertainty(space, cors).sample(n, seed=_int_seed(seed), method="random")


def _int_seed(seed) -> int | None:
    if isinstance(seed, np.random.SeedSequence):
        return int(seed.generate_state(1)[0])
    return seed


# ---------------------------------------------------------------------------
# the population
# ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Population:
    """A virtual population.

    Attributes
    ----------
    table
        One row per subject (module docstring); ``attrs["units"]`` maps columns to units.
    parameters
        The individual parameter columns (model ids, model units).
    covariates
        The covariate columns.
    baseline
        Columns of baseline outputs added by :func:`filter_plausible`.
    """

    table: pd.DataFrame
    parameters: tuple[str, ...] = ()
    covariates: tuple[str, ...] = ()
    baseline: tuple[str, ...] = ()
    units: Mapping[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.table)

    def to_frame(self) -> pd.DataFrame:
        """The subject table (a copy; units in ``attrs["units"]``)."""
        df = self.table.copy()
        df.attrs["units"] = dict(self.units)
        return df

    def plausible(self) -> Population:
        """Only the plausible subjects."""
        return replace(self, table=self.table[self.table[C.PLAUSIBLE]].reset_index(drop=True))

    def samples(self) -> pd.DataFrame:
        """The parameter columns, for :func:`workbench.run_ensemble`."""
        return self.table[list(self.parameters)].reset_index(drop=True)

    def write_csv(self, path: str | os.PathLike[str]) -> None:
        """CSV with units in the header (``weight [kg]``), written atomically."""
        from workbench.core._io import atomic_write_text

        df = self.table.rename(columns={c: f"{c} [{u}]" for c, u in self.units.items()
                                        if u and c in self.table.columns})
        roles = {**{c: "parameter" for c in self.parameters},
                 **{c: "covariate" for c in self.covariates},
                 **{c: "baseline" for c in self.baseline}}
        header = "# roles: " + "; ".join(f"{c}={r}" for c, r in roles.items()) + "\n"
        atomic_write_text(path, header + df.to_csv(index=False))


_HEAD = re.compile(r"^(.*?)\s*\[(.*)\]\s*$")


def read_population(path: str | os.PathLike[str]) -> Population:
    """Read a population written by :meth:`Population.write_csv`, or any subject table
    (one row per subject; units in the header as ``name [unit]``; a ``# roles:``
    first line, if present, says which columns are parameters and covariates;
    without it every column but the fixed ones is a covariate).

    Raises
    ------
    InputFileError
    """
    from workbench.core.textin import read_input_text, read_table

    first = read_input_text(path, "population table")[:200]
    df = read_table(path, "population table", comment=None,
                    skiprows=1 if first.startswith("# roles:") else 0)
    units, names = {}, {}
    for c in df.columns:
        m = _HEAD.match(str(c))
        name = m.group(1).strip() if m else str(c).strip()
        names[c] = name
        if m:
            units[name] = m.group(2).strip()
    df = df.rename(columns=names)
    roles: dict[str, str] = {}
    if first.startswith("# roles:"):
        for part in first[len("# roles:"):].split(";"):
            if "=" in part:
                k, v = part.split("=", 1)
                roles[k.strip()] = v.strip()
    if C.SUBJECT not in df.columns:
        df.insert(0, C.SUBJECT, np.arange(1, len(df) + 1))
    if C.PLAUSIBLE not in df.columns:
        df[C.PLAUSIBLE] = True
    df[C.PLAUSIBLE] = df[C.PLAUSIBLE].astype(bool)
    if C.PREVALENCE_WEIGHT not in df.columns:
        df[C.PREVALENCE_WEIGHT] = df[C.PLAUSIBLE].astype(float)
    fixed = {C.SUBJECT, C.PLAUSIBLE, C.PREVALENCE_WEIGHT}
    if roles:
        pick = lambda r: tuple(c for c in df.columns if roles.get(c) == r)  # noqa: E731
        par, cov, base = pick("parameter"), pick("covariate"), pick("baseline")
    else:
        par, base = (), ()
        cov = tuple(c for c in df.columns if c not in fixed)
    if C.SEX in df.columns:
        df[C.SEX] = df[C.SEX].astype(str)
    return Population(df, par, cov, base, units)


def _covariates(n: int, covariates, correlations, seed) -> tuple[pd.DataFrame, dict[str, str]]:
    """Covariate table from distributions, or from a CSV/DataFrame (resampled to n rows)."""
    from workbench.analysis.uncertainty import Uncertainty, _complete

    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    s_cont, s_cat, s_pick = ss.spawn(3)
    if isinstance(covariates, str | os.PathLike | pd.DataFrame):
        if isinstance(covariates, pd.DataFrame):
            src, units = covariates.copy(), dict(covariates.attrs.get("units", {}))
        else:
            pop = read_population(covariates)
            src, units = pop.table[list(pop.covariates)], dict(pop.units)
        if len(src) == n:
            df = src.reset_index(drop=True)
        else:  # bootstrap whole subjects, so the covariates stay jointly consistent
            idx = np.random.default_rng(s_pick).integers(0, len(src), n)
            df = src.iloc[idx].reset_index(drop=True)
        return df, units
    covs = tuple(covariates)
    cont = [c for c in covs if c.distribution is not None]
    df = pd.DataFrame(index=range(n))
    units = {c.name: c.unit for c in covs if c.unit}
    if cont:
        space = ParameterSpace(tuple(_complete(replace(c.distribution, id=c.name)) for c in cont))
        cors = tuple((a, b, r) for a, b, r in correlations
                     if a in space.ids and b in space.ids)
        vals = Uncertainty(space, cors).sample(n, seed=_int_seed(s_cont), method="random")
        for c in cont:
            df[c.name] = vals[c.name].to_numpy()
    rng = np.random.default_rng(s_cat)
    for c in covs:
        if c.levels:
            lev = np.array([str(x) for x, _ in c.levels])
            df[c.name] = lev[rng.choice(len(lev), size=n, p=[float(p) for _, p in c.levels])]
    return df, units


def sample_population(model: Model | str | os.PathLike[str] | None, n: int, *,
                      covariates=ADULT_COVARIATES,
                      correlations: Sequence[tuple[str, str, float]] = ADULT_CORRELATIONS,
                      variability: Variability | None = None,
                      effects: Sequence[CovariateEffect] = (),
                      typical: Mapping[str, float] | None = None,
                      bsa_formula: str = "mosteller", seed: int | None = 0) -> Population:
    """Draw ``n`` virtual subjects: covariates, then individual parameters.

    Parameters
    ----------
    model
        Gives the typical values (``TV``) and units of the parameters; may be None
        when ``typical`` gives every value.
    covariates
        :class:`Covariate` records (default :data:`ADULT_COVARIATES`), or a CSV
        path / DataFrame of subjects (used as is when it has ``n`` rows, else
        whole subjects are drawn with replacement).
    correlations
        ``(covariate_1, covariate_2, rho)`` between continuous covariates (Gaussian copula).
    variability
        Between-subject variability (:class:`Variability`).
    effects
        Covariate effects (:func:`allometric`, :class:`CovariateEffect`).
    typical
        Typical values overriding the model's.
    seed
        Seed of every random step; the same seed gives an identical table.

    Returns
    -------
    Population
    """
    from workbench.core.dosing import body_surface_area

    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise SpecError(f"the population size must be a whole number of subjects >= 1, got "
                        f"{n!r}", element="n")
    from workbench.core.limits import check_limit

    check_limit("population", n, "the population size", element="n", error=SpecError)
    m = model if isinstance(model, Model) or model is None else load_model(model)
    s_cov, s_eta = np.random.SeedSequence(seed).spawn(2)
    cov, units = _covariates(n, covariates, correlations, s_cov)
    if C.BSA not in cov.columns and {C.WEIGHT, C.HEIGHT} <= set(cov.columns):
        cov[C.BSA] = [body_surface_area(w, h, bsa_formula)
                      for w, h in zip(cov[C.WEIGHT], cov[C.HEIGHT], strict=True)]
        units[C.BSA] = "m2"
    pids = list(dict.fromkeys([*(variability.ids if variability else ()),
                               *(e.parameter for e in effects)]))
    typical = dict(typical or {})
    params = {}
    for pid in pids:
        if pid in typical:
            tv = float(typical[pid])
        elif m is not None:
            tv = model_value(m, pid)
            if pid not in units:
                try:
                    units[pid] = m.unit_of(pid)
                except Exception:  # a missing unit is not an error here
                    units[pid] = ""
        else:
            raise SpecError(f"no typical value for {pid!r}", element=pid,
                            fix="pass the model or typical={...}")
        params[pid] = np.full(n, tv)
    for e in effects:
        params[e.parameter] = params[e.parameter] * e.apply(cov)
    if variability is not None:
        if n < 4:
            raise SpecError("between-subject variability needs at least 4 subjects", element="n")
        eta = variability.sample(n, s_eta)
        for pid in variability.ids:
            params[pid] = params[pid] * eta[pid].to_numpy()
    table = pd.concat([pd.DataFrame({C.SUBJECT: np.arange(1, n + 1)}), cov,
                       pd.DataFrame(params)], axis=1)
    table[C.PLAUSIBLE] = True
    table[C.PREVALENCE_WEIGHT] = 1.0
    log.info("sampled %d subjects, %d parameters", n, len(pids))
    return Population(table, tuple(pids), tuple(str(c) for c in cov.columns), (), units)


# ---------------------------------------------------------------------------
# plausible patients and prevalence weights (Allen et al. 2016; gQSPsim)
# ---------------------------------------------------------------------------

def filter_plausible(model: Model | str | os.PathLike[str], population: Population,
                     ranges: Mapping[str, tuple[float, float]], *, end: float | str | None = None,
                     workers: int | None = None, progress: bool | None = None) -> Population:
    """Mark the subjects whose baseline outputs lie inside observed ranges.

    Parameters
    ----------
    ranges
        Metric text -> ``(low, high)``: e.g. ``{"value(R, 0)": (0.5, 2.0)}`` (drug-free
        baseline at t = 0) or ``{"value(IL6, 500 h)": (1, 20)}`` after a drug-free run.
    end
        End of the drug-free run (default: the latest time the metrics need).

    Returns
    -------
    Population
        With one column per metric (the baseline values), ``plausible`` set, and
        ``prevalence_weight`` 1 for plausible subjects, 0 for the others
        (Allen et al. 2016, doi:10.1002/psp4.12063).
    """
    from workbench.sim.ensemble import parse_metric, run_ensemble

    m = model if isinstance(model, Model) else load_model(model)
    if not ranges:
        raise SpecError("no baseline ranges given", element="ranges")
    mets = [parse_metric(t, m) for t in ranges]
    kinds = {mt.kind for mt in mets}
    times = sorted({float(x) for mt in mets for x in mt.needed_times()} | {0.0})
    res = run_ensemble(m, population.samples(), metrics=mets,
                       end=end if end is not None or kinds != {"value"} else None,
                       times=times, workers=workers, progress=progress)
    table = population.table.copy()
    ok = (res[C.STATUS] == C.STATUS_OK).to_numpy().copy()
    units = dict(population.units)
    for (lo, hi), mt in zip(ranges.values(), mets, strict=True):
        v = res[mt.text].to_numpy()
        table[mt.text] = v
        units[mt.text] = res.attrs["units"].get(mt.text, "")
        ok &= (v >= lo) & (v <= hi)
    table[C.PLAUSIBLE] = ok
    table[C.PREVALENCE_WEIGHT] = ok.astype(float)
    log.info("%d of %d subjects plausible", int(ok.sum()), len(ok))
    return replace(population, table=table, baseline=tuple(mt.text for mt in mets), units=units)


def prevalence_weights(population: Population, observed, columns: Sequence[str] | None = None,
                       *, log_scale: bool = True, max_ratio: float = 50.0) -> Population:
    """Prevalence weights so the plausible population matches an observed distribution.

    ``w_i = p_obs(y_i) / p_plaus(y_i)`` at each plausible subject's baseline outputs
    ``y_i`` (Allen et al. 2016; gQSPsim, Cheng et al. 2022), with ``p_plaus`` a
    Gaussian kernel density estimate over the plausible subjects and ``p_obs``
    either a kernel density estimate of observed values or a given density.

    Parameters
    ----------
    observed
        Observed values (array, rows x len(columns)), or an object with a ``pdf``
        method (e.g. a frozen ``scipy.stats`` distribution) of the values
        (on the original scale).
    columns
        Baseline columns (default: the population's ``baseline``).
    log_scale
        Estimate the densities of ln(y) (positive outputs).
    max_ratio
        Weights are capped at ``max_ratio`` times their median (few subjects must
        not carry the population).

    Returns
    -------
    Population
        ``prevalence_weight`` normalised to sum to the number of plausible subjects.
    """
    from scipy.stats import gaussian_kde

    cols = list(columns or population.baseline)
    if not cols:
        raise SpecError("no baseline columns to weight on", element="columns",
                        fix="run filter_plausible first or pass columns=[...]")
    table = population.table.copy()
    ok = table[C.PLAUSIBLE].to_numpy(bool)
    y = table.loc[ok, cols].to_numpy(float)
    if len(y) < len(cols) + 2:
        raise SpecError("too few plausible subjects to estimate their density", element="columns")
    tr = np.log if log_scale else (lambda v: v)
    if log_scale and np.any(y <= 0):
        raise SpecError("log_scale needs positive baseline values", element=cols[0])
    p_plaus = gaussian_kde(tr(y).T)(tr(y).T)
    if hasattr(observed, "pdf"):
        p_obs = np.asarray(observed.pdf(y[:, 0] if y.shape[1] == 1 else y), float)
        if log_scale:  # density of y -> density of ln y
            p_obs = p_obs * np.prod(y, axis=1)
    else:
        obs = np.asarray(observed, float).reshape(-1, len(cols))
        p_obs = gaussian_kde(tr(obs).T)(tr(y).T)
    w = np.where(p_plaus > 0, p_obs / np.maximum(p_plaus, 1e-300), 0.0)
    if not np.any(w > 0):
        raise SpecError("no plausible subject lies where the observed distribution has mass",
                        element=cols[0])
    med = np.median(w[w > 0])
    w = np.minimum(w, max_ratio * med)
    w = w * (len(w) / w.sum())
    out = np.zeros(len(table))
    out[ok] = w
    table[C.PREVALENCE_WEIGHT] = out
    return replace(population, table=table)


def resample_population(population: Population, n: int | None = None, *,
                        seed: int | None = 0) -> Population:
    """A cohort of virtual patients drawn from the plausible subjects.

    With ``n`` None: each plausible subject is accepted with probability
    ``w / max(w)`` (Allen et al. 2016); with ``n``: ``n`` subjects drawn with
    replacement with probabilities proportional to ``w``. Weights of the cohort are 1.
    """
    rng = np.random.default_rng(seed)
    w = population.table[C.PREVALENCE_WEIGHT].to_numpy(float)
    if not np.any(w > 0):
        raise SpecError("every prevalence weight is 0", element=C.PREVALENCE_WEIGHT)
    if n is None:
        idx = np.flatnonzero(rng.random(len(w)) < w / w.max())
    else:
        idx = rng.choice(len(w), size=int(n), p=w / w.sum())
    t = population.table.iloc[idx].reset_index(drop=True)
    t[C.PREVALENCE_WEIGHT] = 1.0
    t[C.SUBJECT] = np.arange(1, len(t) + 1)
    return replace(population, table=t)


def _split_range(text: str, what: str) -> tuple[str, float, float]:
    """``"value(R, 0)=0.5:2"`` -> ("value(R, 0)", 0.5, 2.0)."""
    key, sep, rng = str(text).rpartition("=")
    lo, sep2, hi = rng.partition(":")
    try:
        if not (sep and sep2):
            raise ValueError
        return key.strip(), float(lo), float(hi)
    except ValueError:
        raise SpecError(f"cannot read {text!r}", element=what,
                        fix="write name=low:high, e.g. 'value(R, 0)=0.5:2'") from None


def build_population(model: Model | str | os.PathLike[str], n: int, *, seed: int | None = 0,
                     covariates: str | os.PathLike[str] | None = None,
                     bsv: Sequence[str] = (), correlations: Sequence[str] = (),
                     clearances: Sequence[str] = (), volumes: Sequence[str] = (),
                     plausible: Sequence[str] = (), workers: int | None = None) -> Population:
    """A population from the text options of ``workbench population``.

    ``bsv``: ``"CL=0.3"`` (CV); ``correlations``: ``"CL,central,0.5"``; ``clearances``,
    ``volumes``: ids scaled allometrically (0.75, 1; 70 kg); ``plausible``:
    ``"value(R, 0)=0.5:2"`` (baseline ranges, :func:`filter_plausible`).
    """
    m = model if isinstance(model, Model) else load_model(model)
    cv: dict[str, float] = {}
    for t in bsv:
        k, _, v = str(t).partition("=")
        try:
            cv[k.strip()] = float(v)
        except ValueError:
            raise SpecError(f"cannot read the variability {t!r}", element="--bsv",
                            fix="write id=CV, e.g. CL=0.3") from None
    cors = []
    for t in correlations:
        parts = [p.strip() for p in str(t).split(",")]
        try:
            cors.append((parts[0], parts[1], float(parts[2])))
        except (IndexError, ValueError):
            raise SpecError(f"cannot read the correlation {t!r}", element="--corr",
                            fix="write id1,id2,rho, e.g. CL,central,0.5") from None
    pop = sample_population(m, n, covariates=covariates if covariates else ADULT_COVARIATES,
                            variability=Variability.from_cv(cv, cors) if cv else None,
                            effects=allometric(clearances, volumes), seed=seed)
    if plausible:
        ranges = {k: (lo, hi) for k, lo, hi in (_split_range(t, "--plausible") for t in plausible)}
        pop = filter_plausible(m, pop, ranges, workers=workers)
    return pop
