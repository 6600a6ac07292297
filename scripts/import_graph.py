"""Import graph of the workbench package: module count, depth, cycles, layer breaches.

Reads the source with :mod:`ast` (nothing is imported), so every import counts:
module level, inside functions and methods (an in-function import is still a
dependency, often one that hides a cycle), and under ``try``. Imports under
``if TYPE_CHECKING:`` count too (a type one module needs from another is a
design dependency); ``--runtime-only`` leaves them out. A package's ``__init__`` counts
where Python runs it: ``from pkg.sub import x`` depends on ``pkg/__init__`` too (it runs
first), and ``from pkg import mod`` reads the package's attribute, so it depends on
``pkg/__init__`` as well as on ``pkg.mod``. The root package's ``__init__`` and a
module's own ancestors are left out (every module runs under them).

Usage::

    .venv/bin/python scripts/import_graph.py              # summary of workbench/
    .venv/bin/python scripts/import_graph.py --edges      # also every edge, with its line
    .venv/bin/python scripts/import_graph.py --check      # exit 1 on a cycle or layer breach

Numbers printed:

* modules: ``.py`` files of the package (``__init__`` included);
* depth: nodes on the longest import chain, strongly connected components
  counted as one node (a module importing nothing of the package has depth 1);
* cycles: strongly connected components with more than one module, plus
  modules that import themselves.

The layer contract (:data:`LAYERS`) is the import rule of the flat layout: a
module may import modules of its own layer and of lower layers, never of a
higher one, and every module has its place. The test ``tests/unit/test_import_graph.py`` checks it on every run.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Layers of the package, lowest first, after the pipeline of issue 14: core < sim <
#: analysis/verify/exchange/testing < mabel/calibrate < study < report < front ends. An entry
#: names a top-level module or a subpackage (then every module under it belongs to it). A
#: module may import modules of its own layer and of lower layers, never of a higher one; every
#: module of the package must be placed (a new module has to be). ``__init__`` is the public
#: face: only the front end may import it. The one-line shims that keep the old flat import
#: paths working (``workbench/ensemble.py`` -> ``workbench.sim.ensemble``) are front-end
#: modules too, so no module of the package can import through a shim.
LAYERS: tuple[tuple[str, ...], ...] = (
    # the error hierarchy and the column names of every table
    ("errors", "columns"),
    # core: reading inputs safely, units, the model, doses, provenance, shared types
    ("core",),
    # sim: the engine, single runs, ensembles, metrics of runs
    ("sim",),
    # analysis, verification, exchange, the SBML suite harness (may import each other)
    ("analysis", "verify", "exchange", "testing"),
    # MABEL and calibration
    ("mabel", "calibrate"),
    # the study file, its pipeline, its data, the retrospective benchmark
    ("study",),
    # the dossier
    ("report",),
    # front ends: the CLI, the public face and the shims of the old paths
    ("cli", "cli_verbs", "_cli_help", "__init__", "*shims*"),
)

#: The mark of a shim: a module that only aliases an old import path to its new module for
#: one release (top-level: the flat layout; in a subpackage: a module merged into another,
#: ``analysis/regimen_plots.py`` -> ``analysis/plots.py``). Shims are placed in the
#: front-end layer.
SHIM_MARK = "# shim: old import path"


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``line`` (``in_function``: inside a def)."""

    source: str
    target: str
    line: int
    in_function: bool


def module_names(package_dir: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under ``package_dir``."""
    out = {}
    for p in sorted(package_dir.rglob("*.py")):
        rel = p.relative_to(package_dir).with_suffix("")
        parts = [package, *rel.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, runtime_only: bool = False) -> Iterable[tuple[ast.stmt, bool]]:
    """Import statements of a module, with an in-function flag (``runtime_only``: not
    those under ``if TYPE_CHECKING``)."""

    def walk(node: ast.AST, in_func: bool):
        for child in ast.iter_child_nodes(node):
            if runtime_only and isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.orelse:
                    yield from walk_one(sub, in_func)
                continue
            yield from walk_one(child, in_func)

    def walk_one(node: ast.AST, in_func: bool):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, in_func
            return
        inner = in_func or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from walk(node, inner)

    yield from walk(tree, False)


def _resolve(mod: str, is_pkg: bool, node: ast.stmt, known: set[str]) -> list[str]:
    """Modules of the package that an import statement reaches."""
    root = mod.split(".")[0]
    out = []
    if isinstance(node, ast.Import):
        for a in node.names:
            name = a.name
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                out.append(name)
        return out
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = mod.split(".") if is_pkg else mod.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    if target not in known:
        # `from workbench.x.y import z` where only workbench.x exists is not a thing here;
        # a third-party module
        head = target
        while head and head not in known:
            head = head.rpartition(".")[0]
        return [head] if head else []
    for a in node.names:
        sub = f"{target}.{a.name}"
        # `from pkg import sub` reads the attribute of the package: its __init__ runs and
        # may hold the name already, so the statement depends on both (not for the root
        # package, whose __init__ every module runs under: `from workbench import columns`)
        if sub in known:
            out += [sub] if target == root else [target, sub]
        else:
            out.append(target)
    return out


def _implicit_parents(mod: str, target: str, packages: set[str], package: str) -> list[str]:
    """Packages whose ``__init__`` runs before ``target`` can be imported: its ancestors
    below the root, except the importing module's own ancestors (already initialising
    when it runs)."""
    own = {mod.rsplit(".", k)[0] for k in range(1, mod.count(".") + 1)} | {mod}
    parts = target.split(".")
    out = []
    for k in range(2, len(parts)):
        anc = ".".join(parts[:k])
        if anc != package and anc in packages and anc not in own:
            out.append(anc)
    return out


def import_edges(package_dir: Path, package: str = "workbench", runtime_only: bool = False
                 ) -> tuple[list[str], list[Edge]]:
    """Modules of the package and every import edge between them (one per statement and
    target module)."""
    files = module_names(package_dir, package)
    known = set(files)
    packages = {m for m, p in files.items() if p.name == "__init__.py"}
    edges = []
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_pkg = path.name == "__init__.py"
        for node, in_func in _imports(tree, runtime_only):
            direct = _resolve(mod, is_pkg, node, known)
            implicit = [p for t in direct for p in _implicit_parents(mod, t, packages, package)]
            for target in dict.fromkeys([*direct, *implicit]):
                if target != mod:
                    edges.append(Edge(mod, target, node.lineno, in_func))
    return sorted(files), edges


def adjacency(modules: list[str], edges: list[Edge]) -> dict[str, set[str]]:
    g: dict[str, set[str]] = {m: set() for m in modules}
    for e in edges:
        g[e.source].add(e.target)
    return g


def strongly_connected(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []
    counter = 0
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(g[w]))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(sorted(comp))
    return comps


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles: components of more than one module, and self-imports."""
    return [c for c in strongly_connected(g) if len(c) > 1 or c[0] in g[c[0]]]


def depth(g: dict[str, set[str]]) -> int:
    """Nodes on the longest import chain (each strongly connected component one node)."""
    comps = strongly_connected(g)
    comp_of = {m: i for i, c in enumerate(comps) for m in c}
    memo: dict[int, int] = {}
    # Tarjan emits components in reverse topological order: dependencies first
    for i, c in enumerate(comps):
        deps = {comp_of[t] for m in c for t in g[m]} - {i}
        memo[i] = 1 + max((memo[d] for d in deps), default=0)
    return max(memo.values(), default=0)


def _levels(layers: tuple[tuple[str, ...], ...], package: str) -> dict[str, int]:
    return {package if n == "__init__" else f"{package}.{n}": i
            for i, names in enumerate(layers) for n in names}


def _shims(package_dir: Path | None, package: str) -> set[str]:
    """Modules that are shims of an old import path (they carry SHIM_MARK): top-level ones
    (the flat layout) and those inside a subpackage (a module merged into another)."""
    if package_dir is None:
        return set()
    return {".".join((package, *p.relative_to(package_dir).with_suffix("").parts))
            for p in package_dir.rglob("*.py")
            if p.stem != "__init__" and SHIM_MARK in p.read_text(encoding="utf-8")}


def level_of(module: str, level: dict[str, int], shims: set[str] = frozenset(),
             shim_level: int | None = None) -> int | None:
    """Layer of a module: its own entry, or that of the nearest enclosing subpackage."""
    if module in shims and shim_level is not None:
        return shim_level
    if module in level:
        return level[module]
    name = module.rpartition(".")[0]
    while "." in name:  # enclosing subpackages, never the package root itself
        if name in level:
            return level[name]
        name = name.rpartition(".")[0]
    return None


def layer_breaches(edges: list[Edge], layers: tuple[tuple[str, ...], ...] = LAYERS,
                   package: str = "workbench", package_dir: Path | None = None) -> list[Edge]:
    """Edges from a module to a module of a higher layer."""
    level = _levels(layers, package)
    shims = _shims(package_dir, package)
    top = next((i for i, names in enumerate(layers) if "*shims*" in names), None)
    out = []
    for e in edges:
        a = level_of(e.source, level, shims, top)
        b = level_of(e.target, level, shims, top)
        if a is not None and b is not None and b > a:
            out.append(e)
    return out


def unplaced(modules: list[str], layers: tuple[tuple[str, ...], ...] = LAYERS,
             package: str = "workbench", package_dir: Path | None = None) -> list[str]:
    """Modules of the package that no layer places."""
    level = _levels(layers, package)
    shims = _shims(package_dir, package)
    top = next((i for i, names in enumerate(layers) if "*shims*" in names), None)
    return [m for m in modules if level_of(m, level, shims, top) is None]


def summary(package_dir: Path, package: str = "workbench", runtime_only: bool = False) -> dict:
    """Module count, depth, cycles, in-function import count and layer breaches."""
    modules, edges = import_edges(package_dir, package, runtime_only)
    g = adjacency(modules, edges)
    return {"modules": len(modules), "edges": len({(e.source, e.target) for e in edges}),
            "in_function_imports": len({(e.source, e.line) for e in edges if e.in_function}),
            "depth": depth(g), "cycles": cycles(g),
            "layer_breaches": layer_breaches(edges, package=package, package_dir=package_dir),
            "unplaced": (unplaced(modules, package=package, package_dir=package_dir)
                         if package == "workbench" else [])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="example: python scripts/import_graph.py --check")
    ap.add_argument("--package-dir", type=Path, default=ROOT / "workbench")
    ap.add_argument("--package", default="workbench")
    ap.add_argument("--edges", action="store_true", help="print every edge")
    ap.add_argument("--runtime-only", action="store_true",
                    help="leave out imports under `if TYPE_CHECKING:`")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when there is a cycle, a layer breach or an unplaced module")
    a = ap.parse_args(argv)
    s = summary(a.package_dir, a.package, a.runtime_only)
    print(f"modules: {s['modules']}")
    print(f"edges (module pairs): {s['edges']}")
    print(f"in-function import statements (of package modules): {s['in_function_imports']}")
    print(f"depth (longest import chain, cycles as one node): {s['depth']}")
    print(f"cycles: {len(s['cycles'])}")
    for c in s["cycles"]:
        print("  {" + ", ".join(m.rpartition('.')[2] or m for m in c) + "}")
    print(f"layer breaches: {len(s['layer_breaches'])}")
    for e in s["layer_breaches"]:
        print(f"  {e.source} -> {e.target} (line {e.line})")
    if s["unplaced"]:
        print("modules in no layer (add them to LAYERS): " + ", ".join(s["unplaced"]))
    if a.edges:
        _, edges = import_edges(a.package_dir, a.package, a.runtime_only)
        for e in edges:
            print(f"{e.source} -> {e.target}:{e.line}{' (in function)' if e.in_function else ''}")
    return 1 if a.check and (s["cycles"] or s["layer_breaches"] or s["unplaced"]) else 0


if __name__ == "__main__":
    sys.exit(main())
