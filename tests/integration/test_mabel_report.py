"""The main job end to end on a reduced setting: study -> QSP MABEL -> decision -> report."""

import re
from html.parser import HTMLParser

import pytest

from workbench.cli import main
from workbench.report.render import SECTIONS


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.h2, self.imgs, self._in_h2 = set(), [], 0, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "id" in a:
            self.ids.add(a["id"])
        if tag == "img" and a.get("src", "").startswith("data:image/png;base64,"):
            self.imgs += 1
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data)
            self._in_h2 = False


def test_mabel_pipeline_reduced(tmp_path, capsys):
    out = tmp_path / "mabel"
    assert main(["mabel", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "starting dose:" in printed and "report:" in printed
    assert "virtual patients reaching 'IL-6 doubling (at least 10 pg/mL)' at the start:" in printed
    p = _Ids()
    p.feed((out / "report.html").read_text(encoding="utf-8"))
    assert p.ids == {k for k, _ in SECTIONS}
    assert p.h2 == [t for _, t in SECTIONS]
    html = (out / "report.html").read_text(encoding="utf-8")
    # static PNG (verification, MABEL, spread, population) + interactive Plotly (profiles,
    # dose-response, ladder) + the Graphviz SVG diagram (a PNG fallback without Graphviz)
    assert p.imgs >= 4 and html.count('class="plotly-graph-div"') >= 3
    assert p.imgs + html.count('class="plotly-graph-div"') + html.count("<svg") >= 8
    pypdf = pytest.importorskip("pypdf")
    r = pypdf.PdfReader(str(out / "report.pdf"))
    # every section is a bookmark of the PDF (headings of the HTML the PDF is printed from)

    def titles(outline):
        for o in outline:
            yield from (titles(o) if isinstance(o, list) else [o.title])

    assert {t for _, t in SECTIONS} <= set(titles(r.outline))
    text = "".join(pg.extract_text() for pg in r.pages)
    for _, title in SECTIONS:
        assert title.split(" ", 1)[1][:20] in text, title
    html = (out / "report.html").read_text(encoding="utf-8")
    var = html[html.index("<h2>12. Alternative"):html.index("<h2>13. Virtual")]
    assert "base model" in var and "Largest relative change against the base model" in var
    for name in ("no T-cell refractoriness", "no target-cell killing", "no CD3 internalisation"):
        assert name in var, name
    pop = html[html.index("<h2>13. Virtual population"):html.index("<h2>14. Traditional")]
    assert "Share of virtual patients whose effect reaches" in pop and "<img" in pop
    assert "uncertainty and variability" in pop
    assert "at adjacent ladder levels: overlap of the 90 % intervals" in pop
    title = dict(SECTIONS)

    def section(key: str) -> str:  # the HTML of one report section
        a = html.index(f"<section id='{key}'>")
        return html[a:html.index("</section>", a)]

    pkg = section("package")
    listed = re.findall(r"<li>(.*?)</li>", pkg)
    assert {"model.xml", "provenance.csv", "simulation.sedml", "archive.omex"} <= set(listed)
    assert all((out / "package" / f).is_file() for f in listed)
    sw = section("software")
    for name in ("workbench", "libRoadRunner", "libSBML", "NumPy", "SciPy", "pandas", "SALib",
                 "matplotlib", "pint", "PyYAML", "tellurium", "Python", "platform"):
        assert f"<td>{name}</td>" in sw, name
    # the MABEL chart shows the value the decision uses (decision.statistic), read from the
    # HTML and from the decision table
    import pandas as pd

    dec = pd.read_csv(out / "decision.csv").set_index("item")
    chart = re.search(r"QSP MABEL \(selected, median\): ([0-9.eE+-]+) ug/kg", html)
    assert chart is not None
    assert float(chart.group(1)) == pytest.approx(dec.loc["QSP MABEL (selected)", "value"],
                                                  rel=1e-5)
    # the cumulative margin is the product of its steps and the nominal MABEL / start
    margin = pd.read_csv(out / "cumulative_margin.csv")
    cm = dec.loc["cumulative margin", "value"]
    assert cm == pytest.approx(margin["value"].prod(), rel=1e-9)
    assert cm == pytest.approx(dec.loc["QSP MABEL: CD3 occupancy 10 %", "value"]
                               / dec.loc["starting dose", "value"], rel=1e-9)
    # measurable effect (assay LLOQ) and priors beside candidates in the report
    mab = section("mabel")
    assert "NOT MEASURABLE" not in mab and "Elecsys" in mab
    assert "Priors beside their candidates" in html and "comparison" in html
    # the ladder stays within the study's dose range and max_dose, and below the risk limit
    lad = pd.read_csv(out / "escalation_ladder.csv")
    assert lad["dose"].max() <= 10000 and (lad["fold_from_previous"].dropna() <= 3.16 + 1e-9).all()
    # sensitivity at the QSP MABEL and every ladder level; variants on the decision quantities
    sens = section("sensitivity")
    assert "QSP MABEL" in sens and "ladder level 1" in sens and "ladder level 2" in sens
    assert "stated maximum of N" in sens
    assert "Decision quantities per variant" in var and "first level effect" in var  # headers: spaces, units
    # step-up: the bundled model has T-cell refractoriness and target-cell killing, so
    # priming is modelled and the schedules are ranked, with a figure per step
    su = section("stepup")
    assert title["stepup"] in su and "Priming is modelled" in su and "<img" in su
    assert "teclistamab pattern 1:5:25, days 1/4/7" in su
    # every command the report names is a verb of the command line
    from workbench.cli import build_parser

    verbs = set(next(a for a in build_parser()._actions if a.dest == "command").choices)
    named = set(re.findall(r"workbench ([a-z][a-z-]*)", html)) - {"mabel_population"}
    assert "refine" in named and named <= verbs, named - verbs
    for f in ("stepup_schedules.csv", "stepup_administrations.csv", "variant_decisions.csv",
              "sensitivity_levels_sobol.csv", "sensitivity_levels_local.csv", "population_mabel.csv", "population_reach.csv", "population_subjects.csv",
              "population_exposure_overlap.csv",
              "population_mabel.png", "dose_response.png",
              "decision.csv", "escalation_ladder.csv", "qsp_mabel.csv", "package/archive.omex",
              "priors.csv", "cumulative_margin.csv", "start_tradeoff.csv",
              "package/model.xml", "package/provenance.csv"):
        assert (out / f).exists(), f


def test_variant_comparison_base_row_matches_the_qsp_mabel():
    """The study runs the variants against the base model: the base model's dose for the
    IL-6 threshold (grid + Brent in workbench.variants) equals the nominal QSP MABEL of the
    same effect (a different search on a different output grid in workbench.qsp_mabel)."""
    from workbench.analysis.variants import Variant, compare_variants, read_variants
    from workbench.mabel.qsp import qsp_mabel
    from workbench.study.pipeline import BASE_VARIANT, BUNDLED_STUDY
    from workbench.study.schema import read_study

    st = read_study(BUNDLED_STUDY)
    d = st.data["drug"]
    common = dict(target=d["species"], mw=d["mw"], end="672 h")
    q = qsp_mabel(st.model, ["max(IL6) >= 1.2 x baseline"], dose_range=("0.001 ug/kg",
                                                                           "1 ug/kg"),
                  grid_points=7, points=200, **common).estimates[0]
    vc = compare_variants(st.model, [Variant(BASE_VARIANT),
                                     *read_variants(st.data["model"]["variants"])],
                          reference=BASE_VARIANT, dose_for={"max(IL6)": q.threshold},
                          dose_range=("0.001 ug/kg", "1 ug/kg"), grid_points=7, points=400,
                          **common)
    t = vc.table.set_index("variant")
    assert t.loc[BASE_VARIANT, "value"] == pytest.approx(q.dose, rel=2e-3)
    assert t.loc[BASE_VARIANT, "rel_diff"] == 0
    # without refractoriness, activated T cells accumulate: the threshold is reached earlier
    assert t.loc["no T-cell refractoriness", "value"] < q.dose


def test_equations_keep_stoichiometries():
    """Section 3 writes each reaction as its SBML says: stoichiometries 11 and 2.1 stay
    11 and 2.1, 1 is left out; rules and initial assignments follow."""
    from workbench.core.model import load_model
    from workbench.report.render import _equations

    m = load_model("""model stoich
  compartment c = 1
  species A in c = 1, B in c = 0, X in c = 0
  k = 0.1
  k2 := 2 * k
  k3 = 3 * k
  Z = 0
  R1: 11 A -> 2.1 B + X; k * A
  R2: B => ; k2 * B
  Z' = k3
  Y := A + B
end""")
    eq = _equations(m)
    assert "R1: 11 A <-> 2.1 B + X;  v = k * A" in eq   # Antimony "->" is reversible
    assert "R2: B -> ∅;  v = k2 * B" in eq
    assert {"k2 := 2 * k", "dZ/dt = k3", "Y := A + B", "k3(0) = 3 * k"} <= set(eq)
