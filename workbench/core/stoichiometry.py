"""Stoichiometric matrix and conserved moieties of an SBML model.

A conserved moiety is a weighted sum of species amounts that no reaction
changes: a vector c with c N = 0, N the stoichiometric matrix (species x
reactions), i.e. the left null space of N (Reder 1988, J Theor Biol 135:175;
Sauro & Ingalls 2004, Biophys Chem 109:1). :func:`conserved_moieties` returns a
basis from the reduced row echelon form of N^T, scaled to small integers and
made non-negative where a combination of basis vectors allows it, so that the
moieties read as "total drug" or "total receptor".
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from workbench.core.model import Model

__all__ = ["conserved_moieties", "moiety_text", "stoichiometry"]


def stoichiometry(m: Model) -> tuple[np.ndarray, list[str], list[str], list[bool]]:
    """Stoichiometric matrix over floating species (amounts) and reactions, and which
    reactions are sources or sinks (no floating reactant or no floating product)."""
    mod = m.sim_document.getModel()
    ruled = {mod.getRule(i).getVariable() for i in range(mod.getNumRules())}
    sp = [mod.getSpecies(i).getId() for i in range(mod.getNumSpecies())
          if not (mod.getSpecies(i).getBoundaryCondition() or mod.getSpecies(i).getConstant())
          and mod.getSpecies(i).getId() not in ruled]
    idx = {s: k for k, s in enumerate(sp)}
    rx, open_ = [], []
    cols = []
    for i in range(mod.getNumReactions()):
        r = mod.getReaction(i)
        col = np.zeros(len(sp))
        sides = [False, False]
        variable = False
        for side, lst, sign in ((0, r.getListOfReactants(), -1.0), (1, r.getListOfProducts(), 1.0)):
            for j in range(lst.size()):
                ref = lst.get(j)
                if ref.getSpecies() not in idx:
                    continue
                if (hasattr(ref, "isSetStoichiometryMath") and ref.isSetStoichiometryMath()) or (
                        mod.getLevel() >= 3 and ref.isSetId() and not ref.getConstant()):
                    variable = True
                st = ref.getStoichiometry() if ref.isSetStoichiometry() else 1.0
                col[idx[ref.getSpecies()]] += sign * st
                sides[side] = True
        rx.append(r.getId())
        open_.append(variable or not (sides[0] and sides[1]))
        cols.append(col)
    n = np.column_stack(cols) if cols else np.zeros((len(sp), 0))
    return n, sp, rx, open_


def conserved_moieties(n: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Basis of the left null space of ``n`` (rows: moieties c with c @ n = 0), from the
    reduced row echelon form of n.T, scaled to small integers where possible."""
    a = n.T.astype(float).copy()
    rows, ncol = a.shape
    pivots = []
    r = 0
    for c in range(ncol):
        if r >= rows:
            break
        p = r + int(np.argmax(np.abs(a[r:, c])))
        if abs(a[p, c]) <= tol:
            continue
        a[[r, p]] = a[[p, r]]
        a[r] /= a[r, c]
        for k in range(rows):
            if k != r and abs(a[k, c]) > tol:
                a[k] -= a[k, c] * a[r]
        pivots.append(c)
        r += 1
    free = [c for c in range(ncol) if c not in pivots]
    basis = []
    for f in free:
        v = np.zeros(ncol)
        v[f] = 1.0
        for k, pc in enumerate(pivots):
            v[pc] = -a[k, f]
        v[np.abs(v) < tol] = 0.0
        fr = [Fraction(float(x)).limit_denominator(1000) for x in v]
        den = math.lcm(*[q.denominator for q in fr]) if fr else 1
        w = np.array([float(q * den) for q in fr])
        if np.allclose(w @ n, 0, atol=1e-8):
            v = w
        if (v < 0).sum() > (v > 0).sum():
            v = -v
        basis.append(v)
    return _nonnegative(np.array(basis).reshape(len(basis), ncol))


def _nonnegative(basis: np.ndarray) -> np.ndarray:
    """Replace basis vectors with negative entries by v + sum(a_j w_j), a_j in {-1, 0, 1},
    when that is non-negative (same span; readable moieties such as total drug)."""
    import itertools

    k = len(basis)
    if k < 2 or k > 8:
        return basis
    out = basis.copy()
    for i in range(k):
        if (out[i] >= 0).all():
            continue
        others = [j for j in range(k) if j != i]
        best = None
        for coefs in itertools.product((-1, 0, 1), repeat=len(others)):
            v = out[i] + sum(a * out[j] for a, j in zip(coefs, others, strict=True))
            if (v >= 0).all() and v.any():
                if best is None or np.count_nonzero(v) < np.count_nonzero(best):
                    best = v
        if best is not None:
            out[i] = best
    return out


def moiety_text(c: np.ndarray, sp: list[str]) -> str:
    """A moiety as text: ``"Drug + Drug_p + Drug_CD3 + Drug_TAA + Trimer"``."""
    parts = []
    for coef, s in zip(c, sp, strict=True):
        if coef == 0:
            continue
        mag = abs(coef)
        term = s if mag == 1 else f"{mag:.3g} {s}"
        parts.append(("- " if coef < 0 else "+ ") + term)
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else text
