"""CLI: `workbench provenance`, `workbench provenance lint`, `workbench export`; bad input
gives every finding at once, exit 1 (2 for unreadable files), and writes nothing."""

from __future__ import annotations

import re
import shutil
import zipfile

import pandas as pd
import pytest
from conftest import DATA, MODELS

from workbench import read_provenance
from workbench.cli import main

GOOD = DATA / "onecomp.ant"


def run(capsys, *args):
    code = main([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def one_paragraph(err: str) -> None:
    # stage progress lines ("workbench: [1/3] verb: stage ...") may precede the error
    err = "".join(ln for ln in err.splitlines(True) if not re.match(r"workbench: \[\d+/\d+\] ", ln))
    assert "Traceback" not in err
    assert err.startswith("workbench: error:")
    assert len(err.strip().splitlines()) == 1, err


def test_template_and_lint(tmp_path, capsys):
    out = tmp_path / "prov.xlsx"
    code, _, err = run(capsys, "provenance", GOOD, "-o", out)
    assert code == 0, err
    assert read_provenance(out)["id"].tolist() == ["central", "Drug", "CL"]
    code, stdout, _ = run(capsys, "provenance", GOOD)
    assert code == 0 and stdout.startswith("kind,id,scope,name,chosen,value,unit")
    code, stdout, _ = run(capsys, "provenance", "lint", GOOD, out)
    assert code == 0 and "0 error(s)" in stdout
    code, stdout, _ = run(capsys, "provenance", "lint", MODELS / "cd3_bispecific.ant",
                          MODELS / "cd3_bispecific.provenance.csv", "--influential",
                          "EC50_trimer,Tcells,CD3_0")
    # EC50_trimer has a prior, Tcells is fixed by choice; CD3_0 (derived) has none
    assert code == 0 and "no-prior" in stdout and "CD3_0" in stdout
    assert "EC50_trimer is in" not in stdout


BAD = """kind,id,scope,name,chosen,value,unit,source_type,reference
parameter,CL,,,true,0.5,mg,clinical,
parameter,Vc,,,true,5,L,clinical,
compartment,central,,,true,five,L,clinical,
"""


def test_lint_and_export_report_every_finding_and_write_nothing(tmp_path, capsys):
    model = tmp_path / "m.ant"
    shutil.copy(GOOD, model)
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    code, stdout, _ = run(capsys, "provenance", "lint", model, bad)
    assert code == 1
    for words in ("unit-mismatch", "unknown-id", "not-a-number", "missing-entry"):
        assert words in stdout
    out = tmp_path / "out"
    code, _, err = run(capsys, "export", model, "--provenance", bad, "--dose", "1 nmol iv",
                       "--into", "Drug", "--out", out)
    assert code == 1
    one_paragraph(err)
    for words in ("'mg'", "'L/h'", "Vc", "'five' is not a number", "Drug"):
        assert words in err
    assert not out.exists()
    code, _, err = run(capsys, "export", model, "--provenance", bad, "--sbml", tmp_path / "x.xml")
    assert code == 1 and not (tmp_path / "x.xml").exists()
    missing = tmp_path / "cols.csv"
    missing.write_text("id,value\nCL,0.5\n")
    code, _, err = run(capsys, "export", model, "--provenance", missing, "--out", out)
    assert code == 1 and "no column 'chosen'" in err and not out.exists()
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name in before}
    assert after == before  # inputs never modified


def test_export_archive_and_sbml(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, "export", GOOD, "--dose", "100 nmol iv q24h x2", "--into", "Drug",
                       "--end", "48 h", "--points", "49", "--creator", "Doe, Jane, j@example.org",
                       "--out", out)
    assert code == 0, err
    assert {p.name for p in out.iterdir()} == {"model.xml", "provenance.csv", "provenance.xlsx",
                                              "simulation.sedml", "versions.txt", "archive.omex"}
    assert pd.read_csv(out / "provenance.csv")["id"].tolist() == ["central", "Drug", "CL"]
    code, _, err = run(capsys, "export", GOOD, "--sbml", tmp_path / "m.xml")
    assert code == 0 and 'level="3" version="2"' in (tmp_path / "m.xml").read_text()
    assert "no model history" in err  # no creator given: said so, not invented


@pytest.mark.parametrize("given", ["file", "frame", "none"])
def test_export_archive_reads_and_lints_the_table_once(tmp_path, monkeypatch, given):
    import workbench.core.provenance as P
    from workbench import export_archive, load_model, provenance_template, write_provenance

    m = load_model(GOOD)
    table = provenance_template(m)
    write_provenance(table, tmp_path / "prov.csv")
    prov = {"file": tmp_path / "prov.csv", "frame": table, "none": None}[given]
    parsed = []
    orig = P._parse
    monkeypatch.setattr(P, "_parse", lambda raw: parsed.append(len(raw)) or orig(raw))
    res = export_archive(m, tmp_path / "out", provenance=prov, end=48, points=3)
    assert parsed == [3]
    assert res.sbml.provenance_entries == 3
    assert pd.read_csv(tmp_path / "out" / "provenance.csv")["id"].tolist() == ["central", "Drug",
                                                                               "CL"]


@pytest.mark.parametrize("kind", ["slip", "notzip"])
def test_bad_archives_are_refused(tmp_path, capsys, kind):
    arc = tmp_path / "a.omex"
    if kind == "slip":
        with zipfile.ZipFile(arc, "w") as z:
            z.writestr("../evil.xml", "<sbml/>")
    else:
        arc.write_text("not a zip")
    out = tmp_path / "out"
    code, _, err = run(capsys, "export", arc, "--out", out)
    assert code == 2
    one_paragraph(err)
    assert ("zip slip" if kind == "slip" else "not a zip") in err
    assert not out.exists() and not (tmp_path.parent / "evil.xml").exists()
