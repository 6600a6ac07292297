"""Plain scripts without an ``if __name__ == "__main__":`` guard, run as a user runs
them (a child ``python script.py``).

``export_archive`` writes its SED-ML in a plain child process (not a process pool
that re-imports the script), so an unguarded script works: exit 0, a valid archive
whose model reproduces the closed form, and no traceback. An ensemble with workers
cannot start its pool from an unguarded script: the script ends with the
workbench's one error naming the guard, and the workers that re-ran the script
print nothing.
"""

from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import pytest
from conftest import DATA

ONECOMP = DATA / "onecomp.ant"  # C(t) = D / V exp(-CL / V t), V = 5 L, CL = 0.5 L/h


def _run(script, cwd):
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def test_export_archive_from_a_plain_script(tmp_path):
    script = tmp_path / "export_plain.py"
    script.write_text(
        "import workbench as wb\n"
        f"res = wb.export_archive({str(ONECOMP)!r}, 'out', regimens='10 nmol iv', "
        "target='Drug', end=24, points=25)\n"
        "print('FILES', ' '.join(name for name, _ in res.files))\n")
    r = _run(script, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and "BrokenProcessPool" not in r.stderr, r.stderr
    out = tmp_path / "out"
    assert "archive.omex" in r.stdout and (out / "archive.omex").is_file()
    assert not list(out.glob(".wb-archive-*")), "staging directory left behind"
    # the archive: an intact zip whose manifest lists every file, with a parseable SED-ML
    # that simulates the model it ships
    with zipfile.ZipFile(out / "archive.omex") as z:
        assert z.testzip() is None
        names = set(z.namelist())
        manifest = ET.fromstring(z.read("manifest.xml"))
        sedml = ET.fromstring(z.read("simulation.sedml"))
        model_in_zip = z.read("model.xml")
    listed = {c.get("location").removeprefix("./") for c in manifest
              if c.get("location") not in (".", "./")}
    assert {"model.xml", "simulation.sedml", "provenance.csv", "metadata.rdf"} <= listed
    assert listed - {"manifest.xml"} <= names
    ns = {"s": sedml.tag.split("}")[0].strip("{")}
    sources = [m.get("source") for m in sedml.iterfind(".//s:listOfModels/s:model", ns)]
    assert sources == ["model.xml"]
    tc = sedml.find(".//s:uniformTimeCourse", ns)
    assert float(tc.get("outputEndTime")) == 24 and int(tc.get("numberOfSteps")) == 24
    assert model_in_zip == (out / "model.xml").read_bytes()
    # the exported model (dose as an event) reproduces the closed form
    import libsbml

    from workbench import load_model, simulate

    doc = libsbml.readSBMLFromString(model_in_zip.decode())
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0
    df = simulate(load_model(out / "model.xml"), end=24, points=25, outputs=["Drug"])
    expected = [10 / 5 * math.exp(-0.1 * t) for t in df["time"]]
    assert df["Drug"].to_numpy()[1:] == pytest.approx(expected[1:], rel=1e-6)


def test_ensemble_from_a_plain_script_ends_in_one_message(tmp_path):
    """No try/except in the script: Python reports the uncaught error once (the
    script's own traceback, ending in the workbench's message); the worker processes
    that re-imported the script print no traceback of their own."""
    script = tmp_path / "ensemble_plain.py"
    script.write_text(
        "import numpy as np, pandas as pd\n"
        "import workbench as wb\n"
        "t = pd.DataFrame({'CL': np.linspace(0.1, 0.9, 400)})\n"
        f"wb.run_ensemble({str(ONECOMP)!r}, t, None, metrics=['max(Drug)'], end=24,\n"
        "                points=5, workers=2, progress=False)\n"
        "print('RAN')\n")
    r = _run(script, tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "RAN" not in r.stdout
    assert r.stderr.count("Traceback") == 1, r.stderr  # the script's, not the workers'
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("workbench.errors.SimulationError:"), r.stderr
    assert 'if __name__ == "__main__":' in last and "workers=1" in last
    assert "bootstrapping" not in r.stderr and "BrokenProcessPool" not in r.stderr
