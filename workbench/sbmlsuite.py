"""Run the SBML semantic test suite through the workbench (software verification).

Each case folder ``NNNNN`` holds ``NNNNN-settings.txt`` (start, duration, steps,
variables, absolute/relative tolerances, which species are amounts or
concentrations), ``NNNNN-results.csv`` and the model in several SBML levels.
A case is loaded with :func:`workbench.load_model` (highest level and version),
simulated with :func:`workbench.simulate` and compared point by point by the
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

__all__ = ["case_result", "compare", "read_results", "read_settings", "run_cases"]

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


def _pick(case_dir: Path) -> Path | None:
    for lv in _LEVELS:
        p = case_dir / f"{case_dir.name}-sbml-{lv}.xml"
        if p.exists():
            return p
    return None


def case_result(case_dir: Path, integrator=None) -> dict:
    """Run one case; returns ``case, status (pass|fail|unsupported|error), reason, seconds``."""
    from . import load_model, simulate
    from .errors import UnsupportedFeatureError, WorkbenchError

    t0 = time.perf_counter()
    out = {"case": case_dir.name, "status": "error", "reason": "", "seconds": 0.0}
    try:
        st = read_settings(case_dir)
        path = _pick(case_dir)
        if path is None:
            out["reason"] = "no SBML file"
            return out
        m = load_model(path)
        species = set(m.species["id"])
        outputs = [f"[{v}]" if v in species and v in st["concentration"]
                   else f"amount({v})" if v in species else v for v in st["variables"]]
        if st["duration"] is None or not st["steps"]:
            from ._engine import unsupported_features

            bad = unsupported_features(m.sim_document)
            out.update(status="unsupported" if bad else "error",
                       reason=f"unsupported: {bad[0][0]}" if bad else "no time course")
            return out
        df = simulate(m, start=st["start"] or 0.0, end=(st["start"] or 0.0) + st["duration"],
                      points=st["steps"] + 1, outputs=outputs, integrator=integrator,
                      check_finite=False)  # some expected results are INF or NaN
        header, exp = read_results(case_dir)
        exp = exp[:, [1 + header[1:].index(v) for v in st["variables"]]]  # column 0 is time
        sim = df.to_numpy(dtype=float)[:, 1:]
        if sim.shape != exp.shape:
            out.update(status="fail", reason=f"shape {sim.shape} != {exp.shape}")
            return out
        bad = compare(sim, exp, st["absolute"], st["relative"])
        out.update(status="pass" if bad == 0 else "fail",
                   reason="" if bad == 0 else f"{bad} points outside tolerance")
    except UnsupportedFeatureError as exc:
        out.update(status="unsupported", reason=str(exc).split(": ", 1)[-1])
    except WorkbenchError as exc:
        out.update(status="error", reason=str(exc)[:300])
    except Exception as exc:  # a crash is a finding, not a stop
        out.update(status="error", reason=f"{type(exc).__name__}: {exc}"[:300])
    finally:
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
