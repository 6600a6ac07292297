"""Command-line interface: a thin layer over the Python API.

Every verb maps to one API function (``workbench validate`` ->
:func:`workbench.validate`, ``info`` -> :func:`workbench.load_model` tables,
``simulate`` -> :func:`workbench.simulate`). Errors print one paragraph on
stderr and exit 1 (bad content) or 2 (unreadable input), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _print_table(df, as_json: bool = False) -> None:
    if as_json:
        print(df.to_json(orient="records", indent=1))
    elif len(df):
        import pandas as pd

        with pd.option_context("display.max_rows", None, "display.max_columns", None,
                               "display.width", 200, "display.max_colwidth", 90):
            print(df.to_string(index=False))
    else:
        print("(none)")


def _parse_sets(items: Sequence[str]) -> dict[str, float]:
    from .errors import WorkbenchError

    out = {}
    for it in items or []:
        for part in it.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise WorkbenchError(f"--set {part!r} is not of the form id=value", element="--set")
            k, v = part.split("=", 1)
            try:
                out[k.strip()] = float(v)
            except ValueError:
                raise WorkbenchError(f"--set {part!r}: {v!r} is not a number", element="--set") from None
    return out


def cmd_validate(a) -> int:
    from . import validate

    df = validate(a.model)
    n_err = int(df.loc[df["severity"].isin(["error", "fatal"]), "count"].sum())
    if a.json:
        print(json.dumps({"source": df.attrs.get("source"), "errors": n_err,
                          "findings": json.loads(df.to_json(orient="records"))}, indent=1))
    else:
        _print_findings(a.model, df, n_err)
    return 1 if n_err else 0


def _print_findings(source, df, n_err: int) -> None:
    """Validation findings for a terminal: the summary first, then one wrapped paragraph
    per finding (severity, code, element, line), its message and the fix."""
    import shutil
    import textwrap

    counts = df.groupby("severity")["count"].sum().to_dict() if len(df) else {}
    print(f"{source}: {n_err} error(s), {counts.get('warning', 0)} warning(s), "
          f"{counts.get('info', 0)} note(s)")
    width = max(60, min(100, shutil.get_terminal_size((100, 24)).columns))
    order = {"fatal": 0, "error": 1, "warning": 2, "info": 3}
    df = df.sort_values("severity", key=lambda s: s.map(order).fillna(4), kind="stable")
    for _, r in df.iterrows():
        where = ", ".join(x for x in (
            str(r["element"]) if r["element"] == r["element"] and r["element"] else "",
            f"line {int(r['line'])}" if r["line"] == r["line"] and r["line"] else "") if x)
        n = int(r["count"]) if r["count"] == r["count"] else 1
        head = f"{str(r['severity']).upper()} {r['code']}" + (f" ({where})" if where else "") \
            + (f" x{n}" if n > 1 else "")
        print("\n" + textwrap.fill(f"{head}: {r['message']}", width, subsequent_indent="    "))
        if r["fix"] == r["fix"] and r["fix"]:
            print(textwrap.fill(f"fix: {r['fix']}", width, initial_indent="    ",
                                subsequent_indent="    "))


def cmd_info(a) -> int:
    from . import load_model

    m = load_model(a.model)
    tables = {"compartments": m.compartments, "species": m.species, "parameters": m.parameters,
              "reactions": m.reactions, "rules": m.rules, "events": m.events}
    if a.json:
        print(json.dumps({"source": m.source, "id": m.id, "name": m.name, "time_unit": m.time_unit,
                          **{k: json.loads(v.to_json(orient="records")) for k, v in tables.items()}},
                         indent=1))
        return 0
    print(f"model {m.id} ({m.name}) from {m.source}; time unit: {m.time_unit or 'undeclared'}")
    short = {"compartments": ["id", "name", "value", "unit", "constant"],
             "species": ["id", "compartment", "value", "unit", "has_only_substance_units",
                         "boundary_condition", "initial_assignment"],
             "parameters": ["id", "value", "unit", "constant", "initial_assignment", "scope"],
             "reactions": ["id", "reactants", "products", "formula"],
             "rules": ["variable", "rule_type", "formula", "unit"],
             "events": ["id", "trigger", "assignments"]}
    for k, df in tables.items():
        print(f"\n== {k} ({len(df)})")
        _print_table(df[short[k]] if len(df) else df)
    return 0


def cmd_simulate(a) -> int:
    import pandas as pd

    from . import IntegratorSettings, Subject, load_model, simulate, simulation_metrics
    from ._io import atomic_write_text
    from .plots import plot_trajectories

    m = load_model(a.model)
    outputs = [o.strip() for o in a.outputs.split(",")] if a.outputs else None
    settings = IntegratorSettings(relative_tolerance=a.rtol, absolute_tolerance=a.atol,
                                  max_step=a.max_step)
    subject = Subject(weight=a.weight, height=a.height, bsa_formula=a.bsa_formula)
    doses = a.dose or [None]
    runs = {}
    for d in doses:
        df = simulate(m, d, end=a.end, points=a.points, outputs=outputs,
                      parameters=_parse_sets(a.set), target=a.into, mw=a.mw, subject=subject,
                      integrator=settings)
        runs[d or "no dose"] = df
    first = next(iter(runs.values()))
    units = first.attrs["units"]
    metrics_table = None
    if a.metrics:
        metrics_table = simulation_metrics(m, doses, end=a.end, points=a.points, outputs=outputs,
                                           parameters=_parse_sets(a.set), target=a.into, mw=a.mw,
                                           subject=subject, integrator=settings)
    if len(runs) == 1:
        table = first
    else:
        table = pd.concat([df.assign(regimen=k) for k, df in runs.items()], ignore_index=True)
        table = table[["regimen", *first.columns]]
    header = [f"{c} [{units[c]}]" if units.get(c) else c for c in table.columns]
    csv = table.set_axis(header, axis=1).to_csv(index=False, float_format="%.10g")
    if a.plot:
        plot_trajectories(runs, [c for c in first.columns if c != "time"], a.plot,
                          title=os.path.basename(str(a.model)))
    if metrics_table is not None:
        atomic_write_text(a.metrics, metrics_table.to_csv(index=False, float_format="%.10g"))
    if a.o:
        atomic_write_text(a.o, csv)
        print(f"wrote {a.o}" + (f" and {a.plot}" if a.plot else ""), file=sys.stderr)
    else:
        sys.stdout.write(csv)
    return 0


def cmd_sensitivity(a) -> int:
    from . import IntegratorSettings, Subject, read_parameter_space, run_sensitivity

    integ = IntegratorSettings(**{k: v for k, v in (("relative_tolerance", a.rtol),
                                                    ("absolute_tolerance", a.atol)) if v is not None})
    times = [float(t) for t in a.times.split(",")] if a.times else None
    outputs = [o.strip() for o in a.outputs.split(",")] if a.outputs else None
    stages = _stages(["sampling and simulating", "writing the results"], "sensitivity")
    from ._runtime import check_output_dir, staged_output_dir

    check_output_dir(a.out, [a.model, a.params])
    res = run_sensitivity(a.model, read_parameter_space(a.params), a.method, n=a.n,
                          metrics=a.metric, outputs=outputs, times=times, regimen=a.dose,
                          target=a.into, mw=a.mw, subject=Subject(weight=a.weight), end=a.end,
                          points=a.points, integrator=integ, workers=a.workers, backend=a.backend,
                          scheduler=a.scheduler, seed=a.seed, second_order=a.second_order,
                          check_convergence=a.convergence, levels=a.levels, progress=True)
    stages.next()
    with staged_output_dir(a.out) as stage:
        paths = res.write(stage)
    stages.__exit__(None, None, None)
    _print_table(res.indices[res.indices["rank"] <= 5])
    print(f"wrote {len(paths)} files to {a.out}", file=sys.stderr)
    return 0


def _verify_options(a):
    from . import IntegratorSettings, VerifyOptions

    skip = dict(x.split("=", 1) if "=" in x else (x, "") for x in a.skip or [])
    kw = dict(skip=skip, end=a.end, n_doses=a.n_doses, stochastic=a.stochastic,
              integrator=IntegratorSettings(relative_tolerance=a.rtol, absolute_tolerance=a.atol))
    if a.doses:
        kw["doses"] = tuple(d.strip() for d in a.doses.split(","))
    if a.dose_range:
        kw["dose_range"] = tuple(a.dose_range)
    return VerifyOptions(**kw)


def cmd_verify(a) -> int:
    import textwrap

    from . import Subject, verify, write_verification

    res = verify(a.model, a.drug, a.effect, a.occupancy, mw=a.mw, subject=Subject(weight=a.weight),
                 options=_verify_options(a), seed=a.seed)
    df = res.to_frame()
    if a.json:
        print(df.to_json(orient="records", indent=1))
    else:
        fmt = {c: df[c].map(lambda v: "" if v != v else f"{v:.3g}") for c in ("value", "limit")}
        _print_table(df[["check", "status", "value", "limit", "unit"]].assign(**fmt))
        for _, r in df.iterrows():
            text = r["evidence"] + (f" -- {r['status'].upper()}: {r['reason']}" if r["reason"] else "")
            print("\n" + textwrap.fill(f"{r['check']}: {text}", 100, subsequent_indent="    "))
    if a.out:
        from ._runtime import staged_output_dir

        with staged_output_dir(a.out) as stage:
            paths = write_verification(res, stage)
        print(f"wrote {len(paths)} files to {a.out}", file=sys.stderr)
    return 0 if res.passed else 1


def cmd_uncertainty(a) -> int:
    from . import IntegratorSettings, Subject, build_uncertainty, propagate, write_uncertainty

    stages = _stages(["building the distributions", "sampling and simulating",
                      "writing the results"], "uncertainty")
    unc = build_uncertainty(a.model, params=a.param or [], table=a.params,
                            provenance=a.provenance, correlations=a.corr or [])
    stages.next()
    res = propagate(a.model, unc, a.dose or [None], metrics=a.metric,
                    outputs=a.outputs.split(",") if a.outputs else None,
                    times=[float(t) for t in a.times.split(",")] if a.times else None,
                    n=a.n, method=a.method, seed=a.seed,
                    percentiles=[float(p) for p in a.percentiles.split(",")], target=a.into,
                    mw=a.mw, subject=Subject(weight=a.weight), end=a.end, points=a.points,
                    integrator=IntegratorSettings(relative_tolerance=a.rtol,
                                                  absolute_tolerance=a.atol),
                    workers=a.workers, progress=True)
    stages.next()
    from ._runtime import staged_output_dir

    with staged_output_dir(a.out) as stage:
        paths = write_uncertainty(res, stage)
    stages.__exit__(None, None, None)
    b = res.bands
    _print_table(b[b["time"].isna()] if b["time"].isna().any() else res.convergence)
    print(f"convergence (n/2 vs n): {'converged' if res.converged else 'NOT converged'}; "
          f"wrote {len(paths)} files to {a.out}", file=sys.stderr)
    if not res.converged and not a.allow_unconverged:
        print("workbench: error: the prediction bands did not converge (band_convergence.csv: "
              "the percentiles of the first n/2 samples differ from those of all n). Fix: "
              "raise --n, or pass --allow-unconverged to accept indicative bands.",
              file=sys.stderr)
        return 1
    return 0


def cmd_variants(a) -> int:
    from . import DoseFor, Subject, Variant, compare_variants, read_variants, write_variants

    vs = read_variants(a.variants) if a.variants else []
    for text in a.variant or []:
        name, _, rest = text.partition("=")
        path, _, tgt = rest.partition("@")
        vs.append(Variant(name.strip(), path.strip() or None, tgt.strip() or None))
    # the base model always comes first: relative differences refer to it
    names = {v.name for v in vs}
    base = next(n for n in ("base", "base model", "base (unchanged)") if n not in names)
    vs.insert(0, Variant(base, target=a.into, description="the model given on the command line"))
    dose_for = [DoseFor(t.rsplit("=", 1)[0].strip(), float(t.rsplit("=", 1)[1]))
                for t in a.dose_for or []]
    res = compare_variants(a.model, vs, regimens=a.dose or [], metrics=a.metric or [],
                           dose_for=dose_for, target=a.into, mw=a.mw,
                           subject=Subject(weight=a.weight), end=a.end, points=a.points,
                           reference=base)
    _print_table(res.to_wide())
    if a.out:
        from ._runtime import staged_output_dir

        with staged_output_dir(a.out) as stage:
            paths = write_variants(res, stage)
        print(f"wrote {len(paths)} files to {a.out}", file=sys.stderr)
    return 0


def cmd_provenance(a) -> int:
    from . import lint_provenance, provenance_template, write_provenance
    from .errors import WorkbenchError

    args = a.args
    if args[0] == "lint" and len(args) == 3:
        df = lint_provenance(args[1], args[2], influential=_ids(a.influential) or ())
        n_err = int((df["severity"] == "error").sum())
        if a.json:
            print(json.dumps({"errors": n_err, "findings": json.loads(df.to_json(orient="records"))},
                             indent=1))
        else:
            _print_table(df)
            print(f"\n{args[2]}: {n_err} error(s), {len(df) - n_err} warning(s)")
        return 1 if n_err else 0
    if len(args) != 1:
        raise WorkbenchError("expected `workbench provenance MODEL [-o FILE]` or `workbench "
                             "provenance lint MODEL TABLE`", element="provenance")
    table = provenance_template(args[0])
    if a.o:
        write_provenance(table, a.o)
        print(f"wrote {a.o} ({table[['id', 'scope']].drop_duplicates().shape[0]} entries)",
              file=sys.stderr)
    else:
        sys.stdout.write(table.to_csv(index=False, lineterminator="\n"))
    return 0


def cmd_export(a) -> int:
    from . import Creator, Subject, export_archive, export_sbml

    kw = dict(provenance=a.provenance, target=a.into, mw=a.mw,
              subject=Subject(weight=a.weight, height=a.height),
              creators=[Creator.parse(c) for c in a.creator or []],
              infer_units=not a.no_infer_units, lossy=a.lossy)
    if a.sbml:
        rep = export_sbml(a.model, a.sbml, regimen=a.dose, **kw)
        written = a.sbml
    else:
        outputs = [o.strip() for o in a.outputs.split(",")] if a.outputs else None
        res = export_archive(a.model, a.out, regimens=a.dose, outputs=outputs, end=a.end,
                             points=a.points, **kw)
        rep = res.sbml
        written = ", ".join(os.path.join(a.out, f) for f, _ in res.files)
    print(f"wrote {written}", file=sys.stderr)
    for label, items in (("not converted", rep.not_converted), ("libSBML error", rep.errors),
                         ("unit warning", rep.unit_warnings), ("without units", rep.missing_units),
                         ("lost", rep.lost)):
        if items:
            print(f"{len(items)} {label}: " + "; ".join(items[:5])
                  + (" ..." if len(items) > 5 else ""), file=sys.stderr)
    if rep.history:
        print(rep.history, file=sys.stderr)
    return 0


def cmd_calibrate(a) -> int:
    from . import IntegratorSettings, calibrate, lint_petab, write_calibration
    from .errors import SpecError

    if not a.check and not a.out:
        raise SpecError("--out DIR is required (or --check to only check the problem)",
                        element="--out")
    if a.check:
        df = lint_petab(a.problem)
        _print_table(df, a.json)
        return 1 if (df["severity"] == "error").any() else 0
    prof = "all" if a.profile == "all" else [p.strip() for p in (a.profile or "").split(",") if p]
    stages = _stages(["multi-start fit" + (" and profiles" if prof else ""),
                      "writing the results"], "calibrate")
    r = calibrate(a.problem, starts=a.starts, seed=a.seed, workers=a.workers, method=a.method,
                  profile=prof or None, include_nominal=a.include_nominal, polish=a.polish,
                  max_evaluations=a.max_evaluations,
                  settings=IntegratorSettings(relative_tolerance=a.rtol, absolute_tolerance=a.atol))
    stages.next()
    from ._runtime import staged_output_dir

    with staged_output_dir(a.out) as stage:
        files = write_calibration(r, stage, plots=not a.no_plots)
        if a.provenance:
            from . import read_provenance, update_provenance, write_provenance

            files.append(os.path.join(stage, "provenance_calibrated.csv"))
            write_provenance(update_provenance(read_provenance(a.provenance), r,
                                               a.justification or ""), files[-1])
    stages.__exit__(None, None, None)
    _print_table(r.parameters[r.parameters["estimated"]][["parameter", "scale", "initial_value",
                 "final_value", "ci_low", "ci_high", "ci_method", "identifiable"]])
    print(f"\nbest objective {r.objective_best:.6g} (nominal {r.objective_nominal:.6g}); "
          f"-llh {r.nllh_best:.6g} (nominal {r.nllh_nominal:.6g}); wrote {len(files)} files "
          f"to {a.out}", file=sys.stderr)
    return 0


def cmd_check_data(a) -> int:
    from . import Subject, check_data, refine, write_data_check, write_refinement

    kw = dict(parameters=_parse_sets(a.set), level=a.level, target=a.into, mw=a.mw,
              subject=Subject(weight=a.weight, height=a.height), workers=a.workers)
    if a.refine:
        r = refine(a.model, a.data, a.samples, next_regimens=a.next_dose or [],
                   metrics=a.metric or [], sd_log=a.sd_log, seed=a.seed, end=a.end, **kw)
        files, check = write_refinement(r, a.out), r.prior_check
        print(f"effective sample size {r.ess:.1f} of {len(r.weights)}", file=sys.stderr)
        if len(r.dose_response):
            _print_table(r.dose_response)
    else:
        check = check_data(a.model, a.data, samples=a.samples, **kw)
        files = write_data_check(check, a.out)
    _print_table(check.summary)
    if len(check.outside):
        print(f"\n{len(check.outside)} observation(s) outside the {a.level:.0%} prediction band: "
              "a trigger for model revision", file=sys.stderr)
    print(f"wrote {len(files)} files to {a.out}", file=sys.stderr)
    return 0


def cmd_mabel(a) -> int:
    from pathlib import Path

    from .progress import Stages
    from .report import BUNDLED_STUDY, mabel_stages, run_mabel, write_report
    from .report_html import weasyprint_problem
    from .study import read_study

    why = weasyprint_problem()  # before minutes of computing, not after
    if why is not None:
        from .errors import MissingDependencyError

        raise MissingDependencyError(why, element="report.pdf")
    from ._runtime import check_output_dir, staged_output_dir

    study_path = a.study or BUNDLED_STUDY
    out = Path(a.out)
    check_output_dir(out, [study_path, Path(study_path).parent])
    study = read_study(study_path)
    # everything goes to a temporary sibling first: an interrupted or failed run leaves
    # the output folder exactly as it was
    with staged_output_dir(out) as stage, Stages(
            [*mabel_stages(study, stage / "package"), "report (HTML and PDF)"], "mabel") as st:
        run = run_mabel(study, reduced=a.quick, workers=a.workers,
                        package_dir=stage / "package", stages=st)
        st.next()
        paths = {k: out / Path(v).relative_to(stage) for k, v in write_report(run, stage).items()}
    _print_table(run.decision.table.drop(columns=["sentence"]))
    print(f"\nstarting dose: {run.decision.start_dose:.4g} {run.decision.dose_unit} "
          f"(basis: {run.decision.basis})")
    from . import columns as C

    reach = run.population.reach if run.population is not None else None
    if reach is not None and len(reach):
        for _, r in reach[reach[C.LADDER_LEVEL] == 1].iterrows():
            print(f"  virtual patients reaching '{r[C.EFFECT]}' at the start: "
                  f"{r[C.PROBABILITY]:.0%} (95 % CI {r[C.CI_LOW]:.0%}-{r[C.CI_HIGH]:.0%})")
    print(f"report: {paths['report.html']} and {paths['report.pdf']}; package: {out / 'package'}")
    return 0


def cmd_benchmark(a) -> int:
    from .benchmark import retrospective, write_benchmark

    res = retrospective(a.study or None, quick=a.quick, workers=a.workers)
    paths = write_benchmark(res, a.out)
    _print_table(res.table.drop(columns=["why"]))
    for _, r in res.table[res.table["why"] != ""].iterrows():
        print(f"  {r['molecule']}: {r['why']}")
    print()
    _print_table(res.counts)
    print(f"{len(res.table)} molecules; wrote {paths['benchmark.csv']} and {paths['benchmark.png']}")
    return 0


def cmd_refine(a) -> int:
    from .study_refine import refine_study, write_study_refinement

    r = refine_study(a.study, a.data, ladder=a.ladder, next_dose=a.next, n=a.n, sd_log=a.sd_log,
                     level=a.level, blq=a.blq, seed=a.seed, workers=a.workers)
    files = write_study_refinement(r, a.out)
    print(r.summary())
    print(f"\nrefined prediction at the next level, {r.next_regimen} ({a.level:.0%} interval):")
    p = r.prediction
    for _, row in p.iterrows():
        print(f"  {row['metric']}: {row['posterior_median']:.4g} {row['unit']} "
              f"({row['posterior_lower']:.4g}-{row['posterior_upper']:.4g}); before the data "
              f"{row['prior_median']:.4g} ({row['prior_lower']:.4g}-{row['prior_upper']:.4g})")
    print(f"wrote {len(files)} files to {a.out}", file=sys.stderr)
    return 0


def cmd_population(a) -> int:
    from .population import build_population

    stages = _stages([f"drawing {a.n} subjects", "writing the population"], "population")
    pop = build_population(a.model, a.n, seed=a.seed, covariates=a.covariates, bsv=a.bsv or [],
                           correlations=a.corr or [], clearances=_ids(a.allometric_cl),
                           volumes=_ids(a.allometric_v), plausible=a.plausible or [],
                           workers=a.workers)
    stages.next()
    pop.write_csv(a.out)
    stages.__exit__(None, None, None)
    _print_table(pop.table.describe().T.reset_index().rename(columns={"index": "column"}))
    print(f"{int(pop.table['plausible'].sum())} of {len(pop)} subjects plausible; wrote {a.out}",
          file=sys.stderr)
    return 0


def cmd_regimens(a) -> int:
    from .population import _split_range, build_population, read_population
    from .regimens import Criterion, compare_regimens, parse_subgroups, write_regimens

    pop = read_population(a.population) if a.population else build_population(
        a.model, a.n, seed=a.seed)
    sg = parse_subgroups(a.subgroup or [])
    res = compare_regimens(a.model, pop, a.regimen, exposure=_ids(a.exposure),
                           effects=dict(e.split("=", 1) if "=" in e else (e, e)
                                        for e in a.effect or []),
                           criteria=[*(a.efficacy or []),
                                     *(Criterion.parse(t, "safety") for t in a.safety or [])],
                           target=a.into, mw=a.mw, tau=a.tau, points=a.points, subgroups=sg,
                           level=a.level, workers=a.workers, progress=True)
    from ._runtime import staged_output_dir

    with staged_output_dir(a.out) as stage:
        paths = write_regimens(res, stage, window=_split_range(a.window, "--window")
                               if a.window else None, subgroups=sg)
    _print_table(res.attainment if len(res.attainment) else res.summary)
    print(f"{len(pop)} subjects x {len(res.regimens)} regimens in {res.seconds:.1f} s; "
          f"wrote {len(paths)} files to {a.out}", file=sys.stderr)
    return 0


def _stages(names: list[str], verb: str):
    """Entered :class:`workbench.progress.Stages` with its first stage announced (the verbs
    close it with ``__exit__`` after their last stage)."""
    from .progress import Stages

    st = Stages(list(names), verb).__enter__()
    st.next()
    return st


def _ids(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per API verb)."""
    p = argparse.ArgumentParser(prog="workbench", description="QSP workbench: load, validate, "
                                "simulate and dose models for MABEL first-in-human dose selection.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.add_argument("--limit", action="append", metavar="NAME=VALUE",
                   help="raise or lower a resource limit, e.g. --limit administrations=200000 "
                        "(repeatable; names and defaults: workbench.limits.describe(); also "
                        "WORKBENCH_LIMIT_<NAME>)")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="libSBML consistency checks (units included)")
    v.add_argument("model")
    v.add_argument("--json", action="store_true", help="machine-readable output")
    v.set_defaults(func=cmd_validate)

    i = sub.add_parser("info", help="compartments, species, parameters, reactions, rules, events")
    i.add_argument("model")
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_info)

    s = sub.add_parser("simulate", help="simulate under a dosing regimen, write CSV (and a plot)")
    s.add_argument("model")
    s.add_argument("--dose", action="append", help="regimen text, e.g. '0.1 mg/kg iv q1w x4' "
                   "(repeat for several regimens)")
    s.add_argument("--into", help="species receiving the doses")
    s.add_argument("--mw", help="molecular weight of the drug, e.g. '150 kDa'")
    s.add_argument("--weight", type=float, default=70.0, help="body weight in kg (default 70)")
    s.add_argument("--height", type=float, default=170.0, help="height in cm (default 170)")
    s.add_argument("--bsa-formula", default="mosteller", help="mosteller|du_bois|haycock|gehan_george")
    s.add_argument("--end", required=True, help="end time, e.g. '672 h' (a bare number: model units)")
    s.add_argument("--points", type=int, default=101)
    s.add_argument("--outputs", help="comma-separated output ids (default: every species)")
    s.add_argument("--set", action="append", help="id=value (model units); repeatable")
    s.add_argument("--rtol", type=float, default=1e-11,
                   help="relative tolerance (default 1e-11; see README, Numerical accuracy)")
    s.add_argument("--atol", type=float, default=1e-12)
    s.add_argument("--max-step", type=float, default=None,
                   help="largest solver step (model time units); default: automatic")
    s.add_argument("-o", help="output CSV (default: stdout)")
    s.add_argument("--plot", help="output PNG")
    s.add_argument("--metrics", help="output CSV of exposure/occupancy metrics per regimen and output")
    s.set_defaults(func=cmd_simulate)

    e = sub.add_parser("sensitivity", help="local, Morris or Sobol sensitivity of metrics "
                       "(tables as CSV, plots as PNG)")
    e.add_argument("model")
    e.add_argument("--params", required=True, help="parameter-space CSV: id, distribution, low, "
                   "high, nominal, fold, sd, unit")
    e.add_argument("--method", choices=["sobol", "morris", "local"], default="sobol")
    e.add_argument("--n", type=int, default=1024, help="Sobol base sample size, or Morris "
                   "trajectories (default 1024)")
    e.add_argument("--metric", action="append", help="e.g. 'max(RO)', 'auc(L)', "
                   "'value(IL6, 168 h)' (repeatable)")
    e.add_argument("--outputs", help="comma-separated outputs for time-resolved indices (with --times)")
    e.add_argument("--times", help="comma-separated times (model units) for --outputs")
    e.add_argument("--dose", help="regimen text, e.g. '0.1 mg/kg iv q1w x4'")
    e.add_argument("--into", help="species receiving the doses")
    e.add_argument("--mw", help="molecular weight of the drug, e.g. '150 kDa'")
    e.add_argument("--weight", type=float, default=70.0, help="body weight in kg (default 70)")
    e.add_argument("--end", help="end time, e.g. '672 h' (a bare number: model units)")
    e.add_argument("--points", type=int, default=201, help="output points for metrics (default 201)")
    e.add_argument("--levels", type=int, default=4, help="Morris: grid levels (default 4)")
    e.add_argument("--second-order", action="store_true", help="Sobol: also S2 indices")
    e.add_argument("--convergence", action="store_true", help="Sobol: repeat with 2N and "
                   "report whether the top parameters keep their order")
    e.add_argument("--rtol", type=float, help="relative tolerance (default: the engine's)")
    e.add_argument("--atol", type=float, help="absolute tolerance (default: the engine's)")
    e.add_argument("--workers", type=int, help="processes (default: every core)")
    e.add_argument("--backend", choices=["processes", "dask"], default="processes")
    e.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 "
                   "(default with --backend dask: a local cluster)")
    e.add_argument("--seed", type=int, help="seed of the sampling and bootstrap")
    e.add_argument("--out", required=True, help="output directory")
    e.set_defaults(func=cmd_sensitivity)

    f = sub.add_parser("verify", help="verification checks (no drug -> no effect, saturation, "
                       "units, solver, conservation, ...): a pass/fail/warn table")
    f.add_argument("model")
    f.add_argument("--drug", required=True, help="species receiving the doses")
    f.add_argument("--effect", required=True, help="output measuring the effect, e.g. IL6")
    f.add_argument("--occupancy", help="target-occupancy output, e.g. RO_CD3")
    f.add_argument("--mw", help="molecular weight of the drug, e.g. '150 kDa'")
    f.add_argument("--weight", type=float, default=70.0, help="body weight in kg (default 70)")
    f.add_argument("--doses", help="comma-separated grid doses, e.g. '0.01 ug/kg,1 ug/kg,100 ug/kg'")
    f.add_argument("--dose-range", nargs=2, metavar=("LOW", "HIGH"),
                   help="grid range (default 0.001 ug/kg to 100 mg/kg)")
    f.add_argument("--n-doses", type=int, default=9, help="log-spaced grid doses (default 9)")
    f.add_argument("--end", default="672 h", help="simulated span (default '672 h')")
    f.add_argument("--skip", action="append", help="CHECK=reason (repeatable)")
    f.add_argument("--stochastic", action=argparse.BooleanOptionalAction, default=None,
                   help="force (or switch off) the Gillespie check; default: by molecule counts")
    f.add_argument("--rtol", type=float, default=1e-11,
                   help="relative tolerance (default 1e-11; see README, Numerical accuracy)")
    f.add_argument("--atol", type=float, default=1e-12)
    f.add_argument("--seed", type=int, default=0, help="seed of the stochastic replicates")
    f.add_argument("--out", help="directory for the CSV tables and figures")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_verify)

    u = sub.add_parser("uncertainty", help="Monte Carlo prediction bands (time courses, "
                       "dose-response) with a convergence report")
    u.add_argument("model")
    u.add_argument("--param", action="append", help="id=lognormal,cv=0.3 | id=loguniform,low=..,"
                   "high=.. | id=normal,sd=..[,low=..,high=..] (repeatable)")
    u.add_argument("--params", help="parameter-space CSV (id, distribution, low, high, nominal, "
                   "fold, sd, unit)")
    u.add_argument("--provenance", help="provenance table: the prior stated on each entry's "
                   "chosen row (prior, prior_centre, prior_spread; workbench.priors)")
    u.add_argument("--corr", action="append", help="id1,id2=rho (repeatable)")
    u.add_argument("--dose", action="append", help="regimen text (repeat for dose levels)")
    u.add_argument("--into", help="species receiving the doses")
    u.add_argument("--mw", help="molecular weight of the drug, e.g. '150 kDa'")
    u.add_argument("--weight", type=float, default=70.0)
    u.add_argument("--outputs", help="comma-separated outputs for time-course bands")
    u.add_argument("--times", help="comma-separated times (model units); default: --points "
                   "times up to --end")
    u.add_argument("--metric", action="append", help="dose-response metric, e.g. 'max(IL6)'")
    u.add_argument("--end", help="end time, e.g. '672 h'")
    u.add_argument("--points", type=int, help="output points (default 101)")
    u.add_argument("--n", type=int, default=256, help="samples (default 256)")
    u.add_argument("--method", choices=["lhs", "sobol", "random"], default="lhs")
    u.add_argument("--seed", type=int, default=0)
    u.add_argument("--percentiles", default="5,50,95")
    u.add_argument("--rtol", type=float, default=1e-11,
                   help="relative tolerance (default 1e-11; see README, Numerical accuracy)")
    u.add_argument("--atol", type=float, default=1e-12)
    u.add_argument("--workers", type=int, help="processes (default: every core)")
    u.add_argument("--out", required=True, help="output directory")
    u.add_argument("--allow-unconverged", action="store_true", help="exit 0 even when the "
                   "bands have not converged (default: exit 1; the files are written either way)")
    u.set_defaults(func=cmd_uncertainty)

    w = sub.add_parser("variants", help="the same quantities on alternative model structures, "
                       "side by side")
    w.add_argument("model", help="the base model")
    w.add_argument("--variants", help="TOML file with [[variant]] tables (name, model, target, "
                   "set, remove, antimony)")
    w.add_argument("--variant", action="append", help="NAME=FILE[@TARGET] (repeatable)")
    w.add_argument("--metric", action="append", help="e.g. 'max(RO)' (at each --dose)")
    w.add_argument("--dose", action="append", help="regimen text (repeatable)")
    w.add_argument("--dose-for", action="append", help="METRIC=LEVEL, e.g. 'max(RO)=0.1': "
                   "the dose reaching it")
    w.add_argument("--into", help="species receiving the doses (base model)")
    w.add_argument("--mw", help="molecular weight of the drug, e.g. '150 kDa'")
    w.add_argument("--weight", type=float, default=70.0)
    w.add_argument("--end", help="end time, e.g. '672 h'")
    w.add_argument("--points", type=int, help="output points for metrics (default 201)")
    w.add_argument("--out", help="directory for the CSV tables and the figure")
    w.set_defaults(func=cmd_variants)

    pv = sub.add_parser("provenance", help="parameter provenance table: write the template "
                        "(provenance MODEL -o prov.csv) or check one (provenance lint MODEL TABLE)",
                        description="`workbench provenance MODEL [-o prov.csv|prov.xlsx]` writes "
                        "the provenance template seeded from the model's annotations; "
                        "`workbench provenance lint MODEL TABLE` lists every finding and exits 1 "
                        "when there are errors.")
    pv.add_argument("args", nargs="+", metavar="MODEL | lint MODEL TABLE")
    pv.add_argument("-o", help="output .csv or .xlsx (default: CSV on stdout)")
    pv.add_argument("--json", action="store_true", help="lint: machine-readable output")
    pv.add_argument("--influential", help="lint: comma-separated ids of the study's influential "
                    "set; each without a prior is reported (example: --influential CL,EC50_trimer)")
    pv.set_defaults(func=cmd_provenance)

    x = sub.add_parser("export", help="exchange-ready SBML L3V2 with provenance, SED-ML and a "
                       "COMBINE archive (or the SBML only with --sbml)")
    x.add_argument("model")
    x.add_argument("--provenance", help="provenance table (.csv/.xlsx), checked against the model")
    x.add_argument("--dose", action="append", help="regimen text (repeatable): SBML events and "
                   "one SED-ML time course each")
    x.add_argument("--into", help="species receiving the doses")
    x.add_argument("--mw", help="molecular weight of the drug, e.g. '150 kDa'")
    x.add_argument("--weight", type=float, default=70.0, help="body weight in kg (default 70)")
    x.add_argument("--height", type=float, default=170.0, help="height in cm (default 170)")
    x.add_argument("--outputs", help="comma-separated outputs of the time courses (default: "
                   "every species)")
    x.add_argument("--end", help="end of the time courses, e.g. '672 h' (default: 4 weeks after "
                   "the last dose)")
    x.add_argument("--points", type=int, default=101)
    x.add_argument("--creator", action="append", help="'Family, Given, email, organisation' "
                   "(repeatable): model history and archive metadata")
    x.add_argument("--no-infer-units", action="store_true", help="do not infer undeclared "
                   "parameter units from the equations")
    x.add_argument("--lossy", action="store_true", help="export fast reactions as ordinary "
                   "reactions (SBML L3V2 has no fast reactions); refused otherwise")
    out = x.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", help="output directory (model.xml, provenance.csv/.xlsx, "
                     "simulation.sedml, versions.txt, archive.omex)")
    out.add_argument("--sbml", help="write only the SBML to this file")
    x.set_defaults(func=cmd_export)

    cb = sub.add_parser("calibrate", help="fit a PEtab problem (multi-start), write the "
                        "calibration record, goodness of fit and plots")
    cb.add_argument("problem", help="PEtab v1 YAML file")
    cb.add_argument("--out", help="output directory (required unless --check)")
    cb.add_argument("--starts", type=int, default=20, help="Latin-hypercube starts (default 20)")
    cb.add_argument("--seed", type=int, default=0)
    cb.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    cb.add_argument("--method", default="auto", choices=["auto", "least_squares", "lbfgsb"])
    cb.add_argument("--max-evaluations", type=int, default=20000, help="per start")
    cb.add_argument("--include-nominal", action="store_true", help="also start from the nominal "
                    "values of the parameter table")
    cb.add_argument("--polish", type=int, default=3, help="refine the best N starts with "
                    "1e4 times tighter solver tolerances (default 3)")
    cb.add_argument("--profile", help="comma-separated parameter ids to profile, or 'all'")
    cb.add_argument("--provenance", help="provenance table to update with the calibrated values "
                    "(written to OUT/provenance_calibrated.csv)")
    cb.add_argument("--justification", help="why the parameters were calibrated (provenance)")
    cb.add_argument("--rtol", type=float, default=1e-11,
                   help="relative tolerance (default 1e-11; see README, Numerical accuracy)")
    cb.add_argument("--atol", type=float, default=1e-12)
    cb.add_argument("--no-plots", action="store_true")
    cb.add_argument("--check", action="store_true", help="only check the problem; list findings")
    cb.add_argument("--json", action="store_true", help="--check: machine-readable output")
    cb.set_defaults(func=cmd_calibrate)

    cd = sub.add_parser("check-data", help="predictions vs independent data (fold errors, "
                        "prediction-interval coverage); --refine: update with early clinical data")
    cd.add_argument("model")
    cd.add_argument("data", help="CSV: subject, regimen, output, time, time_unit, value, unit")
    cd.add_argument("--out", required=True, help="output directory")
    cd.add_argument("--samples", help="parameter sample CSV (one column per id): prediction bands")
    cd.add_argument("--set", action="append", help="id=value (model units); repeatable")
    cd.add_argument("--level", type=float, default=0.9, help="prediction-interval level (0.9)")
    cd.add_argument("--into", help="species receiving the doses")
    cd.add_argument("--mw", help="molecular weight of the drug, e.g. '150 kDa'")
    cd.add_argument("--weight", type=float, default=70.0, help="body weight in kg (default 70)")
    cd.add_argument("--height", type=float, default=170.0, help="height in cm (default 170)")
    cd.add_argument("--workers", type=int, default=1)
    cd.add_argument("--refine", action="store_true", help="reweight --samples with the data "
                    "(importance sampling) and re-predict --next-dose")
    cd.add_argument("--next-dose", action="append", help="regimen of the next cohort (repeatable)")
    cd.add_argument("--metric", action="append", help="metric to re-predict, e.g. 'max(RO)'")
    cd.add_argument("--sd-log", type=float, default=0.3, help="residual sd of ln(obs/pred)")
    cd.add_argument("--end", help="end of the re-predicted runs, e.g. '672 h' (default: the "
                    "last observation)")
    cd.add_argument("--seed", type=int, default=0)
    cd.set_defaults(func=cmd_check_data)
    mb = sub.add_parser("mabel", help="the main job: QSP MABEL, dose decision, report.html/.pdf "
                        "and exchange package from a study file (default: the bundled CD3 study)")
    mb.add_argument("study", nargs="?", help="study YAML (default: studies/cd3_bispecific.yaml)")
    mb.add_argument("--out", default="out/mabel", help="output directory (default out/mabel)")
    mb.add_argument("--quick", action="store_true", help="reduced sample sizes (indicative only)")
    mb.add_argument("--workers", type=int, default=None,
                    help="ensemble processes (default: every core)")
    mb.set_defaults(func=cmd_mabel)

    bm = sub.add_parser("benchmark", help="retrospective validation: every reference study "
                        "(studies/reference) through the MABEL job, against the clinical outcome",
                        description="Run each reference molecule's study through `workbench "
                        "mabel` and compare the proposed start with the historical start, the "
                        "first toxic dose and published first-dose PK/IL-6. Example: workbench "
                        "benchmark --quick --out out/benchmark")
    bm.add_argument("study", nargs="*", help="reference study files (default: the library)")
    bm.add_argument("--out", default="out/benchmark", help="output directory")
    bm.add_argument("--quick", action="store_true", help="reduced sample sizes and two molecules")
    bm.add_argument("--workers", type=int, default=1, help="ensemble processes (default 1)")
    bm.set_defaults(func=cmd_benchmark)

    rf = sub.add_parser(
        "refine", help="update a study with its first cohort's data (BLQ values by M3) and "
        "re-predict the next ladder level with its interval",
        description="Reweight draws of the study's parameter uncertainty by the likelihood of "
        "a cohort's observations (log-normal residual; values below the lloq column by the M3 "
        "likelihood, Beal 2001) and print the refined prediction of the next escalation level "
        "(from the ladder written by `workbench mabel`, or --next) with its interval.",
        epilog="example:\n  workbench mabel studies/cd3_bispecific.yaml --out out/mabel\n"
        "  workbench refine studies/cd3_bispecific.yaml --data examples/first_cohort.csv "
        "--ladder out/mabel/escalation_ladder.csv --out out/refine",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    rf.add_argument("study", help="study YAML")
    rf.add_argument("--data", required=True, help="observed-data CSV: subject, regimen, output, "
                    "time, time_unit, value, unit, lloq")
    rf.add_argument("--ladder", help="escalation_ladder.csv of workbench mabel (default: "
                    "out/mabel/escalation_ladder.csv)")
    rf.add_argument("--next", help="dose to re-predict instead of the next ladder level, e.g. "
                    "'0.3 ug/kg'")
    rf.add_argument("--n", type=int, default=512, help="prior draws (default 512)")
    rf.add_argument("--sd-log", type=float, default=0.3, help="residual sd of ln(obs/pred) "
                    "(default 0.3)")
    rf.add_argument("--level", type=float, default=0.9, help="interval level (default 0.9)")
    rf.add_argument("--blq", choices=["m3", "drop"], default="m3", help="values below the "
                    "lloq: M3 likelihood (default) or dropped (biased; comparison only)")
    rf.add_argument("--seed", type=int, help="seed (default: the study's uncertainty seed)")
    rf.add_argument("--workers", type=int, default=1)
    rf.add_argument("--out", default="out/refine", help="output directory (default out/refine)")
    rf.set_defaults(func=cmd_refine)

    po = sub.add_parser("population", help="virtual population: covariates, between-subject "
                        "variability, allometry, plausible-patient filter; writes a CSV")
    po.add_argument("model")
    po.add_argument("--n", type=int, default=1000, help="number of subjects (default 1000)")
    po.add_argument("--seed", type=int, default=0)
    po.add_argument("--covariates", help="CSV of subjects (default: generic adults)")
    po.add_argument("--bsv", action="append", help="id=CV, e.g. CL=0.3 (repeatable)")
    po.add_argument("--corr", action="append", help="id1,id2,rho between etas (repeatable)")
    po.add_argument("--allometric-cl", help="ids scaled by (WT/70)^0.75, e.g. CL,Q")
    po.add_argument("--allometric-v", help="ids scaled by (WT/70)^1, e.g. central,peripheral")
    po.add_argument("--plausible", action="append", help="baseline range, e.g. "
                    "'value(R, 0)=0.5:2' (repeatable)")
    po.add_argument("--workers", type=int, default=None)
    po.add_argument("--out", default="population.csv")
    po.set_defaults(func=cmd_population)

    rg = sub.add_parser("regimens", help="exposure, overlap and target attainment of several "
                        "regimens across a virtual population; writes tables and figures")
    rg.add_argument("model")
    rg.add_argument("--regimen", action="append", required=True,
                    help="regimen text, lowest dose first (repeatable)")
    rg.add_argument("--population", help="population CSV (workbench population); default: "
                    "--n generic adults without variability")
    rg.add_argument("--n", type=int, default=200)
    rg.add_argument("--seed", type=int, default=0)
    rg.add_argument("--into", help="species receiving the doses")
    rg.add_argument("--mw", help="molecular weight, e.g. '150 kDa'")
    rg.add_argument("--exposure", help="outputs for Cmax/Ctrough/AUC, e.g. Cfree,Drug")
    rg.add_argument("--effect", action="append", help="label=metric, e.g. "
                    "'ro_trough=value(RO_CD3, {end})' (repeatable)")
    rg.add_argument("--efficacy", action="append", help="e.g. 'ro_trough >= 0.9'")
    rg.add_argument("--safety", action="append", help="e.g. 'il6_peak > 500'")
    rg.add_argument("--subgroup", action="append", help="'weight=60,90' or 'sex' (repeatable)")
    rg.add_argument("--window", help="exposure window, e.g. 'auc_tau(Cfree)=100:1000'")
    rg.add_argument("--tau", help="interval of single-dose regimens, e.g. '504 h'")
    rg.add_argument("--points", type=int, default=25, help="output points per dosing interval")
    rg.add_argument("--level", type=float, default=0.9, help="central interval (default 0.9)")
    rg.add_argument("--workers", type=int, default=None)
    rg.add_argument("--out", default="out/regimens")
    rg.set_defaults(func=cmd_regimens)
    for sp in sub.choices.values():  # the convergence switches of every verb that simulates
        sp.add_argument("--no-convergence-check", action="store_true",
                        help="skip the re-run at 100-fold tighter tolerances (see README, "
                        "Numerical accuracy); blow-up is still detected")
        sp.add_argument("--strict", action="store_true",
                        help="fail (exit 1) instead of warning when a result is not converged")
    from ._cli_help import add_help

    add_help(sub)  # a description and an example for every verb
    return p


def _on_sigterm(signum, frame):  # SIGTERM ends the run like Ctrl-C
    raise KeyboardInterrupt


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"workbench: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command; returns the exit code."""
    import signal
    import warnings

    from ._runtime import capture_solver_log, environment_error
    from .convergence import convergence_options
    from .errors import WorkbenchError

    parser = build_parser()
    a = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING,
                        format="workbench: %(message)s")
    from .progress import enable_stage_lines

    enable_stage_lines()
    try:
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (main() called from a thread)
        old_term = None
    old_show = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        with capture_solver_log() as solver, convergence_options(
                enabled=not a.no_convergence_check, strict=a.strict):
            try:
                from .input_checks import check_cli_numbers
                from .limits import set_limit

                for text in a.limit or []:
                    set_limit(text)
                check_cli_numbers(a)  # a bad number is named before any model is read
                code = int(a.func(a) or 0)
                note = solver.summary()
                if note:  # recovered solver failures (e.g. retried samples): said once
                    print(f"workbench: warning: the solver reported problems during the run "
                          f"({len(solver.lines)} line(s)).{note}", file=sys.stderr)
                return code
            except WorkbenchError as exc:
                print(f"workbench: error: {exc}{solver.summary()}", file=sys.stderr)
                return exc.exit_code
            except BrokenPipeError:
                raise
            except OSError as exc:  # environment: disk full, permissions, unreachable host
                print(f"workbench: error: {environment_error(exc)}", file=sys.stderr)
                return 2
    except KeyboardInterrupt:
        print("workbench: interrupted; no output written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error
        sys.stdout = open(os.devnull, "w")
        return 0
    except Exception as exc:  # never a traceback for the user
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"workbench: internal error: {type(exc).__name__}: {exc}. This is a bug in "
              "workbench; rerun with WORKBENCH_DEBUG=1 for the traceback and report it.",
              file=sys.stderr)
        return 3
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        warnings.showwarning = old_show


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
