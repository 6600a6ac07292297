"""The bundled study's IL-6 tolerability limit has one justification, stated once.

A review found the 1000 pg/mL limit justified twice, differently: as "the range of first-dose
IL-6 peaks with CRS after CD3 bispecifics (Hosseini 2020)" beside ``risk_threshold`` and as "a
judgement value, not a clinical CRS threshold" beside ``stepup.limit``. Only the second is
true (no published IL-6 cut-off separates CRS grades), so the text must say that once.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

STUDY = Path(__file__).resolve().parents[2] / "studies" / "cd3_bispecific.yaml"


def test_il6_limit_has_one_cited_justification():
    text = STUDY.read_text()
    data = yaml.safe_load(text)
    assert float(data["decision"]["risk_threshold"]) == float(data["stepup"]["limit"]) == 1000
    comments = [ln.split("#", 1)[1] for ln in text.splitlines() if "#" in ln]
    blob = " ".join(comments)
    # exactly one statement of the reason, and it is the judgement-value one
    assert len(re.findall(r"judgement value", blob, re.I)) == 2  # the reason and its back-reference
    assert len(re.findall(r"JUDGEMENT VALUE of this study, not a clinical CRS threshold", blob)) == 1
    assert "see its reason there" in blob
    # the limit is never attributed to the mosunetuzumab IL-6 data (that paper sets IL6_Emax)
    near = re.findall(r"1,?000 pg/mL[^#]{0,200}", text)
    assert near and not any("Hosseini" in n for n in near)
    # the sources it does cite are named with a DOI
    assert "doi:10.1182/blood-2014-05-552729" in blob and "doi:10.1158/2159-8290.CD-16-0040" in blob
