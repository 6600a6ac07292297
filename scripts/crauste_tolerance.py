"""Crauste PEtab problem: largest relative error of the observables against the problem's own
simulated data, per relative tolerance (why the default is 1e-11; README, Numerical accuracy).

Usage: .venv/bin/python scripts/crauste_tolerance.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import IntegratorSettings
from workbench import columns as C
from workbench.calibrate.petab_objective import Objective
from workbench.calibrate.petab_problem import read_petab

D = Path(__file__).resolve().parents[1].parent / "shared" / "models-external" / \
    "petab-benchmark" / "Crauste_CellSystems2017"


def main() -> None:
    prob = read_petab(next(D.glob("*.yaml")))
    ref = pd.read_csv(next(D.glob("simulat*.tsv")), sep="\t")
    key = ["observableId", "simulationConditionId", "time"]
    b = ref.groupby(key)["simulation"].first()
    print("rtol\tatol\tmax rel. error\tseconds")
    for s in (IntegratorSettings(1e-8, 1e-12), IntegratorSettings(1e-10, 1e-12),
              IntegratorSettings(), IntegratorSettings(1e-13, 1e-16)):
        t = time.perf_counter()
        fit = Objective(prob, s).fit_table(prob.x_nominal)
        dt = time.perf_counter() - t
        a = fit.rename(columns={C.OBSERVABLE: key[0], C.CONDITION: key[1],
                                C.TIME: key[2]}).groupby(key)[C.SIMULATION].first()
        both = pd.concat([a, b], axis=1, keys=["ours", "ref"], join="inner")
        err = np.abs(both["ours"] - both["ref"]) / np.maximum(np.abs(both["ref"]), 1e-12)
        print(f"{s.relative_tolerance:g}\t{s.absolute_tolerance:g}\t{err.max():.3g}\t{dt:.2f}")


if __name__ == "__main__":
    main()
