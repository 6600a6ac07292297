#!/usr/bin/env python
"""03 - Which parameters matter, and how uncertain is the prediction?

On the TMDD antibody model (models/mab_tmdd.ant), 0.1 mg/kg IV: a Morris screen
over five parameters (each within a factor of 3 of its value, log-uniform) ranks
them by their effect on the peak receptor occupancy (morris.png); then the two
PK parameters, log-normal with CV 30 %, are propagated (Latin hypercube) into
5-50-95 % prediction bands of free drug and occupancy over four weeks (bands.png,
bands.csv). Sizes are reduced for a quick run; raise --trajectories and --n.

Usage: .venv/bin/python examples/03_sensitivity_uncertainty.py [--trajectories 8] [--n 48]
                                                                [--out out/examples/03]
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trajectories", type=int, default=8)
    ap.add_argument("--n", type=int, default=48)
    ap.add_argument("--out", default=str(ROOT / "out" / "examples" / "03"))
    a = ap.parse_args()
    import workbench as wb
    from workbench.analysis.plots import plot_bands, plot_indices

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    m = wb.load_model(ROOT / "models" / "mab_tmdd.ant")
    value = m.parameters.set_index("id")["value"]
    ids = ["CL", "Q", "kon", "kint", "R0"]
    space = wb.ParameterSpace(tuple(wb.ParameterRange(i, "loguniform", value[i] / 3,
                                                      value[i] * 3) for i in ids))
    dose = dict(target="L", mw="150 kDa", end="672 h", workers=1, progress=False)
    sens = wb.morris(m, space, "0.1 mg/kg iv", metrics=["max(RO)"],
                     trajectories=a.trajectories, seed=1, **dose)
    plot_indices(sens, out)
    print(sens.indices.sort_values("rank")[["parameter", "mu_star", "sigma", "rank"]]
          .to_string(index=False))
    unc = wb.build_uncertainty(m, params=["CL=lognormal,cv=0.3", "Q=lognormal,cv=0.3"])
    bands = wb.propagate(m, unc, "0.1 mg/kg iv", outputs=["Cfree", "RO"],
                         times=[0, 24, 168, 336, 504, 672], n=a.n, seed=1, **dose)
    bands.bands.to_csv(out / "bands.csv", index=False)
    plot_bands(bands, out / "bands.png")
    print(f"wrote morris.png, bands.csv and bands.png to {out}")


if __name__ == "__main__":
    main()
