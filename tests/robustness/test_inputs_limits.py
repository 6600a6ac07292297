"""Resource limits with messages (each names its limit and how to raise it), special
files refused, YAML bombs refused quickly, tables read in linear time."""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest

import workbench as wb
from workbench.core.textin import load_yaml_text
from workbench.errors import DoseError, InputFileError, SpecError

from .inputs_support import ROOT, refused, sbml

ONECOMP = ROOT / "models" / "onecomp_iv.ant"


def test_regimen_administrations(tmp_path):
    out = tmp_path / "o.csv"
    refused("limits", "dose-x10000000", ["simulate", ONECOMP, "--end", "10 h", "--dose",
                                         "1 mg iv q1h x10000000", "--into", "Drug", "--mw",
                                         "150 kDa", "-o", out], tmp_path, codes=(1,),
            says=["10,000,000", "administrations", "--limit administrations"], outputs=[out],
            timeout=60)
    with pytest.raises(DoseError, match="administrations"):
        wb.parse_regimen("1 mg iv q1h x100001")
    assert len(wb.parse_regimen("1 mg iv q1h x100000").doses) == 100_000


def test_output_points_and_cli_limit_option(tmp_path):
    out = tmp_path / "o.csv"
    refused("limits", "points-1e8", ["simulate", ONECOMP, "--end", "10 h", "--points",
                                     "100000000", "-o", out], tmp_path, codes=(1,),
            says=["onecomp_iv.ant", "points", "output_points"], outputs=[out], timeout=60)
    refused("limits", "points-over-lowered-limit", ["--limit", "output_points=10", "simulate",
                                                    ONECOMP, "--end", "10 h", "--points", "11",
                                                    "-o", out], tmp_path, codes=(1,),
            says=["(11)", "limit of 10"], outputs=[out])
    with pytest.raises(SpecError, match="output_points"):
        wb.simulate(ONECOMP, end=10, points=1_000_001)


def test_table_rows(tmp_path, monkeypatch):
    f = tmp_path / "ps.csv"
    f.write_text("id,distribution,low,high\n" + "".join(f"k{i},uniform,1,2\n" for i in range(50)))
    monkeypatch.setenv("WORKBENCH_LIMIT_TABLE_ROWS", "20")
    with pytest.raises(InputFileError, match="table_rows") as ei:
        wb.read_parameter_space(f)
    assert "ps.csv" in str(ei.value)


def test_population_size(tmp_path):
    with pytest.raises(SpecError, match="limit 'population'"):
        wb.sample_population(None, 2_000_000, seed=1)
    with pytest.raises(SpecError, match="whole number"):
        wb.sample_population(None, 1e9, seed=1)
    study = tmp_path / "s.yaml"
    study.write_text("population:\n  n: 1e9\n")
    errs = wb.lint_study(study)
    assert any("population.n" in e and "whole number" in e for e in errs)
    study.write_text("population:\n  n: 2000000000\n")
    assert any("limit 'population'" in e for e in wb.lint_study(study))


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def test_yaml_alias_bomb(tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(InputFileError, match="yaml_nodes"):
        load_yaml_text(BOMB, "bomb.yaml")
    assert time.perf_counter() - t0 < 2.0
    f = tmp_path / "bomb.yaml"
    f.write_text(BOMB)
    out = tmp_path / "o"
    refused("limits", "yaml-alias-bomb", ["mabel", f, "--out", out], tmp_path, codes=(1,),
            says=["bomb.yaml", "aliases", "yaml_nodes"], inputs=[f], outputs=[out], timeout=60)


def test_yaml_aliases_size_and_recursion(tmp_path, monkeypatch):
    assert load_yaml_text("a: &x [1, 2]\nb: *x\n", "ok.yaml") == {"a": [1, 2], "b": [1, 2]}
    monkeypatch.setenv("WORKBENCH_LIMIT_YAML_ALIASES", "3")
    with pytest.raises(InputFileError, match="yaml_aliases"):
        load_yaml_text("a: &x 1\nb: [*x, *x, *x, *x]\n", "many.yaml")
    with pytest.raises(InputFileError, match="recursive"):
        load_yaml_text("a: &x [1, *x]\n", "rec.yaml")
    monkeypatch.setenv("WORKBENCH_LIMIT_YAML_BYTES", "100")
    f = tmp_path / "big.yaml"
    f.write_text("name: " + "x" * 200 + "\n")
    refused("limits", "yaml-document-size", ["mabel", f, "--out", tmp_path / "o"], tmp_path,
            codes=(2,), says=["big.yaml", "yaml_bytes"], inputs=[f], outputs=[tmp_path / "o"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_special_files_refused(tmp_path):
    fifo = tmp_path / "model.xml"
    os.mkfifo(fifo)
    refused("limits", "fifo-model", ["info", fifo], tmp_path, codes=(2,),
            says=["model.xml", "named pipe"], timeout=60)
    csv = tmp_path / "ps.csv"
    os.mkfifo(csv)
    with pytest.raises(InputFileError, match="named pipe"):
        wb.read_parameter_space(csv)
    if os.path.exists("/dev/zero"):
        refused("limits", "device-model", ["info", "/dev/zero"], tmp_path, codes=(2,),
                says=["/dev/zero", "character device"], timeout=60)


def test_file_size_limit(tmp_path, monkeypatch):
    f = tmp_path / "m.xml"
    f.write_text(sbml())
    monkeypatch.setenv("WORKBENCH_LIMIT_FILE_BYTES", "100")
    with pytest.raises(InputFileError, match="file_bytes"):
        wb.load_model(f)


def _tables_seconds(tmp_path, n: int) -> float:
    ant = "model m\n S = 1; J: S -> ; k0*S\n" + "".join(f" k{i} = {i + 1}\n" for i in range(n))
    m = wb.load_model(ant + "end\n")
    ps = tmp_path / f"ps{n}.csv"
    pd.DataFrame({"id": [f"k{i}" for i in range(n)], "distribution": "uniform", "low": 0.5,
                  "high": 2.0}).to_csv(ps, index=False)
    prov = tmp_path / f"prov{n}.csv"
    wb.provenance_template(m).to_csv(prov, index=False)
    t0 = time.perf_counter()
    wb.read_parameter_space(ps).with_model(m)
    wb.read_provenance(prov)
    wb.provenance_template(m)
    return time.perf_counter() - t0


def test_tables_read_in_linear_time(tmp_path):
    """Four times the rows cost about four times as long (quadratic: sixteen; before the
    fix 4,000 rows took 17 s + 20 s + 1 s here, 16,000 several minutes)."""
    small = _tables_seconds(tmp_path, 1000)
    large = _tables_seconds(tmp_path, 4000)
    assert large < 9 * small + 1.0, (small, large)
    assert large < 30
