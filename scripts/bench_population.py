#!/usr/bin/env python
"""Virtual-population speed: 1,000 subjects x 10 regimens of models/mab_tmdd.ant.

Usage: .venv/bin/python scripts/bench_population.py [--n 1000] [--workers 2] [--points 25]

Population: the generic adult covariates (workbench.analysis.population.ADULT_COVARIATES),
allometric CL, Q (exponent 0.75) and central, peripheral (1), between-subject
variability CL 30 %, central 25 %, R0 40 % (CL-central correlation 0.5).
Regimens: 10 dose levels/schedules, doses into L (150 kDa), flat, mg/kg and mg/m2,
q1w/q2w/q3w, with infusions. Metrics per subject: first-dose Cmax, steady-state
Cmax, Ctrough, AUC over the last interval of Cfree, trough and minimum RO.
Target: under 60 s on 2 cores (through workbench.run_ensemble, process pool).
Run it on an idle machine (other sessions share the cores).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "mab_tmdd.ant"
REGIMENS = [
    "0.03 mg/kg iv q1w x8", "0.1 mg/kg iv q1w x8", "0.3 mg/kg iv q1w x8", "1 mg/kg iv q1w x8",
    "3 mg/kg iv q2w x6", "10 mg/kg iv q3w x5", "70 mg iv q1w x8",
    "40 mg/m2 iv infusion 1 h q1w x8", "1 mg/kg iv then 0.3 mg/kg iv q1w x7",
    "1 mg/kg iv infusion 2 h q2w x6",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--points", type=int, default=25, help="output points per dosing interval")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    from workbench import load_model
    from workbench.analysis.population import Variability, allometric, sample_population
    from workbench.analysis.regimens import compare_regimens

    m = load_model(MODEL)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    pop = sample_population(m, a.n, seed=a.seed,
                            variability=Variability.from_cv({"CL": 0.3, "central": 0.25,
                                                             "R0": 0.4}, [("CL", "central", 0.5)]),
                            effects=allometric(["CL", "Q"], ["central", "peripheral"]))
    t1 = time.perf_counter()
    res = compare_regimens(m, pop, REGIMENS, exposure=["Cfree"], target="L", mw="150 kDa",
                           effects={"ro_trough": "value(RO, {end})",
                                    "ro_min_ss": "min(RO, {ss_start}, {end})"},
                           criteria=["ro_trough >= 0.9"], points=a.points, workers=a.workers,
                           progress=False)
    t2 = time.perf_counter()
    n_fail = int((res.subjects["status"] != "ok").sum())
    print(f"load average before: {load_before:.2f} (other sessions share the cores)")
    print(f"population: {a.n} subjects in {t1 - t0:.2f} s")
    print(f"{a.n} subjects x {len(REGIMENS)} regimens = {a.n * len(REGIMENS)} simulations "
          f"({a.points} points per interval, {a.workers} workers): {t2 - t1:.1f} s "
          f"({(t2 - t1) / (a.n * len(REGIMENS)) * 1e3:.2f} ms per simulation); failed: {n_fail}")
    print("target < 60 s:", "PASS" if t2 - t1 < 60 else "FAIL")
    pta = res.attainment[res.attainment["subgroup"] == "all"][["regimen", "probability"]]
    print(pta.to_string(index=False))


if __name__ == "__main__":
    main()
