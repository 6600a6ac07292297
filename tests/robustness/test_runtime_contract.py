"""The exit-code contract for environment errors and output safety (issue 15, Build items 7
and 8): exit 2 with the path named for a full disk, a file or directory in the way, a
special file, an unreachable scheduler; 1 for bad content; solver lines summarised, not
printed raw; outputs never onto an input, never 0600, no formula in provenance.xlsx."""

from __future__ import annotations

import errno
import os
import stat
import zipfile
from pathlib import Path

import pytest

from .robust_harness import assert_no_output, assert_unchanged, run_cli, snapshot

DATA = Path(__file__).resolve().parents[1] / "data"
MODEL = DATA / "onecomp.ant"
SIM = ["--dose", "1 nmol iv", "--into", "Drug", "--end", "10", "--points", "5"]


@pytest.mark.robust("environment")
def test_output_is_a_directory(tmp_path):
    before = snapshot(MODEL, tmp_path)
    r = run_cli("simulate", MODEL, *SIM, "-o", tmp_path)
    r.expect_error(2, str(tmp_path), "directory")
    assert_unchanged(before)


@pytest.mark.robust("environment")
def test_output_folder_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    before = snapshot(tmp_path)
    r = run_cli("simulate", MODEL, *SIM, "-o", tmp_path / "afile" / "x.csv")
    r.expect_error(2, "afile", "is a file")
    assert_unchanged(before)


@pytest.mark.robust("environment")
def test_out_dir_is_a_file(tmp_path):
    out = tmp_path / "out"
    out.write_text("not a folder")
    params = tmp_path / "space.csv"
    params.write_text("id,distribution,low,high\nCL,loguniform,0.1,2\n")
    before = snapshot(tmp_path)
    r = run_cli("sensitivity", MODEL, "--params", params, "--method", "morris", "--n", "2",
                "--metric", "max(Drug)", "--dose", "1 nmol iv", "--into", "Drug", "--end", "10",
                "--workers", "1", "--out", out)
    r.expect_error((1, 2), "out", "file")
    assert_unchanged(before)


@pytest.mark.robust("environment")
@pytest.mark.parametrize("kind", ["fifo", "link to a fifo"])
def test_output_special_file_refused(tmp_path, kind):
    # what `-o /dev/stdout` is (a link to a pipe), built in tmp_path: a regression must not
    # replace the machine's real device nodes when the suite runs as root
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = fifo
    if kind != "fifo":
        target = tmp_path / "stdout"
        target.symlink_to(fifo)
    r = run_cli("simulate", MODEL, *SIM, "-o", target)
    r.expect_error(2, str(target), "special file")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert kind == "fifo" or target.is_symlink()


@pytest.mark.robust("environment")
def test_read_only_file_system(tmp_path):
    # /proc/sys is read-only for writes of new files (even for root)
    r = run_cli("simulate", MODEL, *SIM, "-o", "/proc/sys/workbench-out.csv")
    r.expect_error(2, "/proc/sys")


@pytest.mark.robust("environment")
def test_disk_full_is_exit_2(tmp_path, monkeypatch, capsys):
    # ENOSPC from the writer (a full disk), injected in process
    import workbench.core._io as io_mod
    from workbench.cli import main

    def full(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(io_mod, "atomic_write_text", full)
    out = tmp_path / "x.csv"
    code = main(["simulate", str(MODEL), *SIM, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "disk is full" in err and "x.csv" in err and "Traceback" not in err
    assert_no_output(out)


@pytest.mark.robust("environment")
def test_unreachable_scheduler(tmp_path):
    params = tmp_path / "space.csv"
    params.write_text("id,distribution,low,high\nCL,loguniform,0.1,2\n")
    r = run_cli("sensitivity", MODEL, "--params", params, "--method", "morris", "--n", "2",
                "--metric", "max(Drug)", "--dose", "1 nmol iv", "--into", "Drug", "--end", "10",
                "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9", "--out",
                tmp_path / "out", timeout=180)
    pytest.importorskip("distributed")
    r.expect_error(2, "127.0.0.1:9")
    assert_no_output(tmp_path / "out")


@pytest.mark.robust("solver log")
def test_solver_failure_summarised_not_raw(tmp_path):
    m = tmp_path / "divz.ant"
    m.write_text("model divz\n  compartment c = 0\n  S in c; S = 1\n  S -> ; k*S/c\n  k = 1\nend\n")
    r = run_cli("simulate", m, "--end", "10", "-o", tmp_path / "x.csv")
    r.expect_error(1, "divz.ant", "solver")
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr  # no raw CVODE line before the paragraph
    assert "\x1b[" not in r.stderr
    assert_no_output(tmp_path / "x.csv")


@pytest.mark.robust("output safety")
def test_outputs_get_the_umask(tmp_path):
    out = tmp_path / "x.csv"
    run_cli("simulate", MODEL, *SIM, "-o", out).expect_ok()
    mode = stat.S_IMODE(out.stat().st_mode)
    mask = os.umask(0)
    os.umask(mask)
    assert mode == 0o666 & ~mask, oct(mode)


@pytest.mark.robust("output safety")
def test_symlink_written_through(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    run_cli("simulate", MODEL, *SIM, "-o", link).expect_ok()
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("time")


@pytest.mark.robust("output safety")
def test_mabel_out_onto_the_study_folder_refused(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    (study / "s.yaml").write_text("name: x\n")
    (study / "model.ant").write_text("model m\nend\n")
    before = snapshot(study)
    r = run_cli("mabel", study / "s.yaml", "--out", study)
    r.expect_error(1, "--out", "s.yaml")
    assert_unchanged(before)
    r = run_cli("mabel", study / "s.yaml", "--out", tmp_path)
    r.expect_error(1, "--out")
    assert_unchanged(before)


@pytest.mark.robust("output safety")
def test_provenance_xlsx_formula_written_as_text(tmp_path):
    import pandas as pd

    from workbench import provenance_template
    from workbench.core.provenance import read_provenance, write_provenance

    t = provenance_template(MODEL)
    t.loc[0, "notes"] = '=HYPERLINK("http://example.invalid","x")'
    t.loc[0, "rationale"] = "@SUM(A1:A2)"
    out = tmp_path / "p.xlsx"
    write_provenance(t, out)
    with zipfile.ZipFile(out) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
    back = read_provenance(out)
    assert back.loc[0, "notes"] == t.loc[0, "notes"]
    assert isinstance(back, pd.DataFrame)
