"""Small PEtab v1 problems written into a directory, for tests with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

#: exponential decay with an initial assignment: A(t) = a0 exp(-k t); `unused` changes nothing
DECAY_ANTIMONY = """
model decay
  compartment cell = 1;
  species A in cell;
  A = a0;
  J1: A -> ; k*A;
  a0 = 10; k = 0.3; unused = 1;
end
"""

#: A stays at a0 (no reaction): the simulation is exact, the likelihood has a closed form
CONSTANT_ANTIMONY = """
model constant
  compartment cell = 1;
  species A in cell;
  A = a0;
  a0 = 5;
end
"""


def write_problem(d: Path, antimony: str, *, observables: list[dict], measurements: list[dict],
                  parameters: list[dict], conditions: list[dict] | None = None,
                  omit: tuple[str, ...] = ()) -> Path:
    """Write a PEtab v1 problem (tables as given) and return its YAML path."""
    from workbench import load_model

    d.mkdir(parents=True, exist_ok=True)
    (d / "model.xml").write_text(load_model(antimony).sbml)
    conditions = conditions or [{"conditionId": "c0"}]
    tables = {"observables.tsv": observables, "measurements.tsv": measurements,
              "parameters.tsv": parameters, "conditions.tsv": conditions}
    for name, rows in tables.items():
        if name in omit:
            continue
        pd.DataFrame(rows).to_csv(d / name, sep="\t", index=False)
    yaml = d / "problem.yaml"
    yaml.write_text(
        "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n"
        "- condition_files: [conditions.tsv]\n  measurement_files: [measurements.tsv]\n"
        "  observable_files: [observables.tsv]\n  sbml_files: [model.xml]\n")
    return yaml


def decay_problem(d: Path, *, a0: float = 10.0, k: float = 0.3, sigma: float = 0.3,
                  seed: int = 1, n: int = 16, scale_estimated: bool = False) -> Path:
    """Noisy data of A(t) = a0 exp(-k t) observed as scale * A (scale = 1).

    Estimated: a0, k (log10), sigma (log10); with ``scale_estimated`` also
    ``scale`` (then only scale * a0 is identifiable).
    """
    rng = np.random.default_rng(seed)
    t = np.linspace(0.25, 10.0, n)
    y = a0 * np.exp(-k * t) + rng.normal(0.0, sigma, n)
    meas = [{"observableId": "obs_A", "simulationConditionId": "c0", "time": float(ti),
             "measurement": float(yi), "observableParameters": "scale",
             "noiseParameters": "sigma"} for ti, yi in zip(t, y, strict=True)]
    obs = [{"observableId": "obs_A", "observableFormula": "observableParameter1_obs_A * A",
            "noiseFormula": "noiseParameter1_obs_A", "observableTransformation": "lin",
            "noiseDistribution": "normal"}]
    pars = [
        {"parameterId": "a0", "parameterScale": "log10", "lowerBound": 0.1, "upperBound": 1000,
         "nominalValue": a0, "estimate": 1},
        {"parameterId": "k", "parameterScale": "log10", "lowerBound": 1e-3, "upperBound": 10,
         "nominalValue": k, "estimate": 1},
        {"parameterId": "sigma", "parameterScale": "log10", "lowerBound": 1e-3,
         "upperBound": 100, "nominalValue": sigma, "estimate": 1},
        {"parameterId": "scale", "parameterScale": "log10", "lowerBound": 1e-2,
         "upperBound": 100, "nominalValue": 1.0, "estimate": int(scale_estimated)},
    ]
    return write_problem(d, DECAY_ANTIMONY, observables=obs, measurements=meas, parameters=pars)

#: A' = p - k A: steady state p / k; with p = 0 afterwards A(t) = A_ss exp(-k t)
TURNOVER_ANTIMONY = """
model turnover
  compartment cell = 1;
  species A in cell;
  A = 0;
  J1: -> A; p;
  J2: A -> ; k*A;
  p = 1; k = 0.5;
end
"""
