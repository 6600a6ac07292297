"""The parameter provenance table: where every number of the model came from.

One *entry* per model quantity that has a value (global and local parameters,
initial amounts or concentrations of species, compartment sizes), with every
*candidate* value that was considered and the rationale for the one chosen
(FDA draft guidance on QSP-based MABEL: "a tabulated summary of all potential
parameter values obtained from various data sources, accompanied by clear
rationale justifying the chosen parameter values").

Table layout (CSV, XLSX and the DataFrame are the same table; columns
:data:`workbench.columns.PROVENANCE_COLUMNS`): **one row per candidate value**.
Exactly one row per entry has ``chosen = True``: its value is the one the model
uses, and it carries the entry-level fields (``rationale`` and the calibration
fields ``initial_value``, ``calibrated_value``, ``calibration_method``,
``calibration_justification``). The other rows of the entry (same ``id`` and
``scope``) are the candidates considered and not chosen. Columns:

``kind``         compartment | species | parameter (optional on input)
``id``           the SBML id; ``scope`` is empty, or the reaction id of a local parameter
``name``         readable name
``chosen``       true / false
``value, unit``  the candidate value and its unit (any unit that converts to the model's)
``source_type``  in vitro human | in vitro animal | in vivo animal | clinical |
                 literature | calibrated | assumed | derived
``reference``    ``doi:10....`` or ``pmid:123`` or a URL; several separated by ``;``
``citation``     citation text (authors, year, journal, table or figure)
``organism``     species of origin of the value (human, cynomolgus monkey, mouse)
``assay``        assay or system (SPR, flow cytometry, population PK, ...)
``notes``        anything else (conversions made, ranges, caveats)

Entries whose model value is computed (initial assignment or assignment rule)
may appear with ``source_type = derived`` and no value; they are not required.

:func:`lint_provenance` reports all findings at once (the way PEtab's linter
does): every valued quantity has an entry; every unit converts to the model's
unit; the chosen value equals the model's value after conversion; candidates
spanning more than 10-fold are flagged ``high-uncertainty``.
"""

from __future__ import annotations

import html
import io
import logging
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench import columns as C
from workbench.core import units as U
from workbench.core._provenance_base import _FLOAT_COLUMNS, _model_quantities, _Quantity, _typed
from workbench.core.model import Model, load_model, sid_index
from workbench.errors import InputFileError, ProvenanceError, UnitError, WorkbenchError

__all__ = ["PROVENANCE_NS", "SOURCE_TYPES", "candidate_ranges", "check_provenance",
           "lint_provenance", "provenance_template", "read_provenance", "valued_quantities",
           "write_provenance"]

log = logging.getLogger(__name__)

#: Allowed values of the ``source_type`` column.
SOURCE_TYPES = ("in vitro human", "in vitro animal", "in vivo animal", "clinical", "literature",
                "calibrated", "assumed", "derived")
#: XML namespace of the provenance annotation written into SBML by :func:`workbench.export_sbml`.
PROVENANCE_NS = "urn:x-workbench:provenance:1"

_REQUIRED = (C.ID, C.CHOSEN, C.VALUE, C.UNIT, C.SOURCE_TYPE, C.REFERENCE)
_ENTRY_FIELDS = (C.RATIONALE, C.INITIAL_VALUE, C.CALIBRATED_VALUE, C.CALIBRATION_METHOD,
                 C.CALIBRATION_JUSTIFICATION, C.PRIOR, C.PRIOR_CENTRE, C.PRIOR_SPREAD,
                 C.PRIOR_RATIONALE)
_HIGH_FOLD = 10.0
_REL_TOL = 1e-6


# ---------------------------------------------------------------------------
# the valued quantities of a model
# ---------------------------------------------------------------------------

def valued_quantities(model: Model | str | os.PathLike[str]) -> pd.DataFrame:
    """The model quantities a provenance table describes.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind, id, scope, name, value, unit, derived``: ``derived`` is
        empty for quantities whose value the model states (these need an entry)
        and names the initial assignment or assignment rule otherwise.
    """
    m = model if isinstance(model, Model) else load_model(model)
    rows = [q.__dict__ for q in _model_quantities(m)]
    return pd.DataFrame(rows, columns=[C.KIND, C.ID, C.SCOPE, C.NAME, C.VALUE, C.UNIT, "derived"])


def _needs_entry(q: _Quantity) -> bool:
    return not q.derived and math.isfinite(q.value)


# ---------------------------------------------------------------------------
# references and annotations
# ---------------------------------------------------------------------------

_DOI_RE = re.compile(r"(?:doi[:/]|doi\.org/|urn:miriam:doi:)\s*(10\.\S+)", re.I)
_PMID_RE = re.compile(r"(?:pubmed[:/]|pmid[:/]?\s*|urn:miriam:pubmed:)\s*(\d+)", re.I)


def normalise_reference(ref: str) -> str:
    """``"doi:10..."`` or ``"pmid:123"`` for a DOI/PubMed URI or text; other text unchanged."""
    r = ref.strip()
    m = _DOI_RE.search(r)
    if m:
        return "doi:" + m.group(1).rstrip(".,;")
    m = _PMID_RE.search(r)
    if m:
        return "pmid:" + m.group(1)
    return r


def reference_uri(ref: str) -> str:
    """identifiers.org URI of a normalised reference (a URL is returned as is)."""
    r = normalise_reference(ref)
    if r.startswith("doi:"):
        return "http://identifiers.org/doi/" + r[4:]
    if r.startswith("pmid:"):
        return "http://identifiers.org/pubmed/" + r[5:]
    return r


def split_references(text: str) -> list[str]:
    """The references of a ``reference`` cell, normalised."""
    return [normalise_reference(p) for p in re.split(r"\s*;\s*", text or "") if p.strip()]


def _described_by(sb) -> list[str]:
    import libsbml

    out = []
    for t in sb.getCVTerms() or []:
        q = (libsbml.BiolQualifierType_toString(t.getBiologicalQualifierType())
             if t.getQualifierType() == libsbml.BIOLOGICAL_QUALIFIER
             else libsbml.ModelQualifierType_toString(t.getModelQualifierType()))
        if q == "isDescribedBy":
            for k in range(t.getNumResources()):
                out.append(normalise_reference(t.getResourceURI(k)))
    return list(dict.fromkeys(out))


def _notes_text(sb) -> str:
    if not sb.isSetNotes():
        return ""
    text = re.sub(r"<[^>]+>", " ", sb.getNotesString())
    return " ".join(html.unescape(text).split())


def _element(m, sid: str, scope: str, index: dict | None = None):
    if scope:
        r = m.getReaction(scope)
        kl = r.getKineticLaw() if r is not None else None
        if kl is None:
            return None
        p = kl.getLocalParameter(sid) if m.getLevel() >= 3 else None
        return p if p is not None else kl.getParameter(sid)
    if index is not None and sid in index:
        return index[sid]
    return m.getElementBySId(sid)


def _annotation_rows(sb) -> list[dict] | None:
    """Rows stored by export_sbml in the element's provenance annotation, or None."""
    import xml.etree.ElementTree as ET

    if not sb.isSetAnnotation():
        return None
    text = sb.getAnnotationString()
    if PROVENANCE_NS not in text:
        return None
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    prov = root.find(f"{{{PROVENANCE_NS}}}provenance")
    if prov is None:
        return None
    rows = []
    for cand in prov.findall(f"{{{PROVENANCE_NS}}}candidate"):
        row: dict[str, str | bool] = {c: cand.get(_xml_attr(c), "") for c in C.PROVENANCE_COLUMNS
                                      if c not in (C.KIND, C.ID, C.SCOPE, C.NAME)}
        row[C.CHOSEN] = str(row[C.CHOSEN]).lower() == "true"
        rows.append(row)
    return rows


def _xml_attr(column: str) -> str:
    head, *rest = column.split("_")
    return head + "".join(w.capitalize() for w in rest)


# ---------------------------------------------------------------------------
# template
# ---------------------------------------------------------------------------

def _empty_row() -> dict:
    row: dict[str, str | bool | float] = {c: "" for c in C.PROVENANCE_COLUMNS}
    row.update({C.CHOSEN: False, C.VALUE: math.nan, C.INITIAL_VALUE: math.nan,
                C.CALIBRATED_VALUE: math.nan, C.PRIOR_CENTRE: math.nan})
    return row


def provenance_template(model: Model | str | os.PathLike[str]) -> pd.DataFrame:
    """A provenance table for ``model``, seeded from its annotations.

    Every valued quantity gets a chosen row with the model's value and unit.
    References come from the element's MIRIAM ``isDescribedBy`` terms (DOI,
    PubMed), else from the model's own ``isDescribedBy`` citation (so a
    published BioModels model starts with its publication), and the notes from
    the element's notes. A model written by :func:`workbench.export_sbml` with
    a provenance table gives that table back (candidates included).
    Computed quantities (initial assignments, assignment rules) are listed as
    ``derived`` without a value.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`workbench.columns.PROVENANCE_COLUMNS`, one row per candidate.
    """
    m = model if isinstance(model, Model) else load_model(model)
    sm = m.sim_document.getModel()
    model_refs = _described_by(sm)
    rows: list[dict] = []
    index = sid_index(sm)
    for q in _model_quantities(m):
        if not math.isfinite(q.value) and not q.derived:
            continue
        sb = _element(sm, q.id, q.scope, index)
        base = {C.KIND: q.kind, C.ID: q.id, C.SCOPE: q.scope, C.NAME: q.name}
        stored = _annotation_rows(sb) if sb is not None else None
        if stored:
            for s in stored:
                row = _empty_row()
                row.update(base)
                row.update(s)
                rows.append(row)
            continue
        row = _empty_row()
        row.update(base)
        row[C.CHOSEN] = True
        row[C.UNIT] = q.unit
        notes = _notes_text(sb) if sb is not None else ""
        refs = _described_by(sb) if sb is not None else []
        if q.derived:
            row[C.SOURCE_TYPE] = "derived"
            row[C.NOTES] = "; ".join(x for x in (q.derived, notes) if x)
        else:
            row[C.VALUE] = q.value
            row[C.NOTES] = notes
            if refs:
                row[C.SOURCE_TYPE] = "literature"
                row[C.REFERENCE] = "; ".join(refs)
            elif model_refs:
                row[C.SOURCE_TYPE] = "literature"
                row[C.REFERENCE] = "; ".join(model_refs)
                row[C.NOTES] = "; ".join(x for x in (
                    notes, "seeded from the model's citation: check the value there") if x)
        rows.append(row)
    return _typed(pd.DataFrame(rows, columns=list(C.PROVENANCE_COLUMNS)))



# ---------------------------------------------------------------------------
# reading and writing
# ---------------------------------------------------------------------------

def write_provenance(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write the table as CSV, or XLSX when ``path`` ends in ``.xlsx``, atomically.

    The XLSX has the table on sheet ``provenance`` and the column meanings on
    sheet ``columns``. :func:`read_provenance` gives the same table back. Text
    beginning with ``= + - @`` is stored as text, never as a formula (a note
    such as ``=HYPERLINK(...)`` would otherwise run when the sheet is opened).
    """
    from workbench.core._io import atomic_write_bytes, atomic_write_text

    df = _typed(table[list(C.PROVENANCE_COLUMNS)])
    if str(path).lower().endswith(".xlsx"):
        doc = pd.DataFrame({"column": list(C.PROVENANCE_COLUMNS),
                            "meaning": [_COLUMN_DOC[c] for c in C.PROVENANCE_COLUMNS]})

        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xw:
            df.to_excel(xw, sheet_name="provenance", index=False)
            doc.to_excel(xw, sheet_name="columns", index=False)
            for ws in xw.book.worksheets:
                for row in ws.iter_rows():
                    for cell in row:
                        if isinstance(cell.value, str) and cell.value[:1] in "=+-@" \
                                and cell.value:
                            cell.data_type = "s"  # text, not a formula
                            cell.quotePrefix = True
        atomic_write_bytes(path, buf.getvalue())
    else:
        atomic_write_text(path, df.to_csv(index=False, lineterminator="\n"))


_COLUMN_DOC = {
    C.KIND: "compartment, species or parameter",
    C.ID: "SBML id of the model quantity",
    C.SCOPE: "empty, or the reaction id of a local (kinetic-law) parameter",
    C.NAME: "readable name",
    C.CHOSEN: "TRUE on the one row per entry whose value the model uses; FALSE on the other "
              "candidates considered",
    C.VALUE: "candidate value, in the unit of the next column",
    C.UNIT: "unit of the value; must convert to the model's unit",
    C.SOURCE_TYPE: "one of: " + ", ".join(SOURCE_TYPES),
    C.REFERENCE: "doi:10.xxx or pmid:123 or a URL; several separated by ';'",
    C.CITATION: "citation text (authors, year, journal, table/figure)",
    C.ORGANISM: "species of origin of the value (human, cynomolgus monkey, mouse, ...)",
    C.ASSAY: "assay or experimental system",
    C.NOTES: "conversions made, ranges, caveats",
    C.RATIONALE: "chosen row: why this value was chosen over the other candidates",
    C.INITIAL_VALUE: "chosen row, when calibrated: value before calibration",
    C.CALIBRATED_VALUE: "chosen row, when calibrated: value after calibration",
    C.CALIBRATION_METHOD: "chosen row, when calibrated: method (data, objective, optimiser)",
    C.CALIBRATION_JUSTIFICATION: "chosen row, when calibrated: why the parameter was calibrated",
    C.CANDIDATE_USE: "every row: same (same quantity and species), scaled: <how> (other "
                     "species or format, scaled as stated) or comparison (different quantity: "
                     "shown only, never widens the prior); empty means same",
    C.PRIOR: "chosen row: prior distribution, lognormal | normal | uniform | loguniform | fixed; "
             "empty: not sampled",
    C.PRIOR_CENTRE: "chosen row: centre of the prior (median; normal: mean), same unit; empty: "
                    "the chosen value",
    C.PRIOR_SPREAD: "chosen row: cv=0.3, fold=3 (95 % within centre/3..centre x 3) or sd=0.2 "
                    "(normal); empty: the widest same/scaled candidate is the 95 % fold",
    C.PRIOR_RATIONALE: "chosen row: why this prior (distribution, centre, spread)",
}


@dataclass(frozen=True)
class _Finding:
    severity: str
    code: str
    element: str
    line: int
    message: str
    fix: str = ""


def _findings_frame(findings: Iterable[_Finding]) -> pd.DataFrame:
    order = {"error": 0, "warning": 1, "info": 2}
    rows = [{C.SEVERITY: f.severity, C.CODE: f.code, C.ELEMENT: f.element, C.LINE: f.line,
             C.MESSAGE: f.message, C.FIX: f.fix} for f in findings]
    df = pd.DataFrame(rows, columns=list(C.PROVENANCE_LINT_COLUMNS))
    if len(df):
        df = df.sort_values(C.SEVERITY, key=lambda s: s.map(order), kind="stable")
    return df.reset_index(drop=True)


_TRUE = {"true", "1", "yes", "y", "x", "chosen"}
_FALSE = {"false", "0", "no", "n", ""}


def _read_raw(path: Path) -> pd.DataFrame:
    src = str(path)
    if not path.exists():
        raise InputFileError("file not found", source=src, fix="check the path")
    if path.is_dir():
        raise InputFileError("is a directory, not a provenance table", source=src)
    try:
        if path.suffix.lower() == ".xlsx":
            import io

            from workbench.core.textin import read_input_bytes

            data = io.BytesIO(read_input_bytes(path, "provenance table"))
            raw = pd.read_excel(data, sheet_name="provenance", dtype=str, keep_default_na=False,
                                engine="openpyxl")
        else:
            from workbench.core.textin import read_table

            raw = read_table(path, "provenance table", dtype=str, keep_default_na=False,
                             skipinitialspace=False)
    except WorkbenchError:
        raise
    except (ValueError, OSError, KeyError) as exc:
        raise InputFileError(f"cannot read the provenance table ({exc})", source=src,
                             fix="give a CSV or XLSX written by `workbench provenance`") from None
    except Exception as exc:  # pandas/openpyxl raise many unrelated types
        raise InputFileError(f"cannot read the provenance table ({type(exc).__name__}: {exc})",
                             source=src, fix="give a CSV or XLSX written by `workbench provenance`"
                             ) from None
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw


def _parse(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[_Finding]]:
    """Typed table and the findings about its structure (no model needed)."""
    findings: list[_Finding] = []
    missing = [c for c in _REQUIRED if c not in raw.columns]
    for c in missing:
        findings.append(_Finding("error", "missing-column", c, 1,
                                 f"the table has no column {c!r}",
                                 "the columns are: " + ", ".join(C.PROVENANCE_COLUMNS)))
    for c in raw.columns:
        if c not in C.PROVENANCE_COLUMNS:
            findings.append(_Finding("warning", "unknown-column", c, 1,
                                     f"column {c!r} is not a provenance column; it is ignored"))
    rows = []
    for k, (_, r) in enumerate(raw.iterrows()):
        line = k + 2  # header is line 1
        row = _empty_row()
        for c in C.PROVENANCE_COLUMNS:
            if c in raw.columns:
                row[c] = str(r[c]).strip()
        row["_line"] = line
        sid = row[C.ID]
        if not sid and C.ID in raw.columns:
            findings.append(_Finding("error", "missing-id", "", line, "the row has no id"))
        ch = str(row[C.CHOSEN]).strip().lower()
        if ch in _TRUE:
            row[C.CHOSEN] = True
        elif ch in _FALSE:
            row[C.CHOSEN] = False
        else:
            findings.append(_Finding("error", "bad-chosen", sid, line,
                                     f"chosen is {row[C.CHOSEN]!r}, not true or false"))
            row[C.CHOSEN] = False
        for c in _FLOAT_COLUMNS:
            text = str(row[c]).strip()
            if text == "":
                row[c] = math.nan
                continue
            try:
                row[c] = float(text)
            except ValueError:
                findings.append(_Finding("error", "not-a-number", sid, line,
                                         f"{c} {text!r} is not a number",
                                         "write plain numbers (1.5e-3); put the unit in 'unit'"))
                row[c] = math.nan
        st = row[C.SOURCE_TYPE]
        if st and st.lower() not in SOURCE_TYPES:
            findings.append(_Finding("error", "bad-source-type", sid, line,
                                     f"source_type {st!r} is not one of " + ", ".join(SOURCE_TYPES)))
        elif st:
            row[C.SOURCE_TYPE] = st.lower()
        unit = row[C.UNIT]
        if unit:
            try:
                U._units(unit)
            except UnitError as exc:
                findings.append(_Finding("error", "bad-unit", sid, line, exc.message, exc.fix or ""))
        if C.VALUE in raw.columns and math.isnan(row[C.VALUE]) and row[C.SOURCE_TYPE] != "derived" \
                and sid and not any(f.line == line and f.code == "not-a-number" for f in findings):
            findings.append(_Finding("error", "no-value", sid, line,
                                     "the row has no value (only derived entries may omit it)"))
        rows.append(row)
    df = pd.DataFrame(rows, columns=[*C.PROVENANCE_COLUMNS, "_line"])
    lines = df.pop("_line").astype(int).tolist() if len(df) else []
    df = _typed(df)
    # shared, not deep-copied: pandas deep-copies attrs into every derived frame, which
    # made reading and linting quadratic in the number of rows (1e5 rows: minutes)
    df.attrs["lines"] = _Shared(lines)
    # one chosen row per entry
    if len(df) and C.ID in raw.columns:
        for (sid, scope), g in df.groupby([C.ID, C.SCOPE], sort=False):
            if not sid:
                continue
            n = int(g[C.CHOSEN].sum())
            where = _qual(sid, scope)
            if n == 0 and C.CHOSEN in raw.columns:
                findings.append(_Finding("error", "no-chosen", where, lines[g.index[0]],
                                         f"no row of {where} is marked chosen",
                                         "mark the row whose value the model uses with chosen=true"))
            elif n > 1:
                findings.append(_Finding("error", "several-chosen", where,
                                         lines[g.index[g[C.CHOSEN]][1]],
                                         f"{n} rows of {where} are marked chosen; one is allowed"))
    return df, findings


class _Shared(list):
    """A list pandas' attrs propagation shares instead of deep-copying (read-only use)."""

    def __deepcopy__(self, memo):
        return self


def _qual(sid: str, scope: str) -> str:
    return f"{scope}/{sid}" if scope else sid


def read_provenance(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a provenance table (CSV, or XLSX sheet ``provenance``).

    Raises
    ------
    InputFileError
        The file is missing or unreadable.
    ProvenanceError
        Columns are missing, values are not numbers, units do not read,
        source types are unknown, or an entry has no (or several) chosen rows:
        every such finding is listed in the one message.
    """
    p = Path(path)
    df, findings = _parse(_read_raw(p))
    _raise_errors(findings, str(p))
    return df


def _raise_errors(findings: list[_Finding], source: str) -> None:
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        return
    parts = [(f"line {f.line} " if f.line else "") + (f"[{f.element}] " if f.element else "")
             + f.message for f in errors]
    err = ProvenanceError(f"the provenance table has {len(errors)} error(s): " + "; ".join(parts),
                          source=source,
                          fix="correct every listed row (`workbench provenance lint MODEL TABLE` "
                              "lists warnings too)")
    err.findings = _findings_frame(findings)
    raise err


# ---------------------------------------------------------------------------
# lint
# ---------------------------------------------------------------------------

def _convert(value: float, unit: str, model_unit: str) -> float:
    if not model_unit or unit == model_unit:
        return value
    if not unit:
        unit = "dimensionless"
    return U.convert(value, unit, model_unit)


def _close(a: float, b: float) -> bool:
    if a == b:
        return True
    return math.isclose(a, b, rel_tol=_REL_TOL, abs_tol=0.0)


def lint_provenance(model: Model | str | os.PathLike[str],
                    table: pd.DataFrame | str | os.PathLike[str], *,
                    influential: Iterable[str] = ()) -> pd.DataFrame:
    """Check a provenance table against a model; every finding at once.

    Checks: the table's structure (columns, numbers, units that read, one
    chosen row per entry); every valued quantity of the model has an entry;
    every id exists; every unit converts to the model's unit of the quantity
    (a mismatch names both); the chosen value equals the model's value after
    conversion (relative tolerance 1e-6); a calibrated value equals the chosen
    one; candidates spanning more than 10-fold are flagged ``high-uncertainty``
    (warning); missing source types, references and rationales are warnings;
    candidates and priors (:func:`workbench.core.priors.prior_findings`): unreadable
    candidate uses or priors, chosen values outside their same/scaled candidates,
    and ids of ``influential`` (the study's influential set) without a prior.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`workbench.columns.PROVENANCE_LINT_COLUMNS`, errors first;
        ``line`` is the table row (header = line 1; 0 for a missing entry).
    """
    from workbench.core.priors import prior_findings

    df, findings = _lint(model, table)
    m = model if isinstance(model, Model) else load_model(model)
    quantities = {(q.id, q.scope): q for q in _model_quantities(m)}
    lines = df.attrs.get("lines", list(range(2, len(df) + 2)))
    findings += [_Finding(**f) for f in prior_findings(df, lines, quantities, influential)]
    return _findings_frame(findings)


def _lint(model: Model | str | os.PathLike[str], table: pd.DataFrame | str | os.PathLike[str]
          ) -> tuple[pd.DataFrame, list[_Finding]]:
    """The typed table (read once) and every finding of :func:`lint_provenance`."""
    m = model if isinstance(model, Model) else load_model(model)
    if isinstance(table, pd.DataFrame):
        df, findings = _parse(_as_raw(table))
    else:
        df, findings = _parse(_read_raw(Path(table)))
    lines = df.attrs.get("lines", list(range(2, len(df) + 2)))
    quantities = {(q.id, q.scope): q for q in _model_quantities(m)}
    seen = set()
    for k, (idx, r) in enumerate(df.iterrows()):
        sid, scope = r[C.ID], r[C.SCOPE]
        if not sid:
            continue
        line = lines[k] if k < len(lines) else idx + 2
        key = (sid, scope)
        q = quantities.get(key)
        where = _qual(sid, scope)
        if q is None:
            if key not in seen:
                from workbench.core.model import _did_you_mean

                known = [_qual(*k2) for k2 in quantities]
                findings.append(_Finding("error", "unknown-id", where, line,
                                         f"{where} is not a compartment, species or parameter "
                                         "of the model", _did_you_mean(where, known)))
            seen.add(key)
            continue
        seen.add(key)
        unit = r[C.UNIT]
        value = r[C.VALUE]
        if q.derived and math.isnan(value):
            continue
        if not q.unit:
            if unit and unit != "dimensionless" and r[C.CHOSEN]:
                findings.append(_Finding("warning", "model-unit-undeclared", where, line,
                                         f"the model declares no unit for {where}, so {unit!r} "
                                         "cannot be checked", "declare the unit in the model"))
        else:
            try:
                _convert(1.0, unit, q.unit)
            except UnitError:
                findings.append(_Finding("error", "unit-mismatch", where, line,
                                         f"unit {unit or '(none)'!r} does not convert to the "
                                         f"model's unit {q.unit!r} of {where}",
                                         f"give the value in a unit of the same dimension as "
                                         f"{q.unit!r}"))
                continue
        if r[C.CHOSEN] and not q.derived and not math.isnan(value):
            got = _convert(value, unit, q.unit) if q.unit else value
            if not _close(got, q.value):
                shown = f"{value:g} {unit}".strip()
                conv = f" = {got:.6g} {q.unit}" if q.unit and unit != q.unit else ""
                findings.append(_Finding("error", "value-mismatch", where, line,
                                         f"the chosen value {shown}{conv} differs from the "
                                         f"model's value {q.value:.6g} {q.unit}".rstrip(),
                                         "update the model or the chosen row so that they agree"))
            cal = r[C.CALIBRATED_VALUE]
            if not math.isnan(cal) and not _close(cal, value):
                findings.append(_Finding("error", "calibration-mismatch", where, line,
                                         f"calibrated_value {cal:g} differs from the chosen value "
                                         f"{value:g} (the model must hold the calibrated value)"))
            if not math.isnan(cal) and r[C.SOURCE_TYPE] not in ("calibrated", ""):
                findings.append(_Finding("warning", "calibrated-source", where, line,
                                         f"{where} has a calibrated value but source_type "
                                         f"{r[C.SOURCE_TYPE]!r}", "set source_type to calibrated"))
    # every valued quantity has an entry
    for key, q in quantities.items():
        if key not in seen and _needs_entry(q):
            findings.append(_Finding("error", "missing-entry", _qual(*key), 0,
                                     f"{q.kind} {_qual(*key)} ({q.value:g} {q.unit}".rstrip()
                                     + ") has no provenance entry",
                                     "add a chosen row for it (`workbench provenance MODEL` "
                                     "writes a template)"))
    findings.extend(_entry_warnings(df, lines, quantities))
    return df, findings


def _as_raw(table: pd.DataFrame) -> pd.DataFrame:
    raw = table.copy()
    for c in raw.columns:
        if c in _FLOAT_COLUMNS:
            raw[c] = [("" if (isinstance(v, float) and math.isnan(v)) or v is None else repr(float(v))
                       if isinstance(v, int | float) else str(v)) for v in raw[c]]
        else:
            raw[c] = raw[c].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                                else str(v))
    return raw


def _entry_warnings(df: pd.DataFrame, lines: list[int], quantities: dict) -> list[_Finding]:
    out: list[_Finding] = []
    if not len(df):
        return out
    for (sid, scope), g in df.groupby([C.ID, C.SCOPE], sort=False):
        q = quantities.get((sid, scope))
        if q is None or not sid:
            continue
        where = _qual(sid, scope)
        chosen = g[g[C.CHOSEN]]
        line = lines[chosen.index[0]] if len(chosen) else lines[g.index[0]]
        if len(chosen):
            c = chosen.iloc[0]
            if not c[C.SOURCE_TYPE]:
                out.append(_Finding("warning", "no-source-type", where, line,
                                    f"the source type of {where} is not stated",
                                    "set source_type to one of " + ", ".join(SOURCE_TYPES)))
            elif c[C.SOURCE_TYPE] not in ("assumed", "derived", "calibrated") \
                    and not c[C.REFERENCE] and not c[C.CITATION]:
                out.append(_Finding("warning", "no-reference", where, line,
                                    f"{where} ({c[C.SOURCE_TYPE]}) has no reference or citation"))
            if len(g) > 1 and not c[C.RATIONALE]:
                out.append(_Finding("warning", "no-rationale", where, line,
                                    f"{where} has {len(g)} candidates but no rationale for the "
                                    "chosen one"))
        vals = _converted_values(_informing(g), q.unit)
        pos = [v for v in vals if v > 0]
        if len(pos) >= 2 and max(pos) / min(pos) > _HIGH_FOLD:
            out.append(_Finding("warning", "high-uncertainty", where, line,
                                f"high uncertainty: the candidates of {where} span "
                                f"{max(pos) / min(pos):.3g}-fold ({min(pos):.3g} to "
                                f"{max(pos):.3g} {q.unit})".rstrip(),
                                "consider sampling this parameter in the uncertainty analysis"))
    return out


def _informing(g: pd.DataFrame) -> pd.DataFrame:
    """The chosen row and the candidates not marked ``comparison`` (workbench.priors)."""
    use = g[C.CANDIDATE_USE].astype(str).str.strip().str.lower()
    return g[g[C.CHOSEN] | ~use.str.startswith("comparison")]


def _converted_values(g: pd.DataFrame, model_unit: str) -> list[float]:
    vals = []
    for _, r in g.iterrows():
        v = r[C.VALUE]
        if math.isnan(v):
            continue
        try:
            vals.append(_convert(v, r[C.UNIT], model_unit) if model_unit else v)
        except UnitError:
            continue
    return vals


def check_provenance(model: Model | str | os.PathLike[str],
                     table: pd.DataFrame | str | os.PathLike[str]) -> pd.DataFrame:
    """Lint the table against the model and return it; raise when there are errors.

    Raises
    ------
    ProvenanceError
        Listing every error finding at once (``err.findings`` holds the lint table).
    """
    df, findings = _lint(model, table)
    _raise_errors(findings, "<table>" if isinstance(table, pd.DataFrame) else str(table))
    return df


def candidate_ranges(table: pd.DataFrame, model: Model | str | os.PathLike[str] | None = None
                     ) -> pd.DataFrame:
    """Spread of the candidate values of each entry.

    With a model, values are converted into the model's unit of each quantity;
    without, candidates whose unit differs from the chosen row's are converted
    into the chosen row's unit.

    Candidates marked ``comparison`` (:mod:`workbench.priors`) are left out.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`workbench.columns.CANDIDATE_RANGE_COLUMNS`; ``fold`` is
        high/low over positive values (NaN with fewer than two), and
        ``high_uncertainty`` is True when it exceeds 10.
    """
    m = None if model is None else (model if isinstance(model, Model) else load_model(model))
    quantities = {(q.id, q.scope): q for q in _model_quantities(m)} if m is not None else {}
    df = _typed(table)[list(C.PROVENANCE_COLUMNS)]
    rows = []
    for (sid, scope), g in df.groupby([C.ID, C.SCOPE], sort=False):
        chosen = g[g[C.CHOSEN]]
        c = chosen.iloc[0] if len(chosen) else g.iloc[0]
        q = quantities.get((sid, scope))
        unit = q.unit if q is not None and q.unit else c[C.UNIT]
        vals = _converted_values(_informing(g), unit)
        try:
            cv = _convert(c[C.VALUE], c[C.UNIT], unit) if unit else c[C.VALUE]
        except UnitError:
            cv = math.nan
        pos = [v for v in vals if v > 0]
        fold = max(pos) / min(pos) if len(pos) >= 2 else math.nan
        rows.append({C.KIND: c[C.KIND] or (q.kind if q is not None else ""), C.ID: sid,
                     C.SCOPE: scope, C.UNIT: unit, C.VALUE: cv,
                     C.LOW: min(vals) if vals else math.nan, C.HIGH: max(vals) if vals else math.nan,
                     C.FOLD: fold, C.N_CANDIDATES: len(g),
                     C.HIGH_UNCERTAINTY: bool(fold > _HIGH_FOLD) if not math.isnan(fold) else False})
    return pd.DataFrame(rows, columns=list(C.CANDIDATE_RANGE_COLUMNS))
