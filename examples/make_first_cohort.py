#!/usr/bin/env python
"""Write examples/first_cohort.csv: a SYNTHETIC first cohort of the bundled CD3 study.

Usage: .venv/bin/python examples/make_first_cohort.py [--out examples/first_cohort.csv]

Not clinical data. Three virtual patients ("synthetic-01".."synthetic-03"), 70 kg,
a single IV bolus of 0.03 ug/kg of the bundled bispecific (MW 150 kDa), simulated
from models/cd3_bispecific.ant at the model's own parameter values (no parameter
changed; the values of the provenance table), with a log-normal residual error of
SD 0.2 on ln(value), numpy seed 20261203. Observed: total drug in the central
compartment (Ctot, nM) and IL-6 (pg/mL) at 0.5, 2, 6, 24, 72, 168 and 336 h.
Values below the limit of quantification are reported empty with their limit in
the lloq column: Ctot 0.002 nM (0.3 ng/mL at 150 kDa, a sensitive ligand-binding
PK assay; ASSUMED), IL-6 1.5 pg/mL (a high-sensitivity immunoassay; ASSUMED).

Use: workbench refine studies/cd3_bispecific.yaml --data examples/first_cohort.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261203
DOSE = "0.03 ug/kg iv"
TIMES = (0.5, 2.0, 6.0, 24.0, 72.0, 168.0, 336.0)
LLOQ = {"Ctot": (0.002, "nM"), "IL6": (1.5, "pg/mL")}
SD_LOG = 0.2


def main() -> None:
    import numpy as np
    import pandas as pd

    import workbench as wb

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "examples" / "first_cohort.csv"))
    a = ap.parse_args()
    m = wb.load_model(ROOT / "models" / "cd3_bispecific.ant")
    df = wb.simulate(m, DOSE, target="Drug", mw="150 kDa", times=[0.0, *TIMES],
                     outputs=list(LLOQ))
    rng = np.random.default_rng(SEED)
    rows = []
    for k in range(1, 4):
        for out, (lloq, unit) in LLOQ.items():
            for t in TIMES:
                true = float(df.loc[df["time"] == t, out].iloc[0])
                y = true * float(np.exp(SD_LOG * rng.standard_normal()))
                rows.append({"subject": f"synthetic-{k:02d}", "regimen": DOSE, "output": out,
                             "time": t, "time_unit": "h",
                             "value": f"{y:.4g}" if y >= lloq else "", "unit": unit,
                             "lloq": lloq})
    pd.DataFrame(rows).to_csv(a.out, index=False)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
