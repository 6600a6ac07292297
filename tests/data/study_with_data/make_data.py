"""Generate the data of the test study ``study.yaml`` (run once; the outputs are committed).

Model: ``tests/data/onecomp_binding.ant`` (V = 5 L, CL = 0.5 L/h, Kd = 2 nM), whose
closed form is used here, so the data do not come from the workbench's simulator:

    C(t) = D / V exp(-CL / V t)   [nM, D in nmol]
    RO(t) = C(t) / (C(t) + Kd)    [-]

Doses are in ug/kg for a 70 kg subject of a 150 kDa drug (the study's drug), so
D [nmol] = dose [ug/kg] x 70 kg x 1000 / 150000 g/mol.

``observed.csv`` (validation, workbench.check_data table): 30 subjects given
100 ug/kg iv, each with its own clearance drawn from the study's uncertainty
distribution (CL lognormal, median 0.5 L/h, CV 30 %, i.e. sd of ln CL =
sqrt(ln(1 + 0.3^2))); one sampling time per subject (12, 24 or 36 h, in turn),
Drug (nM) and RO (-) observed with a 5 % log-normal error (sd of ln = 0.05).
Generator: numpy default_rng(20260) (subjects' CL first, then the errors).
Since the data come from the distribution the study's 90 % prediction band
describes, about 90 % of the subjects should fall inside it (the small residual
error lowers that a little).

``petab/`` (calibration, PEtab v1): the nominal model at 30 and 300 ug/kg
(conditions ``low``, ``high``: initial Drug concentration D / V), Drug and RO at
1, 4, 8, 16, 24 and 36 h with a log-normal error (observableTransformation log,
sigma 0.1 on ln), generator default_rng(20261). Estimated: CL and Kd (log10),
true values 0.5 L/h and 2 nM; the parameter table's nominal values (CL 0.3,
Kd 5) stand for the literature values before calibration.

Run from the repository root: ``.venv/bin/python tests/data/study_with_data/make_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
V, CL, KD = 5.0, 0.5, 2.0
MW, WEIGHT = 150000.0, 70.0


def nmol(dose_ug_per_kg: float) -> float:
    return dose_ug_per_kg * WEIGHT * 1000.0 / MW


def conc(dose_ug_per_kg: float, cl, t):
    return nmol(dose_ug_per_kg) / V * np.exp(-np.asarray(cl) / V * np.asarray(t, dtype=float))


def validation_data() -> pd.DataFrame:
    rng = np.random.default_rng(20260)
    n = 30
    cl = CL * np.exp(rng.normal(0.0, np.sqrt(np.log(1 + 0.3 ** 2)), n))
    times = np.array([12.0, 24.0, 36.0])[np.arange(n) % 3]
    c = conc(100.0, cl, times)
    ro = c / (c + KD)
    err = np.exp(rng.normal(0.0, 0.05, (2, n)))
    rows = []
    for i in range(n):
        for out, val, unit in (("Drug", c[i] * err[0, i], "nM"), ("RO", ro[i] * err[1, i], "")):
            rows.append({"subject": f"S{i + 1:02d}", "regimen": "100 ug/kg iv", "output": out,
                         "time": times[i], "time_unit": "h", "value": float(f"{val:.6g}"),
                         "unit": unit})
    return pd.DataFrame(rows)


def petab_problem() -> None:
    from workbench import load_model

    d = HERE / "petab"
    d.mkdir(exist_ok=True)
    (d / "model.xml").write_text(load_model(HERE.parent / "onecomp_binding.ant").sbml)
    rng = np.random.default_rng(20261)
    t = np.array([1.0, 4.0, 8.0, 16.0, 24.0, 36.0])
    meas = []
    for cond, dose in (("low", 30.0), ("high", 300.0)):
        c = conc(dose, CL, t)
        for obs, y in (("obs_Drug", c), ("obs_RO", c / (c + KD))):
            noisy = y * np.exp(rng.normal(0.0, 0.1, len(t)))
            meas += [{"observableId": obs, "simulationConditionId": cond, "time": ti,
                      "measurement": float(f"{yi:.6g}")} for ti, yi in zip(t, noisy, strict=True)]
    pd.DataFrame(meas).to_csv(d / "measurements.tsv", sep="\t", index=False)
    pd.DataFrame([{"conditionId": "low", "conditionName": "30 ug/kg iv",
                   "Drug": float(f"{conc(30.0, CL, 0.0):.10g}")},
                  {"conditionId": "high", "conditionName": "300 ug/kg iv",
                   "Drug": float(f"{conc(300.0, CL, 0.0):.10g}")}]
                 ).to_csv(d / "conditions.tsv", sep="\t", index=False)
    pd.DataFrame([{"observableId": o, "observableFormula": f, "noiseFormula": 0.1,
                   "observableTransformation": "log", "noiseDistribution": "normal"}
                  for o, f in (("obs_Drug", "Drug"), ("obs_RO", "RO"))]
                 ).to_csv(d / "observables.tsv", sep="\t", index=False)
    pd.DataFrame([{"parameterId": "CL", "parameterScale": "log10", "lowerBound": 0.01,
                   "upperBound": 10, "nominalValue": 0.3, "estimate": 1},
                  {"parameterId": "Kd", "parameterScale": "log10", "lowerBound": 0.01,
                   "upperBound": 100, "nominalValue": 5, "estimate": 1}]
                 ).to_csv(d / "parameters.tsv", sep="\t", index=False)
    (d / "problem.yaml").write_text(
        "format_version: 1\nparameter_file: parameters.tsv\nproblems:\n"
        "- condition_files: [conditions.tsv]\n  measurement_files: [measurements.tsv]\n"
        "  observable_files: [observables.tsv]\n  sbml_files: [model.xml]\n")


if __name__ == "__main__":
    validation_data().to_csv(HERE / "observed.csv", index=False)
    petab_problem()
