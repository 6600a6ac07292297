"""Nominal log-likelihood of the shared PEtab benchmark problems vs published references.

References (independent implementations; llh = -nllh):

* AMICI, tests/benchmark-models/benchmark_models.yaml (AMICI-dev/AMICI, commit
  b76cc5e35bc4033c1eb5d16abbb2834edd426707): Boehm_JProteomeRes2014, Zheng_PNAS2012.
  Its entries for Brannmark (-2 llh), Crauste (sign), Bachmann, Raia and Schwen are
  marked "unchecked" or "does not match" there and are not used.
* PEtab.jl, published-models likelihood test (sebapersson/PEtab.jl, ``NLLH_MODELS``):
  Bachmann_MSB2011, Brannmark_JBC2010, Crauste_CellSystems2017, Schwen_PONE2014, Zheng.

Usage: .venv/bin/python scripts/bench_petab_llh.py [PROBLEM ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "models-external" / "petab-benchmark"

#: log-likelihood at the nominal parameters: (value, source)
REFERENCE_LLH = {
    "Bachmann_MSB2011": (418.40573341425295, "PEtab.jl"),
    "Boehm_JProteomeRes2014": (-138.22199693517703, "AMICI"),
    "Brannmark_JBC2010": (-141.889113770537, "PEtab.jl"),
    "Crauste_CellSystems2017": (-190.96521897435176, "PEtab.jl"),
    "Schwen_PONE2014": (-943.9992988598723, "PEtab.jl"),
    "Zheng_PNAS2012": (278.33353271001477, "AMICI, PEtab.jl"),
}


def main(names: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from workbench.petab_objective import Objective
    from workbench.petab_problem import read_petab

    print("problem\tllh\treference_llh\trel_diff\tseconds\tsource")
    for name in names or sorted(REFERENCE_LLH):
        yaml = next((BENCH / name).glob("*.yaml"))
        t0 = time.perf_counter()
        obj = Objective(read_petab(yaml))
        llh = -obj.nllh(obj.problem.x_nominal)
        dt = time.perf_counter() - t0
        ref, source = REFERENCE_LLH[name]
        print(f"{name}\t{llh:.6f}\t{ref:.6f}\t{abs(llh - ref) / abs(ref):.2e}\t{dt:.2f}\t{source}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
