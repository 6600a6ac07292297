"""Outcome leaks of the reference library: a parameter source that is also a clinical outcome.

The retrospective benchmark (:mod:`workbench.benchmark`) compares a molecule's proposed
starting dose with what happened in its first-in-human trial. That comparison is only a test
if the outcome never set a parameter of the prediction. Each outcome row names its sources
(``source_id`` of ``outcomes.csv``: ``pmid:...``, ``doi:...`` and the first author and year,
``Hosseini 2020``, separated by ``;``). :func:`outcome_leaks` finds every provenance row of the
same molecule (chosen or candidate) whose ``reference`` or ``citation`` names one of them.

A leak may be declared and kept when there is no better value, but then it must say which
criteria it contaminates, in the row's notes::

    [KNOWN LEAK (first_dose_il6): calibrated on this molecule's first-dose IL-6 (...)]

The criteria are :data:`LEAK_CRITERIA`; the benchmark does not score them for that molecule
(the table says so). An undeclared leak is an error before any run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from workbench import columns as C
from workbench.errors import SpecError

__all__ = ["LEAK_CRITERIA", "citation_ids", "known_leak_criteria", "outcome_leaks",
           "outcome_source_ids"]

#: what a declared leak may contaminate: an outcome item scored for *informative*, or a
#: whole criterion
LEAK_CRITERIA = ("first_dose_il6", "first_dose_cmax", "safe", "not_wasteful")
_KNOWN = re.compile(r"\[KNOWN LEAK \(([^)]*)\):")
_ID = re.compile(r"\b(pmid:\s*\d+|doi:\s*10\.\S+?)(?=[\s;,)\]]|$)", re.I)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_SURNAME = re.compile(r"^\s*([A-Z][A-Za-z'\-]+)")


def _norm(token: str) -> str:
    return re.sub(r"\s+", " ", token.strip().rstrip(".").lower()).replace(": ", ":")


def citation_ids(reference: str, citation: str) -> set[str]:
    """Source ids a provenance row cites: every ``pmid:``/``doi:`` of its reference and
    citation, and its first author's surname with each year of the citation
    (``"Hosseini I, Gadkar K, ... 2020"`` -> ``"hosseini 2020"``)."""
    ids = {_norm(m) for m in _ID.findall(f"{reference} {citation}")}
    m = _SURNAME.match(str(citation or ""))
    if m:
        ids |= {f"{m.group(1).lower()} {y}" for y in _YEAR.findall(str(citation))}
    return ids


def outcome_source_ids(outcomes: pd.DataFrame) -> dict[str, list[str]]:
    """``source id -> the outcome items citing it`` from the ``source_id`` column."""
    out: dict[str, list[str]] = {}
    for _, r in outcomes.iterrows():
        for tok in str(r.get(C.OUTCOME_SOURCE_ID, "") or "").split(";"):
            if tok.strip() and tok.strip().lower() != "nan":
                out.setdefault(_norm(tok), []).append(str(r[C.ITEM]))
    return out


def known_leak_criteria(notes: str) -> tuple[str, ...] | None:
    """The criteria named by a ``[KNOWN LEAK (...):`` marker, or None without one.

    Raises
    ------
    SpecError
        When the marker names no criterion or an unknown one.
    """
    m = _KNOWN.search(str(notes or ""))
    if not m:
        return None
    crit = tuple(c.strip() for c in m.group(1).split(",") if c.strip())
    bad = [c for c in crit if c not in LEAK_CRITERIA]
    if not crit or bad:
        raise SpecError(f"the known-leak marker names {', '.join(bad) or 'no criterion'}",
                        element="notes", fix="write [KNOWN LEAK (first_dose_il6): reason]; "
                                             "criteria: " + ", ".join(LEAK_CRITERIA))
    return crit


def outcome_leaks(provenance: str | os.PathLike[str], outcomes: pd.DataFrame) -> pd.DataFrame:
    """Every provenance row that cites a source of the molecule's clinical outcomes.

    Returns
    -------
    DataFrame
        ``line`` (of the CSV file), ``id``, ``chosen``, ``source_id`` (the shared id),
        ``outcome_items``, ``known`` (declared with a marker) and ``criteria`` (what it
        contaminates, empty when undeclared).
    """
    p = Path(provenance)
    prov = pd.read_csv(p, dtype=str, keep_default_na=False)
    srcs = outcome_source_ids(outcomes)
    rows = []
    for i, r in prov.iterrows():
        hit = sorted(citation_ids(r.get("reference", ""), r.get("citation", "")) & set(srcs))
        if not hit:
            continue
        try:
            crit = known_leak_criteria(r.get("notes", ""))
        except SpecError as exc:
            raise SpecError(f"{p}: line {i + 2} ({r['id']}): {exc.message}", source=str(p),
                            element=r["id"], fix=exc.fix) from None
        rows.append({"line": i + 2, C.ID: r["id"], C.CHOSEN: r.get("chosen", ""),
                     C.OUTCOME_SOURCE_ID: "; ".join(hit),
                     "outcome_items": "; ".join(sorted({x for h in hit for x in srcs[h]})),
                     "known": crit is not None, "criteria": "; ".join(crit or ())})
    return pd.DataFrame(rows, columns=["line", C.ID, C.CHOSEN, C.OUTCOME_SOURCE_ID,
                                       "outcome_items", "known", "criteria"])


def check_no_undeclared_leak(provenance: str | os.PathLike[str],
                             outcomes: pd.DataFrame) -> pd.DataFrame:
    """:func:`outcome_leaks`, raising on any leak without a ``[KNOWN LEAK (...):`` marker.

    Raises
    ------
    SpecError
        Naming the file, line, parameter and shared source.
    """
    leaks = outcome_leaks(provenance, outcomes)
    bad = leaks[~leaks["known"].astype(bool)]
    if len(bad):
        first = bad.iloc[0]
        raise SpecError(
            f"{provenance}: line {first['line']} ({first[C.ID]}) cites "
            f"{first[C.OUTCOME_SOURCE_ID]}, a source of the clinical outcome "
            f"({first['outcome_items']}); {len(bad)} such row(s) in all: "
            + ", ".join(f"line {r['line']} {r[C.ID]}" for _, r in bad.iterrows()),
            source=str(provenance), element=str(first[C.ID]),
            fix="take the value from data that existed before the trial, or declare it in the "
                "row's notes as [KNOWN LEAK (first_dose_il6): reason] naming the criteria it "
                "contaminates (they are then not scored)")
    return leaks
