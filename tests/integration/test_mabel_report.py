"""The main job end to end on a reduced setting: study -> QSP MABEL -> decision -> report."""

from html.parser import HTMLParser

import pytest

from workbench.cli import main
from workbench.report_render import SECTIONS


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
    p = _Ids()
    p.feed((out / "report.html").read_text(encoding="utf-8"))
    assert p.ids == {k for k, _ in SECTIONS}
    assert p.h2 == [t for _, t in SECTIONS]
    assert p.imgs >= 6     # diagram, verification, profiles, dose-response, MABEL, ladder, ...
    pypdf = pytest.importorskip("pypdf")
    r = pypdf.PdfReader(str(out / "report.pdf"))
    assert len(r.pages) >= len(SECTIONS)
    text = "".join(pg.extract_text() for pg in r.pages)
    for _, title in SECTIONS:
        assert title.split(" ", 1)[1][:20] in text, title
    for f in ("decision.csv", "escalation_ladder.csv", "qsp_mabel.csv", "package/archive.omex",
              "package/model.xml", "package/provenance.csv"):
        assert (out / f).exists(), f
