"""The verbs of the command line: one function per sub-command, each a thin layer
over the Python API (:mod:`workbench.cli` builds the parser and runs them).

Each ``cmd_*`` takes the parsed arguments and returns the exit code; tables go to
stdout, messages to stderr. Errors are raised as :class:`workbench.errors.WorkbenchError`
and turned into one paragraph by :func:`workbench.cli.main`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence


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
    from workbench.errors import WorkbenchError

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
    from workbench import validate

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
    from workbench import load_model

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

    from workbench import IntegratorSettings, Subject, load_model, simulate, simulation_metrics
    from workbench.core._io import atomic_write_text
    from workbench.core.plots import plot_trajectories

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
    from workbench import IntegratorSettings, Subject, read_parameter_space, run_sensitivity

    integ = IntegratorSettings(**{k: v for k, v in (("relative_tolerance", a.rtol),
                                                    ("absolute_tolerance", a.atol)) if v is not None})
    times = [float(t) for t in a.times.split(",")] if a.times else None
    outputs = [o.strip() for o in a.outputs.split(",")] if a.outputs else None
    stages = _stages(["sampling and simulating", "writing the results"], "sensitivity")
    from workbench.sim._runtime import check_output_dir, staged_output_dir

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
    from workbench import IntegratorSettings, VerifyOptions

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

    from workbench import Subject, verify, write_verification

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
        from workbench.sim._runtime import staged_output_dir

        with staged_output_dir(a.out) as stage:
            paths = write_verification(res, stage)
        print(f"wrote {len(paths)} files to {a.out}", file=sys.stderr)
    return 0 if res.passed else 1


def cmd_uncertainty(a) -> int:
    from workbench import (
        IntegratorSettings,
        Subject,
        build_uncertainty,
        propagate,
        write_uncertainty,
    )

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
    from workbench.sim._runtime import staged_output_dir

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
    from workbench import DoseFor, Subject, Variant, compare_variants, read_variants, write_variants

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
        from workbench.sim._runtime import staged_output_dir

        with staged_output_dir(a.out) as stage:
            paths = write_variants(res, stage)
        print(f"wrote {len(paths)} files to {a.out}", file=sys.stderr)
    return 0


def cmd_provenance(a) -> int:
    from workbench import lint_provenance, load_model, provenance_template, write_provenance
    from workbench.errors import WorkbenchError

    args = a.args
    if args[0] == "lint" and len(args) == 3:
        model, infl = args[1], _ids(a.influential) or ()
        if str(model).lower().endswith((".yaml", ".yml")):  # a study: its model with its values
            from workbench.study.schema import read_study

            st = read_study(model)
            model = load_model(st.model)
            if st.data["model"].get("set"):
                from workbench.analysis.variants import Variant, build_variant

                model = build_variant(model, Variant("study values",
                                                     set=dict(st.data["model"]["set"])))
            infl = infl or tuple((st.data.get("sensitivity") or {}).get("parameters") or ())
        df = lint_provenance(model, args[2], influential=infl)
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
    from workbench import Creator, Subject, export_archive, export_sbml

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
    from workbench import IntegratorSettings, calibrate, lint_petab, write_calibration
    from workbench.errors import SpecError

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
    from workbench.sim._runtime import staged_output_dir

    with staged_output_dir(a.out) as stage:
        files = write_calibration(r, stage, plots=not a.no_plots)
        if a.provenance:
            from workbench import read_provenance, update_provenance, write_provenance

            files.append(stage / "provenance_calibrated.csv")
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
    from workbench import Subject, check_data, refine, write_data_check, write_refinement

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

    from workbench.core.progress import Stages
    from workbench.report.html import weasyprint_problem
    from workbench.report.render import write_report
    from workbench.study.pipeline import BUNDLED_STUDY, mabel_stages, run_mabel
    from workbench.study.schema import read_study

    why = weasyprint_problem()  # before minutes of computing, not after
    if why is not None:
        from workbench.errors import MissingDependencyError

        raise MissingDependencyError(why, element="report.pdf")
    from workbench.sim._runtime import check_output_dir, staged_output_dir

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
    from workbench import columns as C

    reach = run.population.reach if run.population is not None else None
    if reach is not None and len(reach):
        for _, r in reach[reach[C.LADDER_LEVEL] == 1].iterrows():
            print(f"  virtual patients reaching '{r[C.EFFECT]}' at the start: "
                  f"{r[C.PROBABILITY]:.0%} (95 % CI {r[C.CI_LOW]:.0%}-{r[C.CI_HIGH]:.0%})")
    print(f"report: {paths['report.html']} and {paths['report.pdf']}; package: {out / 'package'}")
    return 0


def cmd_benchmark(a) -> int:
    from workbench.study.benchmark import retrospective, write_benchmark

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
    from workbench.study.refine import refine_study, write_study_refinement

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
    from workbench.analysis.population import build_population

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
    from workbench.analysis.population import _split_range, build_population, read_population
    from workbench.analysis.regimens import (
        Criterion,
        compare_regimens,
        parse_subgroups,
        write_regimens,
    )

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
    from workbench.sim._runtime import staged_output_dir

    with staged_output_dir(a.out) as stage:
        paths = write_regimens(res, stage, window=_split_range(a.window, "--window")
                               if a.window else None, subgroups=sg)
    _print_table(res.attainment if len(res.attainment) else res.summary)
    print(f"{len(pop)} subjects x {len(res.regimens)} regimens in {res.seconds:.1f} s; "
          f"wrote {len(paths)} files to {a.out}", file=sys.stderr)
    return 0


def _stages(names: list[str], verb: str):
    """Entered :class:`workbench.core.progress.Stages` with its first stage announced (the verbs
    close it with ``__exit__`` after their last stage)."""
    from workbench.core.progress import Stages

    st = Stages(list(names), verb).__enter__()
    st.next()
    return st


def _ids(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]
