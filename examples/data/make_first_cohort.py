"""Generate ``cd3_first_cohort.csv``, the illustrative first-cohort data of the README's
``check-data`` examples (run once; the output is committed).

SYNTHETIC DATA for the documentation only: no patient was dosed. Six subjects of a
first cohort given 1 ug/kg iv of the CD3 bispecific of ``models/cd3_bispecific.ant``
(MW 150 kDa, 70 kg), each with its own CD3 off-rate ``koff_CD3`` drawn from the
distribution the README's ``uncertainty`` example gives it (log-normal, median = the
model value 19.66 1/h [Betts 2019], CV 50 %), simulated with the model and observed
with a 10 % log-normal error (sd of ln = 0.1): CD3 receptor occupancy RO_CD3 (-) and
plasma IL-6 (pg/mL) at 2, 24 and 72 h, one subject per row group.
Generator: numpy default_rng(20261203) (the off-rates first, then the errors).

Since these data come from the distribution the example's prediction band
describes, most observations should fall inside the 90 % band; the example shows
the check, not evidence about any drug.

Run from the repository root: ``.venv/bin/python examples/data/make_first_cohort.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

import workbench as wb

HERE = Path(__file__).resolve().parent
MODEL = HERE.parents[1] / "models" / "cd3_bispecific.ant"
REGIMEN, TIMES = "1 ug/kg iv", [2.0, 24.0, 72.0]


def main() -> None:
    rng = np.random.default_rng(20261203)
    m = wb.load_model(MODEL)
    koff0 = float(m.parameters.set_index("id").loc["koff_CD3", "value"])
    sd = math.sqrt(math.log(1 + 0.5**2))
    koffs = koff0 * np.exp(rng.normal(0.0, sd, 6))
    rows = []
    for i, k in enumerate(koffs, start=1):
        df = wb.simulate(m, REGIMEN, target="Drug", mw="150 kDa", times=[0.0, *TIMES],
                         outputs=["RO_CD3", "IL6"], parameters={"koff_CD3": float(k)})
        for out, unit in (("RO_CD3", ""), ("IL6", "pg/mL")):
            for t in TIMES:
                v = float(df.loc[df.time == t, out].iloc[0]) * math.exp(rng.normal(0.0, 0.1))
                rows.append({"subject": f"S{i:02d}", "regimen": REGIMEN, "output": out,
                             "time": t, "time_unit": "h", "value": float(f"{v:.6g}"),
                             "unit": unit})
    pd.DataFrame(rows).to_csv(HERE / "cd3_first_cohort.csv", index=False)


if __name__ == "__main__":
    main()
