#!/usr/bin/env python
"""Speed cost of candidate CVODE settings on ordinary pharmacology-style models.

Usage: .venv/bin/python scripts/integrator_bench.py [--repeat 20]

Models (Antimony -> SBML via the `antimony` module that ships with tellurium):
  pk_oral   1-compartment oral PK, 28 daily doses by events, linear elimination
  pk2_pd    2-compartment IV-bolus PK (q12h doses), indirect-response PD (Emax)
  tmdd      full TMDD (fast binding: stiff), weekly dosing for 12 weeks
  transit   20-compartment transit-absorption chain + Michaelis-Menten elimination
Each is simulated on a fine output grid (hourly) and a coarse grid (daily), for each
integrator profile; reported: median wall time per simulate() (after reset()).
"""
from __future__ import annotations

import argparse
import statistics
import time

import antimony
import numpy as np
import roadrunner

MODELS = {
    "pk_oral": ("""
        model pk_oral
          compartment Vc = 20;
          species Agut in Vc; species C in Vc; // C is a concentration (mg/L)
          Agut = 0; C = 0;
          substanceOnly species Agut;
          J_abs: Agut => C; ka*Agut
          J_el:  C => ; CL*C
          ka = 1.2; CL = 3.5; dose = 100
          E: at (time >= tnext), t0=false: Agut = Agut + dose, tnext = tnext + 24;
          tnext = 0
        end""", 672.0),
    "pk2_pd": ("""
        model pk2_pd
          compartment Vc = 10; compartment Vp = 40;
          species Cc in Vc = 0; species Cp in Vp = 0;
          J_el: Cc => ; CL*Cc
          J_d:  Cc -> Cp; Q*(Cc - Cp)
          CL = 2; Q = 5; dose = 50
          R' = kin*(1 - Emax*Cc/(EC50 + Cc)) - kout*R
          R = 10; kin = 1; kout = 0.1; Emax = 0.9; EC50 = 0.5
          E: at (time >= tnext), t0=false: Cc = Cc + dose/Vc, tnext = tnext + 12;
          tnext = 0
        end""", 336.0),
    "tmdd": ("""
        model tmdd
          compartment V = 3;
          species L in V = 0; species R in V = 10; species P in V = 0;
          J_on:  L + R -> P; kon*L*R - koff*P
          J_el:  L => ; kel*L
          J_syn: => R; ksyn
          J_deg: R => ; kdeg*R
          J_int: P => ; kint*P
          kon = 100; koff = 0.1; kel = 0.01; ksyn = 1; kdeg = 0.1; kint = 0.05; dose = 300
          E: at (time >= tnext), t0=false: L = L + dose/V, tnext = tnext + 168;
          tnext = 0
        end""", 2016.0),
    "transit": ("""
        model transit
          compartment V = 30;
          species A0 in V; species A1 in V; species A2 in V; species A3 in V; species A4 in V;
          species A5 in V; species A6 in V; species A7 in V; species A8 in V; species A9 in V;
          species A10 in V; species A11 in V; species A12 in V; species A13 in V; species A14 in V;
          species A15 in V; species A16 in V; species A17 in V; species A18 in V; species A19 in V;
          species C in V;
          A0 = 50; A1 = 0; A2 = 0; A3 = 0; A4 = 0; A5 = 0; A6 = 0; A7 = 0; A8 = 0; A9 = 0;
          A10 = 0; A11 = 0; A12 = 0; A13 = 0; A14 = 0; A15 = 0; A16 = 0; A17 = 0; A18 = 0; A19 = 0;
          C = 0;
          T0: A0 -> A1; ktr*A0;   T1: A1 -> A2; ktr*A1;   T2: A2 -> A3; ktr*A2;
          T3: A3 -> A4; ktr*A3;   T4: A4 -> A5; ktr*A4;   T5: A5 -> A6; ktr*A5;
          T6: A6 -> A7; ktr*A6;   T7: A7 -> A8; ktr*A7;   T8: A8 -> A9; ktr*A8;
          T9: A9 -> A10; ktr*A9;  T10: A10 -> A11; ktr*A10; T11: A11 -> A12; ktr*A11;
          T12: A12 -> A13; ktr*A12; T13: A13 -> A14; ktr*A13; T14: A14 -> A15; ktr*A14;
          T15: A15 -> A16; ktr*A15; T16: A16 -> A17; ktr*A16; T17: A17 -> A18; ktr*A17;
          T18: A18 -> A19; ktr*A18; T19: A19 -> C; ktr*A19;
          Jel: C => ; V*Vmax*C/(Km + C)
          ktr = 5; Vmax = 0.2; Km = 0.5
        end""", 96.0),
}

#: the first profile is the reference of the "x default" column
PROFILES = {
    "rr default (rtol 1e-6, no max step)": dict(stiff=True, max_div=None),
    "rtol 1e-6, max_step = interval/5": dict(stiff=True, max_div=5),
    "rtol 1e-7, max_step = interval/5": dict(stiff=True, max_div=5, rtol=1e-7),
    "rtol 1e-8, no max step": dict(stiff=True, max_div=None, rtol=1e-8),
    "rtol 1e-8, max_step = interval/5": dict(stiff=True, max_div=5, rtol=1e-8),
    "rtol 1e-9, max_step = interval/5": dict(stiff=True, max_div=5, rtol=1e-9),
    "rtol 1e-10, max_step = interval/5": dict(stiff=True, max_div=5, rtol=1e-10),
    "rtol 1e-8, fixed max_step = 0.02": dict(stiff=True, fixed=0.02, rtol=1e-8),
    "non-stiff, rtol 1e-6, no max step": dict(stiff=False, max_div=None),
}


def to_sbml(ant: str) -> str:
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(ant) < 0:
        raise RuntimeError(antimony.getLastError())
    return antimony.getSBMLString(antimony.getMainModuleName())


def bench(rr, end, points, prof, repeat):
    integ = rr.integrator
    integ.setValue("stiff", prof["stiff"])
    integ.setValue("relative_tolerance", prof.get("rtol", 1e-6))
    integ.setValue("absolute_tolerance", 1e-12)
    interval = end / (points - 1)
    if prof.get("fixed"):
        integ.setValue("maximum_time_step", prof["fixed"])
    else:
        integ.setValue("maximum_time_step", interval / prof["max_div"] if prof["max_div"] else 0.0)
    times, last = [], None
    for _ in range(repeat):
        rr.resetAll()
        t = time.perf_counter()
        try:
            last = np.asarray(rr.simulate(0, end, points))
        except Exception as e:
            return float("nan"), f"ERROR {str(e).splitlines()[0][:60]}"
        times.append(time.perf_counter() - t)
    return statistics.median(times), last


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()
    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_ERROR)
    print(f"{'model':9s} {'grid':6s} {'profile':36s} {'ms/sim':>8s} {'x default':>9s} {'max rel dev':>11s}")
    for name, (ant, end) in MODELS.items():
        rr = roadrunner.RoadRunner(to_sbml(ant))
        for grid, points in (("hourly", int(end) + 1), ("daily", int(end / 24) + 1)):
            # a tight reference solution for the deviation column
            rr.integrator.setValue("stiff", True)
            rr.integrator.setValue("relative_tolerance", 1e-12)
            rr.integrator.setValue("absolute_tolerance", 1e-16)
            rr.integrator.setValue("maximum_time_step", 0.0)
            rr.integrator.setValue("maximum_num_steps", 10**6)
            rr.resetAll()
            ref = np.asarray(rr.simulate(0, end, points))
            rr.integrator.setValue("maximum_num_steps", 20000)
            for pname, prof in PROFILES.items():
                t, out = bench(rr, end, points, prof, a.repeat)
                if pname == next(iter(PROFILES)):
                    base_t = t  # NaN when the default itself fails
                if isinstance(out, str):
                    print(f"{name:9s} {grid:6s} {pname:36s} {out}")
                    continue
                scale = np.maximum(np.abs(ref), 1e-6 * np.abs(ref).max(axis=0) + 1e-12)
                dev = float(np.max(np.abs(out - ref) / scale))
                print(f"{name:9s} {grid:6s} {pname:36s} {t * 1e3:8.2f} {t / base_t:9.2f} {dev:11.2e}")
        print()


if __name__ == "__main__":
    main()
