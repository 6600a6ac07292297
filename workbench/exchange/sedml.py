"""SED-ML Level 1 Version 4 time courses for an exported model and its regimens.

One uniform time course (CVODE, KiSAO:0000019, with the workbench's
tolerances and maximum step as algorithm parameters), one model, task and
report per regimen. Each regimen's model is its own SBML file (with several
regimens the files differ only in the value of ``wb_regimen``, which gates the
dosing events): SED-ML model changes are avoided on purpose, because
tellurium applies them by reloading ``getCurrentSBML()``, which bakes the
doses given at time 0 into the initial state and so doubles them. Output names follow :func:`workbench.simulate`: a species
id (its SBML meaning), ``[S]`` (concentration), ``amount(S)``, or a
parameter, compartment or reaction id.

Species targets are read as concentrations by SED-ML executors (tellurium:
``[S]``); amounts are written as data generators ``S * compartment``.

Reference: Smith LP et al. (2021) SED-ML: the Simulation Experiment
Description Markup Language, Level 1 Version 4. J Integr Bioinform 18(3).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from workbench.errors import UnknownIdError, WorkbenchError
from workbench.sim._engine import IntegratorSettings
from workbench.sim._outputs import parse_output

__all__ = ["sedml_document"]

log = logging.getLogger(__name__)

_TIME = "urn:sedml:symbol:time"
_SBML_NS = "http://www.sbml.org/sbml/level3/version2/core"
_LANGUAGE = "urn:sedml:language:sbml.level-3.version-2"


def _xpath(kind: str, sid: str) -> str:
    lists = {"species": "listOfSpecies/sbml:species", "parameter": "listOfParameters/sbml:parameter",
             "compartment": "listOfCompartments/sbml:compartment",
             "reaction": "listOfReactions/sbml:reaction"}
    return f"/sbml:sbml/sbml:model/sbml:{lists[kind]}[@id='{sid}']"


def _kinds(sbml_model) -> dict[str, str]:
    """id -> kind of the elements SED-ML variables can target (no species references)."""
    from workbench.core.model import element_kinds

    return {k: v for k, v in element_kinds(sbml_model).items() if v != "species_reference"}


def _output_terms(sbml_model, output: str) -> tuple[list[tuple[str, str]], str]:
    """(variables [(kind, id)], math over v0, v1) for one output name."""
    kinds = _kinds(sbml_model)
    form, sid = parse_output(output)
    if form == "concentration" and kinds.get(sid) == "species":
        return [("species", sid)], "v0"
    amount = form == "amount" and kinds.get(sid) == "species"
    if form != "symbol" and not amount:
        sid = output.strip()  # not a species: reported below as unknown
    if kinds.get(sid) == "species":
        s = sbml_model.getSpecies(sid)
        if amount or s.getHasOnlySubstanceUnits():
            return [("species", sid), ("compartment", s.getCompartment())], "v0 * v1"
        return [("species", sid)], "v0"
    if sid in kinds:
        return [(kinds[sid], sid)], "v0"
    import difflib

    close = difflib.get_close_matches(sid.strip("[]"), list(kinds), n=3)
    raise UnknownIdError(f"unknown output {output!r}", element=output,
                         fix=("did you mean " + " or ".join(map(repr, close)) + "?") if close
                         else "use a species, parameter, compartment or reaction id")


def _sid(text: str) -> str:
    import re

    s = re.sub(r"\W", "_", text)
    return s if re.match(r"[A-Za-z_]", s) else "_" + s


def _sedml_document_here(sbml_text: str, outputs: Sequence[str], *, end: float, points: int = 101,
                   start: float = 0.0, regimens: Sequence[str] = (),
                   model_sources: Sequence[str] = ("model.xml",),
                   integrator: IntegratorSettings | None = None,
                   units: dict[str, str] | None = None) -> str:
    """SED-ML L1V4 text: a time course of ``outputs`` for each regimen.

    Parameters
    ----------
    sbml_text
        The exported SBML (to resolve output names).
    outputs
        Output names (see module docstring).
    end, points, start
        Time span (model time units) and number of output points.
    regimens
        Labels of the regimens (one task each; none: one task without dosing).
    model_sources
        Location of each regimen's SBML file relative to the SED-ML file
        (one per regimen, or one for all).
    integrator
        Tolerances, maximum step and step limit written as KiSAO algorithm parameters.
    units
        Unit of each output, written into the report labels.
    """
    import libsbml
    import libsedml

    settings = integrator or IntegratorSettings()
    sbml_model = libsbml.readSBMLFromString(sbml_text).getModel()
    doc = libsedml.SedDocument(1, 4)
    doc.getSedNamespaces().getNamespaces().add(_SBML_NS, "sbml")
    labels = list(regimens) or ["no dosing"]
    sim = doc.createUniformTimeCourse()
    sim.setId("timecourse")
    sim.setInitialTime(float(start))
    sim.setOutputStartTime(float(start))
    sim.setOutputEndTime(float(end))
    sim.setNumberOfSteps(int(points) - 1)
    alg = sim.createAlgorithm()
    alg.setKisaoID("KISAO:0000019")
    alg.setName("CVODE")
    params = [("KISAO:0000209", settings.relative_tolerance),
              ("KISAO:0000211", settings.absolute_tolerance),
              ("KISAO:0000415", settings.max_num_steps)]
    if settings.max_step:
        params.append(("KISAO:0000467", settings.max_step))
    for kisao, value in params:
        ap = alg.createAlgorithmParameter()
        ap.setKisaoID(kisao)
        ap.setValue(repr(value) if isinstance(value, float) else str(value))
    terms = {o: _output_terms(sbml_model, o) for o in outputs}
    units = units or {}
    for k, label in enumerate(labels, 1):
        mod = doc.createModel()
        mod.setId(f"model_{k}")
        mod.setName(f"regimen {k}: {label}")
        mod.setLanguage(_LANGUAGE)
        mod.setSource(model_sources[min(k, len(model_sources)) - 1])
        task = doc.createTask()
        task.setId(f"task_{k}")
        task.setName(f"regimen {k}: {label}")
        task.setModelReference(f"model_{k}")
        task.setSimulationReference("timecourse")
        report = doc.createReport()
        report.setId(f"report_{k}")
        report.setName(f"regimen {k}: {label}")
        cols = [("time", [("time", "")], "v0"),
                *[(o, terms[o][0], terms[o][1]) for o in outputs]]
        for name, variables, math in cols:
            dg = doc.createDataGenerator()
            dg_id = f"dg_{k}_{_sid(name)}"
            dg.setId(dg_id)
            dg.setName(name)
            for j, (kind, sid) in enumerate(variables):
                var = dg.createVariable()
                var.setId(f"v{j}")
                var.setTaskReference(f"task_{k}")
                if kind == "time":
                    var.setSymbol(_TIME)
                else:
                    var.setTarget(_xpath(kind, sid))
            dg.setMath(libsedml.parseL3Formula(math))
            ds = report.createDataSet()
            ds.setId(f"ds_{k}_{_sid(name)}")
            unit = units.get(name, "")
            ds.setLabel(f"{name} [{unit}]" if unit else name)
            ds.setDataReference(dg_id)
    text = libsedml.writeSedMLToString(doc)
    check = libsedml.readSedMLFromString(text)
    n = check.getNumErrors(libsedml.LIBSEDML_SEV_ERROR)
    if n:  # pragma: no cover - the document is generated here
        msgs = "; ".join(check.getError(i).getMessage() for i in range(check.getNumErrors()))
        raise WorkbenchError(f"internal: the SED-ML written has {n} error(s): {msgs}")
    return text


def sedml_document(sbml_text: str, outputs: Sequence[str], **kwargs) -> str:
    """SED-ML Level 1 Version 4 text for the workbench's time courses.

    The document is built by :func:`_sedml_document_here` (same arguments) in a
    child Python process: importing python-libsedml into a process that uses
    python-libsbml corrupts libSBML's ``ASTNode.getType()`` (a SWIG type clash;
    it then returns an opaque object), which would break every later math walk
    of the caller's process. The child is a plain ``python -c`` process, not a
    multiprocessing one, so it never re-imports the caller's script: a script
    without an ``if __name__ == "__main__":`` guard exports like any other.
    """
    import pickle
    import subprocess
    import sys
    from pathlib import Path

    payload = pickle.dumps((sbml_text, list(outputs), kwargs))
    env = dict(os.environ)
    # the child imports this very package, even when the caller put it on sys.path by hand
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-c", _CHILD], input=payload, capture_output=True,
                          env=env, check=False)
    try:
        status, value = pickle.loads(proc.stdout)
    except Exception:
        raise WorkbenchError(
            "the SED-ML writer process failed (exit code "
            f"{proc.returncode}): {proc.stderr.decode(errors='replace').strip()[-2000:]}",
            fix="check that python-libsedml is installed in this environment "
                "(pip install -e .)") from None
    if status == "ok":
        return value
    if isinstance(value, BaseException):
        raise value
    raise WorkbenchError(str(value))  # pragma: no cover - an unpicklable error


_CHILD = """
import pickle, sys
result, sys.stdout = sys.stdout.buffer, sys.stderr  # stray prints must not mix with the result
sbml_text, outputs, kwargs = pickle.loads(sys.stdin.buffer.read())
try:
    from workbench.exchange.sedml import _sedml_document_here
    out = ("ok", _sedml_document_here(sbml_text, outputs, **kwargs))
except Exception as exc:
    try:
        pickle.dumps(exc)
        out = ("error", exc)
    except Exception:
        out = ("error", f"{type(exc).__name__}: {exc}")
result.write(pickle.dumps(out))
"""
