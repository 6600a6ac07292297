"""Load and inspect models: SBML (any level/version), Antimony, COMBINE archives.

:func:`load_model` returns a frozen :class:`Model`. It keeps the text of the
source SBML untouched (annotations, notes, unit definitions) and, separately,
the SBML the simulator runs: hierarchical (``comp``) models are flattened with
libSBML's ``CompFlatteningConverter`` here, because libRoadRunner flattens them
only when given a file path and silently drops submodels when given text.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import pandas as pd

from . import columns as C
from .errors import InputFileError, ModelLoadError, UnknownIdError
from .units import UnitResolver

if TYPE_CHECKING:
    import libsbml

__all__ = ["Model", "element_kinds", "load_model", "read_omex_master"]

log = logging.getLogger(__name__)

_ENTITY_RE = re.compile(rb"<!ENTITY", re.IGNORECASE)
_MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Model:
    """A loaded model.

    Attributes
    ----------
    source
        Where it came from: a file path, ``"<sbml string>"`` or ``"<antimony string>"``.
    format
        ``"sbml"``, ``"antimony"`` or ``"omex"``.
    original_sbml
        The SBML text as read (for Antimony: as converted by Antimony), never modified.
    sbml
        The SBML text the simulator runs (comp-flattened when needed).
    flattened
        True when ``sbml`` is the result of comp flattening.
    """

    source: str
    format: str
    original_sbml: str
    sbml: str
    flattened: bool = False
    antimony: str | None = field(default=None, repr=False)

    # -- libSBML views (parsed on demand, cached) -------------------------------
    @functools.cached_property
    def document(self) -> libsbml.SBMLDocument:
        """The original SBML document (treat as read-only)."""
        return _parse_sbml_text(self.original_sbml.encode(), self.source)

    @functools.cached_property
    def sim_document(self) -> libsbml.SBMLDocument:
        """The simulatable (flattened) SBML document (treat as read-only)."""
        if not self.flattened:
            return self.document
        return _parse_sbml_text(self.sbml.encode(), self.source)

    @property
    def id(self) -> str:
        """The SBML model id."""
        return self.sim_document.getModel().getId()

    @property
    def name(self) -> str:
        """The SBML model name (or id when unnamed)."""
        m = self.sim_document.getModel()
        return m.getName() or m.getId()

    @functools.cached_property
    def sha256(self) -> str:
        """SHA-256 of the original SBML text."""
        return hashlib.sha256(self.original_sbml.encode()).hexdigest()

    @functools.cached_property
    def units(self) -> UnitResolver:
        """Unit strings of the simulatable model's elements."""
        return UnitResolver(self.sim_document.getModel())

    @property
    def time_unit(self) -> str:
        """Unit of model time ("" when undeclared)."""
        return self.units.time

    # -- element tables ---------------------------------------------------------
    @functools.cached_property
    def _tables(self) -> dict[str, pd.DataFrame]:
        return _element_tables(self.sim_document.getModel(), self.units)

    @property
    def compartments(self) -> pd.DataFrame:
        """Compartments: columns :data:`workbench.columns.COMPARTMENT_COLUMNS`."""
        return self._tables["compartments"].copy()

    @property
    def species(self) -> pd.DataFrame:
        """Species: columns :data:`workbench.columns.SPECIES_COLUMNS`."""
        return self._tables["species"].copy()

    @property
    def parameters(self) -> pd.DataFrame:
        """Global and local parameters: :data:`workbench.columns.PARAMETER_COLUMNS`.

        Local (kinetic-law) parameters have ``scope`` set to their reaction id.
        """
        return self._tables["parameters"].copy()

    @property
    def reactions(self) -> pd.DataFrame:
        """Reactions: columns :data:`workbench.columns.REACTION_COLUMNS`."""
        return self._tables["reactions"].copy()

    @property
    def rules(self) -> pd.DataFrame:
        """Rules: columns :data:`workbench.columns.RULE_COLUMNS`."""
        return self._tables["rules"].copy()

    @property
    def events(self) -> pd.DataFrame:
        """Events: columns :data:`workbench.columns.EVENT_COLUMNS`."""
        return self._tables["events"].copy()

    def kind_of(self, sid: str) -> str:
        """Kind of the element with id ``sid``: species, compartment, parameter, reaction,
        species_reference; raises :class:`UnknownIdError` when absent."""
        kinds = self._kinds
        if sid not in kinds:
            raise UnknownIdError(f"the model has no element with id {sid!r}", source=self.source,
                                 element=sid, fix=_did_you_mean(sid, kinds))
        return kinds[sid]

    @functools.cached_property
    def _kinds(self) -> dict[str, str]:
        return element_kinds(self.sim_document.getModel())

    def unit_of(self, sid: str) -> str:
        """Unit string of the value of element ``sid`` as the SBML symbol means it."""
        kind = self.kind_of(sid)
        m = self.sim_document.getModel()
        u = self.units
        if kind == "species":
            return u.species(m.getSpecies(sid))
        if kind == "compartment":
            return u.compartment(m.getCompartment(sid))
        if kind == "parameter":
            return u.parameter(m.getParameter(sid))
        if kind == "reaction":
            return u.reaction_rate()
        return "dimensionless"


def element_kinds(sbml_model) -> dict[str, str]:
    """id -> kind (compartment, species, parameter, reaction, species_reference) of the
    elements of a libSBML ``Model``."""
    m = sbml_model
    out: dict[str, str] = {}
    for i in range(m.getNumCompartments()):
        out[m.getCompartment(i).getId()] = "compartment"
    for i in range(m.getNumSpecies()):
        out[m.getSpecies(i).getId()] = "species"
    for i in range(m.getNumParameters()):
        out[m.getParameter(i).getId()] = "parameter"
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        out[r.getId()] = "reaction"
        for lst in (r.getListOfReactants(), r.getListOfProducts()):
            for j in range(lst.size()):
                if lst.get(j).isSetId():
                    out[lst.get(j).getId()] = "species_reference"
    return out


def _did_you_mean(sid: str, known) -> str:
    import difflib

    close = difflib.get_close_matches(sid, list(known), n=3)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "? (`workbench info MODEL` lists every id)"
    return "`workbench info MODEL` lists every id"


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------

def load_model(source: str | os.PathLike[str]) -> Model:
    """Load a model from a file or a string.

    Parameters
    ----------
    source
        A path to an SBML file (``.xml``/``.sbml``, any level and version), an
        Antimony file (``.ant``/``.txt``), a COMBINE archive (``.omex``: its
        master SBML file), or the text of an SBML or Antimony model.

    Returns
    -------
    Model

    Raises
    ------
    InputFileError
        The file is missing, empty or unreadable.
    ModelLoadError
        The content is not a valid SBML/Antimony model.
    """
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and "<" not in source
        and (os.path.exists(source) or re.search(r"\.(xml|sbml|ant|antimony|txt|omex)$", source, re.I))
    ):
        return _load_file(Path(source))
    if not isinstance(source, str):
        raise TypeError(f"load_model takes a path or a string, not {type(source).__name__}")
    text = source
    if not text.strip():
        raise ModelLoadError("the model text is empty", source="<string>",
                             fix="pass SBML or Antimony text, or a file path")
    if text.lstrip().startswith("<"):
        return _from_sbml_bytes(text.encode(), "<sbml string>", fmt="sbml")
    return _from_antimony(text, "<antimony string>")


def _load_file(path: Path) -> Model:
    src = str(path)
    if not path.exists():
        raise InputFileError("file not found", source=src,
                             fix="check the path (it is relative to the current directory)")
    if path.is_dir():
        raise InputFileError("is a directory, not a model file", source=src)
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise InputFileError(f"file is too large ({size} bytes)", source=src)
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read the file ({exc.strerror})", source=src) from None
    if not data.strip():
        raise InputFileError("the file is empty", source=src,
                             fix="give an SBML (.xml), Antimony (.ant) or COMBINE (.omex) file")
    suffix = path.suffix.lower()
    if suffix == ".omex" or data[:4] == b"PK\x03\x04":
        name, sbml = read_omex_master(path)
        return _from_sbml_bytes(sbml, f"{src}!{name}", fmt="omex", location=None)
    head = data.lstrip()[:1]
    if head == b"<":
        return _from_sbml_bytes(data, src, fmt="sbml", location=path.resolve())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelLoadError("the file is neither XML (SBML) nor UTF-8 text (Antimony)",
                             source=src) from None
    return _from_antimony(text, src)


def _check_xml_safety(data: bytes, src: str) -> None:
    if _ENTITY_RE.search(data[:1_000_000]):
        raise ModelLoadError(
            "the XML declares entities (<!ENTITY ...>), which SBML never needs and which can "
            "read local files or expand without bound (external entity, 'billion laughs'); "
            "the file was not parsed", source=src,
            fix="remove the <!DOCTYPE ...> block with its entity declarations")


def _parse_sbml_text(data: bytes, src: str, location: Path | None = None) -> libsbml.SBMLDocument:
    import libsbml

    _check_xml_safety(data, src)
    reader = libsbml.SBMLReader()
    doc = reader.readSBMLFromString(data.decode("utf-8", errors="replace"))
    if location is not None:
        doc.setLocationURI(location.as_uri())
    fatal = []
    for i in range(doc.getNumErrors()):
        e = doc.getError(i)
        if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR and (
            e.getCategory() in (libsbml.LIBSBML_CAT_XML, libsbml.LIBSBML_CAT_SBML)
            or e.getSeverity() == libsbml.LIBSBML_SEV_FATAL
        ):
            fatal.append(e)
    if doc.getModel() is None or any(e.getSeverity() == libsbml.LIBSBML_SEV_FATAL
                                     or e.getCategory() == libsbml.LIBSBML_CAT_XML
                                     for e in fatal):
        if fatal:
            e = fatal[0]
            msg = e.getMessage().strip().replace("\n", " ")
            raise ModelLoadError(f"not readable as SBML: {msg} (line {e.getLine()})", source=src,
                                 fix="check that the file is complete, well-formed SBML")
        root = re.search(rb"<\s*([A-Za-z_][\w:.-]*)", data)
        tag = root.group(1).decode() if root else "?"
        raise ModelLoadError(f"this XML is not an SBML model (root element <{tag}>, no <model>)",
                             source=src, fix="give an SBML file whose root is <sbml> with a <model>")
    return doc


def _from_sbml_bytes(data: bytes, src: str, fmt: str, location: Path | None = None,
                     antimony: str | None = None) -> Model:
    import libsbml

    doc = _parse_sbml_text(data, src, location)
    text = data.decode("utf-8", errors="replace")
    sim_text, flattened = text, False
    if doc.getPlugin("comp") is not None and doc.isPackageEnabled("comp"):
        mplug = doc.getModel().getPlugin("comp")
        dplug = doc.getPlugin("comp")
        if (mplug is not None and mplug.getNumSubmodels() > 0) or (
                dplug is not None and dplug.getNumModelDefinitions() > 0):
            flat = doc.clone()
            props = libsbml.ConversionProperties()
            props.addOption("flatten comp", True)
            props.addOption("leave_ports", False)
            status = flat.convert(props)
            if status != libsbml.LIBSBML_OPERATION_SUCCESS:
                errs = "; ".join(flat.getError(i).getMessage().strip()
                                 for i in range(flat.getNumErrors())
                                 if flat.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR)
                raise ModelLoadError(f"the hierarchical (comp) model cannot be flattened: "
                                     f"{errs or 'libSBML conversion failed'}", source=src,
                                     fix="check that every externalModelDefinition resolves")
            sim_text = libsbml.writeSBMLToString(flat)
            flattened = True
        else:
            # comp enabled but unused: nothing to flatten
            pass
    return Model(source=src, format=fmt, original_sbml=text, sbml=sim_text,
                 flattened=flattened, antimony=antimony)


def _from_antimony(text: str, src: str) -> Model:
    import antimony

    antimony.clearPreviousLoads()
    rc = antimony.loadAntimonyString(text)
    if rc < 0:
        err = (antimony.getLastError() or "unknown error").strip().replace("\n", " ")
        raise ModelLoadError(f"invalid Antimony: {err}", source=src,
                             fix="correct the Antimony text (see https://tellurium.readthedocs.io "
                                 "for the syntax), or give an SBML file")
    main = antimony.getMainModuleName()
    sbml = antimony.getSBMLString(main)
    if not sbml:
        raise ModelLoadError("Antimony produced no SBML for the main module", source=src)
    return _from_sbml_bytes(sbml.encode(), src, fmt="antimony", antimony=text)


def read_omex_master(path: Path) -> tuple[str, bytes]:
    """Return (entry name, bytes) of the master SBML file of a COMBINE archive.

    Refuses archives with absolute paths or ``..`` in entry names (zip slip).
    """
    import xml.etree.ElementTree as ET

    src = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InputFileError("not a COMBINE archive (not a zip file)", source=src,
                             fix="give a .omex file written by a COMBINE tool") from None
    with zf:
        names = zf.namelist()
        for n in names:
            p = PurePosixPath(n.replace("\\", "/"))
            if p.is_absolute() or ".." in p.parts or re.match(r"^[A-Za-z]:", n):
                raise InputFileError(f"archive entry {n!r} has an absolute path or '..' "
                                     "(zip slip); refusing the archive", source=src,
                                     fix="rebuild the archive with relative entry paths")
        entries: list[tuple[str, str, bool]] = []
        if "manifest.xml" in names:
            raw = zf.read("manifest.xml")
            _check_xml_safety(raw, f"{src}!manifest.xml")
            try:
                root = ET.fromstring(raw)
            except ET.ParseError as exc:
                raise InputFileError(f"manifest.xml is not valid XML ({exc})", source=src) from None
            for el in root.iter():
                if el.tag.endswith("content"):
                    loc = el.get("location", "").lstrip("./").lstrip("/") if el.get("location") else ""
                    loc = el.get("location", "")
                    loc = loc[2:] if loc.startswith("./") else loc
                    fmt = el.get("format", "")
                    master = el.get("master", "false").lower() == "true"
                    entries.append((loc, fmt, master))
        sbml = [e for e in entries if "sbml" in e[1].lower() and e[0] in names]
        pick = [e for e in sbml if e[2]] or sbml
        if not pick:
            xmls = [n for n in names if n.lower().endswith((".xml", ".sbml"))
                    and n not in ("manifest.xml", "metadata.rdf") and not n.lower().endswith(".sedml")]
            if not xmls:
                raise InputFileError("the archive holds no SBML model", source=src,
                                     fix="add the model and list it in manifest.xml with an SBML format")
            return xmls[0], zf.read(xmls[0])
        return pick[0][0], zf.read(pick[0][0])


# ---------------------------------------------------------------------------
# element tables
# ---------------------------------------------------------------------------

def _cv_terms(sb) -> str:
    import libsbml

    out = []
    terms = sb.getCVTerms()
    if terms is None:
        return ""
    for t in terms:
        if t.getQualifierType() == libsbml.MODEL_QUALIFIER:
            q = "bqmodel:" + libsbml.ModelQualifierType_toString(t.getModelQualifierType())
        else:
            q = "bqbiol:" + libsbml.BiolQualifierType_toString(t.getBiologicalQualifierType())
        for k in range(t.getNumResources()):
            out.append(f"{q} {t.getResourceURI(k)}")
    return "; ".join(out)


def _sbo(sb) -> str:
    return sb.getSBOTermID() if sb.isSetSBOTerm() else ""


def _formula(ast) -> str:
    import libsbml

    return libsbml.formulaToL3String(ast) if ast is not None else ""


def _element_tables(m: libsbml.Model, u: UnitResolver) -> dict[str, pd.DataFrame]:
    ia = {}
    for i in range(m.getNumInitialAssignments()):
        a = m.getInitialAssignment(i)
        ia[a.getSymbol()] = _formula(a.getMath())
    comps = []
    for i in range(m.getNumCompartments()):
        c = m.getCompartment(i)
        comps.append({C.ID: c.getId(), C.NAME: c.getName(),
                      C.VALUE: c.getSize() if c.isSetSize() else float("nan"),
                      C.UNIT: u.compartment(c), C.CONSTANT: bool(c.getConstant()),
                      C.INITIAL_ASSIGNMENT: ia.get(c.getId(), ""), C.ANNOTATIONS: _cv_terms(c),
                      C.SBO: _sbo(c)})
    species = []
    for i in range(m.getNumSpecies()):
        s = m.getSpecies(i)
        amt = s.getInitialAmount() if s.isSetInitialAmount() else float("nan")
        conc = s.getInitialConcentration() if s.isSetInitialConcentration() else float("nan")
        if s.isSetInitialConcentration():
            value, unit = conc, u.concentration(s)
        elif s.isSetInitialAmount():
            value, unit = amt, u.species_substance(s)
        else:
            value, unit = float("nan"), u.species(s)
        species.append({C.ID: s.getId(), C.NAME: s.getName(), C.COMPARTMENT: s.getCompartment(),
                        C.VALUE: value, C.UNIT: unit, C.INITIAL_AMOUNT: amt,
                        C.INITIAL_CONCENTRATION: conc,
                        C.ONLY_SUBSTANCE: bool(s.getHasOnlySubstanceUnits()),
                        C.BOUNDARY: bool(s.getBoundaryCondition()), C.CONSTANT: bool(s.getConstant()),
                        C.INITIAL_ASSIGNMENT: ia.get(s.getId(), ""), C.ANNOTATIONS: _cv_terms(s),
                        C.SBO: _sbo(s)})
    params = []
    for i in range(m.getNumParameters()):
        p = m.getParameter(i)
        params.append({C.ID: p.getId(), C.NAME: p.getName(),
                       C.VALUE: p.getValue() if p.isSetValue() else float("nan"),
                       C.UNIT: u.parameter(p), C.CONSTANT: bool(p.getConstant()),
                       C.INITIAL_ASSIGNMENT: ia.get(p.getId(), ""), C.ANNOTATIONS: _cv_terms(p),
                       C.SBO: _sbo(p), "scope": "global"})
    reactions = []
    rate_unit = u.reaction_rate()
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)

        def refs(lst):
            parts = []
            for j in range(lst.size()):
                sr = lst.get(j)
                st = sr.getStoichiometry() if hasattr(sr, "getStoichiometry") else 1.0
                parts.append(sr.getSpecies() if st == 1 else f"{st:g} {sr.getSpecies()}")
            return " + ".join(parts)

        kl = r.getKineticLaw()
        reactions.append({C.ID: r.getId(), C.NAME: r.getName(),
                          C.REACTANTS: refs(r.getListOfReactants()),
                          C.PRODUCTS: refs(r.getListOfProducts()),
                          C.MODIFIERS: ", ".join(r.getModifier(j).getSpecies()
                                                 for j in range(r.getNumModifiers())),
                          C.FORMULA: _formula(kl.getMath()) if kl is not None else "",
                          C.REVERSIBLE: bool(r.getReversible()), C.UNIT: rate_unit,
                          C.ANNOTATIONS: _cv_terms(r), C.SBO: _sbo(r)})
        if kl is not None:
            lps = kl.getListOfLocalParameters() if m.getLevel() >= 3 else kl.getListOfParameters()
            for j in range(lps.size()):
                p = lps.get(j)
                params.append({C.ID: p.getId(), C.NAME: p.getName(),
                               C.VALUE: p.getValue() if p.isSetValue() else float("nan"),
                               C.UNIT: u.ref(p.getUnits()) if p.isSetUnits() else "",
                               C.CONSTANT: True, C.INITIAL_ASSIGNMENT: "",
                               C.ANNOTATIONS: _cv_terms(p), C.SBO: _sbo(p), "scope": r.getId()})
    rules = []
    import libsbml

    for i in range(m.getNumRules()):
        r = m.getRule(i)
        rtype = ("algebraic" if r.isAlgebraic() else "rate" if r.isRate() else "assignment")
        var = r.getVariable() if not r.isAlgebraic() else ""
        unit = ""
        if var:
            try:
                el = m.getElementBySId(var)
                if isinstance(el, libsbml.Species):
                    unit = u.species(el)
                elif isinstance(el, libsbml.Compartment):
                    unit = u.compartment(el)
                elif isinstance(el, libsbml.Parameter):
                    unit = u.parameter(el)
            except Exception:  # pragma: no cover - defensive
                unit = ""
        rules.append({C.VARIABLE: var, C.RULE_TYPE: rtype, C.FORMULA: _formula(r.getMath()),
                      C.UNIT: unit})
    events = []
    for i in range(m.getNumEvents()):
        e = m.getEvent(i)
        trig = _formula(e.getTrigger().getMath()) if e.isSetTrigger() else ""
        assigns = "; ".join(f"{a.getVariable()} = {_formula(a.getMath())}"
                            for a in e.getListOfEventAssignments())
        events.append({C.ID: e.getId(), C.NAME: e.getName(), C.TRIGGER: trig,
                       C.ASSIGNMENTS: assigns})
    return {
        "compartments": pd.DataFrame(comps, columns=list(C.COMPARTMENT_COLUMNS)),
        "species": pd.DataFrame(species, columns=list(C.SPECIES_COLUMNS)),
        "parameters": pd.DataFrame(params, columns=[*C.PARAMETER_COLUMNS, "scope"]),
        "reactions": pd.DataFrame(reactions, columns=list(C.REACTION_COLUMNS)),
        "rules": pd.DataFrame(rules, columns=list(C.RULE_COLUMNS)),
        "events": pd.DataFrame(events, columns=list(C.EVENT_COLUMNS)),
    }
