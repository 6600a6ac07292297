"""Analyses where they inform the decision: sensitivity at the MABEL and at each ladder level,
Sobol sample size set by convergence, model variants compared on the decision quantities.

At the proposed starting dose nothing happens (that is the point of a MABEL start),
so indices computed there describe noise. :func:`sensitivity_at_levels` computes the
local coefficients (d ln y / d ln p, :func:`workbench.analysis.sensitivity.local_sensitivity`)
and the Sobol indices at the QSP MABEL and at every level of the escalation ladder,
over every parameter of the study's uncertainty.

The Sobol base sample size is not fixed: :func:`sobol_converged` starts at
``n_start`` and doubles it (the Saltelli design of size 2N contains that of size N
as its first rows, so only the new rows are simulated) until the total-order
indices change by at most ``tol`` between N and 2N and the ``top`` parameters by ST
stay the same, or until ``n_max`` (stated in the report with the verdict). The
indices reported are those of the largest N simulated. Saltelli A et al. (2010),
Comput Phys Commun 181:259 (estimators); Sarrazin F, Pianosi F, Wagener T (2016),
Environ Model Softw 79:135 (convergence of the indices and of their ranking).

:func:`variant_decisions` turns a variant comparison into the decision quantities:
each variant's QSP MABEL, the starting dose the study's margin (start / MABEL of the
study model) would give on it, and the peak effect at that start (the first-level
risk), beside the study model.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.core._moved import moved_names
from workbench.core.model import Model, load_model
from workbench.core.options import Dosing
from workbench.errors import SpecError
from workbench.sim._timegrid import TimeGrid
from workbench.sim.options import RunOptions

__all__ = ["LevelSensitivity", "sensitivity_at_levels", "sobol_converged", "variant_decisions"]

log = logging.getLogger(__name__)

__getattr__ = moved_names(__name__, {
    "sensitivity_blocks": "workbench.mabel.plots.sensitivity_blocks"})

#: column naming where (which dose) an index was computed
WHERE = C.WHERE


def sobol_converged(model: Model | str | os.PathLike[str], space, regimen, *,
                    metrics: Sequence[str], n_start: int = 64, n_max: int = 512,
                    tol: float = 0.05, top: int = 3, log: bool = True, seed: int | None = 0,
                    dosing: Dosing | None = None, grid: TimeGrid | None = None,
                    run: RunOptions | None = None, **legacy):
    """Sobol indices with the base sample doubled until they converge (module docstring).

    ``dosing``, ``grid`` (its ``times``), ``run`` (workers default 1, no progress bar by
    default) as for :func:`workbench.analysis.sensitivity.sobol`, or their older keywords
    ``target``, ``mw``, ``subject``, ``times``, ``integrator``, ``workers``, ``progress``.

    ``log``: the indices are those of ln(metric) when every value is positive (the
    share of the variance of the fold change, as the local coefficients d ln y / d ln p;
    effects spanning orders of magnitude otherwise put the variance in a few extreme
    samples, and the total-order estimates converge slowly).

    Returns
    -------
    workbench.analysis.sensitivity.SensitivityResult
        ``indices`` at the final N; ``convergence``: one row per metric and doubling
        (:data:`workbench.columns.CONVERGENCE_COLUMNS`); ``settings``: ``n`` (final N),
        ``n_runs``, ``converged``, ``n_max``, ``tol``.
    """
    from SALib.sample import sobol as sobol_sample

    from workbench.analysis.sensitivity import (
        _as_space,
        _ensemble_kw,
        _evaluate,
        _metrics,
        _problem,
        _rank,
        _seeds,
    )
    from workbench.analysis.sensitivity import _sobol_analyze as analyze

    kw = _ensemble_kw("sobol_converged", regimen, legacy, dosing, grid, run, workers=1,
                      progress=False)
    m = model if isinstance(model, Model) else load_model(model)
    space = _as_space(m, space)
    mlist = _metrics(m, metrics, None, None)
    problem = _problem(space)
    k = len(space.ranges)
    s_sample, s_boot = _seeds(seed, 2)
    n_start, n_max = max(2, int(n_start)), max(2, int(n_max), int(n_start))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*power of 2.*")
        warnings.filterwarnings("ignore", message=".*balance properties.*")
        u = sobol_sample.sample(problem, n_max, calc_second_order=False, seed=s_sample)
    table = space.transform(u)
    parts, ys = [], []
    done = 0

    def upto(n: int) -> np.ndarray:
        nonlocal done
        rows = n * (k + 2)
        if rows > done:
            res, y, _, _ = _evaluate(m, table.iloc[done:rows].reset_index(drop=True), mlist, kw)
            parts.append(res)
            ys.append(y)
            done = rows
        return np.vstack(ys)[:rows]

    def indices(n: int) -> list[dict]:
        y = upto(n)
        if log:
            y = np.where((y > 0).all(axis=0), np.log(np.where(y > 0, y, 1.0)), y)
        return [analyze(problem, y[:, j], False, 0.95, 100, s_boot, mt.text)
                for j, mt in enumerate(mlist)]

    def order(si) -> list[str]:
        return [space.ids[i] for i in np.argsort(-np.nan_to_num(si["ST"], nan=-1))[:top]]

    n, conv, converged = n_start, [], False
    cur = indices(n)
    while 2 * n <= n_max:
        nxt = indices(2 * n)
        ok_all = True
        for j, mt in enumerate(mlist):
            change = float(np.nanmax(np.abs(nxt[j]["ST"] - cur[j]["ST"])))
            stable = set(order(cur[j])) == set(order(nxt[j]))
            ok = stable and change <= tol
            ok_all &= ok or bool(np.all(np.isnan(nxt[j]["ST"])))
            conv.append({C.METRIC: mt.text, C.N_BASE: n, C.TOP_PARAMETERS: "; ".join(order(cur[j])),
                         C.TOP_PARAMETERS_2N: "; ".join(order(nxt[j])), C.STABLE: ok,
                         C.MAX_ST_CHANGE: change})
        n, cur = 2 * n, nxt
        if ok_all:
            converged = True
            break
    rows = []
    for j, mt in enumerate(mlist):
        for i, r in enumerate(space.ranges):
            rows.append({C.METRIC: mt.text, C.OUTPUT: mt.output, C.TIME: math.nan,
                         C.PARAMETER: r.id, C.S1: cur[j]["S1"][i], C.S1_CONF: cur[j]["S1_conf"][i],
                         C.ST: cur[j]["ST"][i], C.ST_CONF: cur[j]["ST_conf"][i]})
    from workbench.analysis.sensitivity import SensitivityResult

    samples = pd.concat(parts, ignore_index=True).iloc[:n * (k + 2)]
    samples.attrs = parts[0].attrs
    df = _rank(pd.DataFrame(rows), C.ST)
    return SensitivityResult("sobol", df[list(C.SOBOL_COLUMNS)], samples, space,
                             convergence=pd.DataFrame(conv, columns=list(C.CONVERGENCE_COLUMNS)),
                             settings={"n": n, "n_runs": len(samples), "converged": converged,
                                       "n_start": n_start, "n_max": n_max, "tol": tol,
                                       "top": top, "seed": seed, "log": log})


@dataclass(frozen=True, eq=False)
class LevelSensitivity:
    """Result of :func:`sensitivity_at_levels`: one row block per dose (``where``).

    Attributes
    ----------
    doses
        ``where, dose, amount_unit`` of each point analysed.
    local, sobol, convergence
        The index tables of every point, with ``where`` and ``dose`` first.
    results
        ``where`` -> (local SensitivityResult or None, Sobol SensitivityResult or None).
    """

    doses: pd.DataFrame
    local: pd.DataFrame
    sobol: pd.DataFrame
    convergence: pd.DataFrame
    results: dict = field(default_factory=dict, repr=False)
    settings: dict = field(default_factory=dict)

    def skipped_text(self) -> str:
        """The points not analysed because their dose is not a positive number ('' if none)."""
        sk = self.settings.get("skipped") or []
        return ("Not analysed (the dose is not a positive number): "
                + ", ".join(f"{w} ({d!r})" for w, d in sk) + ". ") if sk else ""

    def verdict(self) -> str:
        s = self.settings
        if not len(self.sobol):
            return self.skipped_text() + "No Sobol indices were computed."
        per = self.sobol.groupby(WHERE, sort=False)[["n_base", "converged"]].first()
        bad = per[~per["converged"].astype(bool)]
        txt = (("Sobol indices of the logarithm of each metric (the share of the variance of "
                "its fold change, like the local d ln y / d ln p). " if s.get("log") else "")
               + f"Sobol base sample N doubled from {s.get('n_start')} until every total-order "
               f"index changed by at most {s.get('tol'):g} between N and 2N and the top "
               f"{s.get('top')} parameters stayed the same, up to a stated maximum of N = "
               f"{s.get('n_max')} ({s.get('k')} parameters, N x {s.get('k', 0) + 2} runs per "
               "dose). Final N per dose: " + ", ".join(f"{w} {int(r['n_base'])}"
                                                       for w, r in per.iterrows()) + ". ")
        txt = self.skipped_text() + txt
        txt += ("Converged at every dose." if bad.empty else
                f"Not converged at N = {s.get('n_max')} at: " + ", ".join(bad.index)
                + "; the indices there are indicative and their order may change.")
        return txt


def sensitivity_at_levels(model: Model | str | os.PathLike[str], space,
                          points: Sequence[tuple[str, float]], dose_unit: str | None = None, *,
                          metrics: Sequence[str], schedule: str = "", local: bool = True,
                          sobol: bool = True, n_start: int = 64, n_max: int = 512,
                          tol: float = 0.05, top: int = 3, log: bool = True,
                          seed: int | None = 0, dosing: Dosing | None = None,
                          grid: TimeGrid | None = None, run: RunOptions | None = None,
                          **legacy) -> LevelSensitivity:
    """Local and Sobol sensitivity of ``metrics`` at each named dose (``points``: e.g.
    ``[("QSP MABEL", 0.05), ("ladder level 1", 0.0017), ...]`` in ``dose_unit``, or in
    ``dosing.dose_unit``), each dose given by ``dosing.route`` on ``schedule`` as a number
    (:meth:`Dosing.regimen`).

    ``grid``: its ``times`` (time-resolved metrics); ``run``: workers (default 1) and
    progress (default off, Sobol only). The older keywords ``route``, ``target``, ``mw``,
    ``subject``, ``times``, ``integrator``, ``workers``, ``progress`` build the same bundles.
    """
    from workbench.analysis.sensitivity import local_sensitivity
    from workbench.sim.options import bundles

    dosing, grid, run = bundles("sensitivity_at_levels", legacy, dosing=dosing, grid=grid,
                                run=run, allowed=("route", "target", "mw", "subject", "times",
                                                  "integrator", "workers", "progress"),
                                defaults={"route": "iv", "workers": 1, "progress": False})
    if dosing.dose_unit is None:
        dosing = replace(dosing, dose_unit=dose_unit)
    if dosing.dose_unit is None or (dose_unit is not None and dose_unit != dosing.dose_unit):
        raise SpecError("sensitivity_at_levels needs the dose unit once (dose_unit or "
                        "Dosing.dose_unit)", element="dose_unit", fix="give it once")
    dose_unit = dosing.dose_unit
    m = model if isinstance(model, Model) else load_model(model)
    loc_rows, sob_rows, conv_rows, results, drows = [], [], [], {}, []
    skipped: list[tuple[str, float]] = []
    for where, dose in points:
        if not (math.isfinite(dose) and dose > 0):  # e.g. no MABEL found: said, not hidden
            skipped.append((where, dose))
            logging.getLogger(__name__).warning("sensitivity at %s skipped: the dose %r is not a positive number",
                        where, dose)
            continue
        reg = dosing.regimen(dose, schedule)  # the dose as a number, not as text
        drows.append({WHERE: where, C.DOSE: dose, C.DOSE_UNIT: dose_unit})
        lo = so = None
        if local:
            lo = local_sensitivity(m, space, reg, metrics=metrics, dosing=dosing, grid=grid,
                                   run=replace(run, progress=None))
            loc_rows.append(lo.indices.assign(**{WHERE: where, C.DOSE: dose}))
        if sobol:
            so = sobol_converged(m, space, reg, metrics=metrics, n_start=n_start,
                                 n_max=n_max, tol=tol, top=top, log=log, seed=seed,
                                 dosing=dosing, grid=grid, run=run)
            sob_rows.append(so.indices.assign(**{WHERE: where, C.DOSE: dose,
                                                 "n_base": so.settings["n"],
                                                 "converged": so.settings["converged"]}))
            conv_rows.append(so.convergence.assign(**{WHERE: where, C.DOSE: dose}))
        results[where] = (lo, so)

    def first(frames, cols=(WHERE, C.DOSE)):
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        return df[[*cols, *[c for c in df.columns if c not in cols]]]

    k = len(getattr(space, "ranges", ()))
    return LevelSensitivity(pd.DataFrame(drows), first(loc_rows), first(sob_rows),
                            first(conv_rows), results,
                            {"n_start": n_start, "n_max": n_max, "tol": tol, "top": top, "k": k,
                             "log": log, "skipped": skipped})


def variant_decisions(base: Model, variants: Sequence, comparison, *, mabel_quantity: str,
                      effect: str, start: float, dose_unit: str, route: str = "iv",
                      schedule: str = "", reference: str = "base model", **kw) -> pd.DataFrame:
    """Each variant's decision quantities beside the study model's: QSP MABEL (the
    ``mabel_quantity`` row of the comparison), the start the study's margin gives
    (``start`` x variant MABEL / study-model MABEL) and the peak ``effect`` there
    (first-level risk), and the same effect at the study's own start.

    Returns
    -------
    pandas.DataFrame
        ``variant, mabel, start, first_level_effect, effect_at_proposed_start, unit,
        mabel_ratio, start_ratio, effect_ratio`` (ratios to the reference).
    """
    from workbench.analysis.variants import _metric_value, build_variant

    t = comparison.table
    mab = t[t[C.QUANTITY] == mabel_quantity].set_index(C.VARIANT)[C.VALUE]
    at_start = t[(t[C.QUANTITY] == effect)].set_index(C.VARIANT)[C.VALUE]
    base_mabel = float(mab.get(reference, math.nan))
    margin = start / base_mabel if base_mabel and math.isfinite(base_mabel) else math.nan
    rows, unit = [], ""
    for v in variants:
        mv = float(mab.get(v.name, math.nan))
        sv = mv * margin
        m = base if v.name == reference else build_variant(base, v)
        val = math.nan
        if math.isfinite(sv) and sv > 0:
            reg = Dosing(route=route, dose_unit=dose_unit).regimen(sv, schedule)  # a number
            val, unit = _metric_value(m, effect, reg, {**kw, "target": v.target or kw.get("target")})
        rows.append({C.VARIANT: v.name, "mabel": mv, "start": sv, "first_level_effect": val,
                     "effect_at_proposed_start": float(at_start.get(v.name, math.nan))})
    df = pd.DataFrame(rows)
    df[C.UNIT] = unit
    ref = df[df[C.VARIANT] == reference].iloc[0] if (df[C.VARIANT] == reference).any() else None
    for a, b in (("mabel", "mabel_ratio"), ("start", "start_ratio"),
                 ("first_level_effect", "effect_ratio")):
        df[b] = df[a] / ref[a] if ref is not None and ref[a] else math.nan
    df.attrs["margin"] = margin
    return df
