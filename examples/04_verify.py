#!/usr/bin/env python
"""04 - Verify the model's behaviour before trusting its doses.

Runs the behaviour checks of workbench.verify on the TMDD antibody model
(models/mab_tmdd.ant; drug into L, effect and occupancy RO): a drug-free
baseline at steady state, dose-response that rises and plateaus, occupancy near 1
at high doses, no negative amounts, mass balance, the answer unchanged with
tighter solver settings, and dose proportionality at low doses. The dose grid is
reduced (5 doses, 4 weeks) and the stochastic check skipped for a quick run.
Writes verification.csv (one row per check: status, value, limit, evidence) and
one figure per check.

Usage: .venv/bin/python examples/04_verify.py [--out out/examples/04]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "out" / "examples" / "04"))
    a = ap.parse_args()
    import workbench as wb
    from workbench.verify import VerifyOptions

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    opts = VerifyOptions(dose_range=("0.001 mg/kg", "30 mg/kg"), n_doses=5, points=97,
                         stochastic=False)
    res = wb.verify(ROOT / "models" / "mab_tmdd.ant", drug="L", effect="RO",
                    occupancy="RO", mw="150 kDa", options=opts)
    table = res.to_frame()
    table.to_csv(out / "verification.csv", index=False)
    print(table[["check", "status", "value", "limit", "unit"]].to_string(index=False))
    print(f"all checks passed: {res.passed}; wrote {out / 'verification.csv'}")
    return 0 if res.passed else 1


if __name__ == "__main__":
    sys.exit(main())
