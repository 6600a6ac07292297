"""The report as a reviewer reads it: decision summary first (HTML and PDF), tables that
wrap rather than clip, a --quick banner, interactive figures without network access, a
legible model diagram, stage progress, and file modes from the umask."""

import dataclasses
import math
import os
import re
import stat
from html.parser import HTMLParser

import pytest

from workbench import columns as C
from workbench.cli import main
from workbench.report.html import display_table, report_document, weasyprint_problem
from workbench.report.render import SECTIONS

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.skipif(weasyprint_problem() is not None,
                                reason=str(weasyprint_problem()))


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One reduced study through the CLI (stderr is not a terminal: one line per stage)."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("rep") / "mabel"
    err, so = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(so):
        assert main(["mabel", "--quick", "--out", str(out)]) == 0
    reader = pypdf.PdfReader(str(out / "report.pdf"))
    pages = [pg.extract_text() for pg in reader.pages]
    return out, (out / "report.html").read_text(encoding="utf-8"), pages, err.getvalue()


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "id" in a:
            self.ids.append(a["id"])


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_decision_summary_is_the_first_section_of_html_and_pdf(quick):
    out, html, pages, _ = quick
    p = _Sections()
    p.feed(html)
    assert p.ids[0] == "summary" and p.ids == [k for k, _ in SECTIONS]
    first = html[html.index("<section id='summary'>"):html.index("</section>")]
    dec = __import__("pandas").read_csv(out / "decision.csv")
    start = float(dec.loc[dec["item"] == "starting dose", "value"].iloc[0])
    # per kg and absolute for the 70 kg reference subject of the bundled study
    assert f"{start:.4g} ug/kg = {start * 70:.4g} ug for the 70 kg reference subject" in first
    for what in ("Basis", "Cumulative safety margin", "Minimal effect reached at the starting "
                 "dose", "Model-risk gaps"):
        assert what in first, what
    # page 1 of the PDF: the summary, and no other section yet (the contents follow)
    assert "Decision summary" in pages[0] and f"{start * 70:.4g} ug" in pages[0]
    assert "Question of interest" not in pages[0] and "Contents" in pages[1]
    # the contents give every section with its page number
    for _, title in SECTIONS:
        assert re.search(re.escape(_flat(title)) + r"\.*\d+", _flat(pages[1])), title


def test_cumulative_margin_is_the_nominal_mabel_over_the_start(quick):
    """The product of the cautionary steps telescopes to (nominal QSP MABEL of the
    primary effect) / (starting dose); the nominal MABELs are read from qsp_mabel.csv,
    not from the decision table the margin is computed from. The report states the
    decision's own margin."""
    import pandas as pd

    from workbench.report.summary import cumulative_margin_from_table

    out, html, _, _ = quick
    dec = pd.read_csv(out / "decision.csv")
    q = pd.read_csv(out / "qsp_mabel.csv")
    start = float(dec.loc[dec["item"] == "starting dose", "value"].iloc[0])
    nominal = q.loc[q["dose"] > 0, "dose"].astype(float)
    # the table-only chain starts at the lowest nominal MABEL
    margin, steps = cumulative_margin_from_table(dec)
    assert margin == pytest.approx(nominal.min() / start, rel=1e-9)
    assert {"safety factor: severity", "safety factor: novelty"} <= set(steps["step"])
    # the decision's chain starts at the primary effect (the first one, by default)
    cm = float(dec.loc[dec["item"] == "cumulative margin", "value"].iloc[0])
    assert cm == pytest.approx(float(nominal.iloc[0]) / start, rel=1e-6)
    assert f"{cm:.3g}-fold below the nominal QSP MABEL of" in html


def test_margin_of_a_hand_made_decision_table():
    """Statistic 2x, lowest estimate 1.5x, safety factors 3 and 2, rounding 1.02x."""
    import pandas as pd

    from workbench.report.summary import cumulative_margin_from_table

    rows = [("QSP MABEL: a", 12.0, ""), ("QSP MABEL: b", 30.0, ""),
            ("QSP MABEL (selected)", 6.0, ""), ("traditional: x", 4.0, ""), ("MABEL", 4.0, ""),
            ("safety factor: severity", 3.0, ""), ("safety factor: novelty", 2.0, ""),
            ("dose after safety factors", 4 / 6, ""), ("starting dose", 0.65, "")]
    t = pd.DataFrame([{C.STEP: i + 1, C.ITEM: a, C.VALUE: v, C.UNIT: "ug/kg", C.RULE: r,
                       C.SENTENCE: ""} for i, (a, v, r) in enumerate(rows)])
    margin, steps = cumulative_margin_from_table(t)
    assert margin == pytest.approx(12.0 / 0.65)
    assert list(steps["factor"]) == pytest.approx([2.0, 1.5, 3.0, 2.0, (4 / 6) / 0.65])
    t.loc[t[C.ITEM] == "starting dose", C.VALUE] = math.nan
    assert math.isnan(cumulative_margin_from_table(t)[0])


def test_pdf_ladder_table_keeps_every_column(quick):
    import pandas as pd

    out, _, pages, _ = quick
    lad = pd.read_csv(out / "escalation_ladder.csv")
    text = _flat("".join(pages))
    shown = display_table(lad).columns
    for col in shown:
        assert _flat(col) in text, col
    # every quantity of the ladder, with its unit in the header
    for col in (C.OCCUPANCY, C.OCCUPANCY_UPPER, C.EFFECT, C.EFFECT_UPPER, C.EXPOSURE_LOWER):
        assert any(s.startswith(col.replace("_", " ") + " [") for s in shown), col
    assert f"effect [{lad[C.EFFECT_UNIT].iloc[0]}]" in shown
    # the largest value of the IL-6 column is printed too (no clipped right edge)
    assert f"{lad[C.EFFECT_UPPER].max():.4g}" in text


def test_quick_banner_in_html_and_pdf_and_not_without_quick(quick):
    from workbench.report.summary import DecisionSummary

    _, html, pages, _ = quick
    assert "id='quick-banner'" in html and "INDICATIVE ONLY" in pages[0]
    sm = DecisionSummary(1.0, "ug/kg", (1.0, "ug/kg"), (70.0, "ug"), 70.0, "QSP MABEL", 6.0,
                         __import__("pandas").DataFrame(columns=["step", "factor"]),
                         "the nominal QSP MABEL", [], [], None)

    class _Run:
        study = type("S", (), {"name": "s", "data": {"title": "t"}})()

    doc = report_document(_Run(), [("summary", "Decision summary")],
                          {"summary": [("summary", sm)]}, {}, sm, interactive=False)
    assert "INDICATIVE ONLY" not in doc and "70 ug for the 70 kg reference subject" in doc
    doc = report_document(_Run(), [("summary", "Decision summary")],
                          {"summary": [("summary", dataclasses.replace(sm, reduced="n <= 8"))]},
                          {}, sm, interactive=False)
    assert "INDICATIVE ONLY (--quick): n &lt;= 8" in doc


def test_html_is_interactive_and_offline(quick):
    _, html, _, _ = quick
    # plotly.js inlined exactly once; no script or stylesheet from the network
    assert len(re.findall(r"\* plotly\.js v\d", html)) == 1
    assert not re.findall(r"<script[^>]*\bsrc=", html) and "<link" not in html
    for div in ("fig-profiles", "fig-dose-response", "fig-ladder", "dose-slider",
                "slider-profile", "slider-effect"):
        assert f"id=\"{div}\"" in html or f"id='{div}'" in html, div
    # hover texts carry units
    assert re.search(r"dose %\{x:\.4g\} ug(/|\\u002f)kg", html) and "pg" in html
    # the model diagram is Graphviz SVG (when dot is present) with the activation chain
    from workbench.report.diagram import have_graphviz

    if have_graphviz():
        model = html[html.index("<section id='model'>"):html.index("<section id='equations'>")]
        assert "<svg" in model and "Stim" in model and "Tact" in model


def test_stage_lines_on_stderr(quick):
    *_, err = quick
    lines = [ln for ln in err.splitlines() if re.match(r"workbench: \[\d+/\d+\] mabel: ", ln)]
    n = int(re.match(r"workbench: \[\d+/(\d+)\]", lines[0]).group(1))
    assert len(lines) == n >= 8
    assert lines[0].endswith("verification ...") and "report (HTML and PDF)" in lines[-1]


def test_outputs_follow_the_umask(quick):
    out, *_ = quick
    old = os.umask(0o022)
    os.umask(old)
    for name in ("report.html", "report.pdf", "decision.csv", "dose_response.png"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~old, name


def test_atomic_write_mode_under_another_umask(tmp_path):
    from workbench.core._io import atomic_write_text

    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o640


def test_diagram_draws_activation_and_release():
    from workbench.core.model import load_model
    from workbench.report.diagram import diagram_figure, diagram_graph
    from workbench.study.pipeline import BUNDLED_STUDY
    from workbench.study.schema import read_study

    m = load_model(read_study(BUNDLED_STUDY).model)
    g = diagram_graph(m)
    nodes = dict(g.nodes)
    dashed = {(a, b) for a, b, k in g.edges if k == "modifier"}
    # (bundled study on models/cd3_platform.ant) blood trimer -> synapses per T cell ->
    # stimulus -> activated blood T cells -> all activated T cells -> IL-6 release
    assert {("Trimer_b", "Syn_b"), ("Syn_b", "Stim_b"), ("Stim_b", "TaB"), ("TaB", "Ta_all")} <= dashed
    assert any(a == "Ta_all" and (b == "IL6_nM" or b.startswith("reaction:")) for a, b in dashed)
    assert nodes["TaB"] == "state" and nodes["Drug"] == "species"
    # binding is mass flow: Drug and CD3 into one reaction, Drug_CD3 out of it
    flows = {(a, b) for a, b, k in g.edges if k == "flow"}
    rx = {b for a, b in flows if a == "Drug"} & {b for a, b in flows if a == "CD3_b"}
    assert any((r, "Drug_CD3_b") in flows for r in rx)
    # constants derived from parameters alone (baselines) are not drawn
    assert "TB0" not in nodes and "KD_CD3" not in nodes
    fig = diagram_figure(m)  # the fallback without Graphviz draws the same graph
    __import__("matplotlib.pyplot").pyplot.close(fig)
