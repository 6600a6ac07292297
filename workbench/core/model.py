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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from workbench import columns as C
from workbench.core.units import UnitResolver
from workbench.errors import InputFileError, ModelCheckError, ModelLoadError, UnknownIdError

if TYPE_CHECKING:
    import libsbml

__all__ = ["Model", "element_kinds", "load_model", "read_omex_master"]

log = logging.getLogger(__name__)



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
    findings
        Warnings of the model gate (:class:`workbench.core.model_gate.GateFinding`), e.g. a
        parameter without a value that nothing reads (simulated as NaN).
    """

    source: str
    format: str
    original_sbml: str
    sbml: str
    flattened: bool = False
    antimony: str | None = field(default=None, repr=False)
    findings: tuple = field(default=(), repr=False, compare=False)

    # -- libSBML views (parsed on demand, cached) -------------------------------
    @functools.cached_property
    def document(self) -> libsbml.SBMLDocument:
        """The original SBML document (treat as read-only)."""
        return _parse_sbml_text(self.original_sbml.encode(), self.source)

    @functools.cached_property
    def sim_document(self) -> libsbml.SBMLDocument:
        """The simulatable (flattened) SBML document (treat as read-only)."""
        if self.sbml == self.original_sbml:
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


def sid_index(m: libsbml.Model) -> dict[str, libsbml.SBase]:
    """id -> element of a libSBML model's compartments, species, parameters and reactions
    (libSBML's getElementBySId walks the whole model: once per id made the template
    quadratic in the number of parameters)."""
    out: dict[str, libsbml.SBase] = {}
    for lst in (m.getListOfCompartments(), m.getListOfSpecies(), m.getListOfParameters(),
                m.getListOfReactions()):
        for i in range(lst.size()):
            el = lst.get(i)
            out.setdefault(el.getId(), el)
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

def load_model(source: str | os.PathLike[str], *, check: bool = True) -> Model:
    """Load a model from a file or a string.

    Parameters
    ----------
    source
        A path to an SBML file (``.xml``/``.sbml``, any level and version), an
        Antimony file (``.ant``/``.txt``), a COMBINE archive (``.omex``: its
        master SBML file), or the text of an SBML or Antimony model.
    check
        Run the model gate (:mod:`workbench.model_gate`) and refuse a model that
        libRoadRunner could not build or would simulate wrongly. Only
        :func:`workbench.validate` turns it off, to list the findings instead.

    Returns
    -------
    Model

    Raises
    ------
    InputFileError
        The file is missing, empty, unreadable, special (a pipe or device) or too large.
    ModelLoadError
        The content is not a valid SBML/Antimony model, cannot be decoded, or nests
        too deeply.
    ModelCheckError
        The model is readable but cannot be simulated as written (duplicate ids,
        undefined symbols, a read parameter without a value, NaN values, a
        compartment of size <= 0).
    """
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and "<" not in source
        and (os.path.exists(source) or re.search(r"\.(xml|sbml|ant|antimony|txt|omex)$", source, re.I))
    ):
        return _load_file(Path(source), check)
    if not isinstance(source, str):
        raise TypeError(f"load_model takes a path or a string, not {type(source).__name__}")
    text = source.lstrip("\ufeff")
    if not text.strip():
        raise ModelLoadError("the model text is empty", source="<string>",
                             fix="pass SBML or Antimony text, or a file path")
    if text.lstrip().startswith("<"):
        text = re.sub(r"""(^\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""", r"\1\2UTF-8\2",
                      text, count=1)  # already text: whatever it was, it is UTF-8 now
        return _from_sbml_bytes(text.encode("utf-8", "surrogatepass"), "<sbml string>",
                                fmt="sbml", check=check)
    return _from_antimony(text, "<antimony string>", check)


def _load_file(path: Path, check: bool = True) -> Model:
    from workbench.core.archive import read_omex_model
    from workbench.core.textin import decode_text, read_input_bytes

    src = str(path)
    data = read_input_bytes(path, "model file")
    if not data.strip():
        raise InputFileError("the file is empty", source=src,
                             fix="give an SBML (.xml), Antimony (.ant) or COMBINE (.omex) file")
    suffix = path.suffix.lower()
    if suffix == ".omex" or data[:4] == b"PK\x03\x04":
        name, sbml = read_omex_model(path)
        text = decode_text(sbml, f"{src}!{name}", xml=True, what="model file",
                           error=ModelLoadError)
        return _from_sbml_bytes(text.encode("utf-8"), f"{src}!{name}", fmt="omex", location=None,
                                check=check)
    text = decode_text(data, src, xml=True, what="model file", error=ModelLoadError)
    if text.lstrip()[:1] == "<":
        return _from_sbml_bytes(text.encode("utf-8"), src, fmt="sbml", location=path.resolve(),
                                check=check)
    return _from_antimony(text, src, check)


def _parse_sbml_text(data: bytes, src: str, location: Path | None = None) -> libsbml.SBMLDocument:
    import libsbml

    from workbench.core.model_gate import scan_xml

    scan_xml(data, src)  # entities anywhere, nesting depth: before libSBML recurses
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelLoadError(f"the SBML is not valid UTF-8: undecodable byte(s) "
                             f"{data[exc.start:exc.start + 4].hex(' ')} at byte offset {exc.start}",
                             source=src, element=f"byte {exc.start}",
                             fix="save the file as UTF-8") from None
    reader = libsbml.SBMLReader()
    doc = reader.readSBMLFromString(text)
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
                     antimony: str | None = None, check: bool = True) -> Model:
    import libsbml

    doc = _parse_sbml_text(data, src, location)
    text = data.decode("utf-8")
    sim_text, flattened = text, False
    sim_doc = doc
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
            sim_doc = flat
        else:
            # comp enabled but unused: nothing to flatten
            pass
    findings: tuple = ()
    if check:
        sim_text, findings = _gate(sim_doc, sim_text, src)
    return Model(source=src, format=fmt, original_sbml=text, sbml=sim_text,
                 flattened=flattened, antimony=antimony, findings=findings)


def _gate(doc, sim_text: str, src: str) -> tuple[str, tuple]:
    """Run the model gate on the simulatable document; returns the (possibly patched)
    simulatable text and the warnings. Raises ModelCheckError on errors."""
    from workbench.core.model_gate import check_findings, gate_findings, patch_unvalued, trial_build

    found, unjudged = gate_findings(doc)
    check_findings(found, src)
    warnings = tuple(f for f in found if f.severity == "warning")
    for f in warnings:
        log.warning("%s: %s", src, f.message)
    sim_text = patch_unvalued(doc, found) or sim_text
    if unjudged:
        crash = trial_build(sim_text, src)
        if crash is not None:
            check_findings([crash], src)
    return sim_text, warnings


def _non_ascii_word(text: str) -> tuple[int, str] | None:
    """(line, word) of the first non-ASCII word outside comments and quoted names."""
    for k, line in enumerate(text.splitlines(), 1):
        code = re.sub(r'"[^"]*"', '""', line.split("//", 1)[0])
        m = re.search(r"[\w.]*[^\x00-\x7f][\w.]*", code)
        if m:
            return k, m.group(0)
    return None


def _from_antimony(text: str, src: str, check: bool = True) -> Model:
    import antimony

    antimony.clearPreviousLoads()
    rc = antimony.loadAntimonyString(text)
    if rc < 0:
        try:
            err = (antimony.getLastError() or "unknown error").strip().replace("\n", " ")
        except UnicodeDecodeError:  # Antimony cuts multi-byte characters in its message
            err = "the parser stopped (its message is not readable text)"
        bad = _non_ascii_word(text)
        if bad is not None:
            line, word = bad
            raise ModelCheckError(f"invalid Antimony: line {line} has the non-ASCII word {word!r}; "
                                 f"Antimony (and SBML) ids are ASCII letters, digits and "
                                 f"underscores ({err})", source=src, element=f"line {line}",
                                 fix=f"rename {word!r} with ASCII characters only (put the full "
                                     "name in the element's name: `X is \"Müller\"`)")
        raise ModelLoadError(f"invalid Antimony: {err}", source=src,
                             fix="correct the Antimony text (see https://tellurium.readthedocs.io "
                                 "for the syntax), or give an SBML file")
    main = antimony.getMainModuleName()
    sbml = antimony.getSBMLString(main)
    if not sbml:
        raise ModelLoadError("Antimony produced no SBML for the main module", source=src)
    return _from_sbml_bytes(sbml.encode(), src, fmt="antimony", antimony=text, check=check)


def read_omex_master(path: Path) -> tuple[str, bytes]:
    """Return (entry name, bytes) of the SBML model a COMBINE archive designates
    (see :func:`workbench.core.archive.read_omex_model`: master rules, limits, zip slip)."""
    from workbench.core.archive import read_omex_model

    return read_omex_model(path)


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
