"""Exchange-ready SBML: Level 3 Version 2 with units, SBO terms, annotations and provenance.

:func:`export_sbml` builds the file from the model's own SBML with libSBML
(comp already flattened by :func:`workbench.load_model`), never from the
simulator's in-memory model: libRoadRunner's ``getCurrentSBML()`` loses
semantics in 39 cases of the SBML semantic test suite, a libSBML write of the
flattened document in none. Steps:

1. convert older levels/versions with libSBML's level/version converter
   (non-strict); anything it reports as not converted is listed;
2. keep every MIRIAM annotation, note, SBO term and unit definition of the
   source (checked element by element after the build: ``lost`` lists any);
   Level 2 compartment and species types, which Level 3 core lacks, become
   groups of kind "classification" (SBML groups package) with their metadata;
3. complete units (model-wide units added by the conversion, parameter units
   inferred from the equations with libSBML's ``inferUnits`` converter) and
   add generic SBO terms where none is set;
4. embed the provenance table in each element: ``bqbiol:isDescribedBy`` for the
   references of the chosen value, a namespaced annotation
   (:data:`workbench.core.provenance.PROVENANCE_NS`) with every candidate, and a
   readable paragraph in the notes;
5. record the model history (creators, created and modified dates);
6. optionally add dosing regimens as SBML events: a bolus adds its amount to
   the species; an infusion switches a zero-order input rate parameter on at
   its start and off at its end. With several regimens the events are gated
   by the constant parameter ``wb_regimen`` (1, 2, ...).

The level conversion and metadata inventory live in :mod:`workbench._sbml_convert`,
the regimen events in :mod:`workbench.sbml_events`.

References: Hucka M et al. (2019) The Systems Biology Markup Language (SBML):
Language Specification for Level 3 Version 2 Core. J Integr Bioinform 16(2);
Bornstein BJ et al. (2008) LibSBML: an API library for SBML. Bioinformatics
24(6):880-881.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from workbench import columns as C
from workbench.core.dosing import Regimen, Subject, parse_regimen
from workbench.core.model import Model, load_model
from workbench.core.provenance import (
    PROVENANCE_NS,
    _element,
    _xml_attr,
    check_provenance,
    normalise_reference,
    reference_uri,
    split_references,
)
from workbench.errors import WorkbenchError
from workbench.exchange._sbml_convert import (
    _cv,
    _text,
    convert_l3v2,
    declare_vcard4,
    infer_parameter_units,
    lost_metadata,
    metadata_counts,
    metadata_inventory,
    missing_units,
)
from workbench.exchange.events import add_regimen_events

__all__ = ["Creator", "ExportReport", "export_sbml", "export_sbml_string", "metadata_inventory"]

log = logging.getLogger(__name__)

_NOTES_CLASS = "workbench-provenance"
_SBO_DEFAULT = {"model": 62, "compartment": 290, "species": 240, "parameter": 2,
                "localParameter": 2, "reaction": 231}


@dataclass(frozen=True)
class Creator:
    """A model creator for the SBML model history and the OMEX metadata."""

    family_name: str
    given_name: str = ""
    email: str = ""
    organisation: str = ""

    @classmethod
    def parse(cls, text: str) -> Creator:
        """From ``"Family, Given[, email[, organisation]]"``."""
        parts = [p.strip() for p in text.split(",")]
        if not parts or not parts[0]:
            raise WorkbenchError(f"creator {text!r}: the family name is missing",
                                 element="--creator", fix="write 'Family, Given, email, organisation'")
        parts += [""] * (4 - len(parts))
        return cls(*parts[:4])


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_sbml` did.

    Attributes
    ----------
    path
        The written file ("" when only the text was built).
    source_level
        (level, version) of the source SBML.
    not_converted
        Messages of libSBML's level/version conversion about what it could not convert.
    errors, unit_warnings
        libSBML consistency findings of the written file (errors; unit-consistency warnings).
    missing_units
        Elements that still have no unit (undeclared in the source and not inferable).
    inferred_units
        Parameters whose unit was inferred from the equations.
    lost
        Annotations, notes or unit definitions of the source missing in the output (empty).
    events
        Ids of the dosing events added.
    provenance_entries
        Elements that received their provenance.
    history
        Why the model history could not be written ("" when it was).
    counts
        (what, before, after) metadata counts; :meth:`to_frame` shows them.
    """

    path: str
    source_level: tuple[int, int]
    not_converted: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    unit_warnings: tuple[str, ...] = ()
    missing_units: tuple[str, ...] = ()
    inferred_units: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    provenance_entries: int = 0
    history: str = ""
    counts: tuple[tuple[str, int, int], ...] = ()
    sbml: str = field(default="", repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """Metadata counts before and after: :data:`workbench.columns.METADATA_COUNT_COLUMNS`."""
        return pd.DataFrame(list(self.counts), columns=list(C.METADATA_COUNT_COLUMNS))


# ---------------------------------------------------------------------------
# steps
# ---------------------------------------------------------------------------

def _default_sbo(m) -> int:
    n = 0

    def put(el, term):
        nonlocal n
        if not el.isSetSBOTerm():
            el.setSBOTerm(term)
            n += 1

    put(m, _SBO_DEFAULT["model"])
    for i in range(m.getNumCompartments()):
        put(m.getCompartment(i), _SBO_DEFAULT["compartment"])
    for i in range(m.getNumSpecies()):
        put(m.getSpecies(i), _SBO_DEFAULT["species"])
    for i in range(m.getNumParameters()):
        put(m.getParameter(i), _SBO_DEFAULT["parameter"])
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        put(r, _SBO_DEFAULT["reaction"])
        kl = r.getKineticLaw()
        if kl is not None:
            for j in range(kl.getNumLocalParameters()):
                put(kl.getLocalParameter(j), _SBO_DEFAULT["localParameter"])
    return n


def _unique_metaid(doc, base: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", base)
    if not re.match(r"[A-Za-z_]", base):
        base = "_" + base
    cand, k = base, 1
    while doc.getElementByMetaId(cand) is not None:
        k += 1
        cand = f"{base}_{k}"
    return cand


def _fmt(v: float) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else repr(float(v))


def _embed_provenance(doc, table: pd.DataFrame) -> int:
    import libsbml

    from workbench.core.model import sid_index

    m = doc.getModel()
    n = 0
    index = sid_index(m)
    for (sid, scope), g in table.groupby([C.ID, C.SCOPE], sort=False):
        el = _element(m, sid, scope, index)
        if el is None:
            continue
        if not el.isSetMetaId():
            el.setMetaId(_unique_metaid(doc, f"wb_{scope}_{sid}" if scope else f"wb_{sid}"))
        chosen = g[g[C.CHOSEN]]
        c = chosen.iloc[0] if len(chosen) else g.iloc[0]
        have = {normalise_reference(u) for _, u in _cv(el)}
        for ref in split_references(c[C.REFERENCE]):
            uri = reference_uri(ref)
            if normalise_reference(uri) in have or not re.match(r"^(https?|urn):", uri):
                continue
            term = libsbml.CVTerm(libsbml.BIOLOGICAL_QUALIFIER)
            term.setBiologicalQualifierType(libsbml.BQB_IS_DESCRIBED_BY)
            term.addResource(uri)
            el.addCVTerm(term)
            have.add(ref)
        cands = []
        for _, r in g.iterrows():
            attrs = []
            for col in C.PROVENANCE_COLUMNS:
                if col in (C.KIND, C.ID, C.SCOPE, C.NAME):
                    continue
                v = r[col]
                if col == C.CHOSEN:
                    text = "true" if bool(v) else "false"
                elif col in (C.VALUE, C.INITIAL_VALUE, C.CALIBRATED_VALUE):
                    text = _fmt(v)
                else:
                    text = str(v)
                if text or col in (C.CHOSEN, C.VALUE, C.UNIT, C.SOURCE_TYPE):
                    attrs.append(f"{_xml_attr(col)}={quoteattr(text)}")
            cands.append(f"<wbp:candidate {' '.join(attrs)}/>")
        el.removeTopLevelAnnotationElement("provenance", PROVENANCE_NS)
        xml = (f'<wbp:provenance xmlns:wbp="{PROVENANCE_NS}">' + "".join(cands)
               + "</wbp:provenance>")
        if el.appendAnnotation(xml) != libsbml.LIBSBML_OPERATION_SUCCESS:
            log.warning("could not annotate %s with its provenance", sid)
            continue
        _set_notes(el, _notes_paragraph(c, g))
        n += 1
    return n


def _notes_paragraph(c, g: pd.DataFrame) -> str:
    def one(r) -> str:
        bits = [x for x in (r[C.SOURCE_TYPE], r[C.ORGANISM], r[C.ASSAY],
                            r[C.REFERENCE] or r[C.CITATION]) if x]
        v = _fmt(r[C.VALUE])
        return f"{float(v):.6g} {r[C.UNIT]}".strip() + (f" ({'; '.join(bits)})" if bits else "") \
            if v else "derived" + (f" ({'; '.join(bits)})" if bits else "")

    text = "Provenance: " + one(c) + "."
    if c[C.RATIONALE]:
        text += " Rationale: " + c[C.RATIONALE].rstrip(".") + "."
    others = [one(r) for _, r in g.iterrows() if not r[C.CHOSEN]]
    if others:
        text += " Other candidates: " + "; ".join(others) + "."
    if not math.isnan(c[C.CALIBRATED_VALUE]):
        text += (f" Calibrated from {_fmt(c[C.INITIAL_VALUE]) or '?'} to "
                 f"{_fmt(c[C.CALIBRATED_VALUE])} ({c[C.CALIBRATION_METHOD] or 'method not stated'}).")
    return text


def _set_notes(el, text: str) -> None:
    para = (f'<p xmlns="http://www.w3.org/1999/xhtml" class="{_NOTES_CLASS}">{escape(text)}</p>')
    if el.isSetNotes():
        old = el.getNotesString()
        if _NOTES_CLASS in old:
            new = re.sub(rf'<p[^>]*class="{_NOTES_CLASS}"[^>]*>.*?</p>', "", old, flags=re.S)
            el.setNotes(new)
            if not _text(el.getNotesString()):
                el.unsetNotes()
    if el.isSetNotes():
        el.appendNotes(para)
    else:
        el.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml">{para}</body>')


def _set_history(doc, creators: Sequence[Creator], date: _dt.datetime) -> str:
    import libsbml

    m = doc.getModel()
    if not m.isSetMetaId():
        m.setMetaId(_unique_metaid(doc, "wb_model_" + (m.getId() or "model")))
    h = m.getModelHistory().clone() if m.isSetModelHistory() else libsbml.ModelHistory()
    known = {(h.getCreator(i).getFamilyName(), h.getCreator(i).getGivenName())
             for i in range(h.getNumCreators())}
    for c in creators:
        if (c.family_name, c.given_name) in known:
            continue
        mc = libsbml.ModelCreator()
        mc.setFamilyName(c.family_name)
        if c.given_name:
            mc.setGivenName(c.given_name)
        if c.email:
            mc.setEmail(c.email)
        if c.organisation:
            mc.setOrganisation(c.organisation)
        h.addCreator(mc)
    if h.getNumCreators() == 0:
        return "no model history: libSBML needs at least one creator (give creators=...)"
    stamp = libsbml.Date(date.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if not h.isSetCreatedDate():
        h.setCreatedDate(stamp)
    h.addModifiedDate(stamp)
    rc = m.setModelHistory(h)
    if rc != libsbml.LIBSBML_OPERATION_SUCCESS:  # pragma: no cover - defensive
        return f"libSBML refused the model history (status {rc})"
    return ""


# ---------------------------------------------------------------------------
# verbs
# ---------------------------------------------------------------------------

def _regimen_list(regimen, target) -> list[Regimen]:
    if regimen is None:
        return []
    items = [regimen] if isinstance(regimen, Regimen | str) else list(regimen)
    return [parse_regimen(r, target=target) if isinstance(r, str) else r for r in items]


def export_sbml_string(model: Model | str | os.PathLike[str],
                       provenance: pd.DataFrame | str | os.PathLike[str] | None = None,
                       regimen: Regimen | str | Sequence[Regimen | str] | None = None, *,
                       target: str | None = None, mw: float | str | None = None,
                       subject: Subject | None = None, creators: Sequence[Creator] = (),
                       date: _dt.datetime | None = None, infer_units: bool = True,
                       default_sbo: bool = True, check: bool = True,
                       lossy: bool = False) -> ExportReport:
    """Build the exchange SBML without writing it; the text is ``report.sbml``.

    Parameters are those of :func:`export_sbml`.
    """
    m = model if isinstance(model, Model) else load_model(model)
    table = check_provenance(m, provenance) if provenance is not None else None
    return _export_checked(m, table, _regimen_list(regimen, target), target=target, mw=mw,
                           subject=subject, creators=creators, date=date,
                           infer_units=infer_units, default_sbo=default_sbo, check=check,
                           lossy=lossy)


def _export_checked(m: Model, table: pd.DataFrame | None, regimens: list[Regimen], *,
                    target: str | None, mw: float | str | None, subject: Subject | None,
                    creators: Sequence[Creator], date: _dt.datetime | None,
                    infer_units: bool, default_sbo: bool = True, check: bool = True,
                    lossy: bool) -> ExportReport:
    """:func:`export_sbml_string` with a provenance table already checked against ``m``
    (:func:`~workbench.core.provenance.check_provenance`), or None."""
    import libsbml

    doc = libsbml.readSBMLFromString(m.sbml)
    src_doc = libsbml.readSBMLFromString(m.sbml)
    level = (doc.getLevel(), doc.getVersion())
    before = metadata_inventory(src_doc)
    counts_before = metadata_counts(src_doc, before)
    not_converted = convert_l3v2(doc, lossy)
    doc, inferred = infer_parameter_units(doc) if infer_units else (doc, [])
    if default_sbo:
        _default_sbo(doc.getModel())
    n_prov = _embed_provenance(doc, table) if table is not None else 0
    events = (add_regimen_events(doc, m, regimens, mw, subject or Subject(), target)
              if regimens else [])
    history = _set_history(doc, creators, date or _dt.datetime.now(_dt.UTC).replace(microsecond=0))
    text = declare_vcard4(libsbml.writeSBMLToString(doc))
    out_doc = libsbml.readSBMLFromString(text)
    after = metadata_inventory(out_doc)
    lost = lost_metadata(before, after, src_doc, out_doc)
    counts_after = metadata_counts(out_doc, after)
    errors: list[str] = []
    unit_warnings: list[str] = []
    if check:
        errors, unit_warnings = _check(out_doc)
    report = ExportReport(
        path="", source_level=level, not_converted=tuple(not_converted), errors=tuple(errors),
        unit_warnings=tuple(unit_warnings), missing_units=tuple(missing_units(out_doc.getModel())),
        inferred_units=tuple(inferred), lost=tuple(lost), events=tuple(events),
        provenance_entries=n_prov, history=history,
        counts=tuple((k, counts_before[k], counts_after[k]) for k in counts_before), sbml=text)
    for msg in lost:
        log.warning("%s: %s", m.source, msg)
    return report


def _check(doc) -> tuple[list[str], list[str]]:
    import libsbml

    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, True)
    doc.setConsistencyChecks(libsbml.LIBSBML_CAT_MODELING_PRACTICE, False)
    doc.checkConsistency()
    errors, units = [], []
    for i in range(doc.getNumErrors()):
        e = doc.getError(i)
        msg = f"{e.getErrorId()} line {e.getLine()}: " + " ".join(e.getMessage().split())
        if e.getSeverity() >= libsbml.LIBSBML_SEV_ERROR:
            errors.append(msg)
        elif e.getCategory() == libsbml.LIBSBML_CAT_UNITS_CONSISTENCY:
            units.append(msg)
    return list(dict.fromkeys(errors)), list(dict.fromkeys(units))


def export_sbml(model: Model | str | os.PathLike[str], path: str | os.PathLike[str],
                provenance: pd.DataFrame | str | os.PathLike[str] | None = None,
                regimen: Regimen | str | Sequence[Regimen | str] | None = None, *,
                target: str | None = None, mw: float | str | None = None,
                subject: Subject | None = None, creators: Sequence[Creator] = (),
                date: _dt.datetime | None = None, infer_units: bool = True,
                default_sbo: bool = True, check: bool = True,
                lossy: bool = False) -> ExportReport:
    """Write the model as exchange-ready SBML Level 3 Version 2, atomically.

    Parameters
    ----------
    model
        A :class:`~workbench.core.model.Model` or anything :func:`~workbench.load_model` takes.
    path
        Output ``.xml`` file.
    provenance
        A provenance table (DataFrame or CSV/XLSX path); it is linted against
        the model first and embedded in each element.
    regimen
        A regimen, its text, or a list of them, added as SBML events (several
        regimens are gated by the parameter ``wb_regimen``).
    target, mw, subject
        Dosed species, molecular weight and body size, as for :func:`~workbench.simulate`.
    creators
        Added to the model history.
    date
        Time stamp of the history (default: now, UTC).
    infer_units
        Infer undeclared parameter units from the equations (libSBML's
        ``inferUnits`` converter, run in a child process because it crashes on
        some models); the parameters concerned are listed in ``report.inferred_units``.
    default_sbo
        Add generic SBO terms where none is set (model: continuous framework
        SBO:0000062; compartment SBO:0000290; species SBO:0000240; parameter
        SBO:0000002; reaction SBO:0000231).
    check
        Run libSBML's consistency checks (units included) on the written file.
    lossy
        Export even what Level 3 Version 2 cannot express (fast reactions, which
        become ordinary reactions; listed in ``report.not_converted``). Without
        it such models are refused.

    Returns
    -------
    ExportReport

    Raises
    ------
    ProvenanceError
        The provenance table does not match the model (every finding listed).
    ModelLoadError
        libSBML cannot convert the model to Level 3 Version 2.
    UnsupportedFeatureError
        The model has fast reactions (and ``lossy`` is False).
    DoseError
        A regimen cannot be expressed (unknown or undosable species, units).
    """
    from workbench.core._io import atomic_write_text

    report = export_sbml_string(model, provenance, regimen, target=target, mw=mw, subject=subject,
                                creators=creators, date=date, infer_units=infer_units,
                                default_sbo=default_sbo, check=check, lossy=lossy)
    atomic_write_text(path, report.sbml)
    from dataclasses import replace

    return replace(report, path=str(path))
