"""Bad input: one-paragraph errors, exit code 1 or 2, no traceback, no output file."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from workbench import load_model, simulate
from workbench.cli import main
from workbench.errors import InputFileError, ModelLoadError, UnknownIdError

GOOD = Path(__file__).resolve().parents[1] / "data" / "onecomp.ant"


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def assert_clean_error(err: str):
    # stage progress lines ("workbench: [1/3] verb: stage ...") may precede the error
    err = "".join(ln for ln in err.splitlines(True) if not re.match(r"workbench: \[\d+/\d+\] ", ln))
    assert "Traceback" not in err
    assert err.startswith("workbench: error:")
    assert len(err.strip().splitlines()) == 1, err


BAD_FILES = {
    "empty.xml": b"",
    "truncated.xml": b'<?xml version="1.0"?><sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" '
                     b'level="3" version="2"><model id="m"><listOfSpecies><species id="S" compartm',
    "nonsbml.xml": b'<?xml version="1.0"?><html><body>hello</body></html>',
    "xxe.xml": b'<?xml version="1.0"?><!DOCTYPE sbml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
               b'<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">'
               b'<model id="m" name="&xxe;"/></sbml>',
    "bomb.xml": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                b'<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">'
                b'<model id="m" name="&lol3;"/></sbml>',
    "invalid.ant": b"model bad\n  S1 -> ; k1*\nend\n",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("verb", ["validate", "info", "simulate"])
def test_bad_model_files(tmp_path, capsys, name, verb):
    f = tmp_path / name
    f.write_bytes(BAD_FILES[name])
    before = f.read_bytes()
    out = tmp_path / "out.csv"
    extra = ["--end", "10", "-o", out] if verb == "simulate" else []
    code, _, err = run_cli(capsys, verb, f, *extra)
    assert code in (1, 2)
    assert_clean_error(err)
    assert name in err
    assert not out.exists()
    assert f.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_missing_file(tmp_path, capsys):
    code, _, err = run_cli(capsys, "simulate", tmp_path / "nope.xml", "--end", "10")
    assert code == 2
    assert_clean_error(err)
    assert "file not found" in err
    with pytest.raises(InputFileError):
        load_model(tmp_path / "nope.xml")


def test_entity_messages_are_specific(tmp_path):
    for name in ("xxe.xml", "bomb.xml"):
        f = tmp_path / name
        f.write_bytes(BAD_FILES[name])
        with pytest.raises(ModelLoadError, match="declares entities"):
            load_model(f)


@pytest.mark.parametrize("args, code, words", [
    (["--dose", "100 nmol iv", "--into", "Drug", "--outputs", "Nope"], 1, "unknown output 'Nope'"),
    (["--dose", "-1 mg iv", "--into", "Drug"], 1, "non-negative"),
    (["--dose", "ten mg iv", "--into", "Drug"], 1, "not a number"),
    (["--dose", "100 nmol iv", "--into", "Drgu"], 1, "no such species"),
    (["--dose", "1 mg iv", "--into", "Drug"], 1, "molecular weight"),
    (["--dose", "100 nmol iv", "--into", "Drug", "--set", "CL=abc"], 1, "not a number"),
    (["--dose", "100 nmol iv", "--into", "Drug", "--set", "nope=1"], 1, "cannot set 'nope'"),
])
def test_bad_simulate_options(tmp_path, capsys, args, code, words):
    model = tmp_path / "m.ant"
    shutil.copy(GOOD, model)
    out = tmp_path / "out.csv"
    png = tmp_path / "out.png"
    got, _, err = run_cli(capsys, "simulate", model, "--end", "24 h", *args, "-o", out, "--plot", png)
    assert got == code
    assert_clean_error(err)
    assert words in err
    assert not out.exists() and not png.exists()
    assert model.read_bytes() == GOOD.read_bytes()


def test_unknown_output_suggests(onecomp_text):
    with pytest.raises(UnknownIdError, match="did you mean 'Drug'"):
        simulate(onecomp_text, end=1, outputs=["drug"])


def test_omex_zip_slip_and_not_zip(tmp_path):
    bad = tmp_path / "slip.omex"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("../evil.xml", "<sbml/>")
    with pytest.raises(InputFileError, match="zip slip"):
        load_model(bad)
    notzip = tmp_path / "x.omex"
    notzip.write_text("hello")
    with pytest.raises(InputFileError, match="not a zip"):
        load_model(notzip)
    assert not (tmp_path.parent / "evil.xml").exists()


def test_good_simulate_writes_csv_with_units(tmp_path, capsys):
    out = tmp_path / "out.csv"
    png = tmp_path / "p.png"
    code, _, err = run_cli(capsys, "simulate", GOOD, "--dose", "100 nmol iv q24h x2", "--dose",
                           "200 nmol iv", "--into", "Drug", "--end", "2 d", "--points", "49",
                           "-o", out, "--plot", png)
    assert code == 0, err
    header = out.read_text().splitlines()[0]
    assert header == "regimen,time [h],Drug [nmol/L]"
    assert png.stat().st_size > 1000
