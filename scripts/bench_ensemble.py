#!/usr/bin/env python
"""Ensemble speed: the same samples of one reference model through five ways of running.

Usage: .venv/bin/python scripts/bench_ensemble.py [--n 10000] [--n-tellurium 100]
                                                   [--workers N] [--no-sobol] [--no-memory] [--rtol R]

Reference model: tests/data/bench_tmdd_il6.ant (two-compartment antibody with
TMDD on a membrane target, a soluble target and an IL-6 chain: 12 species, 27
parameters), 0.1 mg/kg IV q1w x2 into L (150 kDa, 70 kg), 200 output points over
672 h (plus the dose time), every parameter drawn log-normally (CV ~30 %).
Each run computes max(RO), max(IL6) and AUC(L).

  (a) tellurium tutorial loop: te.loada per sample, item assignment, two simulate calls
  (b) plain best-practice RoadRunner loop in one process: one instance,
      setGlobalParameterValues + reset, selections set once, two segments
  (c) workbench.run_ensemble, 1 worker
  (d) workbench.run_ensemble on every core: the second call, on the worker pool the
      first call started and kept (workers keep their RoadRunners between ensembles);
      the first call (forkserver, workers and models started) is reported separately
  (e) workbench.run_ensemble on a dask LocalCluster (steady state, and with
      the cluster start-up included)

Then: a Sobol analysis with N = 1024 over 20 parameters with second-order
indices (43,008 runs; metric max(RO) on 50 points; the worker pool is shut down
first, so starting the workers and building their models is inside the time), and the peak memory of
100,000 samples with scalar metrics (in a child process; 20 points).
Integrator settings: workbench.IntegratorSettings() defaults for every variant, or the
relative tolerance of --rtol (to compare releases whose defaults differ at equal tolerance).

Run it on an idle machine: Linux shares CPU time between sessions
(sched_autogroup), so while other sessions keep the cores busy, all workers of
this session together get about one session's share and the parallel ratios
(d)/(c) and (e)/(c) say nothing about the code.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "tests" / "data" / "bench_tmdd_il6.ant"
DOSE = "0.1 mg/kg iv q1w x2"
END, POINTS = 672.0, 200
METRICS = ["max(RO)", "max(IL6)", "auc(L)"]
#: relative tolerance of every variant (None: the IntegratorSettings default); set by --rtol
RTOL: float | None = None


def _settings():
    import workbench as wb

    return (wb.IntegratorSettings() if RTOL is None
            else wb.IntegratorSettings(relative_tolerance=RTOL))


def varied_parameters(model) -> pd.DataFrame:
    """The model's constant global parameters (the ones drawn)."""
    p = model.parameters
    return p[(p["scope"] == "global") & p["constant"]]


def samples(model, n: int, seed: int = 1, ids=None) -> pd.DataFrame:
    p = varied_parameters(model)
    if ids is not None:
        p = p[p["id"].isin(ids)]
    rng = np.random.default_rng(seed)
    return pd.DataFrame({r.id: r.value * np.exp(rng.normal(0, 0.3, n)) for r in p.itertuples()})


def grid_and_dose(model):
    import workbench as wb
    from workbench.sim.simulate import DoseContext, doses_to_events

    ev = doses_to_events(model, wb.parse_regimen(DOSE, target="L"), DoseContext(mw="150 kDa"))
    grid = np.unique(np.r_[np.linspace(0, END, POINTS), [e.time for e in ev]])
    return grid, ev


def metrics_of(t, ro, il6, lig):
    from workbench.sim.metrics import auc

    return ro.max(), il6.max(), auc(t, lig)


def run_tellurium(model, table: pd.DataFrame) -> float:
    import tellurium as te

    settings = _settings()
    grid, ev = grid_and_dose(model)
    seg1, seg2 = grid[grid <= 168], grid[grid >= 168]
    text = MODEL.read_text()
    t0 = time.perf_counter()
    for _, row in table.iterrows():
        r = te.loada(text)
        r.integrator.relative_tolerance = settings.relative_tolerance
        r.integrator.absolute_tolerance = settings.absolute_tolerance
        for k, v in row.items():
            r[k] = v
        r.reset()
        r["L"] = r["L"] + ev[0].amount
        a = r.simulate(times=list(seg1), selections=["time", "RO", "[IL6]", "[L]"])
        r["L"] = r["L"] + ev[1].amount
        b = r.simulate(times=list(seg2), selections=["time", "RO", "[IL6]", "[L]"])
        y = np.vstack([np.asarray(a), np.asarray(b)])
        metrics_of(y[:, 0], y[:, 1], y[:, 2], y[:, 3])
    return len(table) / (time.perf_counter() - t0)


def run_plain(model, table: pd.DataFrame) -> float:
    import roadrunner

    settings = _settings()
    grid, ev = grid_and_dose(model)
    seg1, seg2 = list(grid[grid <= 168]), list(grid[grid >= 168])
    rr = roadrunner.RoadRunner(model.sbml)
    integ = rr.getIntegrator()
    integ.setValue("relative_tolerance", settings.relative_tolerance)
    integ.setValue("absolute_tolerance", settings.absolute_tolerance)
    integ.setValue("maximum_num_steps", settings.max_num_steps)
    rr.timeCourseSelections = ["time", "RO", "[IL6]", "[L]"]
    mod = rr.model
    gids = list(mod.getGlobalParameterIds())
    idx = np.array([gids.index(c) for c in table.columns], dtype=np.int32)
    vals = table.to_numpy(float)
    t0 = time.perf_counter()
    for v in vals:
        mod.setGlobalParameterValues(idx, v)
        rr.reset()
        rr.setValue("L", rr.getValue("L") + ev[0].amount)
        a = rr.simulate(times=seg1)
        rr.setValue("L", rr.getValue("L") + ev[1].amount)
        b = rr.simulate(times=seg2)
        y = np.vstack([np.asarray(a), np.asarray(b)])
        metrics_of(y[:, 0], y[:, 1], y[:, 2], y[:, 3])
    return len(vals) / (time.perf_counter() - t0)


def run_workbench(model, table, **kw) -> float:
    import workbench as wb

    t0 = time.perf_counter()
    res = wb.run_ensemble(model, table, DOSE, target="L", mw="150 kDa", end=END, points=POINTS,
                          metrics=METRICS, progress=False, integrator=_settings(), **kw)
    dt = time.perf_counter() - t0
    assert (res["status"] == "ok").all(), res["status"].value_counts()
    return len(table) / dt


def run_dask(model, table, workers) -> tuple[float, float]:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        run_workbench(model, table, backend="dask", scheduler=client, workers=workers)
        cold = len(table) / (time.perf_counter() - t0)
        steady = run_workbench(model, table, backend="dask", scheduler=client, workers=workers)
    return steady, cold


def run_sobol(model, workers, integrator=None) -> tuple[float, float, int]:
    """Seconds for the whole analysis, seconds of SALib's analysis alone (re-run on the
    analysis's samples after it, outside the first timing), runs."""
    from SALib.analyze import sobol as sobol_analyze

    import workbench as wb
    from workbench.sim.ensemble import shutdown_pool

    ids = list(varied_parameters(model)["id"])[:20]
    space = wb.ParameterSpace(tuple(wb.ParameterRange(i, "loguniform", fold=2.0) for i in ids))
    shutdown_pool()  # cold: the workers start and build the model inside the timing
    t0 = time.perf_counter()
    res = wb.sobol(model, space, DOSE, target="L", mw="150 kDa", end=END, points=50,
                   metrics=["max(RO)"], n=1024, second_order=True, seed=1, workers=workers,
                   integrator=integrator, progress=False)
    total = time.perf_counter() - t0
    problem = {"num_vars": 20, "names": ids, "bounds": [[0.0, 1.0]] * 20}
    t0 = time.perf_counter()
    sobol_analyze.analyze(problem, res.samples["max(RO)"].to_numpy(), calc_second_order=True,
                          num_resamples=100, seed=2)
    return total, time.perf_counter() - t0, len(res.samples)


def memory_child(n: int, workers: int) -> None:
    import threading

    import psutil

    import workbench as wb

    me = psutil.Process()
    peak = {"total": 0, "parent": 0}
    done = threading.Event()

    def poll() -> None:  # peak RSS of this process plus every descendant (pool workers)
        while not done.wait(0.2):
            try:
                kids = sum(c.memory_info().rss for c in me.children(recursive=True))
                mine = me.memory_info().rss
            except psutil.Error:
                continue
            peak["total"] = max(peak["total"], mine + kids)
            peak["parent"] = max(peak["parent"], mine)

    threading.Thread(target=poll, daemon=True).start()
    m = wb.load_model(MODEL)
    table = samples(m, n, seed=3)
    t0 = time.perf_counter()
    res = wb.run_ensemble(m, table, DOSE, target="L", mw="150 kDa", end=END, points=20,
                          metrics=METRICS, workers=workers, progress=False)
    dt = time.perf_counter() - t0
    done.set()
    print(f"{len(res)} {int((res['status'] == 'ok').sum())} {dt:.3f} {peak['parent']} "
          f"{peak['total']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="samples for (b)-(e)")
    ap.add_argument("--n-tellurium", type=int, default=100)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--no-sobol", action="store_true")
    ap.add_argument("--rtol", type=float, help="relative tolerance of every variant "
                    "(default: the IntegratorSettings default)")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--memory-n", type=int, default=100_000)
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    global RTOL
    RTOL = a.rtol
    if a.memory_child:
        memory_child(a.memory_child, a.workers)
        return
    import roadrunner

    import workbench as wb

    m = wb.load_model(MODEL)
    table = samples(m, a.n)
    print(f"model {MODEL.name}: {len(m.species)} species, {table.shape[1]} varied parameters, "
          f"{DOSE}, {POINTS} points; libroadrunner {roadrunner.__version__}; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; {_settings()}")
    if os.getloadavg()[0] > 0.5:
        print(f"warning: load {os.getloadavg()[0]:.1f}: other work competes for the cores; "
              "the parallel ratios are not meaningful (see the docstring)")
    rows = []
    rate_a = run_tellurium(m, table.head(a.n_tellurium))
    rows.append(("(a) tellurium te.loada loop", rate_a))
    rate_b = run_plain(m, table)
    rows.append(("(b) plain RoadRunner loop", rate_b))
    rate_c = run_workbench(m, table, workers=1)
    rows.append(("(c) workbench, 1 worker", rate_c))
    rate_d_cold = run_workbench(m, table, workers=a.workers)
    rate_d = run_workbench(m, table, workers=a.workers)
    rows.append((f"(d) workbench, {a.workers} workers", rate_d))
    rows.append(("    (d) first call (forkserver, workers, models)", rate_d_cold))
    rate_e, rate_e_cold = run_dask(m, table, a.workers)
    rows.append((f"(e) workbench, dask LocalCluster {a.workers} workers", rate_e))
    rows.append(("    (e) including cluster start", rate_e_cold))
    print(f"\n{'variant':<48} {'sims/s':>9} {'/ (b)':>7} {'/ (c)':>7}")
    for name, r in rows:
        print(f"{name:<48} {r:>9.1f} {r / rate_b:>7.2f} {r / rate_c:>7.2f}")
    print(f"\ntargets: (c)/(b) >= 0.95: {rate_c / rate_b:.2f}; (d)/(c) >= 1.9: {rate_d / rate_c:.2f}; "
          f"(e)/(c) >= 1.7: {rate_e / rate_c:.2f}")
    if not a.no_sobol:
        for integ in (None, wb.IntegratorSettings(relative_tolerance=1e-6)):
            dt, da, runs = run_sobol(m, a.workers, integ)
            tol = "default tolerances" if integ is None else "rtol 1e-6"
            print(f"Sobol N=1024, 20 parameters, S1+ST+S2 (max(RO), 50 points, {tol}): {runs} "
                  f"runs in {dt:.1f} s on {a.workers} workers (target < 25 s); SALib analysis "
                  f"alone (re-run): {da:.1f} s")
    if not a.no_memory:
        out = subprocess.run([sys.executable, __file__, "--memory-child", str(a.memory_n),
                              "--workers", str(a.workers)], capture_output=True, text=True,
                             check=True).stdout.split()
        n, ok, dt, parent, total = int(out[0]), int(out[1]), float(out[2]), int(out[3]), int(out[4])
        print(f"{n} samples, scalar metrics (20 points): {ok} ok in {dt:.1f} s; peak RSS: parent "
              f"{parent / 2**20:.0f} MB, parent + workers (+ forkserver) {total / 2**20:.0f} MB "
              f"(target < 1024 MB)")


if __name__ == "__main__":
    main()
