"""Run the SBML semantic test suite through the workbench (software verification).

Each case folder ``NNNNN`` holds ``NNNNN-settings.txt`` (start, duration, steps,
variables, absolute/relative tolerances, which species are amounts or
concentrations), ``NNNNN-results.csv`` and the model in several SBML levels.
A case is loaded with :func:`workbench.load_model` (highest level and version),
simulated with :func:`workbench.simulate` (:func:`simulate_case`, which takes any
loaded model, e.g. an exported one) and compared point by point by the
suite's rule ``|sim - expected| <= absolute + relative * |expected|``
(Hucka et al., SBML Test Suite, https://github.com/sbmlteam/sbml-test-suite).
Cases using features libRoadRunner does not simulate end with a clean
``unsupported: <feature>`` error.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from workbench.core.model import load_model
from workbench.sim._engine import unsupported_features
from workbench.sim.simulate import simulate

__all__ = ["case_result", "compare", "read_results", "read_settings", "run_cases", "sbml_file",
           "simulate_case"]

_LEVELS = ("l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1", "l1v2", "l1v1")


def read_settings(case_dir: Path) -> dict:
    """Settings of one case: start, duration, steps, variables, absolute, relative,
    amount and concentration (sets of ids)."""
    name = case_dir.name
    raw: dict[str, str] = {}
    for line in (case_dir / f"{name}-settings.txt").read_text().splitlines():
        if ":" in line:
            k, _, v = line.partition(":")
            raw[k.strip()] = v.strip()

    def ids(k):
        return [v.strip() for v in raw.get(k, "").split(",") if v.strip()]

    def num(k):
        return float(raw[k]) if raw.get(k) else None

    return {"start": num("start"), "duration": num("duration"),
            "steps": int(float(raw["steps"])) if raw.get("steps") else None,
            "variables": ids("variables"), "absolute": num("absolute") or 0.0,
            "relative": num("relative") or 0.0, "amount": set(ids("amount")),
            "concentration": set(ids("concentration"))}


def read_results(case_dir: Path) -> tuple[list[str], np.ndarray]:
    """Header and values of the case's expected results (INF/NaN understood)."""
    lines = (case_dir / f"{case_dir.name}-results.csv").read_text().strip().splitlines()
    header = [h.strip() for h in lines[0].split(",")]
    conv = {"INF": math.inf, "+INF": math.inf, "-INF": -math.inf, "NAN": math.nan}
    data = [[conv.get(x.strip().upper(), None) if x.strip().upper() in conv else float(x)
             for x in ln.split(",")] for ln in lines[1:]]
    return header, np.array(data, dtype=float)


def compare(sim: np.ndarray, exp: np.ndarray, absolute: float, relative: float) -> int:
    """Number of points outside ``absolute + relative * |expected|`` (NaN = NaN, inf = inf)."""
    with np.errstate(invalid="ignore"):
        ok = (np.abs(sim - exp) <= absolute + relative * np.abs(exp)) \
            | (np.isnan(sim) & np.isnan(exp)) | (np.isinf(exp) & (sim == exp))
    return int((~ok).sum())


def sbml_file(case_dir: Path) -> Path | None:
    """The case's model at the highest SBML level and version (None when there is none)."""
    for lv in _LEVELS:
        p = case_dir / f"{case_dir.name}-sbml-{lv}.xml"
        if p.exists():
            return p
    return None


def _failure(exc: Exception) -> tuple[str, str]:
    from workbench.errors import UnsupportedFeatureError, WorkbenchError

    if isinstance(exc, UnsupportedFeatureError):
        return "unsupported", str(exc).split(": ", 1)[-1]
    if isinstance(exc, WorkbenchError):
        return "error", str(exc)[:300]
    return "error", f"{type(exc).__name__}: {exc}"[:300]  # a crash is a finding, not a stop


def simulate_case(model, case_dir: Path, integrator=None) -> tuple[str, str]:
    """Simulate a loaded model with the settings of a case and compare it with the
    case's expected results.

    Parameters
    ----------
    model
        A :class:`~workbench.core.model.Model` (the case's SBML as loaded, or a model
        derived from it, e.g. exported and reloaded).
    case_dir
        The case folder ``NNNNN``.
    integrator
        :class:`~workbench.IntegratorSettings`; None: the engine's default.

    Returns
    -------
    (status, reason)
        status ``pass``, ``fail``, ``unsupported`` or ``error``; reason empty on a pass.
    """
    try:
        st = read_settings(case_dir)
        if st["duration"] is None or not st["steps"]:
            feats = unsupported_features(model.sim_document)
            return (("unsupported", f"unsupported: {feats[0][0]}") if feats
                    else ("error", "no time course"))
        species = set(model.species["id"])
        outputs = [f"[{v}]" if v in species and v in st["concentration"]
                   else f"amount({v})" if v in species else v for v in st["variables"]]
        df = simulate(model, start=st["start"] or 0.0, end=(st["start"] or 0.0) + st["duration"],
                      points=st["steps"] + 1, outputs=outputs, integrator=integrator,
                      check_finite=False)  # some expected results are INF or NaN
        header, exp = read_results(case_dir)
        exp = exp[:, [1 + header[1:].index(v) for v in st["variables"]]]  # column 0 is time
        sim = df.to_numpy(dtype=float)[:, 1:]
        if sim.shape != exp.shape:
            return "fail", f"shape {sim.shape} != {exp.shape}"
        bad = compare(sim, exp, st["absolute"], st["relative"])
        return ("pass", "") if bad == 0 else ("fail", f"{bad} points outside tolerance")
    except Exception as exc:
        return _failure(exc)


def case_result(case_dir: Path, integrator=None) -> dict:
    """Run one case (its highest-level SBML file, loaded with :func:`workbench.load_model`,
    through :func:`simulate_case`); returns ``case, status (pass|fail|unsupported|error),
    reason, seconds``."""
    t0 = time.perf_counter()
    out = {"case": case_dir.name, "status": "error", "reason": "no SBML file", "seconds": 0.0}
    path = sbml_file(case_dir)
    if path is not None:
        try:
            model = load_model(path)
        except Exception as exc:
            out["status"], out["reason"] = _failure(exc)
        else:
            out["status"], out["reason"] = simulate_case(model, case_dir, integrator)
    out["seconds"] = time.perf_counter() - t0
    return out


def _worker(args):
    return case_result(*args)


def run_cases(suite_dir: Path, cases: Iterable[int], *, workers: int | None = None,
              integrator=None, progress: Callable[[dict], None] | None = None) -> list[dict]:
    """Run cases (numbers) of the suite in ``suite_dir`` on ``workers`` processes."""
    import concurrent.futures
    import multiprocessing

    dirs = [Path(suite_dir) / f"{c:05d}" for c in cases]
    workers = workers or os.cpu_count() or 1
    results = []
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        for r in pool.map(_worker, [(d, integrator) for d in dirs], chunksize=8):
            results.append(r)
            if progress:
                progress(r)
    return results
