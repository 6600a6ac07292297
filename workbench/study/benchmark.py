"""Retrospective validation: the MABEL pipeline on molecules whose first-in-human outcome is known.

The FDA draft guidance on QSP-based MABEL asks, when a QSP estimate differs from the
traditional ones, for "retrospective validation using clinical outcomes from compounds
with a similar mechanism of action". :func:`retrospective` runs every reference study
(``studies/reference/<molecule>/study.yaml``: parameters only from data that existed
before the molecule's first-in-human trial) through the unchanged main job,
:func:`workbench.run_mabel`, and sets its proposed starting dose beside what happened in
the clinic (``outcomes.csv``: the historical start, the first dose with dose-limiting or
grade >= 2 cytokine release, published first-dose PK and IL-6). The outcomes are the
answer the prediction is compared against; they never set a parameter.

Acceptance criteria, per molecule (counted, never tuned for):

* *safe*: the proposed start is at least 10 times below the first dose with
  dose-limiting or grade >= 2 cytokine release (``required_margin`` in the outcomes file
  may raise it: 50 for the TGN1412 negative control); where no such dose occurred, the
  highest tolerated level (MTD/RP2D) stands in and the table says so;
* *not wasteful*: the proposed start is no more than 10 times below the historical start;
* *informative*: where first-dose Cmax or IL-6 was published, the prediction at that dose
  is within 3-fold of it.

Every dose of the table is in ug/kg; flat doses are divided by the study's body weight.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench import columns as C
from workbench.errors import InputFileError, SpecError
from workbench.study.plots import plot_benchmark as plot_benchmark  # moved

__all__ = ["REFERENCE_DIR", "Benchmark", "benchmark_markdown", "plot_benchmark", "read_outcomes",
           "reference_studies", "references_section", "retrospective", "write_benchmark"]

log = logging.getLogger(__name__)

#: the bundled reference library (one folder per molecule)
REFERENCE_DIR = Path(__file__).resolve().parents[2] / "studies" / "reference"
#: molecules of ``workbench benchmark --quick`` (one CD3 bispecific and the negative control)
QUICK = ("pf06671008", "tgn1412")
#: default margins of the criteria
SAFE_MARGIN = 10.0
WASTE_FOLD = 10.0
INFORMATIVE_FOLD = 3.0
_ITEMS = {"fih_year", "fih_start", "dose_level", "first_toxic_dose", "max_first_dose", "rp2d",
          "first_dose_cmax", "first_dose_il6", "required_margin"}
UNIT = "ug/kg"


@dataclass(frozen=True, eq=False)
class Benchmark:
    """Result of :func:`retrospective`.

    Attributes
    ----------
    table
        One row per molecule, :data:`workbench.columns.BENCHMARK_COLUMNS`.
    counts
        How many molecules met each criterion, :data:`workbench.columns.BENCHMARK_COUNT_COLUMNS`.
    runs
        The :class:`workbench.study.pipeline.MabelRun` of each molecule (name -> run).
    """

    table: pd.DataFrame
    counts: pd.DataFrame
    runs: dict = field(default_factory=dict)
    quick: bool = False


def reference_studies(root: str | os.PathLike[str] | None = None,
                      molecules: Sequence[str] | None = None) -> list[Path]:
    """The study files of the reference library (``root/<molecule>/study.yaml``), sorted.

    Raises
    ------
    InputFileError
        ``root`` has no reference study, or a named molecule has none.
    """
    base = Path(root) if root is not None else REFERENCE_DIR
    found = {p.parent.name: p for p in sorted(base.glob("*/study.yaml"))}
    if not found:
        raise InputFileError(f"no reference study (*/study.yaml) under {base}", source=str(base),
                             fix="give the folder of the reference library, e.g. "
                                 "studies/reference")
    if molecules is None:
        return list(found.values())
    missing = [m for m in molecules if m not in found]
    if missing:
        raise InputFileError(f"no reference study for {', '.join(missing)} under {base}",
                             source=str(base), fix="use one of " + ", ".join(found))
    return [found[m] for m in molecules]


def read_outcomes(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check a molecule's ``outcomes.csv`` (:data:`workbench.columns.OUTCOME_COLUMNS`).

    Every row needs a source and a year; ``fih_year``, ``fih_start`` and either
    ``first_toxic_dose`` or ``rp2d`` are required.

    Raises
    ------
    InputFileError, SpecError
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"outcomes file {p} not found", source=str(p),
                             fix="write outcomes.csv beside the study (columns: "
                                 + ", ".join(C.OUTCOME_COLUMNS) + ")")
    try:
        df = pd.read_csv(p, dtype={C.OUTCOME_SOURCE: str, C.OUTCOME_DETAIL: str,
                                    C.OUTCOME_SOURCE_ID: str}, comment=None)
    except Exception as exc:  # unreadable CSV
        raise InputFileError(f"outcomes file {p} cannot be read: {exc}", source=str(p),
                             fix="write a comma-separated table with a header row") from None
    errs = []
    missing = [c for c in C.OUTCOME_COLUMNS if c not in df.columns]
    if missing:
        raise SpecError(f"outcomes file {p}: missing columns {', '.join(missing)}", source=str(p),
                        fix="columns: " + ", ".join(C.OUTCOME_COLUMNS))
    for i, r in df.iterrows():
        line = i + 2
        if r[C.ITEM] not in _ITEMS:
            errs.append(f"line {line}: item {r[C.ITEM]!r} is not one of {', '.join(sorted(_ITEMS))}")
        if not str(r[C.OUTCOME_SOURCE]).strip() or pd.isna(r[C.OUTCOME_SOURCE]):
            errs.append(f"line {line}: no source")
        if pd.isna(r[C.OUTCOME_YEAR]):
            errs.append(f"line {line}: no year")
        if pd.isna(r[C.OUTCOME_SOURCE_ID]) or not str(r[C.OUTCOME_SOURCE_ID]).strip():
            errs.append(f"line {line}: no source_id (pmid:, doi: or first author and year)")
    items = set(df[C.ITEM])
    for need in ("fih_year", "fih_start"):
        if need not in items:
            errs.append(f"no {need!r} row")
    if not items & {"first_toxic_dose", "max_first_dose", "rp2d"}:
        errs.append("none of 'first_toxic_dose', 'max_first_dose', 'rp2d'")
    if errs:
        raise SpecError(f"outcomes file {p}: " + "; ".join(errs), source=str(p),
                        fix="one row per item with dose, unit, source and year "
                            "(studies/reference/README.md)")
    return df


def _rate(unit: str) -> tuple[str, float | None]:
    """``(amount unit, per-day factor)`` of a dose unit; the factor is None for an amount
    (a single dose) and converts a rate (``ug/m2/day``, ``ug/h``) to per day."""
    u = str(unit).strip()
    for tail, f in (("/day", 1.0), ("/d", 1.0), ("/h", 24.0)):
        if u.endswith(tail) and u[: -len(tail)].strip():
            return u[: -len(tail)].strip(), f
    return u, None


def _to_ug_per_kg(value: float, unit: str, weight: float) -> float:
    """A dose in ug/kg (a rate in ug/kg/day); flat doses (mass) are divided by the body
    weight, per-m2 doses multiplied by the body-surface area of the same subject
    (:class:`workbench.dosing.Subject`: Mosteller, 170 cm) first - as the pipeline doses them."""
    from workbench.core import units as U
    from workbench.core.dosing import Subject

    base, per_day = _rate(unit)
    v = float(value) * (per_day or 1.0)
    if base.endswith("/kg"):
        return v * U.factor(base, UNIT)
    if base.endswith("/m2"):
        return v * U.factor(base[:-3], "ug") * Subject(weight=weight).body_surface_area / weight
    return v * U.factor(base, "ug") / weight


def _row(df: pd.DataFrame, item: str) -> pd.Series | None:
    sel = df[df[C.ITEM] == item]
    return sel.iloc[0] if len(sel) else None


def _required_row(df: pd.DataFrame, item: str) -> pd.Series:
    """The row of an item :func:`read_outcomes` requires (``fih_year``, ``fih_start``)."""
    row = _row(df, item)
    assert row is not None, f"read_outcomes requires the {item!r} row"
    return row


def _predicted(run, dose_ugkg: float, output: str) -> float:
    """max(output) of the study model at a single dose (ug/kg) with the study's settings."""
    from workbench.core.dosing import Subject
    from workbench.core.options import Dosing
    from workbench.sim.simulate import simulate

    st = run.study
    drug, sim = st.data["drug"], st.data["simulation"]
    subj = Subject(weight=float(drug["body_weight"]))
    d = dose_ugkg * _to_ug_per_kg(1.0, UNIT, 1.0) / _to_ug_per_kg(1.0, drug["dose_unit"],
                                                                  subj.weight)
    reg = Dosing(route=drug["route"], dose_unit=drug["dose_unit"]).regimen(d)  # the number
    df = simulate(run.model, reg, target=drug["species"], mw=drug["mw"], subject=subj,
                  end=sim["end"], points=int(sim["points"]), outputs=[output])
    return float(np.nanmax(df[output].to_numpy()))


def _top_parameters(run, metric: str, k: int = 3) -> str:
    """The ``k`` parameters with the largest local sensitivity of ``metric`` at the QSP
    MABEL (``d ln y / d ln p``), as text for the table's reason column ('' if none)."""
    loc = getattr(run, "local", None)
    idx = getattr(loc, "indices", None)
    if idx is None or not len(idx) or metric not in set(idx[C.METRIC]):
        return ""
    sel = idx[idx[C.METRIC] == metric].copy()
    sel = sel[np.isfinite(sel[C.SENSITIVITY].astype(float))]
    sel = sel.reindex(sel[C.SENSITIVITY].abs().sort_values(ascending=False).index).head(k)
    return ", ".join(f"{r[C.PARAMETER]} ({r[C.SENSITIVITY]:+.2g})" for _, r in sel.iterrows())


def _model_value(run, pid: str) -> str:
    """``"= <value> <unit>"`` of a model parameter or compartment ('' when absent)."""
    from workbench.core._provenance_base import _model_quantities

    q = next((x for x in _model_quantities(run.model) if x.id == pid and not x.scope), None)
    return f"= {q.value:.3g} {q.unit}".rstrip() if q is not None else ""


def _fold(pred: float, obs: float) -> float:
    return pred / obs if obs > 0 and math.isfinite(pred) else float("nan")


def _ladder_levels(ladder: pd.DataFrame, start: float, target: float) -> tuple[float, bool]:
    """Dose levels from the start to the target (inclusive of the start); beyond the
    ladder, the remaining distance is walked with the ladder's last step (at least
    half-log), so the count is a lower bound (second value True)."""
    doses = [float(d) for d in ladder[C.DOSE]] if len(ladder) else [start]
    for i, d in enumerate(doses):
        if d >= target * (1 - 1e-9):
            return float(i + 1), False
    fold = doses[-1] / doses[-2] if len(doses) > 1 else math.sqrt(10)
    fold = max(fold, math.sqrt(10))
    extra = math.ceil(math.log(target / doses[-1]) / math.log(fold))
    return float(len(doses) + max(extra, 0)), True


def _evaluate(name: str, run, outcomes: pd.DataFrame, fih_year: int,
              leaks: pd.DataFrame | None = None) -> dict:
    """One row of the benchmark table; criteria contaminated by a declared outcome leak
    (``leaks``, :func:`workbench.benchmark_leaks.outcome_leaks`) are not scored."""
    known = leaks[leaks["known"].astype(bool)] if leaks is not None and len(leaks) else None
    unscored: dict[str, list[tuple[str, str]]] = {}
    if known is not None:
        for _, lk in known.iterrows():
            for crit in filter(None, (c.strip() for c in str(lk["criteria"]).split(";"))):
                unscored.setdefault(crit, []).append((lk[C.ID], lk[C.OUTCOME_SOURCE_ID]))
    st = run.study
    drug = st.data["drug"]
    w = float(drug["body_weight"])
    dec = run.decision
    row_unit = UNIT + ("/day" if _rate(dec.dose_unit)[1] else "")  # a continuous infusion: rates
    proposed = _to_ug_per_kg(dec.start_dose, dec.dose_unit, w) if math.isfinite(
        dec.start_dose) else float("nan")
    hist = _required_row(outcomes, "fih_start")
    historical = _to_ug_per_kg(hist[C.VALUE], hist[C.UNIT], w)
    tox = _row(outcomes, "first_toxic_dose")
    tolerated = _row(outcomes, "max_first_dose")
    rp2d = _row(outcomes, "rp2d")
    if tox is not None:
        toxic, kind = _to_ug_per_kg(tox[C.VALUE], tox[C.UNIT], w), str(tox[C.OUTCOME_DETAIL])
    else:  # no dose-limiting first dose known: a tolerated first dose stands in (weaker test)
        stand = tolerated if tolerated is not None else rp2d
        # read_outcomes requires first_toxic_dose, max_first_dose or rp2d
        assert stand is not None, "no first_toxic_dose, max_first_dose or rp2d row"
        toxic = _to_ug_per_kg(stand[C.VALUE], stand[C.UNIT], w)
        kind = ("no dose-limiting first dose known; a tolerated dose stands in: "
                + str(stand[C.OUTCOME_DETAIL]))
    target = _to_ug_per_kg(rp2d[C.VALUE], rp2d[C.UNIT], w) if rp2d is not None else toxic
    req = _row(outcomes, "required_margin")
    required = float(req[C.VALUE]) if req is not None else SAFE_MARGIN
    margin = toxic / proposed if proposed > 0 else float("nan")
    ratio = proposed / historical if historical > 0 else float("nan")
    # first-dose PK and IL-6: the prediction at the published dose
    folds = {}
    for item, output in (("first_dose_cmax", "Ctot"), ("first_dose_il6", "IL6")):
        rows = outcomes[outcomes[C.ITEM] == item] if item not in unscored else outcomes.iloc[:0]
        errs = []
        for _, r in rows.iterrows():
            d = _to_ug_per_kg(r[C.DOSE], r["dose_unit"], w)
            try:
                pred = _predicted(run, d, output)
            except Exception as exc:  # the model has no such output: say so in the table
                log.warning("%s: no prediction of %s (%s)", name, output, exc)
                continue
            from workbench.core import units as U

            if item == "first_dose_cmax":  # model nM -> ng/mL with the molecular weight
                from workbench.core.dosing import molecular_weight

                mw = molecular_weight(drug["mw"])
                assert mw is not None, "drug.mw is a required study field"
                pred = pred * mw / 1e3  # nM x g/mol / 1e3 = ng/mL
                obs = float(r[C.VALUE]) * U.factor(str(r[C.UNIT]), "ng/mL")
            else:
                obs = float(r[C.VALUE]) * U.factor(str(r[C.UNIT]), "pg/mL")
            errs.append(_fold(pred, obs))
        errs = [e for e in errs if math.isfinite(e)]
        # the worst fold error (furthest from 1) of the published points
        folds[item] = max(errs, key=lambda e: abs(math.log(e))) if errs else float("nan")
    levels, extrapolated = _ladder_levels(dec.ladder, dec.start_dose, target * (
        _to_ug_per_kg(1.0, dec.dose_unit, w) ** -1)) if math.isfinite(dec.start_dose) else (
        float("nan"), False)
    cum = getattr(dec, "cumulative_margin", None)
    cum = float(cum) if isinstance(cum, int | float) else float("nan")
    safe = "yes" if margin >= required else "no"
    if historical >= toxic:  # the historical start itself harmed (negative control): no target
        wasteful = "n/a"
    else:
        wasteful = "yes" if historical / proposed <= WASTE_FOLD else "no"
    fe = [f for f in (folds["first_dose_cmax"], folds["first_dose_il6"]) if math.isfinite(f)]
    informative = "n/a" if not fe else (
        "yes" if all(1 / INFORMATIVE_FOLD <= f <= INFORMATIVE_FOLD for f in fe) else "no")
    why = []
    qsp = run.population.for_decision if getattr(run, "population", None) is not None else run.qsp
    low = qsp.lowest() if qsp is not None else None
    driver = (f"lowest QSP MABEL '{low.effect.name or low.effect.text}' at "
              f"{_to_ug_per_kg(low.dose, low.dose_unit, w):.3g} {row_unit}, start = it / "
              f"{_to_ug_per_kg(low.dose, low.dose_unit, w) / proposed:.3g}") if (
        low is not None and proposed > 0) else f"basis: {dec.basis}"
    top = _top_parameters(run, low.effect.metric) if low is not None else ""
    if top:  # the assumptions behind that MABEL: its most sensitive parameters
        driver += f"; most sensitive parameters there (d ln y/d ln p): {top}"
    if safe == "no":
        why.append(f"unsafe: margin {margin:.3g} < {required:g} to the first toxic dose "
                   f"({toxic:.3g} {row_unit}); the predicted MABEL is too high ({driver})")
    if wasteful == "no":
        why.append(f"wasteful: {historical / proposed:.3g}-fold below the historical start; "
                   f"the model reaches the minimal effect at lower doses than the clinic's start "
                   f"({driver})")
    if informative == "no":
        parts = [f"{k.replace('first_dose_', '')} fold error {v:.3g}" for k, v in folds.items()
                 if math.isfinite(v) and not 1 / INFORMATIVE_FOLD <= v <= INFORMATIVE_FOLD]
        causes = []
        if math.isfinite(folds["first_dose_cmax"]) and not (
                1 / INFORMATIVE_FOLD <= folds["first_dose_cmax"] <= INFORMATIVE_FOLD):
            # total drug right after dosing is set by the PK parameters whatever the binding
            causes.append("cmax: the PK assumption ("
                          + ", ".join(f"{p} {_model_value(run, p)}" for p in ("CL", "central"))
                          + "; provenance rationale of CL)")
        if math.isfinite(folds["first_dose_il6"]) and not (
                1 / INFORMATIVE_FOLD <= folds["first_dose_il6"] <= INFORMATIVE_FOLD):
            top_il6 = _top_parameters(run, "max(IL6)")
            causes.append("il6: " + (f"most sensitive parameters at the QSP MABEL {top_il6}"
                                     if top_il6 else "the IL-6 parameters (IL6_Emax and the activation potency)"))
        sc = outcomes[outcomes[C.ITEM].isin(["first_dose_cmax", "first_dose_il6"])][
            C.OUTCOME_DETAIL].astype(str).str.contains(r"\bSC\b").any()
        # an SC study doses a depot species (Drug_sc of models/cd3_platform.ant) with a bolus
        sim_sc = ("sc" in str(drug["route"]).lower()
                  or str(drug["species"]).lower().endswith("_sc"))
        why.append("not informative: " + ", ".join(parts) + f" (the study simulates "
                   f"'{drug['route']}' doses into {drug['species']}"
                   + (", the observation followed SC dosing" if sc and not sim_sc else "")
                   + "; " + "; ".join(causes) + ")")
    if "safe" in unscored:
        safe = "n/a"
    if "not_wasteful" in unscored:
        wasteful = "n/a"
    for crit, who in unscored.items():
        srcs = " / ".join(dict.fromkeys(src for _, src in who))
        why.append(f"not scored: {crit} (known outcome leak: {', '.join(i for i, _ in who)} "
                   f"cite the outcome source {srcs})")
    verdict = "unsafe" if safe == "no" else ("wasteful" if wasteful == "no" else "acceptable")
    return {C.MOLECULE: name, C.FIH_YEAR: fih_year, C.BENCH_DOSE_UNIT: row_unit,
            C.PROPOSED_START: proposed, C.HISTORICAL_START: historical, C.RATIO: ratio,
            C.FIRST_TOXIC_DOSE: toxic, C.FIRST_TOXIC_KIND: kind, C.MARGIN: margin,
            C.REQUIRED_MARGIN: required, C.PK_FOLD_ERROR: folds["first_dose_cmax"],
            C.IL6_FOLD_ERROR: folds["first_dose_il6"], C.TARGET_DOSE: target,
            C.LADDER_LEVELS: f"{'>=' if extrapolated else ''}{levels:.0f}" if math.isfinite(
                levels) else "n/a",
            C.CUMULATIVE_MARGIN: cum, C.SAFE: safe, C.NOT_WASTEFUL: wasteful,
            C.INFORMATIVE: informative, C.VERDICT: verdict, C.WHY: "; ".join(why)}


def _counts(table: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for crit in (C.SAFE, C.NOT_WASTEFUL, C.INFORMATIVE):
        v = table[crit] if len(table) else pd.Series(dtype=str)
        rows.append({C.CRITERION: crit, C.N_MET: int((v == "yes").sum()),
                     C.N_FAILED: int((v == "no").sum()), C.N_NOT_APPLICABLE: int((v == "n/a").sum())})
    return pd.DataFrame(rows, columns=list(C.BENCHMARK_COUNT_COLUMNS))


def retrospective(studies: Sequence[str | os.PathLike[str]] | None = None, *,
                  quick: bool = False, workers: int | None = 1,
                  progress: bool | None = None) -> Benchmark:
    """Run reference studies through :func:`workbench.run_mabel` and score them.

    Parameters
    ----------
    studies
        Study files, each with ``outcomes.csv`` beside it. Default: the whole reference
        library (:data:`REFERENCE_DIR`), or with ``quick`` only :data:`QUICK`.
    quick
        Reduced sample sizes (``run_mabel(reduced=True)``), and by default two molecules.
    workers
        Ensemble processes per study (None: every core).
    progress
        Progress bars (default: when stderr is a terminal).

    Returns
    -------
    Benchmark
    """
    from workbench.study.pipeline import run_mabel

    paths = [Path(s) for s in studies] if studies is not None else reference_studies(
        molecules=QUICK if quick else None)
    # every input is checked before the first (long) run: no partial table on a bad file
    from workbench.study.benchmark_leaks import check_no_undeclared_leak
    from workbench.study.schema import read_study

    checked = []
    for p in paths:
        study, outcomes = read_study(p), read_outcomes(p.parent / "outcomes.csv")
        leaks = check_no_undeclared_leak(study.data["provenance"], outcomes)
        checked.append((p, study, outcomes, leaks))
    rows, runs = [], {}
    for p, study, outcomes, leaks in checked:
        name = p.parent.name if p.name == "study.yaml" else p.stem
        fih = int(float(_required_row(outcomes, "fih_year")[C.VALUE]))
        log.info("benchmark: %s", name)
        run = run_mabel(study, reduced=quick, workers=workers, progress=progress)
        runs[name] = run
        rows.append(_evaluate(name, run, outcomes, fih, leaks))
    table = pd.DataFrame(rows, columns=list(C.BENCHMARK_COLUMNS))
    return Benchmark(table, _counts(table), runs, quick)


def benchmark_markdown(table: pd.DataFrame, counts: pd.DataFrame) -> str:
    """The table and the counts as Markdown (the form of ``studies/reference/README.md``);
    ``*`` marks a tolerated first dose standing in for an unknown first toxic dose; a row whose
    doses are not in ug/kg (a continuous infusion: ug/kg/day) names its unit."""
    def f(x) -> str:
        return "n/a" if not isinstance(x, int | float) or not math.isfinite(x) else f"{x:.3g}"

    lines = ["| molecule | FIH | proposed | historical | ratio | first toxic | margin | levels | "
             "safe | not wasteful | informative | verdict |", "|" + "---|" * 12]
    for _, r in table.iterrows():
        star = "*" if str(r[C.FIRST_TOXIC_KIND]).startswith("no dose-limiting") else ""
        unit = str(r.get(C.BENCH_DOSE_UNIT, UNIT) or UNIT)
        name = f"{r[C.MOLECULE]} ({unit})" if unit not in (UNIT, "nan") else f"{r[C.MOLECULE]}"
        lines.append(f"| {name} | {r[C.FIH_YEAR]} | {f(r[C.PROPOSED_START])} | "
                     f"{f(r[C.HISTORICAL_START])} | {f(r[C.RATIO])} | "
                     f"{f(r[C.FIRST_TOXIC_DOSE])}{star} | {f(r[C.MARGIN])} | "
                     f"{r[C.LADDER_LEVELS]} | {r[C.SAFE]} | {r[C.NOT_WASTEFUL]} | "
                     f"{r[C.INFORMATIVE]} | {r[C.VERDICT]} |")
    lines += ["", "| criterion | met | failed | not applicable |", "|---|---|---|---|"]
    lines += [f"| {r[C.CRITERION]} | {r[C.N_MET]} | {r[C.N_FAILED]} | {r[C.N_NOT_APPLICABLE]} |"
              for _, r in counts.iterrows()]
    return "\n".join(lines) + "\n"


def write_benchmark(result: Benchmark, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``benchmark.csv``, ``benchmark_counts.csv``, ``benchmark.md`` and
    ``benchmark.png`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"benchmark.csv": out / "benchmark.csv",
             "benchmark_counts.csv": out / "benchmark_counts.csv",
             "benchmark.md": out / "benchmark.md",
             "benchmark.png": out / "benchmark.png"}
    result.table.to_csv(paths["benchmark.csv"], index=False)
    result.counts.to_csv(paths["benchmark_counts.csv"], index=False)
    paths["benchmark.md"].write_text(benchmark_markdown(result.table, result.counts))
    plot_benchmark(result.table, paths["benchmark.png"])
    return paths


def references_section(study, table: pd.DataFrame | str | os.PathLike[str] | None = None) -> str:
    """HTML section for a study's dossier: how the method performed on the reference
    compounds the study names (``references: [pf06671008, ...]`` in the study file).

    ``table`` is a benchmark table or its CSV (default: ``studies/reference/benchmark.csv``,
    the committed result of the full ``workbench benchmark``). Empty string when the study
    names no reference.
    """
    import html

    names = list((study.data if hasattr(study, "data") else study).get("references") or [])
    if not names:
        return ""
    if isinstance(table, pd.DataFrame):
        frame = table
    else:
        src = Path(table) if table is not None else REFERENCE_DIR / "benchmark.csv"
        if not src.is_file():
            return ("<section id='references'><h2>Performance on reference compounds</h2>"
                    f"<p>No benchmark table at {html.escape(str(src))}; run "
                    "<code>workbench benchmark</code>.</p></section>")
        frame = pd.read_csv(src)
    sel = frame[frame[C.MOLECULE].isin(names)]
    absent = [n for n in names if n not in set(sel[C.MOLECULE])]
    cols = [C.MOLECULE, C.PROPOSED_START, C.HISTORICAL_START, C.FIRST_TOXIC_DOSE, C.MARGIN,
            C.SAFE, C.NOT_WASTEFUL, C.INFORMATIVE, C.VERDICT, C.WHY]
    body = sel[cols].to_html(index=False, float_format=lambda x: f"{x:.3g}", na_rep="n/a",
                             escape=True)
    note = (f"<p>Not in the benchmark table: {html.escape(', '.join(absent))}.</p>"
            if absent else "")
    return ("<section id='references'><h2>Performance on reference compounds</h2>"
            "<p>The same pipeline, run on molecules of the same mechanism with parameters from "
            "data that existed before their first-in-human trials, compared with the clinical "
            "outcome (doses in ug/kg; margin = first toxic dose / proposed start; criteria in "
            "studies/reference/README.md).</p>" + body + note + "</section>")
