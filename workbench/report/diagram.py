"""The model diagram of the report: species, reactions and the links between them.

The diagram is a bipartite graph drawn by Graphviz ``dot`` (Debian package
``graphviz``; ``scripts/_setup.sh`` installs it where it can): species and
rule-driven states are nodes, each reaction is a small dot with solid arrows
from its reactants and to its products, and the links that are not mass flow
are dashed: modifiers of a reaction (a species in its rate law that it neither
consumes nor produces, e.g. a dying target cell removing its receptors), and
the variables in the equation of a rate rule or an assignment rule (e.g. the
trimer activating T cells, activated T cells releasing IL-6). Without Graphviz,
:func:`diagram_svg` returns None and the report draws the same graph with
matplotlib in layers (:func:`diagram_figure`), saying that the layout is a
fallback.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench import columns as C

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DiagramGraph", "diagram_figure", "diagram_graph", "diagram_svg", "have_graphviz"]

log = logging.getLogger(__name__)

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class DiagramGraph:
    """Nodes and edges of the diagram. ``nodes``: (id, kind) with kind ``species``,
    ``state`` (rate rule), ``output`` (assignment rule) or ``reaction``; ``edges``:
    (from, to, kind) with kind ``flow`` (solid) or ``modifier`` (dashed)."""

    nodes: tuple[tuple[str, str], ...]
    edges: tuple[tuple[str, str, str], ...]


def _terms(text) -> list[str]:
    """Species ids of a reactant/product/modifier field ('2 A + B', 'A, B')."""
    out = []
    for part in re.split(r"[+,;]", str(text or "")):
        words = part.strip().split()
        if words:
            out.append(words[-1])
    return out


def diagram_graph(model) -> DiagramGraph:
    """The graph of ``model`` (module docstring); parameters and compartments are left out."""
    species = [str(s) for s in model.species[C.ID]]
    rules = model.rules
    kind = dict.fromkeys(species, "species")
    for _, r in rules.iterrows():
        v = str(r[C.VARIABLE])
        if v not in kind or r[C.RULE_TYPE] == "rate":
            kind[v] = "state" if r[C.RULE_TYPE] == "rate" else "output"
    # an assignment rule of parameters alone (a derived constant such as a baseline) is
    # not part of the dynamics: only rules that depend on a species or state are drawn
    deps = {str(r[C.VARIABLE]): set(_ID.findall(str(r[C.FORMULA] or "")))
            for _, r in rules.iterrows() if r[C.RULE_TYPE] == "assignment"}
    dynamic = {k for k, v in kind.items() if v != "output"}
    grew = True
    while grew:
        new = {v for v, d in deps.items() if v not in dynamic and d & dynamic}
        dynamic |= new
        grew = bool(new)
    kind = {k: v for k, v in kind.items() if k in dynamic}
    nodes = [(k, v) for k, v in kind.items()]
    edges: list[tuple[str, str, str]] = []
    for _, r in model.reactions.iterrows():
        rid = f"reaction:{r[C.ID]}"
        reac = [x for x in _terms(r[C.REACTANTS]) if x in kind]
        prod = [x for x in _terms(r[C.PRODUCTS]) if x in kind]
        mods = {x for x in _terms(r.get(C.MODIFIERS, "")) if x in kind}
        mods |= {x for x in _ID.findall(str(r[C.FORMULA] or "")) if x in kind}
        mods -= set(reac) | set(prod)
        nodes.append((rid, "reaction"))
        edges += [(a, rid, "flow") for a in reac]
        edges += [(rid, b, "flow") for b in prod]
        edges += [(m, rid, "modifier") for m in sorted(mods)]
    for _, r in rules.iterrows():
        v = str(r[C.VARIABLE])
        if r[C.RULE_TYPE] not in ("rate", "assignment"):
            continue
        for x in dict.fromkeys(_ID.findall(str(r[C.FORMULA] or ""))):
            if x in kind and x != v:
                edges.append((x, v, "modifier"))
    return DiagramGraph(tuple(nodes), tuple(dict.fromkeys(edges)))


def have_graphviz() -> bool:
    """Whether the Graphviz ``dot`` program is on PATH."""
    return shutil.which("dot") is not None


def _dot_source(g: DiagramGraph, title: str) -> str:
    style = {"species": 'shape=box,style="rounded,filled",fillcolor="#fff7d6"',
             "state": 'shape=ellipse,style=filled,fillcolor="#dcebff"',
             "output": 'shape=note,style=filled,fillcolor="#eeeeee",fontsize=10,color="#888888"',
             "reaction": 'shape=point,width=0.09,color="#555555"'}
    lines = ["digraph model {", "rankdir=TB; nodesep=0.3; ranksep=0.35; size=\"7.5,9.5\";",
             f'labelloc=t; label="{title}"; fontname="Helvetica"; fontsize=12;',
             'node [fontname="Helvetica",fontsize=11]; edge [color="#444444",arrowsize=0.6];']
    for nid, k in g.nodes:
        label = "" if k == "reaction" else nid
        tip = nid.split(":", 1)[-1]
        lines.append(f'"{nid}" [{style[k]},label="{label}",tooltip="{tip}"];')
    for a, b, k in g.edges:
        attr = 'style=dashed,color="#b03a2e",arrowhead=vee' if k == "modifier" else ""
        if b.startswith("reaction:") and k == "flow":
            attr = "arrowhead=none"
        lines.append(f'"{a}" -> "{b}" [{attr}];')
    lines.append("}")
    return "\n".join(lines)


def diagram_svg(model, timeout: float = 60.0) -> str | None:
    """The diagram as SVG text laid out by Graphviz ``dot``, or None without Graphviz (or
    when dot fails; logged)."""
    if not have_graphviz():
        return None
    title = (f"{model.id}: species (boxes), rate-rule states (ellipses), outputs (notes); "
             "reactions (dots, solid: mass flow); dashed red: modifier, activation, release")
    src = _dot_source(diagram_graph(model), html.escape(title, quote=True))
    try:
        res = subprocess.run(["dot", "-Tsvg"], input=src.encode(), capture_output=True,
                             timeout=timeout, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("Graphviz dot failed (%s): the report uses the fallback diagram", exc)
        return None
    svg = res.stdout.decode("utf-8", "replace")
    return svg[svg.find("<svg"):]  # drop the XML prolog and doctype: inlined in HTML


def diagram_figure(model) -> Figure:
    """The same graph drawn with matplotlib when Graphviz is missing: nodes in layers by
    their distance from the first species (the dosed drug in the workbench's models)."""
    from workbench.core.plots import pyplot

    plt = pyplot()
    g = diagram_graph(model)
    kinds = dict(g.nodes)
    succ: dict[str, list[str]] = {n: [] for n in kinds}
    for a, b, _ in g.edges:
        succ[a].append(b)
        succ.setdefault(b, [])
    layer: dict[str, int] = {}
    for root in [n for n, _ in g.nodes]:
        if root in layer:
            continue
        layer[root] = max(layer.values(), default=-1) + 1 if layer else 0
        todo = [root]
        while todo:
            n = todo.pop(0)
            for m in succ[n]:
                if m not in layer:
                    layer[m] = layer[n] + 1
                    todo.append(m)
    cols: dict[int, list[str]] = {}
    for n, k in layer.items():
        cols.setdefault(k, []).append(n)
    pos = {n: (x, -i) for x, ns in cols.items() for i, n in enumerate(ns)}
    depth = max((len(v) for v in cols.values()), default=1)
    fig, ax = plt.subplots(figsize=(min(16, 1.6 * len(cols) + 2), min(14, 0.7 * depth + 2)))
    for a, b, edge in g.edges:
        ax.annotate("", xy=pos[b], xytext=pos[a],
                    arrowprops=dict(arrowstyle="->", lw=0.8, shrinkA=8, shrinkB=8,
                                    ls="--" if edge == "modifier" else "-",
                                    color="#b03a2e" if edge == "modifier" else "0.35"))
    for n, (x, y) in pos.items():
        kind = kinds.get(n, "")  # "": an edge end that is not a node (plain box)
        if kind == "reaction":
            ax.plot([x], [y], "o", color="0.3", ms=3)
        else:
            ax.text(x, y, n, ha="center", va="center", fontsize=8,
                    bbox=dict(boxstyle="round,pad=0.3", ec="0.3",
                              fc={"species": "#fff7d6", "state": "#dcebff"}.get(kind,
                                                                                "#eeeeee")))
    ax.set_xlim(-0.8, max(cols, default=0) + 0.8)
    ax.set_ylim(-depth, 1)
    ax.axis("off")
    ax.set_title(f"{model.id} (fallback layout: install Graphviz for a legible diagram); "
                 "dots: reactions; dashed red: modifiers, activation, release", fontsize=9)
    return fig
