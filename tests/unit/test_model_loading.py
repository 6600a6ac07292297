"""Loading: Antimony and SBML strings and files, comp flattening, OMEX, element tables."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from workbench import load_model, simulate
from workbench.errors import ModelLoadError

SUB = """
model fast()
  compartment c = 2
  species S in c = 10
  k = 0.3
  J: S -> ; k*S
end
model slow()
  compartment c = 2
  species S in c = 10
  k = 0.1
  J: S -> ; k*S
end
model main()
  A: fast()
  B: slow()
end
"""


def comp_sbml() -> str:
    import antimony

    antimony.clearPreviousLoads()
    assert antimony.loadAntimonyString(SUB) >= 0
    return antimony.getCompSBMLString("main")


def test_comp_model_is_flattened_and_simulates_both_submodels():
    text = comp_sbml()
    assert "comp:submodel" in text
    m = load_model(text)
    assert m.flattened and "comp:submodel" in m.original_sbml
    ids = set(m.species.id)
    assert ids == {"A__S", "B__S"}
    df = simulate(m, end=5, points=6, outputs=["A__S", "B__S"])
    t = df.time.to_numpy()
    # SBML rates are amount/time: d[S]/dt = -k [S] / V, V = 2, so [S](t) = 10 exp(-k t / 2)
    assert df.A__S.to_numpy() == pytest.approx(10 * np.exp(-0.3 * t / 2), rel=1e-6)
    assert df.B__S.to_numpy() == pytest.approx(10 * np.exp(-0.1 * t / 2), rel=1e-6)


def test_comp_file_and_string_agree(tmp_path):
    f = tmp_path / "comp.xml"
    f.write_text(comp_sbml())
    a = simulate(load_model(f), end=5, points=6, outputs=["A__S"])
    b = simulate(load_model(f.read_text()), end=5, points=6, outputs=["A__S"])
    assert a.equals(b)


def test_sbml_levels_load(tmp_path):
    import libsbml

    m = load_model("model x\n compartment c = 1\n species S in c = 1\n S -> ; 0.5*S\nend")
    for level, version in [(2, 4), (3, 1), (3, 2)]:
        doc = libsbml.readSBMLFromString(m.original_sbml)
        assert doc.setLevelAndVersion(level, version, False)
        f = tmp_path / f"l{level}v{version}.xml"
        f.write_text(libsbml.writeSBMLToString(doc))
        df = simulate(load_model(f), end=2, points=3, outputs=["S"])
        assert df.S.iloc[-1] == pytest.approx(np.exp(-1.0), rel=1e-6)


def test_omex_master_is_loaded(tmp_path, onecomp_text):
    sbml = load_model(onecomp_text).original_sbml
    omex = tmp_path / "a.omex"
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<omexManifest xmlns="http://identifiers.org/combine.specifications/omex-manifest">'
        '<content location="." format="http://identifiers.org/combine.specifications/omex"/>'
        '<content location="./other.xml" format="http://identifiers.org/combine.specifications/sbml"/>'
        '<content location="./model.xml" format="http://identifiers.org/combine.specifications/sbml" '
        'master="true"/></omexManifest>')
    with zipfile.ZipFile(omex, "w") as z:
        z.writestr("manifest.xml", manifest)
        z.writestr("model.xml", sbml)
        z.writestr("other.xml", "<sbml/>")
    m = load_model(omex)
    assert m.format == "omex" and m.source.endswith("!model.xml")
    assert list(m.species.id) == ["Drug"]


def test_original_sbml_untouched_and_tables(onecomp_text):
    m = load_model(onecomp_text)
    assert m.original_sbml == m.sbml
    p = m.parameters.set_index("id")
    assert p.loc["CL", "value"] == 0.5 and p.loc["CL", "unit"] == "L/h"
    c = m.compartments.set_index("id")
    assert c.loc["central", "unit"] == "L"
    assert m.reactions.iloc[0]["formula"] == "CL * Drug"


def test_annotations_are_listed():
    m = load_model("""
    model a
      compartment c = 1
      species S in c = 1
      k = 1
      S -> ; k*S
      k isDescribedBy "http://identifiers.org/pubmed/123456"
    end""")
    ann = m.parameters.set_index("id").loc["k", "annotations"]
    assert ann == "bqbiol:isDescribedBy http://identifiers.org/pubmed/123456"


def test_invalid_antimony_string():
    with pytest.raises(ModelLoadError, match="invalid Antimony"):
        load_model("model x\n S -> ; k*\nend")
