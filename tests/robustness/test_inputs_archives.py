"""COMBINE archives: the right model or a clear error; bombs, encryption, bad CRCs and
unknown compression refused with the entry named, without inflating anything big."""

from __future__ import annotations

import math
import struct
import time
import zipfile

import pytest

import workbench as wb
from workbench.errors import InputFileError

from .inputs_support import refused, sbml

SBML_FMT = "http://identifiers.org/combine.specifications/sbml.level-3.version-2"
SED_FMT = "http://identifiers.org/combine.specifications/sed-ml"


def manifest(*entries) -> str:
    rows = "".join(f'<content location="./{loc}" format="{fmt}"'
                   + (' master="true"' if master else "") + "/>" for loc, fmt, master in entries)
    return ('<?xml version="1.0" encoding="UTF-8"?><omexManifest xmlns="http://identifiers.org/'
            f'combine.specifications/omex-manifest"><content location="." format="http://'
            f'identifiers.org/combine.specifications/omex"/>{rows}</omexManifest>')


def omex(path, files: dict[str, str | bytes], method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def _k(m) -> float:
    p = m.parameters
    return float(p.loc[p["id"] == "k", "value"].iloc[0])


def test_master_rules(tmp_path):
    a, b = sbml(k="0.1"), sbml(k="0.2")
    one = omex(tmp_path / "one.omex", {"manifest.xml": manifest(("a.xml", SBML_FMT, True),
                                                                ("b.xml", SBML_FMT, False)),
                                       "a.xml": a, "b.xml": b})
    assert _k(wb.load_model(one)) == 0.1
    sed = ('<sedML xmlns="http://sed-ml.org/sed-ml/level1/version4" level="1" version="4">'
           '<listOfModels><model id="m" language="urn:sedml:language:sbml" source="b.xml"/>'
           "</listOfModels></sedML>")
    via_sedml = omex(tmp_path / "sed.omex", {"manifest.xml": manifest(
        ("a.xml", SBML_FMT, False), ("b.xml", SBML_FMT, False), ("s.sedml", SED_FMT, True)),
        "a.xml": a, "b.xml": b, "s.sedml": sed})
    assert _k(wb.load_model(via_sedml)) == 0.2
    m = wb.load_model(one)
    assert wb.simulate(m, end=10, points=2, outputs=["S"])["S"].iloc[-1] == pytest.approx(
        10 * math.exp(-1.0), rel=1e-6)


@pytest.mark.parametrize("case,files,says", [
    ("missing-master", {"manifest.xml": manifest(("gone.xml", SBML_FMT, True),
                                                 ("b.xml", SBML_FMT, False)), "b.xml": sbml()},
     ["'gone.xml'", "not in the archive"]),
    ("two-masters", {"manifest.xml": manifest(("a.xml", SBML_FMT, True),
                                              ("b.xml", SBML_FMT, True)),
                     "a.xml": sbml(), "b.xml": sbml()}, ["'a.xml'", "'b.xml'", "master"]),
    ("several-no-master", {"manifest.xml": manifest(("a.xml", SBML_FMT, False),
                                                    ("b.xml", SBML_FMT, False)),
                           "a.xml": sbml(), "b.xml": sbml()}, ["'a.xml'", "'b.xml'"]),
    ("zip-slip", {"../evil.xml": sbml()}, ["zip slip"]),
    ("no-model", {"readme.txt": "hi"}, ["no sbml model"]),
])
def test_archive_refused(tmp_path, case, files, says):
    f = omex(tmp_path / f"{case}.omex", files)
    out = tmp_path / "out.csv"
    refused("archives", case, ["simulate", f, "--end", "1", "-o", out], tmp_path, codes=(2,),
            says=[f"{case}.omex", *says], inputs=[f], outputs=[out])


def test_bomb_refused_without_inflating(tmp_path):
    """0.4 MB of deflated zeros declaring 400 MB: refused from the header, in well under
    a second and without the memory."""
    f = tmp_path / "bomb.omex"
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("manifest.xml", manifest(("m.xml", SBML_FMT, True)))
        with zf.open("m.xml", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(400):
                fh.write(chunk)
    assert f.stat().st_size < 1_000_000
    t0 = time.perf_counter()
    with pytest.raises(InputFileError, match="file_bytes") as ei:
        wb.load_model(f)
    assert time.perf_counter() - t0 < 2.0
    assert "'m.xml'" in str(ei.value) and "not inflated" in str(ei.value)
    refused("archives", "bomb-400MB", ["info", f], tmp_path, codes=(2,),
            says=["bomb.omex", "m.xml", "limit"], inputs=[f])


def test_entry_count_and_total_size_limits(tmp_path, monkeypatch):
    f = omex(tmp_path / "many.omex", {f"f{i}.txt": "x" for i in range(50)} | {"m.xml": sbml()})
    monkeypatch.setenv("WORKBENCH_LIMIT_ARCHIVE_ENTRIES", "20")
    with pytest.raises(InputFileError, match="archive_entries"):
        wb.load_model(f)
    monkeypatch.delenv("WORKBENCH_LIMIT_ARCHIVE_ENTRIES")
    assert wb.load_model(f).id == "m"
    monkeypatch.setenv("WORKBENCH_LIMIT_ARCHIVE_BYTES", "100")
    with pytest.raises(InputFileError, match="archive_bytes"):
        wb.load_model(f)


def _patch_local_header(path, name: bytes, offset_in_header: int, fmt: str, value) -> None:
    data = bytearray(path.read_bytes())
    # patch every header (local and central) of the entry
    i = 0
    while True:
        i = data.find(name, i)
        if i < 0:
            break
        lh = data.rfind(b"PK\x03\x04", 0, i)
        ch = data.rfind(b"PK\x01\x02", 0, i)
        if lh >= 0 and i - lh == 30:
            struct.pack_into(fmt, data, lh + offset_in_header, value)
        if ch >= 0 and i - ch == 46:
            struct.pack_into(fmt, data, ch + offset_in_header + 2, value)
        i += len(name)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("case,offset,fmt,value,says", [
    ("encrypted", 6, "<H", 0x1, "encrypted"),
    ("unknown-compression", 8, "<H", 99, "compression method 99"),
])
def test_flag_and_method_refused(tmp_path, case, offset, fmt, value, says):
    f = omex(tmp_path / f"{case}.omex", {"manifest.xml": manifest(("m.xml", SBML_FMT, True)),
                                         "m.xml": sbml()})
    _patch_local_header(f, b"m.xml", offset, fmt, value)
    refused("archives", case, ["info", f], tmp_path, codes=(2,),
            says=[f"{case}.omex", "'m.xml'", says], inputs=[f])


def test_bad_crc_refused(tmp_path):
    f = omex(tmp_path / "crc.omex", {"manifest.xml": manifest(("m.xml", SBML_FMT, True)),
                                     "m.xml": sbml()}, method=zipfile.ZIP_STORED)
    data = bytearray(f.read_bytes())
    i = data.find(b"<listOfSpecies>")
    data[i + 1] = ord("X")  # same length, different bytes: the CRC no longer matches
    f.write_bytes(bytes(data))
    refused("archives", "bad-crc", ["info", f], tmp_path, codes=(2,),
            says=["crc.omex", "'m.xml'", "CRC"], inputs=[f])
