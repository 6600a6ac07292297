"""Input decoding: BOMs, UTF-16 with and without a byte-order mark, declared
ISO-8859-1, undecodable bytes refused with their offset (never replaced)."""

from __future__ import annotations

import math

import pytest

import workbench as wb
from workbench.core.textin import decode_text
from workbench.errors import InputFileError, ModelLoadError

from .inputs_support import refused, sbml

NAMED = sbml(name="Müller café")


@pytest.mark.parametrize("label,data", [
    ("utf8-bom", b"\xef\xbb\xbf" + NAMED.encode("utf-8")),
    ("utf16-bom", NAMED.replace("UTF-8", "UTF-16").encode("utf-16")),
    ("utf16le-no-bom", NAMED.replace("UTF-8", "UTF-16").encode("utf-16-le")),
    ("utf16be-no-bom", NAMED.replace("UTF-8", "UTF-16").encode("utf-16-be")),
    ("latin1-declared", NAMED.replace("UTF-8", "ISO-8859-1").encode("latin-1")),
    ("cp1252-declared", NAMED.replace("UTF-8", "windows-1252").encode("cp1252")),
])
def test_encodings_load_the_same_model(tmp_path, label, data):
    f = tmp_path / "m.xml"
    f.write_bytes(data)
    m = wb.load_model(f)
    assert m.name == "Müller café"  # not garbled, not empty
    assert list(m.species["id"]) == ["S"] and list(m.parameters["id"]) == ["k"]
    df = wb.simulate(m, end=10, points=2, outputs=["S"])
    assert df["S"].iloc[-1] == pytest.approx(10 * math.exp(-1.0), rel=1e-6)


def test_undecodable_bytes_named_with_offset(tmp_path):
    data = NAMED.encode("utf-8").replace("Müller".encode(), b"M\xff\xfeller")
    f = tmp_path / "bad.xml"
    f.write_bytes(data)
    off = data.index(b"\xff")
    err = refused("decoding", "sbml-invalid-utf8", ["simulate", f, "--end", "1"], tmp_path,
                  codes=(2,), says=["bad.xml", f"byte offset {off}", "line 3", "UTF-8"],
                  inputs=[f])
    assert "ff fe" in err
    with pytest.raises(ModelLoadError, match=f"byte offset {off}"):
        wb.load_model(f)


def test_bad_declared_encoding(tmp_path):
    f = tmp_path / "enc.xml"
    f.write_bytes(sbml().replace("UTF-8", "no-such-codec").encode())
    refused("decoding", "unknown-encoding", ["info", f], tmp_path, codes=(2,),
            says=["enc.xml", "no-such-codec"], inputs=[f])


def test_antimony_with_bom_and_utf16(tmp_path):
    ant = "model m\n  S = 10; k = 0.1\n  J: S -> ; k*S\nend\n"
    for i, data in enumerate((b"\xef\xbb\xbf" + ant.encode(), ant.encode("utf-16"))):
        f = tmp_path / f"m{i}.ant"
        f.write_bytes(data)
        df = wb.simulate(wb.load_model(f), end=10, points=2, outputs=["S"])
        assert df["S"].iloc[-1] == pytest.approx(10 * math.exp(-1.0), rel=1e-6)


def test_non_ascii_antimony_id_exit_1(tmp_path):
    f = tmp_path / "na.ant"
    f.write_text("model m\n  Müller = 1; S = 1\n  J: S -> ; Müller*S\nend\n", encoding="utf-8")
    refused("decoding", "antimony-non-ascii-id", ["simulate", f, "--end", "1"], tmp_path,
            codes=(1,), says=["na.ant", "line 2", "Müller", "ASCII"], inputs=[f])


def test_study_file_invalid_utf8_and_bom(tmp_path):
    f = tmp_path / "study.yaml"
    f.write_bytes(b"name: test\nquestion: \xff\xfe\n")
    refused("decoding", "study-invalid-utf8", ["mabel", f, "--out", tmp_path / "o"], tmp_path,
            codes=(2,), says=["study.yaml", "byte offset 21", "line 2"], inputs=[f],
            outputs=[tmp_path / "o"])
    from workbench.study.schema import _load_yaml

    g = tmp_path / "bom.yaml"
    g.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert _load_yaml(g) == {"name": "x"}


def test_csv_tables_with_bom_and_utf16(tmp_path):
    text = "id,distribution,low,high\nCL,loguniform,0.001,0.01\n"
    for i, data in enumerate((b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16"))):
        f = tmp_path / f"p{i}.csv"
        f.write_bytes(data)
        sp = wb.read_parameter_space(f)
        assert [r.id for r in sp.ranges] == ["CL"] and sp.ranges[0].high == 0.01
    bad = tmp_path / "bad.csv"
    bad.write_bytes(text.encode() + b"V,uniform,\xff,2\n")
    with pytest.raises(InputFileError, match="byte offset") as ei:
        wb.read_parameter_space(bad)
    assert "bad.csv" in str(ei.value)


def test_decode_text_unit():
    assert decode_text(b"\xef\xbb\xbfabc", "x") == "abc"
    assert decode_text("<a/>".encode("utf-16-be"), "x", xml=True) == "<a/>"
    out = decode_text('<?xml version="1.0" encoding="ISO-8859-1"?><a n="\xe9"/>'.encode("latin-1"),
                      "x", xml=True)
    assert 'encoding="UTF-8"' in out and "é" in out
    with pytest.raises(InputFileError, match="NUL"):
        decode_text(b"hello world, some text\0 and more text here", "x")
