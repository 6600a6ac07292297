"""Initial assignments of global parameters, evaluated in Python.

libRoadRunner 2.10 re-evaluates the initial assignments of *species* on
``reset()`` but not those of *global parameters*: after setting ``N`` with
``setValue``, a parameter ``beta := R0 * gamma / N`` keeps its loaded value
(setting ``init(N)`` propagates, but regenerates the model, ~50 ms a call).
:class:`ParameterInitialAssignments` evaluates those assignments from the
values being set, so callers can pass the dependent values along.
"""

from __future__ import annotations

import ast as pyast
import copy
import logging
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["DependentPlan", "ParameterInitialAssignments"]

log = logging.getLogger(__name__)

_Env = Mapping[str, float]


_FUNCS: dict[str, Callable] = {
    "exp": math.exp, "ln": math.log, "log10": math.log10, "sqrt": math.sqrt, "abs": abs,
    "floor": math.floor, "ceil": math.ceil, "ceiling": math.ceil, "sin": math.sin,
    "cos": math.cos, "tan": math.tan, "sinh": math.sinh, "cosh": math.cosh,
    "tanh": math.tanh, "asin": math.asin, "arcsin": math.asin, "acos": math.acos,
    "arccos": math.acos, "atan": math.atan, "arctan": math.atan, "min": min, "max": max,
    "pow": lambda a, b: a ** b, "power": lambda a, b: a ** b,
    "log": lambda b, x=None: math.log10(b) if x is None else math.log(x) / math.log(b),
    "root": lambda n, x=None: math.sqrt(n) if x is None else x ** (1.0 / n),
    "gt": lambda a, b: float(a > b), "lt": lambda a, b: float(a < b),
    "geq": lambda a, b: float(a >= b), "leq": lambda a, b: float(a <= b),
    "eq": lambda a, b: float(a == b), "neq": lambda a, b: float(a != b),
    "and": lambda *a: float(all(a)), "or": lambda *a: float(any(a)),
    "xor": lambda *a: float(sum(bool(v) for v in a) % 2 == 1), "not": lambda a: float(not a),
}
_CONSTANTS = {"true": 1.0, "false": 0.0, "pi": math.pi, "exponentiale": math.e,
              "avogadro": 6.02214076e23, "time": 0.0, "t": 0.0, "INF": math.inf, "inf": math.inf,
              "NaN": math.nan}
_OPS = {pyast.Add: operator.add, pyast.Sub: operator.sub, pyast.Mult: operator.mul,
        pyast.Div: operator.truediv, pyast.Pow: operator.pow}
_CMP = {pyast.Gt: operator.gt, pyast.Lt: operator.lt, pyast.GtE: operator.ge,
        pyast.LtE: operator.le, pyast.Eq: operator.eq, pyast.NotEq: operator.ne}


def _piecewise(args: list[Callable[[_Env], float]]) -> Callable[[_Env], float]:
    def pw(env):
        for i in range(0, len(args) - 1, 2):
            if args[i + 1](env):
                return args[i](env)
        return args[-1](env) if len(args) % 2 else math.nan
    return pw


def _compile_node(node) -> Callable[[_Env], float]:
    """A closure for a Python expression tree of an SBML L3 formula (whitelisted nodes only)."""
    if isinstance(node, pyast.Expression):
        return _compile_node(node.body)
    if isinstance(node, pyast.Constant) and isinstance(node.value, int | float):
        v = float(node.value)
        return lambda env: v
    if isinstance(node, pyast.Name):
        name = node.id
        if name in _CONSTANTS:
            c = _CONSTANTS[name]
            return lambda env: env[name] if name in env else c
        return lambda env: float(env[name])
    if isinstance(node, pyast.BinOp) and type(node.op) in _OPS:
        op, a, b = _OPS[type(node.op)], _compile_node(node.left), _compile_node(node.right)
        return lambda env: op(a(env), b(env))
    if isinstance(node, pyast.UnaryOp):
        a = _compile_node(node.operand)
        if isinstance(node.op, pyast.USub):
            return lambda env: -a(env)
        if isinstance(node.op, pyast.UAdd):
            return a
        if isinstance(node.op, pyast.Not):
            return lambda env: float(not a(env))
    if isinstance(node, pyast.BoolOp):
        fs = [_compile_node(v) for v in node.values]
        if isinstance(node.op, pyast.And):
            return lambda env: float(all(f(env) for f in fs))
        return lambda env: float(any(f(env) for f in fs))
    if isinstance(node, pyast.Compare) and all(type(o) in _CMP for o in node.ops):
        parts = [_compile_node(node.left), *(_compile_node(c) for c in node.comparators)]
        ops = [_CMP[type(o)] for o in node.ops]
        return lambda env: float(all(op(parts[i](env), parts[i + 1](env))
                                     for i, op in enumerate(ops)))
    if isinstance(node, pyast.Call) and isinstance(node.func, pyast.Name) and not node.keywords:
        args = [_compile_node(a) for a in node.args]
        if node.func.id == "piecewise":
            return _piecewise(args)
        fn = _FUNCS.get(node.func.id)
        if fn is not None:
            return lambda env: float(fn(*(a(env) for a in args)))
    raise NotImplementedError(f"unsupported math: {pyast.dump(node)[:80]}")


class _InlineRules(pyast.NodeTransformer):
    """Replace the variables of assignment rules by their formulas (transitively): an
    initial assignment reading ``X0 := k / d`` reads ``k`` and ``d``."""

    def __init__(self, rules: Mapping[str, pyast.expr]) -> None:
        self.rules = rules
        self.path: tuple[str, ...] = ()

    def visit_Call(self, node: pyast.Call) -> pyast.AST:
        node.args = [self.visit(a) for a in node.args]  # the function name is no variable
        return node

    def visit_Name(self, node: pyast.Name) -> pyast.AST:
        rule = self.rules.get(node.id)
        if rule is None or node.id in self.path:
            return node
        self.path = (*self.path, node.id)
        try:
            return self.visit(copy.deepcopy(rule))
        finally:
            self.path = self.path[:-1]


def _parse(formula: str):
    """Python expression tree of an SBML L3 infix formula (``libsbml.formulaToL3String``)."""
    text = (formula.replace("!=", "\x00").replace("&&", " and ").replace("||", " or ")
            .replace("!", " not ").replace("\x00", "!=").replace("^", "**"))
    try:
        return pyast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise NotImplementedError(f"cannot read {formula!r}") from exc


@dataclass(frozen=True)
class DependentPlan:
    """The parameter initial assignments that read one tuple of set ids, compiled once
    (per :class:`workbench.sim._model_index.Assignment`) and evaluated per sample.

    Which assignments depend on the set ids, in which order, and which loaded values
    they read do not change from sample to sample; only the values do. So a sample
    costs one small dict and one call per dependent assignment, not a walk over every
    assignment of the model with a copy of every loaded value.

    Attributes
    ----------
    ids
        The set ids, in the order of the value arrays.
    steps
        Per dependent parameter, in evaluation order: (parameter, formula, names read).
    base
        The loaded values those formulas read that no set id overrides.
    """

    ids: tuple[str, ...]
    steps: tuple[tuple[str, Callable[[_Env], float], frozenset[str]], ...]
    base: Mapping[str, float]

    def evaluate(self, values: Sequence[float]) -> dict[str, float]:
        """Values of the dependent parameters for one sample (``values`` in ``ids``
        order). An assignment that cannot be evaluated (division by zero, unknown name)
        is left out, and so are those that read only it: the caller keeps their loaded
        values, as :meth:`ParameterInitialAssignments.dependent_values` does."""
        if not self.steps:
            return {}
        env = dict(self.base)
        env.update(zip(self.ids, values, strict=True))
        changed = set(self.ids)
        out: dict[str, float] = {}
        for p, fn, reads in self.steps:
            if reads & changed:
                try:
                    env[p] = out[p] = float(fn(env))
                except (KeyError, ValueError, ZeroDivisionError, OverflowError):
                    continue
                changed.add(p)
        return out


class ParameterInitialAssignments:
    """The initial assignments of the global parameters of an SBML model.

    Parameters
    ----------
    sbml
        SBML text.
    """

    def __init__(self, sbml: str) -> None:
        import libsbml

        doc = libsbml.readSBMLFromString(sbml)
        if doc.getModel() is not None and doc.getModel().getNumFunctionDefinitions():
            props = libsbml.ConversionProperties()
            props.addOption("expandFunctionDefinitions", True)
            doc.convert(props)
        m = doc.getModel()
        params = {m.getParameter(i).getId() for i in range(m.getNumParameters())}
        rules: dict[str, pyast.expr] = {}
        for i in range(m.getNumRules()):
            r = m.getRule(i)
            if r.isAssignment() and r.getMath() is not None:
                try:
                    rules[r.getVariable()] = _parse(libsbml.formulaToL3String(r.getMath())).body
                except NotImplementedError:
                    continue  # kept as a name: an initial assignment reads its loaded value
        inline = _InlineRules(rules)
        self._ias: dict[str, tuple[Callable[[_Env], float], set[str]]] = {}
        for i in range(m.getNumInitialAssignments()):
            ia = m.getInitialAssignment(i)
            sym = ia.getSymbol()
            if sym not in params or ia.getMath() is None:
                continue
            formula = libsbml.formulaToL3String(ia.getMath())
            try:
                tree = inline.visit(_parse(formula))
                fn = _compile_node(tree)
                names = {n.id for n in pyast.walk(tree) if isinstance(n, pyast.Name)}
            except NotImplementedError as exc:
                log.debug("initial assignment of %s not evaluated here (%s); libRoadRunner "
                            "keeps its loaded value", sym, exc)
                continue
            self._ias[sym] = (fn, names)
        # evaluation order: an assignment after those it reads
        order: list[str] = []
        seen: set[str] = set()

        def visit(p: str, path: tuple[str, ...] = ()) -> None:
            if p in seen or p in path:
                return
            for d in self._ias[p][1]:
                if d in self._ias:
                    visit(d, (*path, p))
            seen.add(p)
            order.append(p)

        for p in self._ias:
            visit(p)
        self.order = tuple(order)

    @property
    def reads(self) -> set[str]:
        """Every name the parameter initial assignments read."""
        return set().union(*(names for _, names in self._ias.values())) if self._ias else set()

    def reads_of(self, target: str) -> set[str]:
        """Names the initial assignment of parameter ``target`` reads."""
        return set(self._ias[target][1])

    @property
    def targets(self) -> tuple[str, ...]:
        """Parameters that have an initial assignment, in evaluation order."""
        return self.order

    def dependent_values(self, values: Mapping[str, float], base: Mapping[str, float]
                         ) -> dict[str, float]:
        """Values of the assigned parameters not in ``values``, given ``values`` set on
        top of ``base`` (the model's loaded values, species as their symbols mean).

        Only assignments that (transitively) read a key of ``values`` are returned.
        """
        if not self.order or not values:
            return {}
        return self.plan(list(values), base).evaluate(list(values.values()))

    def plan(self, ids: Sequence[str], base: Mapping[str, float]) -> DependentPlan:
        """The :class:`DependentPlan` of setting ``ids`` on top of ``base`` (the model's
        loaded values): the assignments not set themselves that (transitively) read an
        id, in evaluation order (:meth:`dependent_values` is a plan used once)."""
        ids = tuple(ids)
        changed, steps = set(ids), []
        for p in self.order:
            fn, reads = self._ias[p]
            if p not in changed and reads & changed:
                steps.append((p, fn, frozenset(reads)))
                changed.add(p)
        needed = set().union(*(r for _, _, r in steps)) if steps else set()
        keep = {n: base[n] for n in needed - set(ids) if n in base}
        return DependentPlan(ids=ids, steps=tuple(steps), base=keep)
