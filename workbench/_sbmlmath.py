"""Walks over libSBML math trees that do not depend on ``ASTNode.getType()``.

Importing tellurium or python-libsedml next to python-libsbml makes
``getType()`` return an opaque SWIG object instead of an int (the two SWIG
modules clash over the enum type), and QSP users often import tellurium in the
same session. These helpers use libSBML's boolean predicates and function
names instead, which survive the clash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

__all__ = ["has_delay", "is_discontinuous", "names", "walk"]

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
