"""SBML plumbing of the export: level conversion, unit inference, metadata inventory.

Used by :mod:`workbench.export`. Converting to Level 3 Version 2 uses libSBML's
level/version converter (non-strict), then repairs what it leaves behind:
Level 2 compartment and species types become groups (SBML groups package, the
Level 3 replacement of types), ``stoichiometryMath`` that is a plain number
becomes a constant stoichiometry, and an undeclared ``vCard4`` prefix in a
rewritten model history is declared. :func:`metadata_inventory` records every
element's notes, CV terms, other annotations and SBO term so that the export
can prove nothing was lost.

Reference: Bornstein BJ et al. (2008) LibSBML: an API library for SBML.
Bioinformatics 24(6):880-881.
"""

from __future__ import annotations

import logging
import re

from workbench.errors import ModelLoadError, UnsupportedFeatureError

__all__ = ["convert_l3v2", "declare_vcard4", "infer_parameter_units", "lost_metadata",
           "metadata_counts", "metadata_inventory", "missing_units"]

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------
# metadata inventory (what must survive the export)
# ---------------------------------------------------------------------------

def _key(el) -> str:
    name = el.getElementName()
    for getter in ("getId", "getVariable", "getSymbol"):
        f = getattr(el, getter, None)
        try:
            v = f() if f is not None else ""
        except Exception:  # pragma: no cover - libSBML raises for some element types
            v = ""
        if v:
            parent = el.getParentSBMLObject()
            pre = ""
            if name in ("localParameter", "parameter") and parent is not None \
                    and parent.getParentSBMLObject() is not None \
                    and parent.getParentSBMLObject().getElementName() == "kineticLaw":
                pre = parent.getParentSBMLObject().getParentSBMLObject().getId() + "/"
            if name == "localParameter":
                name = "parameter"
            return f"{name}:{pre}{v}"
    if el.isSetMetaId():
        return f"{name}#{el.getMetaId()}"
    return ""


def _text(xml: str) -> str:
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", xml)).split())


def _cv(el) -> set[tuple[str, str]]:
    import libsbml

    out = set()
    for t in el.getCVTerms() or []:
        q = (libsbml.BiolQualifierType_toString(t.getBiologicalQualifierType())
             if t.getQualifierType() == libsbml.BIOLOGICAL_QUALIFIER
             else libsbml.ModelQualifierType_toString(t.getModelQualifierType()))
        for k in range(t.getNumResources()):
            out.add((q, t.getResourceURI(k)))
    return out


def _other_annotations(el) -> set[str]:
    """Top-level annotation children other than RDF (namespace + name)."""
    out: set[str] = set()
    ann = el.getAnnotation() if el.isSetAnnotation() else None
    if ann is None:
        return out
    for i in range(ann.getNumChildren()):
        ch = ann.getChild(i)
        if ch.isElement() and ch.getName() != "RDF":
            out.add(f"{ch.getURI()}:{ch.getName()}")
    return out


def metadata_inventory(doc) -> dict[str, dict]:
    """Notes text, CV terms, other annotations and SBO term of every element of ``doc``.

    Keys are ``"kind:id"`` (local parameters ``"parameter:reaction/id"``);
    ``"unitDefinition:id"`` entries record each unit definition.
    """
    m = doc.getModel()
    elements = [m]
    lst = doc.getListOfAllElements()
    elements += [e for e in (lst.get(i) for i in range(lst.getSize())) if e is not None]
    inv: dict[str, dict] = {}
    anon = 0
    for el in elements:
        k = _key(el)
        if not k:
            if not (el.isSetNotes() or el.isSetAnnotation()):
                continue
            anon += 1
            k = f"{el.getElementName()}@{anon}"
        if k in inv:
            continue
        inv[k] = {"notes": _text(el.getNotesString()) if el.isSetNotes() else "",
                  "cv": _cv(el), "other": _other_annotations(el),
                  "sbo": el.getSBOTermID() if el.isSetSBOTerm() else "",
                  "annotated": bool(el.isSetAnnotation())}
    return inv


def metadata_counts(doc, inv: dict[str, dict]) -> dict[str, int]:
    m = doc.getModel()
    hist = m.getModelHistory() if m.isSetModelHistory() else None
    return {"annotations": sum(1 for v in inv.values() if v["annotated"]),
            "cv_terms": sum(len(v["cv"]) for v in inv.values()),
            "notes": sum(1 for v in inv.values() if v["notes"]),
            "unit_definitions": m.getNumUnitDefinitions(),
            "sbo_terms": sum(1 for v in inv.values() if v["sbo"]),
            "creators": hist.getNumCreators() if hist is not None else 0}


def lost_metadata(before: dict, after: dict, doc_before, doc_after) -> list[str]:
    out = []
    for k, b in before.items():
        a = after.get(k)
        if a is None and k.split(":", 1)[0] in ("compartmentType", "speciesType"):
            a = after.get("group:" + k.split(":", 1)[1])  # Level 2 types become groups
        if a is None:
            if b["notes"] or b["cv"] or b["other"]:
                out.append(f"{k}: element with annotations/notes is gone")
            continue
        if b["notes"] and b["notes"] not in a["notes"]:
            out.append(f"{k}: notes changed")
        missing = b["cv"] - a["cv"]
        if missing:
            out.append(f"{k}: CV terms lost: " + ", ".join(f"{q} {u}" for q, u in sorted(missing)))
        if b["other"] - a["other"]:
            out.append(f"{k}: annotations lost: " + ", ".join(sorted(b["other"] - a["other"])))
        if b["sbo"] and b["sbo"] != a["sbo"]:
            out.append(f"{k}: SBO term {b['sbo']} changed to {a['sbo'] or 'none'}")
    ub = {doc_before.getModel().getUnitDefinition(i).getId()
          for i in range(doc_before.getModel().getNumUnitDefinitions())}
    ua = {doc_after.getModel().getUnitDefinition(i).getId()
          for i in range(doc_after.getModel().getNumUnitDefinitions())}
    out += [f"unitDefinition:{u} lost" for u in sorted(ub - ua)]
    return out


# ---------------------------------------------------------------------------
# level conversion and units
# ---------------------------------------------------------------------------

def convert_l3v2(doc, lossy: bool = False) -> list[str]:
    import libsbml

    if (doc.getLevel(), doc.getVersion()) == (3, 2):
        return []
    m = doc.getModel()
    fast = [m.getReaction(i).getId() for i in range(m.getNumReactions())
            if m.getReaction(i).isSetFast() and m.getReaction(i).getFast()]
    if fast and not lossy:
        raise UnsupportedFeatureError(
            "fast reactions", element=fast[0],
            detail="SBML Level 3 Version 2 has no fast reactions; exported, "
                   + ", ".join(fast[:5]) + (" ..." if len(fast) > 5 else "")
                   + " would become ordinary reactions with other dynamics",
            fix="pass lossy=True (CLI --lossy) to export them as ordinary reactions anyway")
    types = _collect_types(m)
    before = doc.getNumErrors()
    props = libsbml.ConversionProperties(libsbml.SBMLNamespaces(3, 2))
    props.addOption("strict", False)
    props.addOption("setLevelAndVersion", True)
    rc = doc.convert(props)
    msgs = []
    for i in range(before, doc.getNumErrors()):
        e = doc.getError(i)
        if e.getSeverity() >= libsbml.LIBSBML_SEV_WARNING:
            msgs.append(" ".join(e.getMessage().split()))
    if rc != libsbml.LIBSBML_OPERATION_SUCCESS or (doc.getLevel(), doc.getVersion()) != (3, 2):
        raise ModelLoadError("libSBML cannot convert the model to SBML Level 3 Version 2: "
                             + ("; ".join(dict.fromkeys(msgs)) or f"conversion status {rc}"),
                             fix="fix the listed elements in the source model")
    _fold_constant_stoichiometry(doc.getModel())
    if types:
        _add_type_groups(doc, types)
    return list(dict.fromkeys(msgs))


def _collect_types(m) -> list[dict]:
    """Level 2 compartment and species types, which Level 3 expresses as groups."""
    if m.getLevel() != 2:
        return []
    out = []
    for kind, types, items, getter in (
            ("compartmentType", m.getListOfCompartmentTypes(), m.getListOfCompartments(),
             "getCompartmentType"),
            ("speciesType", m.getListOfSpeciesTypes(), m.getListOfSpecies(), "getSpeciesType")):
        for i in range(types.size()):
            t = types.get(i)
            members = [items.get(j).getId() for j in range(items.size())
                       if getattr(items.get(j), getter)() == t.getId()]
            out.append({"kind": kind, "id": t.getId(), "name": t.getName(),
                        "metaid": t.getMetaId() if t.isSetMetaId() else "",
                        "sbo": t.getSBOTerm() if t.isSetSBOTerm() else -1,
                        "notes": t.getNotesString() if t.isSetNotes() else "",
                        "annotation": t.getAnnotationString() if t.isSetAnnotation() else "",
                        "members": members})
    return out


def _add_type_groups(doc, types: list[dict]) -> None:
    """Each Level 2 type becomes a group of kind "classification" (SBML groups package,
    the Level 3 replacement of types) with the type's id, name, notes, annotations
    and SBO term, and its compartments or species as members."""
    import libsbml

    doc.enablePackage(libsbml.GroupsExtension.getXmlnsL3V1V1(), "groups", True)
    doc.setPackageRequired("groups", False)
    plug = doc.getModel().getPlugin("groups")
    for t in types:
        g = plug.createGroup()
        g.setId(t["id"])
        g.setKind(libsbml.GROUP_KIND_CLASSIFICATION)
        if t["name"]:
            g.setName(t["name"])
        if t["metaid"]:
            g.setMetaId(t["metaid"])
        if t["sbo"] >= 0:
            g.setSBOTerm(t["sbo"])
        if t["notes"]:
            g.setNotes(t["notes"])
        if t["annotation"]:
            g.setAnnotation(t["annotation"])
        for sid in t["members"]:
            g.createMember().setIdRef(sid)


def _fold_constant_stoichiometry(m) -> None:
    """Level 2 ``stoichiometryMath`` that is a plain number -> a constant stoichiometry.

    libSBML turns every ``stoichiometryMath`` into an assignment rule on the
    species reference; when the math is a number that is the same model, and
    libRoadRunner 2.10 fails on such rules for repeated references to one
    species (suite case 01441).
    """

    targets = {m.getEvent(i).getEventAssignment(j).getVariable()
               for i in range(m.getNumEvents()) for j in range(m.getEvent(i).getNumEventAssignments())}
    refs = {}
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        for lst in (r.getListOfReactants(), r.getListOfProducts()):
            for j in range(lst.size()):
                sr = lst.get(j)
                if sr.isSetId():
                    refs[sr.getId()] = sr
    for i in reversed(range(m.getNumRules())):
        rule = m.getRule(i)
        var = rule.getVariable() if rule.isAssignment() else ""
        if var not in refs or var in targets or not rule.isSetMath():
            continue
        ast = rule.getMath()
        sign = 1.0
        if ast.isUMinus():
            sign, ast = -1.0, ast.getChild(0)
        if not ast.isNumber():
            continue
        sr = refs[var]
        sr.setStoichiometry(sign * ast.getValue())
        sr.setConstant(True)
        m.removeRule(i)


def missing_units(m) -> list[str]:
    missing = []
    for attr in ("Substance", "Time", "Volume", "Extent"):
        if not getattr(m, f"isSet{attr}Units")():
            missing.append(f"model {attr.lower()}Units")
    for i in range(m.getNumParameters()):
        p = m.getParameter(i)
        if not p.isSetUnits():
            missing.append(f"parameter {p.getId()}")
    for i in range(m.getNumCompartments()):
        c = m.getCompartment(i)
        if not c.isSetUnits() and not (m.isSetVolumeUnits() and c.getSpatialDimensionsAsDouble() == 3):
            if not ((c.getSpatialDimensionsAsDouble() == 2 and m.isSetAreaUnits())
                    or (c.getSpatialDimensionsAsDouble() == 1 and m.isSetLengthUnits())
                    or c.getSpatialDimensionsAsDouble() == 0):
                missing.append(f"compartment {c.getId()}")
    for i in range(m.getNumSpecies()):
        s = m.getSpecies(i)
        if not s.isSetSubstanceUnits() and not m.isSetSubstanceUnits():
            missing.append(f"species {s.getId()}")
    for i in range(m.getNumReactions()):
        kl = m.getReaction(i).getKineticLaw()
        if kl is None:
            continue
        for j in range(kl.getNumLocalParameters()):
            p = kl.getLocalParameter(j)
            if not p.isSetUnits():
                missing.append(f"parameter {m.getReaction(i).getId()}/{p.getId()}")
    return missing


_INFER_CODE = (
    "import sys, libsbml\n"
    "d = libsbml.readSBMLFromString(sys.stdin.read())\n"
    "p = libsbml.ConversionProperties()\n"
    "p.addOption('inferUnits', True)\n"
    "d.convert(p)\n"
    "sys.stdout.write(libsbml.writeSBMLToString(d))\n")


def infer_parameter_units(doc):
    """(document, parameters whose unit was inferred) with libSBML's ``inferUnits``.

    The converter of libSBML 5.21 crashes the interpreter on some ordinary
    models (suite cases 00086, 01243), so it runs in a child process; when the
    child fails the document is returned unchanged.
    """
    import subprocess
    import sys

    import libsbml

    m = doc.getModel()
    before = {m.getParameter(i).getId() for i in range(m.getNumParameters())
              if not m.getParameter(i).isSetUnits()}
    if not before or not _all_math_set(m):
        return doc, []
    try:
        proc = subprocess.run([sys.executable, "-c", _INFER_CODE],
                              input=libsbml.writeSBMLToString(doc), capture_output=True,
                              text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("units not inferred (%s)", exc)
        return doc, []
    if proc.returncode != 0 or not proc.stdout.strip():
        log.warning("units not inferred: libSBML's inferUnits converter failed (exit %s)",
                    proc.returncode)
        return doc, []
    new = libsbml.readSBMLFromString(proc.stdout)
    nm = new.getModel()
    if nm is None or nm.getNumParameters() != m.getNumParameters():  # pragma: no cover
        return doc, []
    return new, sorted(p for p in before if nm.getParameter(p).isSetUnits())


def _all_math_set(m) -> bool:
    holders = [m.getFunctionDefinition(i) for i in range(m.getNumFunctionDefinitions())]
    holders += [m.getInitialAssignment(i) for i in range(m.getNumInitialAssignments())]
    holders += [m.getRule(i) for i in range(m.getNumRules())]
    holders += [m.getConstraint(i) for i in range(m.getNumConstraints())]
    for i in range(m.getNumReactions()):
        kl = m.getReaction(i).getKineticLaw()
        if kl is not None:
            holders.append(kl)
    for i in range(m.getNumEvents()):
        e = m.getEvent(i)
        holders += [x for x in (e.getTrigger(), e.getDelay(), e.getPriority()) if x is not None]
        holders += [e.getEventAssignment(j) for j in range(e.getNumEventAssignments())]
    return all(h.isSetMath() for h in holders)


_VCARD4 = "http://www.w3.org/2006/vcard/ns#"


def declare_vcard4(text: str) -> str:
    """Declare the vCard4 prefix on ``rdf:RDF`` elements that use it without declaring it.

    libSBML 5.21 writes a changed model history of a model converted from Level 2
    with ``vCard4:`` elements inside the source's ``rdf:RDF`` element, whose
    namespace declarations lack vCard4 (BIOMD0000000238): unreadable XML.
    """
    if "vCard4:" not in text:
        return text

    def fix(mt: re.Match) -> str:
        tag = mt.group(0)
        if "xmlns:vCard4=" in tag or tag.endswith("/>"):
            return tag
        return tag[:-1] + f' xmlns:vCard4="{_VCARD4}">'

    return re.sub(r"<rdf:RDF\b[^>]*>", fix, text)
