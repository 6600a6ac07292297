"""Ensembles (workbench.run_ensemble): rows equal single simulations exactly, metrics match
closed forms, failures are recorded, results do not depend on workers or back end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import DATA

import workbench as wb
from workbench.errors import SpecError, UnknownIdError
from workbench.sim.metrics import auc

V, CL = 5.0, 0.5


@pytest.fixture(scope="module")
def onecomp(onecomp_text):
    return wb.load_model(onecomp_text)


@pytest.fixture(scope="module")
def bench():
    return wb.load_model(DATA / "bench_tmdd_il6.ant")


def _simulate_fresh(model, regimen, **kw):
    # the shared, cached engine: earlier runs with other values must not leak into this one
    return wb.simulate(model, regimen, **kw)


@pytest.mark.parametrize("regimen, ids", [
    ("0.1 mg/kg iv q1w x2", ["CL", "R0", "kon", "S1", "central"]),
    ("0.1 mg/kg iv q1w x2", ["CL", "R0", "kon", "S1"]),  # reset() only: nothing else changes
    ("0.1 mg/kg iv infusion 2 h q1w x2", ["CL", "R0", "kon", "S1", "central"]),
    ("1 mg iv at 336 h", ["CL", "R0", "kon", "S1", "central"]),
    (None, ["CL", "R0", "kon", "S1", "central"])])
def test_rows_equal_simulate_exactly(bench, regimen, ids):
    samples = pd.DataFrame({"CL": [0.01, 0.02], "R0": [2.0, 0.5], "kon": [1.0, 3.0],
                            "S1": [0.5, 0.0], "central": [3.0, 3.61]})[ids]
    grid = np.linspace(0, 336, 57)  # dose times 0 and 168 are on the grid
    outs = ["L", "RO", "IL6", "central"]
    kw = dict(target="L", mw="150 kDa")
    res = wb.run_ensemble(bench, samples, regimen, outputs=outs, times=grid,
                          metrics=["max(RO)", "auc(L)", "ctrough(L)"], workers=1, **kw)
    assert (res["status"] == "ok").all()
    for i, row in samples.iterrows():
        ref = _simulate_fresh(bench, regimen, times=grid, outputs=outs, parameters=row.to_dict(),
                              predose=True, **kw)
        post = ref.groupby("time").last()  # value(X, t) is the state after a dose at t
        for o in outs:
            got = np.array([res.loc[i, f"value({o}, {t:.10g})"] for t in grid])
            np.testing.assert_array_equal(got, post[o].to_numpy())
        assert res.loc[i, "max(RO)"] == ref["RO"].max()
        assert res.loc[i, "auc(L)"] == auc(ref["time"].to_numpy(), ref["L"].to_numpy())
        assert res.loc[i, "ctrough(L)"] == ref["L"].iloc[-1]


def test_metrics_match_closed_form(onecomp):
    cl = np.array([0.25, 0.5, 1.0])
    v = np.array([4.0, 5.0, 8.0])
    res = wb.run_ensemble(onecomp, pd.DataFrame({"CL": cl, "central": v}), "100 nmol iv q24h x3",
                          target="Drug", end="72 h", points=721, workers=1,
                          metrics=["max(Drug)", "value(Drug, 30 h)", "ctrough(Drug, 0)",
                                   "ctrough(Drug)", "time_above(Drug, 5)", "auc(Drug, 0, 24)",
                                   "tmax(Drug, 30, 60)", "min(Drug, 0, 24)"])
    k = cl / v
    r = np.exp(-24 * k)
    rel = dict(rel=1e-6)
    assert res["max(Drug)"].to_numpy() == pytest.approx(100 / v * (1 + r + r**2), **rel)
    assert res["value(Drug, 30 h)"].to_numpy() == pytest.approx(
        100 / v * (np.exp(-30 * k) + np.exp(-6 * k)), **rel)
    assert res["ctrough(Drug, 0)"].to_numpy() == pytest.approx(100 / v * r, **rel)
    assert res["ctrough(Drug)"].to_numpy() == pytest.approx(100 / v * (r + r**2 + r**3), **rel)
    assert res["min(Drug, 0, 24)"].to_numpy() == pytest.approx(100 / v * r, **rel)
    assert res["tmax(Drug, 30, 60)"].to_numpy() == pytest.approx([48, 48, 48])
    # AUC over one interval after one bolus: D / CL (1 - e^{-k tau}); grid 0.1 h
    assert res["auc(Drug, 0, 24)"].to_numpy() == pytest.approx(100 / cl * (1 - r), rel=1e-4)
    assert res.attrs["units"]["auc(Drug, 0, 24)"] == "nmol/L*h"
    assert res.attrs["units"]["tmax(Drug, 30, 60)"] == "h"
    # time above 5 nM: each interval starts at C0_n and decays with k; total from the closed form
    c = 100 / v
    above = 0.0
    for n in range(3):
        c0 = c * sum(r**j for j in range(n + 1))
        above += np.clip(np.log(c0 / 5) / k, 0, 24)
    assert res["time_above(Drug, 5)"].to_numpy() == pytest.approx(above, rel=1e-3)


def test_failed_sample_is_recorded_and_batch_continues():
    m = wb.load_model("model blowup\n  x' = k * x^2\n  x = 1\n  k = 0.01\nend\n")
    res = wb.run_ensemble(m, pd.DataFrame({"k": [0.01, 1.0, 0.05, np.inf]}),
                          metrics=["value(x, 10)"], end=10, points=11, workers=1)
    assert list(res["status"].str[:7]) == ["ok", "failed:", "ok", "failed:"]
    assert "solver failed" in res.loc[1, "status"]
    assert "not finite" in res.loc[3, "status"]
    assert np.isnan(res.loc[1, "value(x, 10)"])
    # x(t) = 1 / (1 - k t)
    assert res.loc[[0, 2], "value(x, 10)"].to_numpy() == pytest.approx([1 / 0.9, 1 / 0.5], rel=1e-6)


def test_same_seed_same_results_across_workers_and_dask(onecomp):
    space = wb.ParameterSpace((wb.ParameterRange("CL", "lognormal", nominal=0.5, sd=0.3),
                               wb.ParameterRange("central", "uniform", 3.0, 7.0)))
    samples = space.sample(240, seed=7)
    pd.testing.assert_frame_equal(samples, space.sample(240, seed=7))
    kw = dict(regimen="100 nmol iv q12h x2", target="Drug", end=48, points=49,
              metrics=["max(Drug)", "auc(Drug)", "ctrough(Drug, 0)"], progress=False)
    one = wb.run_ensemble(onecomp, samples, workers=1, **kw)
    two = wb.run_ensemble(onecomp, samples, workers=2, **kw)
    pd.testing.assert_frame_equal(one, two)
    assert (one["status"] == "ok").all()
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        dask = wb.run_ensemble(onecomp, samples, workers=2, backend="dask", scheduler=client,
                               chunk_size=10, **kw)
        pd.testing.assert_frame_equal(one, dask)
        # 24 tasks, one RoadRunner per worker process
        built = client.run(lambda: len(__import__("workbench.sim._backends", fromlist=["x"])._RUNNERS))
        assert sorted(built.values()) == [1, 1]
        # another regimen and other ids: the same engine per worker, nothing leaks between
        other = pd.DataFrame({"central": np.linspace(3, 7, 40)})
        kw2 = dict(kw, regimen="50 nmol iv")
        ref2 = wb.run_ensemble(onecomp, other, workers=1, **kw2)
        dask2 = wb.run_ensemble(onecomp, other, workers=2, backend="dask", scheduler=client,
                                chunk_size=5, **kw2)
        pd.testing.assert_frame_equal(ref2, dask2)
        cl_only = samples[["CL"]]
        ref3 = wb.run_ensemble(onecomp, cl_only, workers=1, **kw)
        for _ in range(2):   # CL only, after an ensemble that set the volume: no leak
            got = wb.run_ensemble(onecomp, cl_only, workers=2, backend="dask", scheduler=client,
                                  chunk_size=10, **kw)
            pd.testing.assert_frame_equal(ref3, got)
            wb.run_ensemble(onecomp, other, workers=2, backend="dask", scheduler=client,
                            chunk_size=5, **kw2)
        engines = client.run(
            lambda: __import__("workbench.sim._batch", fromlist=["x"]).get_batch_engine.cache_info().currsize)
        assert sorted(engines.values()) == [1, 1]


@pytest.mark.slow
def test_dask_default_local_cluster(onecomp):
    s = pd.DataFrame({"CL": [0.25, 0.5, 1.0]})
    kw = dict(regimen="100 nmol iv", target="Drug", end=24, points=25, metrics=["max(Drug)"])
    dask = wb.run_ensemble(onecomp, s, workers=2, backend="dask", **kw)  # LocalCluster, 127.0.0.1
    pd.testing.assert_frame_equal(wb.run_ensemble(onecomp, s, workers=1, **kw), dask)


def test_bad_specs_fail_before_running(onecomp):
    s = pd.DataFrame({"CL": [0.5]})
    with pytest.raises(SpecError, match="unknown metric"):
        wb.run_ensemble(onecomp, s, metrics=["peak(Drug)"], end=1)
    with pytest.raises(UnknownIdError):
        wb.run_ensemble(onecomp, s, metrics=["max(Drog)"], end=1)
    with pytest.raises(UnknownIdError):
        wb.run_ensemble(onecomp, pd.DataFrame({"Cl": [0.5]}), metrics=["max(Drug)"], end=1)
    with pytest.raises(SpecError, match="dosing interval"):
        wb.run_ensemble(onecomp, s, "1 nmol iv", target="Drug", metrics=["ctrough(Drug, 3)"], end=1)
    tmdd = wb.load_model(DATA.parent.parent / "models" / "mab_tmdd.ant")
    # R = R0 is an initial assignment: a set R wins over it, as in simulate (issue 14: the
    # ensemble used to refuse what simulate accepted)
    got = wb.run_ensemble(tmdd, pd.DataFrame({"R": [1.0]}), metrics=["value(R, 0)"], end=1)
    assert got["value(R, 0)"].iloc[0] == pytest.approx(1.0)
    with pytest.raises(SpecError, match="assignment rule"):
        wb.run_ensemble(tmdd, pd.DataFrame({"ksyn": [1.0]}), metrics=["max(RO)"], end=1)


def test_parse_metric():
    m = wb.parse_metric("auc( Drug , 0, 168 )")
    assert (m.text, m.kind, m.output, m.window) == ("auc(Drug, 0, 168)", "auc", "Drug", (0, 168))
    assert wb.parse_metric("max(amount(L))").output == "amount(L)"
    assert wb.parse_metric("ctrough(L, -2)").interval == -2
    assert wb.parse_metric("time_above(RO, 0.9)").threshold == 0.9
    for bad in ["max", "max()", "value(L)", "auc(L, 5, 1)", "time_above(L, x)", "foo(L)"]:
        with pytest.raises(SpecError):
            wb.parse_metric(bad)


def test_ctrl_c_stops_workers_and_writes_nothing(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    params = tmp_path / "params.csv"
    params.write_text("id,distribution,fold\nCL,loguniform,2\nkon,loguniform,3\nR0,loguniform,3\n")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "sensitivity", str(DATA / "bench_tmdd_il6.ant"),
         "--params", str(params), "--method", "sobol", "--n", "4096", "--metric", "max(RO)",
         "--dose", "0.1 mg/kg iv q1w x2", "--into", "L", "--mw", "150 kDa", "--end", "672",
         "--workers", "2", "--seed", "1", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 60
    while len(parent.children(recursive=True)) < 2 and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)
    workers = parent.children(recursive=True)
    assert workers, "no worker processes started"
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())
    time.sleep(1.0)
    alive = [p for p in workers if p.is_running() and p.status() != psutil.STATUS_ZOMBIE
             and "forkserver" not in " ".join(p.cmdline())]
    assert not alive, [p.cmdline() for p in alive]


def test_event_changed_values_do_not_leak_between_samples():
    # the event halves k during each run; every sample must start again from k = 0.2
    m = wb.load_model("model ev\n  x' = -k * x\n  x = 10\n  k = 0.2\n  a = 1\n"
                      "  E: at time > 5: k = k / 2, x = x + a\nend\n")
    res = wb.run_ensemble(m, pd.DataFrame({"a": [1.0, 2.0, 1.0]}), metrics=["value(x, 10)"],
                          end=10, points=11, workers=1)
    # x(10) = (10 e^{-1} + a) e^{-0.5}
    exact = (10 * np.exp(-1.0) + np.array([1.0, 2.0, 1.0])) * np.exp(-0.5)
    assert res["value(x, 10)"].to_numpy() == pytest.approx(exact, rel=1e-6)


def test_initial_assignments_follow_the_sampled_values(bench):
    # R = R0 and IL6 = IL6_0 are initial assignments; a compartment size changes amounts
    s = pd.DataFrame({"R0": [0.5, 2.0], "IL6_0": [1e-4, 3e-4], "central": [2.0, 5.0]})
    res = wb.run_ensemble(bench, s, metrics=["value(R, 0)", "value(IL6, 0)", "value(amount(R), 0)"],
                          workers=1)
    assert res["value(R, 0)"].to_numpy() == pytest.approx([0.5, 2.0])
    assert res["value(IL6, 0)"].to_numpy() == pytest.approx([1e-4, 3e-4])
    assert res["value(amount(R), 0)"].to_numpy() == pytest.approx([0.5 * 2.0, 2.0 * 5.0])


EVENT_MODELS = {
    # trigger false before t = 0 (t0=false), true at t = 0: fires exactly once -> P = 1 + 2
    "t0": ("model e0\n compartment c = 1\n species S in c = 1\n k = 0.1\n P = 1\n"
           " J: S -> ; k*S\n E: at (P > 0.9), t0=false: P = P + 2\nend", 3.0),
    # delayed by 2.5 and computed at firing time: fires exactly once -> P = 1.5^2
    "delayed": ("model e1\n compartment c = 1\n species S in c = 1\n k = 0.1\n P = 1.5\n"
                " J: S -> ; k*S\n E: at 2.5 after (P > 1), t0=false, fromTrigger=false: P = P^2\nend",
                2.25),
}


@pytest.mark.parametrize("name", sorted(EVENT_MODELS))
def test_events_at_time_zero_fire_once_in_ensembles(name):
    text, p_end = EVENT_MODELS[name]
    m = wb.load_model(text)
    samples = pd.DataFrame({"k": [0.1, 0.2, 0.3]})
    res = wb.run_ensemble(m, samples, None, outputs=["P"], times=[0, 1, 5], metrics=["max(P)"],
                          workers=1)
    assert (res["status"] == "ok").all()
    assert res["value(P, 5)"].tolist() == pytest.approx([p_end] * 3)
    ref = wb.simulate(m, None, times=[0, 1, 5], outputs=["P"], parameters={"k": 0.3})
    assert ref.P.iloc[-1] == pytest.approx(p_end)


@pytest.mark.parametrize("n, size, workers", [(43008, 1024, 2), (10000, 250, 2), (7, 1024, 2),
                                              (1000, 100, 1), (0, 16, 2), (500, 8, 3)])
def test_chunks_cover_every_sample_once_and_shrink_at_the_end(n, size, workers):
    from workbench.sim._backends import _chunks

    ch = _chunks(n, size, workers)
    assert [s for s, _ in ch] == [0, *(e for _, e in ch[:-1])] if ch else n == 0
    assert sum(e - s for s, e in ch) == n
    sizes = [e - s for s, e in ch]
    assert all(0 < k <= size for k in sizes)
    if workers == 1:
        assert sizes[:-1] == [size] * (len(sizes) - 1)
    elif n >= 8 * workers * size:
        # guided: the last chunks are small, so no worker waits long for another's last chunk
        assert sizes[0] == size and max(sizes[-workers:]) <= max(16, size // 8)
        assert sizes == sorted(sizes, reverse=True)


def test_script_without_main_guard_gets_a_clear_error(tmp_path, onecomp_text):
    """Worker processes re-import the main script: without an `if __name__ == "__main__":`
    guard they cannot start. The run must end with one clear error, not a hang."""
    import subprocess
    import sys

    (tmp_path / "m.ant").write_text(onecomp_text)
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import numpy as np, pandas as pd\n"
        "import workbench as wb\n"
        "from workbench.errors import WorkbenchError\n"
        "t = pd.DataFrame({'CL': np.linspace(0.1, 0.9, 400)})\n"
        "try:\n"
        f"    wb.run_ensemble({str(tmp_path / 'm.ant')!r}, t, None, metrics=['max(Drug)'],\n"
        "                    end=24, points=5, workers=2, progress=False)\n"
        "    print('RAN')\n"
        "except WorkbenchError as exc:\n"
        "    print('ERROR:', exc)\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert "ERROR:" in r.stdout and 'if __name__ == "__main__":' in r.stdout, r.stdout + r.stderr
    # the workers that re-ran the script stop quietly: no traceback from them
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stdout.count("ERROR:") == 1, r.stdout


def test_warm_pool_keeps_ensembles_apart(bench):
    """Worker processes are kept between ensembles and share one engine per model: an
    ensemble setting other ids (and compartment sizes) in between must not leak into the
    next one. Each pooled result equals the in-process result exactly."""
    from workbench.sim.ensemble import shutdown_pool

    rng = np.random.default_rng(5)
    n = 240   # above the pool threshold for 2 workers
    a = pd.DataFrame({"CL": 0.0083 * rng.lognormal(0, 0.3, n), "R0": rng.lognormal(0, 0.5, n)})
    b = pd.DataFrame({"kon": rng.lognormal(0, 0.5, n), "central": 3.61 * rng.lognormal(0, 0.2, n),
                      "S1": rng.uniform(0, 1, n)})
    kw = dict(target="L", mw="150 kDa", end="336 h", points=30, metrics=["max(RO)", "auc(L)"])
    try:
        ref_a = wb.run_ensemble(bench, a, "0.1 mg/kg iv", workers=1, **kw)
        ref_b = wb.run_ensemble(bench, b, "1 mg/kg iv q1w x2", workers=1, **kw)
        for _ in range(2):
            got_a = wb.run_ensemble(bench, a, "0.1 mg/kg iv", workers=2, **kw)
            got_b = wb.run_ensemble(bench, b, "1 mg/kg iv q1w x2", workers=2, **kw)
            for got, ref in ((got_a, ref_a), (got_b, ref_b)):
                pd.testing.assert_frame_equal(got.drop(columns="status"),
                                              ref.drop(columns="status"))
    finally:
        shutdown_pool()


def test_delayed_event_models_evaluate_initial_assignments_in_ensembles():
    """beta = k * N (a parameter initial assignment) read by S' = beta: with N sampled,
    S(10) = k N 10. Models with delayed events take the engine's fresh-instance path,
    which must evaluate the assignment too (before: S(10) = 20, from the loaded N = 2)."""
    m = wb.load_model("model dia\n  S' = beta\n  S = 0\n  k = 1\n  N = 2\n  beta = k * N\n"
                      "  E: at 1 after time > 100: S = 0\nend")
    samples = pd.DataFrame({"N": [5.0, 3.0]})
    res = wb.run_ensemble(m, samples, None, metrics=["value(S, 10)"], end=10, points=11,
                          workers=1, progress=False)
    assert res["value(S, 10)"].to_numpy() == pytest.approx([50.0, 30.0], rel=1e-8)
    single = wb.simulate(m, None, end=10, points=11, outputs=["S"], parameters={"N": 5.0})
    assert single["S"].iloc[-1] == pytest.approx(50.0, rel=1e-8)


def test_bad_run_options_are_refused_before_running():
    """A negative chunk size (it would never advance) and a non-positive tolerance are
    named errors, as in simulate, not rows of NaN with exit 0."""
    from workbench.errors import SpecError

    m = wb.load_model("model d\n  x' = -k * x\n  x = 1\n  k = 0.1\nend\n")
    with pytest.raises(SpecError, match="chunk_size"):
        wb.run_ensemble(m, {"k": [0.1, 0.2]}, metrics=["max(x)"], end=5, workers=1,
                        chunk_size=-1)
    with pytest.raises(SpecError, match="relative tolerance"):
        wb.run_ensemble(m, {"k": [0.1, 0.2]}, metrics=["max(x)"], end=5, workers=1,
                        integrator=wb.IntegratorSettings(relative_tolerance=-1.0))


def test_mean_over_no_time_is_refused_not_nan(onecomp):
    """A time-average over a zero-length grid is 0/0: before the fix it came back NaN with
    status ok (and the convergence check masked it). It is refused before running, and a
    NaN metric that still reaches the evaluation marks its row failed, never ok."""
    import numpy as np

    from workbench.errors import SimulationError
    from workbench.sim._backends import _ChunkRunner

    s = pd.DataFrame({"CL": [0.5, 0.6]})
    with pytest.raises(SpecError, match="positive length"):
        wb.run_ensemble(onecomp, s, "10 nmol iv", target="Drug", metrics=["mean(Drug)"],
                        times=[0.0], workers=1)
    # the same metric over a real window is the closed form: mean of (D/V) e^{-kt} on [0, 10]
    got = wb.run_ensemble(onecomp, s.iloc[:1], "10 nmol iv", target="Drug",
                          metrics=["mean(Drug)"], end=10, points=201, workers=1)
    k = 0.5 / V
    assert got["mean(Drug)"].iloc[0] == pytest.approx(10 / V * (1 - np.exp(-10 * k)) / (10 * k),
                                                      rel=1e-3)
    assert got["status"].iloc[0] == "ok"
    plan = [("mean", 1, slice(0, 1), np.array([2.0]), None, "mean(Drug)")]
    with pytest.raises(SimulationError, match=r"mean\(Drug\) is not a number"):
        _ChunkRunner._evaluate(plan, np.array([[2.0, 1.0]]))
