"""The model gate: invalid SBML is refused with the element named, before libSBML
recurses or libRoadRunner builds (it used to segfault or give wrong numbers)."""

from __future__ import annotations

import math

import pytest

import workbench as wb
from workbench.core import model_gate
from workbench.errors import ModelCheckError, ModelLoadError

from .inputs_support import deep_sbml, refused, sbml

pytestmark = pytest.mark.robust("model gate")

DUP = sbml(extra_params='<parameter id="k" value="0.2" constant="true"/>')
UNDEF = sbml("<apply><times/><ci>kk</ci><ci>S</ci></apply>")
NOVAL_USED = sbml("<apply><times/><ci>u</ci><ci>S</ci></apply>",
                  '<parameter id="u" constant="true"/>')
NOVAL_UNUSED = sbml(extra_params='<parameter id="u" constant="true"/>')

# name, SBML text, exit code, what the message must name
CASES = [
    ("duplicate-id", DUP, 1, ["dup.xml", "'k'"]),
    ("deep-10000", deep_sbml(10_000), 2, ["deep.xml", "256 levels", "reaction 'r'",
                                          "--limit xml_depth"]),
    ("undefined-symbol", UNDEF, 1, ["'kk'"]),
    ("compartment-negative", sbml(size="-1"), 1, ["compartment c", "size -1"]),
    ("compartment-zero", sbml(size="0"), 1, ["compartment c", "size 0"]),
    ("parameter-nan", sbml(k="NaN"), 1, ["parameter k", "nan"]),
    ("parameter-inf", sbml(k="INF"), 1, ["parameter k", "inf"]),
    ("parameter-no-value-read", NOVAL_USED, 1, ["parameter u", "no value", "reaction r"]),
    ("entity-after-1MB", sbml().replace("<sbml ", "<!-- " + "x" * 1_100_000 + " -->\n"
                                        "<!DOCTYPE sbml [<!ENTITY a 'b'>]>\n<sbml ", 1),
     2, ["entities"]),
]


@pytest.mark.parametrize("verb", ["simulate", "validate", "info"])
@pytest.mark.parametrize("name,text,code,says", CASES, ids=[c[0] for c in CASES])
def test_invalid_sbml_refused(tmp_path, verb, name, text, code, says):
    fname = "deep.xml" if name.startswith("deep") else "dup.xml"
    f = tmp_path / fname
    f.write_text(text, encoding="utf-8")
    out = tmp_path / "out.csv"
    args = {"simulate": ["simulate", f, "--end", "10", "--points", "3", "-o", out],
            "validate": ["validate", f], "info": ["info", f]}[verb]
    says = [s for s in says if not (verb == "validate" and s.startswith("'"))]
    if verb == "validate" and code == 1:
        # validate lists the finding in its table (stdout) and exits 1
        from .inputs_support import record, run_cli

        rc, stdout, err, _ = run_cli(args, tmp_path)
        record("model gate", f"{verb}:{name}", rc=rc, traceback="Traceback" in err,
               crash=rc < 0, wrong_success=rc == 0 or "0 error(s)" in stdout,
               unclear_message="error" not in stdout)
        assert rc == 1 and "Traceback" not in err, err
        assert "0 error(s)" not in stdout and "error" in stdout
        return
    refused("model gate", f"{verb}:{name}", args, tmp_path, codes=(code,), says=says,
            inputs=[f], outputs=[out], timeout=90)


def test_validate_lists_every_gate_finding(tmp_path):
    for text, code, element in ((NOVAL_USED, 90101, "parameter u"),
                                (sbml(size="-1"), 90301, "compartment c"),
                                (sbml(k="NaN"), 90201, "parameter k")):
        df = wb.validate(text)
        row = df[df["code"] == code]
        assert len(row) == 1 and row.iloc[0]["severity"] == "error"
        assert row.iloc[0]["element"] == element
    df = wb.validate(DUP)
    assert (df["code"] == 10301).any()


def test_unread_parameter_without_value_warns_and_simulates(caplog):
    m = wb.load_model(NOVAL_UNUSED)
    assert [f.code for f in m.findings] == [90102]
    df = wb.simulate(m, end=10, points=3, outputs=["S"])
    # closed form: S = 10 exp(-0.1 t)
    assert df["S"].iloc[-1] == pytest.approx(10 * math.exp(-1.0), rel=1e-6)
    v = wb.validate(NOVAL_UNUSED)
    assert not (v["severity"] == "error").any()
    assert (v["code"] == 90102).any()


def test_nan_that_nothing_reads_is_not_refused():
    m = wb.load_model(sbml(extra_params='<parameter id="P" value="INF" constant="true"/>'))
    df = wb.simulate(m, end=1, points=2, outputs=["P", "S"], check_finite=False)
    assert df["P"].iloc[0] == math.inf
    assert df["S"].iloc[-1] == pytest.approx(10 * math.exp(-0.1), rel=1e-6)


def test_gate_errors_name_every_finding():
    with pytest.raises(ModelCheckError) as ei:
        wb.load_model(sbml(size="-1", k="NaN"))
    msg = str(ei.value)
    assert "compartment 'c'" in msg and "parameter 'k'" in msg
    assert {f.code for f in ei.value.findings} == {90201, 90301}


def test_depth_limit_is_adjustable(monkeypatch):
    text = deep_sbml(300)
    with pytest.raises(ModelLoadError, match="xml_depth"):
        wb.load_model(text)
    monkeypatch.setenv("WORKBENCH_LIMIT_XML_DEPTH", "1000")
    m = wb.load_model(text)
    assert wb.simulate(m, end=10, points=2, outputs=["S"])["S"].iloc[-1] == pytest.approx(
        10 * math.exp(-1.0), rel=1e-6)


def test_trial_build_turns_a_crash_into_a_finding(tmp_path, monkeypatch):
    """The child-process build: a libRoadRunner crash (here: an abort in the child)
    becomes an error finding, the verdict is cached, this process is unharmed."""
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(model_gate, "_VERDICTS", {})
    monkeypatch.setattr(model_gate, "_CHILD", "import os\nos.abort()\n")
    f = model_gate.trial_build(sbml(), "x.xml")
    assert f is not None and f.code == 90402 and "SIGABRT" in f.message
    monkeypatch.setattr(model_gate, "_CHILD", "raise SystemExit('should not run: cached')")
    assert model_gate.trial_build(sbml(), "x.xml").code == 90402  # cached verdict
    monkeypatch.undo()
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path))
    assert model_gate.trial_build(sbml(k="0.3"), "ok.xml") is None


def test_validate_zero_errors_means_it_builds():
    df = wb.validate(sbml())
    assert not (df["severity"] == "error").any()
    wb.simulate(sbml(), end=1, points=2)
