"""COMBINE archive: the exchange SBML, provenance table, SED-ML, versions, one OMEX.

:func:`export_archive` writes into a directory::

    model.xml          SBML L3V2 (workbench.export_sbml) with the regimens as events
                       (several regimens: gated by wb_regimen, default 1, and
                       model_regimen<k>.xml, the same file with wb_regimen = k)
    provenance.csv     the provenance table (and provenance.xlsx, same table)
    simulation.sedml   SED-ML L1V4 time courses of the outputs under each regimen
    versions.txt       software versions and the SHA-256 of every file and of the source
    archive.omex       all of the above with manifest.xml and metadata.rdf (creators, dates)

Everything is built and checked in memory first (provenance linted against the
model, regimens and outputs resolved); the files are then written into a
staging directory and moved into place one by one, so a failure writes nothing.

Reference: Bergmann FT et al. (2014) COMBINE archive and OMEX format: one file
to share all information to reproduce a modeling project. BMC Bioinformatics
15:369.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.core._versions import software_versions
from workbench.core.dosing import Regimen, Subject
from workbench.core.model import Model, load_model
from workbench.core.provenance import check_provenance, provenance_template, write_provenance
from workbench.errors import WorkbenchError
from workbench.exchange.sbml import Creator, ExportReport, _export_checked, _regimen_list
from workbench.exchange.sedml import sedml_document
from workbench.sim._engine import IntegratorSettings

__all__ = ["ArchiveResult", "export_archive", "software_versions"]

log = logging.getLogger(__name__)

_FORMATS = {
    "model.xml": "http://identifiers.org/combine.specifications/sbml.level-3.version-2",
    # the generic SED-ML format: libCOMBINE 0.2 (and so tellurium) does not know the
    # ".level-1.version-4" suffix; the document itself declares Level 1 Version 4
    "simulation.sedml": "http://identifiers.org/combine.specifications/sed-ml",
    "provenance.csv": "http://purl.org/NET/mediatypes/text/csv",
    "provenance.xlsx": "http://purl.org/NET/mediatypes/application/"
                       "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "versions.txt": "http://purl.org/NET/mediatypes/text/plain",
}

@dataclass(frozen=True)
class ArchiveResult:
    """What :func:`export_archive` wrote.

    Attributes
    ----------
    directory
        The output directory.
    files
        File name -> SHA-256 of every file written (archive.omex included).
    sbml
        The :class:`~workbench.exchange.sbml.ExportReport` of model.xml.
    outputs, regimens
        What the SED-ML simulates.
    end, points
        Time span (model time units) and output points of the time courses.
    """

    directory: str
    files: tuple[tuple[str, str], ...]
    sbml: ExportReport
    outputs: tuple[str, ...]
    regimens: tuple[str, ...]
    end: float
    points: int

    def to_frame(self) -> pd.DataFrame:
        """Files and their SHA-256: columns ``file, sha256``."""
        return pd.DataFrame(list(self.files), columns=["file", "sha256"])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _default_end(model: Model, regimens: Sequence[Regimen]) -> float:
    from workbench.core import units as U

    mt = model.time_unit
    last = 0.0
    for r in regimens:
        f = U.factor(r.time_unit, mt) if mt else 1.0
        for d in r.doses:
            last = max(last, (d.time + d.duration) * f)
    four_weeks = U.convert(672.0, "h", mt) if mt else 672.0
    return last + four_weeks


def export_archive(model: Model | str | os.PathLike[str], directory: str | os.PathLike[str],
                   provenance: pd.DataFrame | str | os.PathLike[str] | None = None,
                   regimens: Regimen | str | Sequence[Regimen | str] | None = None, *,
                   outputs: Sequence[str] | None = None, end: float | str | None = None,
                   points: int = 101, target: str | None = None, mw: float | str | None = None,
                   subject: Subject | None = None, creators: Sequence[Creator] = (),
                   date: _dt.datetime | None = None, integrator: IntegratorSettings | None = None,
                   description: str = "", infer_units: bool = True,
                   lossy: bool = False) -> ArchiveResult:
    """Write the model, its provenance, SED-ML time courses and an OMEX archive.

    Parameters
    ----------
    model
        A :class:`~workbench.core.model.Model` or anything :func:`~workbench.load_model` takes.
    directory
        Output directory (created when missing).
    provenance
        Provenance table (DataFrame or CSV/XLSX path), linted against the model;
        when None the seeded template of :func:`~workbench.provenance_template`
        is written (and a warning logged).
    regimens
        Regimen(s) simulated by the SED-ML and embedded in model.xml as events.
    outputs
        Output names (default: every species).
    end, points
        Time span (a number in model time units or a string like ``"672 h"``;
        default: 4 weeks after the end of the last dose) and output points.
    target, mw, subject
        Dosed species, molecular weight, body size (as for :func:`~workbench.simulate`).
    creators, date
        Model history and archive metadata (default date: now, UTC).
    integrator
        Solver settings written into the SED-ML (default: the workbench's).
    description
        Archive description (default: the model's name).
    infer_units, lossy
        See :func:`~workbench.export_sbml`.

    Returns
    -------
    ArchiveResult

    Raises
    ------
    ProvenanceError, DoseError, UnknownIdError, ModelLoadError, UnsupportedFeatureError
        Before anything is written.
    """
    from workbench.sim.simulate import output_units, resolve_time

    m = model if isinstance(model, Model) else load_model(model)
    date = date or _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    if provenance is None:
        log.warning("%s: no provenance table given; the archive gets the seeded template",
                    m.source)
        provenance = provenance_template(m)
    table = check_provenance(m, provenance)  # once: the export below takes it as checked
    regs = _regimen_list(regimens, target)
    report = _export_checked(m, table, regs, target=target, mw=mw, subject=subject,
                             creators=creators, date=date, infer_units=infer_units,
                             lossy=lossy)
    if report.errors:
        log.warning("%s: the exported SBML has %d libSBML error(s): %s", m.source,
                    len(report.errors), "; ".join(report.errors[:3]))
    outs = list(outputs) if outputs else list(m.species["id"])
    t_end = resolve_time(end, m, "end") if end is not None else _default_end(m, regs)
    if not t_end > 0 or points < 2:
        raise WorkbenchError(f"the time course needs end > 0 and at least 2 points "
                             f"(end={t_end}, points={points})", element="end")
    extra = {f"model_regimen{k}.xml": _with_regimen(report.sbml, k)
             for k in range(2, len(regs) + 1)}
    sed = sedml_document(report.sbml, outs, end=t_end, points=points,
                         regimens=[r.text or str(r) for r in regs],
                         model_sources=["model.xml", *extra], integrator=integrator,
                         units=output_units(m, outs))
    files: dict[str, bytes] = {"model.xml": report.sbml.encode(),
                               **{k: v.encode() for k, v in extra.items()},
                               "simulation.sedml": sed.encode()}
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".wb-archive-", dir=out_dir))
    try:
        write_provenance(table, stage / "provenance.csv")
        write_provenance(table, stage / "provenance.xlsx")
        files["provenance.csv"] = (stage / "provenance.csv").read_bytes()
        files["provenance.xlsx"] = (stage / "provenance.xlsx").read_bytes()
        files["versions.txt"] = _versions_text(m, files).encode()
        for name, data in files.items():
            if name not in ("provenance.csv", "provenance.xlsx"):
                (stage / name).write_bytes(data)
        _write_omex(stage, stage / "archive.omex", m, creators, date, description)
        files["archive.omex"] = (stage / "archive.omex").read_bytes()
        mask = os.umask(0)
        os.umask(mask)
        for name in files:
            os.chmod(stage / name, 0o666 & ~mask)
            os.replace(stage / name, out_dir / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return ArchiveResult(directory=str(out_dir),
                         files=tuple((n, _sha(d)) for n, d in files.items()), sbml=report,
                         outputs=tuple(outs), regimens=tuple(r.text or str(r) for r in regs),
                         end=float(t_end), points=int(points))


def _with_regimen(sbml: str, k: int) -> str:
    """The exported SBML with ``wb_regimen`` set to ``k`` (its regimen-k variant)."""
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    p = doc.getModel().getParameter("wb_regimen")
    p.setValue(float(k))
    return libsbml.writeSBMLToString(doc)


def _versions_text(m: Model, files: dict[str, bytes]) -> str:
    lines = ["# software versions"]
    lines += [f"{k} {v}" for k, v in software_versions().items()]
    lines += ["", "# SHA-256"]
    lines += [f"{_sha(data)}  {name}" for name, data in files.items()]
    lines.append(f"{m.sha256}  source model ({m.source})")
    return "\n".join(lines) + "\n"


def _write_omex(stage: Path, path: Path, m: Model, creators: Sequence[Creator],
                date: _dt.datetime, description: str) -> None:
    import libcombine

    arch = libcombine.CombineArchive()
    names = sorted(p.name for p in stage.iterdir() if p.name != path.name)
    for name in names:
        fmt = _FORMATS.get(name, _FORMATS["model.xml"] if name.endswith(".xml") else "")
        ok = arch.addFile(str(stage / name), f"./{name}", fmt, name == "simulation.sedml")
        if not ok:  # pragma: no cover - files were just written
            raise WorkbenchError(f"internal: libCOMBINE could not add {name}")
    desc = libcombine.OmexDescription()
    desc.setAbout(".")
    desc.setDescription(description or f"{m.name}: exchange SBML, provenance table and "
                        "SED-ML time courses written by workbench")
    stamp = libcombine.Date(date.strftime("%Y-%m-%dT%H:%M:%SZ"))
    desc.setCreated(stamp)
    desc.addModification(libcombine.Date(date.strftime("%Y-%m-%dT%H:%M:%SZ")))
    for c in creators:
        v = libcombine.VCard()
        v.setFamilyName(c.family_name)
        if c.given_name:
            v.setGivenName(c.given_name)
        if c.email:
            v.setEmail(c.email)
        if c.organisation:
            v.setOrganization(c.organisation)
        desc.addCreator(v)
    arch.addMetadata(".", desc)
    if not arch.writeToFile(str(path)):  # pragma: no cover - disk errors
        raise WorkbenchError(f"libCOMBINE could not write {path}")
    arch.cleanUp()
