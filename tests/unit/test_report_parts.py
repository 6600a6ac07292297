"""Parts of the report that need no study run: table headers with units, stage lines,
the per-kg / absolute dose of the summary, log-axis choice."""

import logging

import pandas as pd
import pytest

from workbench import columns as C
from workbench.report.html import display_table


def test_display_table_moves_single_units_into_headers():
    lad = pd.DataFrame({C.LADDER_LEVEL: [1, 2], C.DOSE: [0.1, 0.3], C.DOSE_UNIT: ["ug/kg"] * 2,
                        C.EXPOSURE: [1.0, 3.0], C.EXPOSURE_LOWER: [0.5, 1.0],
                        C.EXPOSURE_UNIT: ["nmol/L"] * 2, C.OCCUPANCY: [0.01, 0.03],
                        C.EFFECT: [5.2, 5.4], C.EFFECT_UNIT: ["pg/mL"] * 2})
    t = display_table(lad)
    assert list(t.columns) == ["dose level", "dose [ug/kg]", "exposure [nmol/L]",
                               "exposure lower [nmol/L]", "occupancy [-]", "effect [pg/mL]"]
    assert t.iloc[1].tolist() == ["2", "0.3", "3", "1", "0.03", "5.4"] or \
        t.iloc[1].tolist() == [2, "0.3", "3", "1", "0.03", "5.4"]
    # two different units: the unit column stays beside its values
    mixed = pd.DataFrame({C.METRIC: ["a", "b"], C.NOMINAL: [1.0, 2.0], "unit": ["nM", "pM"]})
    assert list(display_table(mixed).columns) == ["metric", "nominal", "unit"]


def test_stage_lines(caplog):
    from workbench.core.progress import Stages

    with caplog.at_level(logging.INFO, logger="workbench.progress"):
        with Stages(["load", "run", "write"], "demo", bar=False) as st:
            st.next()
            st.skip()        # "run" is not needed this time: the total shrinks
            st.next()
    msgs = [r.getMessage() for r in caplog.records if r.name == "workbench.progress"]
    assert msgs[:2] == ["[1/3] demo: load ...", "[2/2] demo: write ..."]
    assert msgs[2].startswith("demo: done in")


@pytest.mark.parametrize(("dose", "unit", "per_kg", "absolute"), [
    (0.5, "ug/kg", (0.5, "ug/kg"), (35.0, "ug")),
    (7.0, "mg", (0.1, "mg/kg"), (7.0, "mg")),
    (2.0, "nmol/kg", (2.0, "nmol/kg"), (140.0, "nmol")),
])
def test_per_kg_and_absolute(dose, unit, per_kg, absolute):
    from workbench.report.summary import _per_kg_and_absolute

    pk, ab = _per_kg_and_absolute(dose, unit, 70.0)
    assert pk[1] == per_kg[1] and pk[0] == pytest.approx(per_kg[0])
    assert ab[1] == absolute[1] and ab[0] == pytest.approx(absolute[0])


def test_log_axis_only_when_values_span_decades():
    from workbench.report.interactive import spans_decades

    assert spans_decades([1e-6, 1e-3, 1.0]) and not spans_decades([5.2, 6.0, 7.1])
    assert not spans_decades([0.0, 0.0]) and spans_decades([0.0, 1e-4, 1.0])
