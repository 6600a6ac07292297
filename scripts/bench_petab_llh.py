"""Nominal log-likelihood of the shared PEtab benchmark problems vs published references.

References (independent implementations: AMICI and PEtab.jl) are read from
tests/data/petab_reference_nllh.csv, which cites them (llh = -nllh).

Usage: .venv/bin/python scripts/bench_petab_llh.py [PROBLEM ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "models-external" / "petab-benchmark"

REFERENCES = ROOT / "tests" / "data" / "petab_reference_nllh.csv"


def main(names: list[str]) -> int:
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from workbench.calibrate.petab_objective import Objective
    from workbench.calibrate.petab_problem import read_petab

    refs = pd.read_csv(REFERENCES, comment="#", index_col="problem")
    print("problem\tllh\treference_llh\trel_diff\tseconds\tsource")
    for name in names or sorted(refs.index):
        yaml = next((BENCH / name).glob("*.yaml"))
        t0 = time.perf_counter()
        obj = Objective(read_petab(yaml))
        llh = -obj.nllh(obj.problem.x_nominal)
        dt = time.perf_counter() - t0
        ref, source = -refs.at[name, "nllh"], refs.at[name, "source"]
        print(f"{name}\t{llh:.6f}\t{ref:.6f}\t{abs(llh - ref) / abs(ref):.2e}\t{dt:.2f}\t{source}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
