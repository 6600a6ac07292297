"""PEtab benchmark problems: the nominal log-likelihood equals published reference values,
and simulations equal the collection's own simulated data.

References (independent implementations):

* AMICI, tests/benchmark-models/benchmark_models.yaml (AMICI-dev/AMICI, commit
  b76cc5e35bc4033c1eb5d16abbb2834edd426707): llh of Boehm_JProteomeRes2014 and
  Zheng_PNAS2012;
* PEtab.jl, the published-models likelihood test (sebapersson/PEtab.jl,
  ``NLLH_MODELS``; older versions test/Test_ll.jl): nllh of Bachmann_MSB2011,
  Brannmark_JBC2010, Crauste_CellSystems2017, Schwen_PONE2014 (with its prior,
  12.519137073132825), Zheng_PNAS2012.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import PETAB_BENCH, require

from workbench import columns as C
from workbench.petab_objective import Objective
from workbench.petab_problem import read_petab

#: negative log-likelihood at the nominal parameters: (value, source)
REFERENCE_NLLH = {
    "Boehm_JProteomeRes2014": (138.22199693517703, "AMICI"),
    "Zheng_PNAS2012": (-278.33353271001477, "AMICI; PEtab.jl"),
    "Brannmark_JBC2010": (141.889113770537, "PEtab.jl"),
    "Crauste_CellSystems2017": (190.96521897435176, "PEtab.jl"),
    "Schwen_PONE2014": (943.9992988598723, "PEtab.jl"),
    "Bachmann_MSB2011": (-418.40573341425295, "PEtab.jl"),
}
SLOW = {"Bachmann_MSB2011"}


def _objective(name: str) -> Objective:
    d = require(PETAB_BENCH / name)
    return Objective(read_petab(next(d.glob("*.yaml"))))


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n
                                  for n in REFERENCE_NLLH])
def test_nominal_nllh_matches_reference(name):
    obj = _objective(name)
    ref, _ = REFERENCE_NLLH[name]
    assert obj.nllh(obj.problem.x_nominal) == pytest.approx(ref, rel=1e-3)
    # in practice far closer (Crauste, the stiffest, within 1e-5)
    assert obj.nllh(obj.problem.x_nominal) == pytest.approx(ref, rel=2e-5)


def test_prior_matches_reference():
    obj = _objective("Schwen_PONE2014")
    assert obj.neglogprior(obj.problem.x_nominal) == pytest.approx(12.519137073132825, rel=1e-9)


def _compare_simulated(name: str, rel: float) -> None:
    d = require(PETAB_BENCH / name)
    obj = Objective(read_petab(next(d.glob("*.yaml"))))
    fit = obj.fit_table(obj.problem.x_nominal)
    ref = pd.read_csv(next(d.glob("simulat*.tsv")), sep="\t")
    key = ["observableId", "simulationConditionId", "time"]
    ours = fit.rename(columns={C.OBSERVABLE: key[0], C.CONDITION: key[1], C.TIME: key[2]})
    a = ours.groupby(key)[C.SIMULATION].first()
    b = ref.groupby(key)["simulation"].first()
    both = pd.concat([a, b], axis=1, keys=["ours", "ref"], join="inner")
    assert len(both) == len(a)
    err = np.abs(both["ours"] - both["ref"]) / np.maximum(np.abs(both["ref"]), 1e-12)
    assert err.max() < rel, both[err >= rel]


@pytest.mark.parametrize("name", [
    "Boehm_JProteomeRes2014",       # observable formulas of species
    "Brannmark_JBC2010",            # pre-equilibration, condition values
    "Bertozzi_PNAS2020",            # condition-specific parameter ids, parameter initial assignments
    "Laske_PLOSComputBiol2019",     # species initial values per condition, log observables
    "Liu_IFACPapersOnLine2025",     # events, rate rules, noise formula of the simulation
    "Schwen_PONE2014",              # 4 observable parameters per measurement, log10
])
def test_simulations_match_collection(name):
    _compare_simulated(name, 1e-4)


@pytest.mark.slow
def test_simulations_match_collection_bachmann():
    _compare_simulated("Bachmann_MSB2011", 1e-4)  # 36 conditions, numeric overrides
