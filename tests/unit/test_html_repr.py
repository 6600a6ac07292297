"""Result objects show a readable summary in Jupyter (``_repr_html_``)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from workbench.analysis.variants import Variant, compare_variants
from workbench.mabel.decision import Decision
from workbench.mabel.qsp import QspMabelResult
from workbench.study.pipeline import BUNDLED_STUDY, MabelRun

DATA = Path(__file__).resolve().parents[1] / "data"


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def _parse(html: str) -> tuple[str, list[str]]:
    p = _Text()
    p.feed(html)
    return " ".join(p.text), p.tags


def _decision():
    table = pd.DataFrame({"step": [1], "quantity": ["QSP MABEL <IL-6>"], "value": [0.3],
                          "unit": ["ug/kg"], "sentence": ["the lowest estimate"]})
    ladder = pd.DataFrame({"level": [1, 2], "dose": [0.1, 0.3], "dose_unit": ["ug/kg"] * 2})
    return Decision(table, 0.1, "ug/kg", ladder, "QSP MABEL of IL-6 / safety factor 3")


def test_decision_and_mabel_run_summaries():
    d = _decision()
    text, tags = _parse(d._repr_html_())
    assert "starting dose" in text and "0.1 ug/kg" in text and "safety factor 3" in text
    assert "QSP MABEL <IL-6>" in text            # escaped, so it survives as text
    assert "the lowest estimate" not in text      # long sentences stay in the report
    assert "table" in tags and "script" not in tags
    run = MabelRun(study=wb.read_study(BUNDLED_STUDY), model=None, provenance=None,
                   verification=None, uncertainty=None, qsp=None, minimal_active=None,
                   traditional=pd.DataFrame(), decision=d, profiles={}, local=None, sobol=None,
                   variants=None, population=None, archive=None,
                   notes={"reduced": "reduced run"}, seconds={"a": 1.0, "b": 2.0})
    text, _ = _parse(run._repr_html_())
    assert "MABEL run" in text and "0.1 ug/kg" in text and "REDUCED" in text and "3 s" in text


def test_analysis_result_summaries(onecomp_text):
    m = wb.load_model(onecomp_text)
    from workbench.analysis.sensitivity import ParameterSpace

    space = ParameterSpace.from_frame(pd.DataFrame(
        {"id": ["CL", "central"], "distribution": ["lognormal"] * 2, "fold": [2.0, 2.0]}))
    sens = wb.local_sensitivity(m, space, "100 nmol iv", metrics=["auc(Drug)"], target="Drug",
                                end=48, points=49)
    text, _ = _parse(sens._repr_html_())
    assert "Local sensitivity" in text and "CL" in text and "auc(Drug)" in text
    unc = wb.propagate(m, wb.build_uncertainty(m, params=["CL=lognormal,cv=0.3"]),
                       "100 nmol iv", metrics=["max(Drug)"], target="Drug", end=24, n=8,
                       workers=1)
    text, _ = _parse(unc._repr_html_())
    assert "Uncertainty propagation" in text and "samples 8" in text.replace("  ", " ")
    assert ("yes" if unc.converged else "NO") in text.split("converged (n/2 vs n)")[1][:6]
    var = compare_variants(m, [Variant("base"), Variant("slow", set={"CL": 0.25})],
                           regimens=["100 nmol iv"], metrics=["value(Drug, 10)"],
                           target="Drug")
    text, _ = _parse(var._repr_html_())
    assert "Model variants" in text and "slow" in text and "max_rel_diff" in text
    empty = QspMabelResult((), pd.DataFrame())
    assert "not reached" in _parse(empty._repr_html_())[0]


def test_long_tables_are_cut():
    from workbench.core._html_repr import summary_html

    html = summary_html("t", [("n", 1.23456789)], [("rows", pd.DataFrame({"x": range(40)}))])
    assert "1.235" in html and "28 more row(s)" in html
    assert html.count("<tr>") <= 1 + 1 + 12 + 1


@pytest.mark.parametrize("cls", ["SensitivityResult", "UncertaintyResult", "Decision",
                                 "MabelRun", "QspMabelResult", "VariantComparison"])
def test_result_classes_have_html_repr(cls):
    import importlib

    mods = [importlib.import_module(f"workbench.{m}") for m in
            ("analysis.sensitivity", "analysis.uncertainty", "mabel.decision", "study.pipeline",
             "mabel.qsp", "analysis.variants")]
    klass = next(getattr(m, cls) for m in mods if hasattr(m, cls))
    assert callable(getattr(klass, "_repr_html_", None))
