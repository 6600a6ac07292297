"""The model gate: what must hold before libSBML recurses or libRoadRunner builds a model.

libRoadRunner is C++ and trusts its input. Some invalid SBML does not raise an
error there but kills the process (exit 139, no message): two parameters with the
same id (``free(): invalid pointer``), a kinetic law nested thousands of levels
deep (libSBML's reader itself overflows the stack). Other defects build but give
wrong numbers with exit 0: a compartment of size -1, a NaN rate constant. The gate
runs at load time, in three steps:

1. :func:`scan_xml`, on the bytes, before libSBML sees them: no ``<!ENTITY``
   anywhere in the file (external entities read local files; 'billion laughs'
   expands without bound), and XML nesting no deeper than the ``xml_depth`` limit.
   The scan uses expat's streaming parser, which does not recurse.
2. :func:`gate_findings`, on the parsed (flattened) document: libSBML's identifier
   and MathML consistency checks (duplicate ids, undefined symbols; the general
   group too, see below), and the values libRoadRunner needs: a parameter without
   a value that something reads is an error (one that nothing reads is a warning,
   and is simulated as NaN so that a read would show); a NaN or infinite value that
   something reads is an error; a compartment of size zero or less holding species
   or read by math is an error.
3. :func:`trial_build`, when libSBML still reports an error the gate cannot judge
   (its general consistency group): libRoadRunner builds the model once in a child
   process, so that a crash becomes an error message. The verdict is cached per
   SBML hash (in the process and in ``~/.cache/workbench/build-verdicts``, or
   ``$WORKBENCH_CACHE_DIR``), so it costs once.

:func:`workbench.validate` reports every gate finding with the libSBML ones, and
runs the trial build when nothing else is wrong, so "0 errors" means the model
builds.

Codes of the gate's own findings (libSBML's keep theirs):

====== ======== ==========================================================
code   severity meaning
====== ======== ==========================================================
90101  error    parameter without a value, read by the model
90102  warning  parameter without a value that nothing reads (set to NaN)
90201  error    NaN or infinite value read by the model
90301  error    compartment of size zero or less
90401  error    libRoadRunner cannot build the model (its message)
90402  error    libRoadRunner crashed building the model (signal)
====== ======== ==========================================================
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from workbench.core.limits import limit, limit_hint
from workbench.errors import ModelCheckError, ModelLoadError

__all__ = ["GateFinding", "check_findings", "gate_findings", "patch_unvalued", "scan_xml",
           "trial_build"]

log = logging.getLogger(__name__)

_ENTITY_RE = re.compile(rb"<!ENTITY", re.IGNORECASE)
# libSBML identifier-consistency errors about unit references: libRoadRunner ignores
# units, so these never stop a build (SBML test suite case 00959 has one)
_HARMLESS = {10311, 10312, 10313, 10314}


@dataclass(frozen=True)
class GateFinding:
    """One finding of the gate: ``severity`` is ``error`` or ``warning``."""

    severity: str
    code: int
    element: str
    message: str
    fix: str = ""
    line: int = 0


# ---------------------------------------------------------------------------
# 1. bytes
# ---------------------------------------------------------------------------

class _TooDeep(Exception):
    pass


def scan_xml(data: bytes, src: str) -> None:
    """Refuse entity declarations anywhere and nesting beyond the ``xml_depth`` limit.

    ``data`` is UTF-8 (see :func:`workbench.core.textin.decode_text`). Cost: one
    streaming pass (expat, no recursion), linear in the size.

    Raises
    ------
    ModelLoadError
        With the element (id) where the nesting is too deep, or the entity finding.
    """
    import xml.parsers.expat

    if _ENTITY_RE.search(data):
        raise ModelLoadError(
            "the XML declares entities (<!ENTITY ...>), which SBML never needs and which can "
            "read local files or expand without bound (external entity, 'billion laughs'); "
            "the file was not parsed", source=src,
            fix="remove the <!DOCTYPE ...> block with its entity declarations")
    cap = limit("xml_depth")
    stack: list[tuple[str, str]] = []
    parser = xml.parsers.expat.ParserCreate()

    def start(name, attrs):
        ident = attrs.get("id") or attrs.get("variable") or attrs.get("symbol") or ""
        stack.append((name, ident))
        if len(stack) > cap:
            raise _TooDeep

    def end(name):
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _TooDeep:
        owner = next((f"{n} '{i}'" for n, i in reversed(stack) if i), "the document")
        raise ModelLoadError(
            f"the XML nests deeper than {cap} levels (inside {owner}, line "
            f"{parser.CurrentLineNumber}); libSBML and libRoadRunner recurse once per level and "
            "would crash the process. Published models nest at most about 20 levels",
            source=src, element=owner, fix="write the expression flat (n-ary plus/times, "
            "helper parameters or assignment rules); " + limit_hint("xml_depth")) from None
    except xml.parsers.expat.ExpatError as exc:
        raise ModelLoadError(f"not well-formed XML: {xml.parsers.expat.ErrorString(exc.code)} "
                             f"(line {exc.lineno}, column {exc.offset + 1})", source=src,
                             element=f"line {exc.lineno}",
                             fix="check that the file is complete, well-formed XML") from None


# ---------------------------------------------------------------------------
# 2. document
# ---------------------------------------------------------------------------

def _label(el) -> str:
    name = el.getElementName() if el is not None else "element"
    ident = ""
    for attr in ("getId", "getVariable", "getSymbol"):
        if hasattr(el, attr):
            try:
                ident = getattr(el, attr)()
            except TypeError:  # pragma: no cover - SWIG overloads
                ident = ""
            if ident:
                break
    return f"{name} {ident}".strip()


def _readers(m) -> dict[str, str]:
    """id -> the first element whose math reads it (or that it must initialise)."""
    from workbench.core._sbmlmath import walk

    out: dict[str, str] = {}

    def add(math, owner: str) -> None:
        if math is None:
            return
        for n in walk([math]):
            if n.isName() and n.getName():
                out.setdefault(n.getName(), owner)

    for i in range(m.getNumRules()):
        r = m.getRule(i)
        add(r.getMath(), _label(r))
        if r.isRate():  # integrates from the initial value
            out.setdefault(r.getVariable(), _label(r))
    for i in range(m.getNumInitialAssignments()):
        a = m.getInitialAssignment(i)
        add(a.getMath(), _label(a))
    for i in range(m.getNumConstraints()):
        add(m.getConstraint(i).getMath(), "constraint")
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        kl = r.getKineticLaw()
        if kl is not None:
            add(kl.getMath(), f"reaction {r.getId()}")
        for lst in (r.getListOfReactants(), r.getListOfProducts()):
            for j in range(lst.size()):
                sr = lst.get(j)
                out.setdefault(sr.getSpecies(), f"reaction {r.getId()}")
                if hasattr(sr, "isSetStoichiometryMath") and sr.isSetStoichiometryMath():
                    add(sr.getStoichiometryMath().getMath(), f"reaction {r.getId()}")
    for i in range(m.getNumEvents()):
        e = m.getEvent(i)
        owner = f"event {e.getId()}".strip()
        for part in (e.getTrigger() if e.isSetTrigger() else None,
                     e.getDelay() if e.isSetDelay() else None,
                     e.getPriority() if e.isSetPriority() else None):
            if part is not None:
                add(part.getMath(), owner)
        for a in e.getListOfEventAssignments():
            add(a.getMath(), owner)
    for i in range(m.getNumSpecies()):  # a species lives in (reads) its compartment
        s = m.getSpecies(i)
        out.setdefault(s.getCompartment(), f"species {s.getId()}")
    return out


def _local_readers(kl) -> set[str]:
    from workbench.core._sbmlmath import names

    return names([kl.getMath()]) if kl is not None and kl.isSetMath() else set()


def _libsbml_findings(doc) -> tuple[list[GateFinding], bool]:
    """(findings, unjudged) from libSBML's identifier, MathML and general checks.

    ``unjudged`` is True when a general-consistency error remains that the gate
    does not refuse (the trial build then decides).
    """
    import libsbml

    for cat in (libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, libsbml.LIBSBML_CAT_SBO_CONSISTENCY,
                libsbml.LIBSBML_CAT_MODELING_PRACTICE, libsbml.LIBSBML_CAT_OVERDETERMINED_MODEL):
        doc.setConsistencyChecks(cat, False)
    before = doc.getNumErrors()
    doc.checkConsistency()
    out: list[GateFinding] = []
    unjudged = False
    refuse = (libsbml.LIBSBML_CAT_IDENTIFIER_CONSISTENCY, libsbml.LIBSBML_CAT_MATHML_CONSISTENCY)
    seen = set()
    for i in range(before, doc.getNumErrors()):
        e = doc.getError(i)
        if e.getSeverity() < libsbml.LIBSBML_SEV_ERROR:
            continue
        code = int(e.getErrorId())
        if e.getCategory() in refuse and code not in _HARMLESS:
            msg = " ".join(e.getMessage().split())
            key = (code, e.getLine(), msg)
            if key in seen:
                continue
            seen.add(key)
            # libSBML's messages open with the rule; the specific part is the last sentence
            specific = msg.split("Reference: ")[-1]
            specific = re.sub(r"^L\dV\d Section [\d.]+\s*", "", specific)
            out.append(GateFinding("error", code, "", specific or msg,
                                   "correct the element; `workbench validate` lists every finding",
                                   int(e.getLine())))
        elif code not in _HARMLESS:
            unjudged = True
    return out, unjudged


def _bad(v: float) -> bool:
    return not math.isfinite(v)


def gate_findings(doc, *, libsbml_checks: bool = True) -> tuple[list[GateFinding], bool]:
    """The gate's findings on a parsed (flattened) SBML document.

    Parameters
    ----------
    doc
        A libSBML ``SBMLDocument``; libSBML's consistency findings are appended to
        its error log.
    libsbml_checks
        Also run libSBML's identifier, MathML and general checks (validate runs them
        itself).

    Returns
    -------
    (findings, unjudged)
        ``unjudged``: libSBML reports an error the gate cannot judge.
    """
    findings: list[GateFinding] = []
    unjudged = False
    if libsbml_checks:
        findings, unjudged = _libsbml_findings(doc)
    m = doc.getModel()
    if m is None:
        return findings, unjudged
    readers = _readers(m)
    overridden = {m.getInitialAssignment(i).getSymbol()
                  for i in range(m.getNumInitialAssignments())}
    overridden |= {m.getRule(i).getVariable() for i in range(m.getNumRules())
                   if m.getRule(i).isAssignment()}
    from workbench.core._sbmlmath import names

    # an algebraic rule may determine any id it names (the engine refuses algebraic rules
    # as unsupported, with its own message)
    overridden |= names(m.getRule(i).getMath() for i in range(m.getNumRules())
                        if m.getRule(i).isAlgebraic())

    def value_finding(kind: str, ident: str, value: float, what: str, reader: str | None,
                      line: int) -> None:
        label = f"{kind} {ident}"
        if reader:
            findings.append(GateFinding(
                "error", 90201, label, f"{kind} '{ident}' has the {what} {value} and is read by "
                f"{reader}; every result would be NaN or infinite", f"give '{ident}' a finite "
                f"{what}, with its source", line))
        # NaN or INF that nothing reads is harmless (the SBML test suite has such
        # parameters, flattened models such compartments): no finding

    for i in range(m.getNumParameters()):
        p = m.getParameter(i)
        pid = p.getId()
        if pid in overridden:
            continue
        if not p.isSetValue():
            reader = readers.get(pid)
            if reader:
                findings.append(GateFinding(
                    "error", 90101, f"parameter {pid}", f"parameter '{pid}' has no value and is "
                    f"read by {reader}; libRoadRunner cannot build the model",
                    f"give '{pid}' a value (with its source), an initial assignment or an "
                    "assignment rule", p.getLine()))
            else:
                findings.append(GateFinding(
                    "warning", 90102, f"parameter {pid}", f"parameter '{pid}' has no value and "
                    "nothing reads it; it is simulated as NaN", f"give '{pid}' a value or "
                    "remove it", p.getLine()))
        elif _bad(p.getValue()):
            value_finding("parameter", pid, p.getValue(), "value", readers.get(pid), p.getLine())
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        kl = r.getKineticLaw()
        if kl is None:
            continue
        reads = _local_readers(kl)
        lps = kl.getListOfLocalParameters() if m.getLevel() >= 3 else kl.getListOfParameters()
        for j in range(lps.size()):
            p = lps.get(j)
            pid = p.getId()
            reader = f"reaction {r.getId()}" if pid in reads else None
            if not p.isSetValue():
                findings.append(GateFinding(
                    "error" if reader else "warning", 90101 if reader else 90102,
                    f"localParameter {pid} ({r.getId()})",
                    f"local parameter '{pid}' of reaction '{r.getId()}' has no value"
                    + ("" if reader else "; nothing reads it"), f"give '{pid}' a value",
                    p.getLine()))
            elif _bad(p.getValue()):
                value_finding("local parameter", f"{pid}' of reaction '{r.getId()}", p.getValue(),
                              "value", reader, p.getLine())
    for i in range(m.getNumCompartments()):
        c = m.getCompartment(i)
        cid = c.getId()
        if cid in overridden or not c.isSetSize():
            continue
        size = c.getSize()
        if _bad(size):
            value_finding("compartment", cid, size, "size", readers.get(cid), c.getLine())
        elif size <= 0 and c.getSpatialDimensionsAsDouble() != 0 and cid in readers:
            findings.append(GateFinding(
                "error", 90301, f"compartment {cid}", f"compartment '{cid}' has size {size:g}; "
                f"a volume must be positive ({readers[cid]} lives in or reads it), otherwise "
                "concentrations are negative or infinite", f"give '{cid}' its positive size, "
                "with its source", c.getLine()))
    for i in range(m.getNumSpecies()):
        s = m.getSpecies(i)
        sid = s.getId()
        if sid in overridden:
            continue
        for what, isset, get in (("initial amount", s.isSetInitialAmount, s.getInitialAmount),
                                 ("initial concentration", s.isSetInitialConcentration,
                                  s.getInitialConcentration)):
            if isset() and _bad(get()):
                value_finding("species", sid, get(), what, readers.get(sid) or f"species {sid}",
                              s.getLine())
    return findings, unjudged


def patch_unvalued(doc, findings: list[GateFinding]) -> str | None:
    """Give every parameter without a value that nothing reads (finding 90102) the value
    NaN in ``doc``; returns the new SBML text, or None when there was none.

    libRoadRunner refuses a parameter without a value even when nothing reads it;
    NaN keeps it visibly undefined should a later change read it.
    """
    import libsbml

    ids = [f.element.split(" ", 1)[1] for f in findings
           if f.code == 90102 and f.element.startswith("parameter ")]
    if not ids:
        return None
    m = doc.getModel()
    for pid in ids:
        m.getParameter(pid).setValue(float("nan"))
    return libsbml.writeSBMLToString(doc)


def check_findings(findings: list[GateFinding], src: str) -> None:
    """Raise :class:`~workbench.errors.ModelCheckError` listing every error finding."""
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        return
    listed = "; ".join(f"{f.message.rstrip('.')}" + (f" (line {f.line})" if f.line > 0 else "")
                       for f in errors[:8])
    more = f"; and {len(errors) - 8} more" if len(errors) > 8 else ""
    err = ModelCheckError(
        f"the model cannot be simulated: {len(errors)} error(s): {listed}{more}", source=src,
        element=next((f.element for f in errors if f.element), None),
        fix=(errors[0].fix if "validate" in errors[0].fix else
             errors[0].fix + " (`workbench validate` lists every finding)") if errors[0].fix
        else "`workbench validate` lists every finding")
    err.findings = tuple(errors)
    raise err


# ---------------------------------------------------------------------------
# 3. trial build in a child process
# ---------------------------------------------------------------------------

_CHILD = r"""
import sys
text = sys.stdin.buffer.read().decode("utf-8")
import roadrunner
roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)
roadrunner.Config.setValue(roadrunner.Config.ROADRUNNER_DISABLE_PYTHON_DYNAMIC_PROPERTIES, True)
try:
    roadrunner.RoadRunner(text)
except Exception as exc:
    msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    sys.stdout.write("FAIL " + msg)
    sys.exit(0)
sys.stdout.write("OK")
"""
_VERDICTS: dict[str, str] = {}


def _cache_dir() -> Path | None:
    base = os.environ.get("WORKBENCH_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "workbench")
    return Path(base) / "build-verdicts"


def _versions_key() -> str:
    from importlib import metadata

    try:
        return metadata.version("libroadrunner")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "?"


def trial_build(sbml: str, src: str, timeout: float = 600.0) -> GateFinding | None:
    """Build libRoadRunner on ``sbml`` in a child process; a finding when it fails or crashes.

    The verdict is cached per SHA-256 of the text and libRoadRunner version.
    """
    key = hashlib.sha256((_versions_key() + "\n" + sbml).encode()).hexdigest()
    verdict = _VERDICTS.get(key)
    cdir = _cache_dir()
    if verdict is None and cdir is not None:
        try:
            verdict = (cdir / key).read_text(encoding="utf-8")
        except OSError:
            verdict = None
    if verdict is None:
        log.info("%s: building the model once in a child process (a crash there is reported, "
                 "not suffered)", src)
        try:
            proc = subprocess.run([sys.executable, "-c", _CHILD], input=sbml.encode("utf-8"),
                                  capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            verdict = f"FAIL building the model took longer than {timeout:g} s"
        else:
            if proc.returncode < 0:
                verdict = f"CRASH {-proc.returncode}"
            elif proc.returncode != 0:
                tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                verdict = "FAIL " + (tail[-1] if tail else f"exit {proc.returncode}")
            else:
                verdict = proc.stdout.decode("utf-8", "replace").strip() or "OK"
        _VERDICTS[key] = verdict
        if cdir is not None and not verdict.startswith("FAIL building"):
            try:
                cdir.mkdir(parents=True, exist_ok=True)
                (cdir / key).write_text(verdict, encoding="utf-8")
            except OSError:
                pass
    _VERDICTS[key] = verdict
    if verdict.startswith("OK"):
        return None
    if verdict.startswith("CRASH"):
        import signal

        num = int(verdict.split()[1])
        try:
            name = signal.Signals(num).name
        except ValueError:
            name = f"signal {num}"
        return GateFinding("error", 90402, "model", f"libRoadRunner crashed ({name}) building "
                           "the model (in a child process; this process is unharmed)",
                           "correct the errors `workbench validate` lists; if there are none, "
                           "report the model as a libRoadRunner bug")
    return GateFinding("error", 90401, "model", "libRoadRunner cannot build the model: "
                       + verdict[5:], "correct the errors `workbench validate` lists")
