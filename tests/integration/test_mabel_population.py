"""QSP MABEL in a virtual population against closed forms.

Model tests/data/onecomp_binding.ant: one-compartment IV drug, simple binding,
RO = C / (C + Kd); peak occupancy at t = 0 with C0 = D / V. For a per-kg dose
``d`` (nmol/kg) given to a subject of weight WT and volume V, C0 = d WT / V, so
the dose reaching 10 % occupancy is d = (Kd / 9) V / WT, subject by subject.
"""

import math

import numpy as np
import pytest

from workbench import columns as C
from workbench.analysis.uncertainty import build_uncertainty
from workbench.core.dosing import Subject
from workbench.core.model import load_model
from workbench.errors import SpecError
from workbench.mabel.decision import DecisionSettings
from workbench.mabel.ladder import escalation_ladder
from workbench.mabel.population import (
    PopulationSpec,
    joint_samples,
    population_mabel,
    reach_by_level,
    study_population,
)
from workbench.mabel.qsp import dose_response

MODEL = "tests/data/onecomp_binding.ant"
RUN = dict(dose_range=("0.0001 nmol/kg", "10 nmol/kg"), grid_points=9, route="iv",
           target="Drug", end="24 h", points=20)
SPEC = PopulationSpec(n=24, seed=3, bsv={"central": 0.3}, volumes=("central",))


@pytest.fixture(scope="module")
def m():
    return load_model(MODEL)


@pytest.fixture(scope="module")
def result(m):
    unc = build_uncertainty(m, params=["Kd=lognormal,cv=0.5"])
    return population_mabel(m, ["max(RO) >= 0.10"], SPEC, uncertainty=unc, dose_unit="nmol/kg",
                            subject=Subject(weight=70.0), **RUN)


def test_per_subject_mabel_equals_closed_form(result):
    pop = result.population.table
    v, wt = pop["central"].to_numpy(), pop[C.WEIGHT].to_numpy()
    # allometry on the volume and a per-kg dose cancel: only the eta of V is left
    assert np.ptp(wt) > 10 and np.std(np.log(v / wt)) > 0.1
    e = result.variability.estimates[0]
    assert e.n_samples == SPEC.n and e.n_not_reached == 0
    expected = 2.0 / 9.0 * v / wt
    np.testing.assert_allclose(e.per_sample[C.DOSE].to_numpy(), expected, rtol=2e-3)
    assert e.median == pytest.approx(np.percentile(expected, 50, method="nearest"), rel=2e-3)
    assert e.dose == pytest.approx(2.0 / 9.0 * 5.0 / 70.0, rel=1e-4)  # nominal 70 kg subject


def test_joint_mabel_pairs_subjects_with_uncertainty_draws(result):
    pop = result.population.table
    js = result.joint_samples
    # central: no uncertainty, so the subject's own volume; Kd: the paired draw
    np.testing.assert_allclose(js["central"], pop["central"], rtol=1e-12)
    np.testing.assert_allclose(js[C.DOSE_SCALE], pop[C.WEIGHT] / 70.0, rtol=1e-12)
    assert js["Kd"].nunique() == len(js)
    e = result.joint.estimates[0]
    expected = js["Kd"].to_numpy() / 9.0 * pop["central"].to_numpy() / pop[C.WEIGHT].to_numpy()
    np.testing.assert_allclose(e.per_sample[C.DOSE].to_numpy(), expected, rtol=2e-3)
    assert result.for_decision is result.joint
    assert result.joint.settings["distribution"].startswith("parameter uncertainty and")
    frame = result.to_frame()
    assert list(frame.columns) == list(C.MABEL_DISTRIBUTION_COLUMNS)
    assert set(frame[C.SPREAD]) == {"population variability", "uncertainty and variability"}


def test_joint_samples_multiply_typical_values_by_the_subject_ratio(m):
    pop = study_population(m, PopulationSpec(n=6, seed=1, bsv={"central": 0.2, "CL": 0.3}))
    import pandas as pd

    unc = pd.DataFrame({"CL": np.linspace(0.4, 0.9, 6), "Kd": np.linspace(1, 3, 6)})
    js = joint_samples(m, pop, unc, "nmol", Subject())
    np.testing.assert_allclose(js["CL"], unc["CL"] * pop.table["CL"] / 0.5, rtol=1e-12)
    np.testing.assert_allclose(js["central"], pop.table["central"], rtol=1e-12)
    np.testing.assert_allclose(js["Kd"], unc["Kd"], rtol=1e-12)
    assert (js[C.DOSE_SCALE] == 1.0).all()   # flat dose: no size scaling
    with pytest.raises(SpecError, match="uncertainty draws"):
        joint_samples(m, pop, unc.head(3), "nmol", Subject())


def test_share_reaching_the_effect_by_level(m, result):
    js = result.joint_samples
    expected_mabel = js["Kd"].to_numpy() / 9.0 * js["central"].to_numpy() / \
        result.population.table[C.WEIGHT].to_numpy()
    import pandas as pd

    doses = np.sort(expected_mabel)[[3, 12, 20]] * 1.01   # between subjects' MABELs
    ladder = pd.DataFrame({C.DOSE: doses})
    pred = dose_response(m, ["max(RO)"], doses, "nmol/kg", samples=js, route="iv",
                         target="Drug", subject=Subject(weight=70.0), end="24 h", points=20)
    reach = reach_by_level(result.joint, ladder, pred, levels=3, dose_unit="nmol/kg")
    assert list(reach.columns) == list(C.REACH_COLUMNS)
    for (_, row), d in zip(reach.iterrows(), doses, strict=True):
        n_expected = int(np.sum(expected_mabel <= d))
        assert row[C.N_REACHED] == n_expected
        assert row[C.PROBABILITY] == pytest.approx(n_expected / len(js))
        assert row[C.CI_LOW] <= row[C.PROBABILITY] <= row[C.CI_HIGH]
    # no starting dose, no ladder: empty tables (no simulation)
    none = pd.DataFrame({C.DOSE: []})
    pred = dose_response(m, ["max(RO)"], none[C.DOSE], "nmol/kg", samples=js, target="Drug")
    assert reach_by_level(result.joint, none, pred, dose_unit="nmol/kg").empty


def test_ladder_guided_on_the_upper_percentile(m):
    """Each model-guided step keeps the rise of the 95th percentile of RO below the limit,
    computed here from the closed form RO = C0 / (C0 + Kd) over the same samples."""
    unc = build_uncertainty(m, params=["Kd=lognormal,cv=0.8"])
    samples = unc.with_model(m).sample(40, seed=2)
    kd = samples["Kd"].to_numpy()
    run = dict(route="iv", target="Drug", end="24 h", points=20)
    kw = dict(effect="max(RO)", exposure="max(Drug)", samples=samples, effect_span=1.0, **run)
    up = escalation_ladder(m, 0.05, "nmol", settings=DecisionSettings(
        escalation="model-guided", guide="upper", steps=5, max_increase=0.1), **kw)
    nom = escalation_ladder(m, 0.05, "nmol", settings=DecisionSettings(
        escalation="model-guided", guide="nominal", steps=5, max_increase=0.1), **kw)

    def ro_upper(d):
        c0 = d / 5.0
        return float(np.percentile(c0 / (c0 + kd), 95))

    d = up[C.DOSE].to_numpy()
    grid = np.geomspace(d[0], d[-1] * 1.01, 400)
    run_max = np.maximum.accumulate([ro_upper(x) for x in grid])

    def m_at(x):
        return float(np.interp(np.log(x), np.log(grid), run_max))

    for a, b, rule in zip(d[:-1], d[1:], up[C.RULE].iloc[1:], strict=True):
        rise = m_at(b) - m_at(a)
        assert rise <= 0.1 * 1.1, (a, b, rise)
        if rule.startswith("running maximum"):  # at the limit up to the rounding down
            assert rise >= 0.1 * 0.8, (a, b, rise)
    assert up[C.DOSE].iloc[-1] < nom[C.DOSE].iloc[-1]   # the sensitive tail slows escalation
    with pytest.raises(SpecError, match="guide"):
        escalation_ladder(m, 0.05, "nmol", settings=DecisionSettings(
            escalation="model-guided", guide="top"), **kw)


def test_population_spec_errors(m):
    with pytest.raises(SpecError, match="not a parameter"):
        study_population(m, PopulationSpec(n=5, bsv={"nope": 0.3}))
    assert math.isfinite(PopulationSpec.from_dict({"n": 5, "bsv": {"CL": 0.3}}).bsv["CL"])


def test_exposure_overlap_between_levels(m, result):
    """Peak concentration is d WT / V per subject: proportional to the dose, so each
    level's interval is the previous one times the dose ratio, and the overlap of two
    intervals [a, b] and [r a, r b] is (b - r a) / (r b - a) (0 when r a >= b)."""
    import pandas as pd

    from workbench.mabel.population import overlap_by_level

    ladder = pd.DataFrame({C.DOSE: [0.01, 0.015, 0.1]})
    pred = dose_response(m, ["max(Drug)"], ladder[C.DOSE], "nmol/kg",
                         samples=result.joint_samples, route="iv", target="Drug",
                         subject=Subject(weight=70.0), end="24 h", points=20)
    ov = overlap_by_level(ladder, pred, "max(Drug)", dose_unit="nmol/kg")
    assert list(ov.columns) == list(C.OVERLAP_COLUMNS) and len(ov) == 3
    for _, row in ov.iterrows():
        lo_d, hi_d = (float(row[k].split()[0]) for k in (C.REGIMEN_LOW, C.REGIMEN_HIGH))
        ratio = hi_d / lo_d
        a, b = row[C.LOW_LOWER], row[C.LOW_UPPER]
        assert row[C.HIGH_LOWER] == pytest.approx(ratio * a, rel=1e-6)
        assert row[C.HIGH_UPPER] == pytest.approx(ratio * b, rel=1e-6)
        expected = max(0.0, b - ratio * a) / (ratio * b - a)
        assert row[C.INTERVAL_OVERLAP] == pytest.approx(expected, rel=1e-9)
    assert ov.iloc[0][C.INTERVAL_OVERLAP] > 0 and ov.iloc[1][C.INTERVAL_OVERLAP] == 0
    # the peak at t = 0 is d WT / V: the lower bound of the first level from the samples
    pop = result.population.table
    peak = 0.01 * pop[C.WEIGHT].to_numpy() / result.joint_samples["central"].to_numpy()
    assert np.quantile(peak, 0.05) == pytest.approx(ov.iloc[0][C.LOW_LOWER], rel=0.2)


def _with_local_parameters(m, values: dict):
    """``m`` with kinetic-law (local) parameters added to its elimination reaction (unused
    by the rate law, so the dynamics stay those of the closed form)."""
    import libsbml

    doc = libsbml.readSBMLFromString(m.sbml)
    kl = doc.getModel().getReaction("elimination").getKineticLaw()
    for pid, v in values.items():
        p = kl.createLocalParameter()
        p.setId(pid)
        p.setValue(v)
    return load_model(libsbml.writeSBMLToString(doc))


def test_typical_values_are_the_global_ones_not_kinetic_law_parameters(m):
    """A local parameter may share its id with a global one (SBML L3 scoping): the typical
    value of the subject ratio is the global value (Kd = 2), and an id that is only a
    local parameter cannot vary between subjects."""
    import pandas as pd

    m2 = _with_local_parameters(m, {"Kd": 99.0, "kloc": 1.0})
    assert (m2.parameters[C.ID] == "Kd").sum() == 2
    pop = study_population(m2, PopulationSpec(n=6, seed=1, bsv={"Kd": 0.3}))
    unc = pd.DataFrame({"Kd": np.linspace(1, 3, 6)})
    js = joint_samples(m2, pop, unc, "nmol", Subject())
    np.testing.assert_allclose(js["Kd"], unc["Kd"] * pop.table["Kd"] / 2.0, rtol=1e-12)
    with pytest.raises(SpecError, match="population: 'kloc' is not a parameter"):
        study_population(m2, PopulationSpec(n=6, bsv={"kloc": 0.3}))


def test_ladder_simulates_each_dose_once(m, monkeypatch):
    """The model-guided ladder runs the samples once per profile dose and once per level,
    and the nominal model at the levels only (guide = upper); with effect_span no wide
    grid is run."""
    from workbench.mabel.qsp import _Runner

    samples = build_uncertainty(m, params=["Kd=lognormal,cv=0.8"]).with_model(m).sample(
        16, seed=2)
    calls = []
    run = _Runner.run

    def counted(self, tab, dose, metrics):
        calls.append((self.regimen(dose) if dose else None, len(tab)))
        return run(self, tab, dose, metrics)

    monkeypatch.setattr(_Runner, "run", counted)
    lad = escalation_ladder(m, 0.05, "nmol", effect="max(RO)", exposure="max(Drug)",
                            samples=samples, effect_span=1.0, route="iv", target="Drug",
                            end="24 h", points=20, settings=DecisionSettings(
                                escalation="model-guided", guide="upper", steps=5,
                                max_increase=0.1))
    prof = lad.attrs["profile"]
    assert len(lad) == 5
    # the profile doses and the levels over the samples; the nominal model at the levels only
    assert sum(n == 16 for _, n in calls) == len(prof) + len(lad)
    assert sum(n == 1 for _, n in calls) == len(lad)
