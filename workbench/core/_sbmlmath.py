"""libSBML math walks that do not depend on ``ASTNode.getType()``, and the check
for features libRoadRunner cannot simulate.

Importing tellurium or python-libsedml next to python-libsbml makes
``getType()`` return an opaque SWIG object instead of an int (the two SWIG
modules clash over the enum type), and QSP users often import tellurium in the
same session. These helpers use libSBML's boolean predicates and function
names instead, which survive the clash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

__all__ = ["has_delay", "is_discontinuous", "names", "unsupported_features", "walk"]

_DISCONTINUOUS_FUNCTIONS = {"floor", "ceil", "ceiling", "factorial", "rem", "quotient"}


def walk(roots: Iterable) -> Iterator:
    """Every node of the given math trees (None roots skipped)."""
    stack = [r for r in roots if r is not None]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.getChild(i) for i in range(node.getNumChildren()))


def _any(roots: Iterable, pred: Callable) -> bool:
    return any(pred(n) for n in walk(roots))


def is_discontinuous(roots: Iterable) -> bool:
    """True when the math contains piecewise, relational or logical operators, or
    floor/ceiling/factorial/rem/quotient."""
    def pred(n) -> bool:
        if n.isPiecewise() or n.isRelational() or n.isLogical():
            return True
        return bool(n.isFunction() and (n.getName() or "").lower() in _DISCONTINUOUS_FUNCTIONS)

    return _any(roots, pred)


def has_delay(roots: Iterable) -> bool:
    """True when the math uses the delay csymbol."""
    def pred(n) -> bool:
        if not n.isFunction():
            return False
        url = n.getDefinitionURLString() if hasattr(n, "getDefinitionURLString") else ""
        return (n.getName() or "") == "delay" or "delay" in (url or "")

    return _any(roots, pred)


def names(roots: Iterable) -> set[str]:
    """Identifiers the math reads (``ci`` elements)."""
    return {n.getName() for n in walk(roots) if n.isName() and n.getName()}


def _all_math(model):
    for i in range(model.getNumFunctionDefinitions()):
        yield model.getFunctionDefinition(i).getMath()
    for i in range(model.getNumRules()):
        yield model.getRule(i).getMath()
    for i in range(model.getNumInitialAssignments()):
        yield model.getInitialAssignment(i).getMath()
    for i in range(model.getNumConstraints()):
        yield model.getConstraint(i).getMath()
    for i in range(model.getNumReactions()):
        r = model.getReaction(i)
        if r.getKineticLaw() is not None:
            yield r.getKineticLaw().getMath()
        for lst in (r.getListOfReactants(), r.getListOfProducts()):
            for j in range(lst.size()):
                sr = lst.get(j)
                if hasattr(sr, "isSetStoichiometryMath") and sr.isSetStoichiometryMath():
                    yield sr.getStoichiometryMath().getMath()
    for i in range(model.getNumEvents()):
        e = model.getEvent(i)
        if e.isSetTrigger():
            yield e.getTrigger().getMath()
        if e.isSetDelay():
            yield e.getDelay().getMath()
        if e.isSetPriority():
            yield e.getPriority().getMath()
        for a in e.getListOfEventAssignments():
            yield a.getMath()


def unsupported_features(doc) -> list[tuple[str, str, str]]:
    """Features of an SBML document libRoadRunner cannot simulate.

    Returns
    -------
    list of (feature, element, detail)
        Empty when the model can be simulated.
    """
    out: list[tuple[str, str, str]] = []
    m = doc.getModel()
    if m is None:
        return out
    for i in range(m.getNumReactions()):
        r = m.getReaction(i)
        if r.isSetFast() and r.getFast():
            out.append(("fast reactions", r.getId(),
                        f"fast reactions are not supported; reaction '{r.getId()}' has fast='true'"))
            break
    for i in range(m.getNumRules()):
        # an <algebraicRule/> without math constrains nothing (SBML test suite case 01244)
        if m.getRule(i).isAlgebraic() and m.getRule(i).isSetMath():
            out.append(("algebraic rules", f"rule {i + 1}",
                        "algebraic rules are not supported by libRoadRunner"))
            break
    if has_delay(_all_math(m)):
        out.append(("delays", "", "the delay() csymbol is not supported by libRoadRunner"))
    for i in range(doc.getNumPlugins()):
        pkg = doc.getPlugin(i).getPackageName()
        if pkg == "fbc" and doc.isPackageEnabled("fbc"):
            out.append(("flux balance constraints (fbc)", "",
                        "flux balance analysis is not a time-course simulation"))
    return out


# ---------------------------------------------------------------------------
# engine
# ---------------------------------------------------------------------------
