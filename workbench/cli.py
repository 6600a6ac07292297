"""Command-line interface: a thin layer over the Python API.

Every verb maps to one API function (``workbench validate`` ->
:func:`workbench.validate`, ``info`` -> :func:`workbench.load_model` tables,
``simulate`` -> :func:`workbench.simulate`). Errors print one paragraph on
stderr and exit 1 (bad content) or 2 (unreadable input), never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from workbench.cli_verbs import (
    cmd_benchmark,
    cmd_calibrate,
    cmd_check_data,
    cmd_export,
    cmd_info,
    cmd_mabel,
    cmd_population,
    cmd_provenance,
    cmd_refine,
    cmd_regimens,
    cmd_sensitivity,
    cmd_simulate,
    cmd_uncertainty,
    cmd_validate,
    cmd_variants,
    cmd_verify,
)

__all__ = ["main"]


def _bundle_options(p: argparse.ArgumentParser, dosing: Sequence[str] = (),
                    grid: Sequence[str] = (), run: Sequence[str] = (), *,
                    defaults: dict | None = None, helps: dict | None = None,
                    required: Sequence[str] = ()) -> None:
    """A verb's options of the bundles (``--into``, ``--end``, ``--workers`` ...), declared
    once in the fields of :class:`~workbench.core.options.Dosing`,
    :class:`~workbench.sim._timegrid.TimeGrid` and :class:`~workbench.sim.options.RunOptions`
    (:func:`workbench.core.options.add_options`); the verb gives its own defaults."""
    from workbench.core.options import Dosing, add_options
    from workbench.sim.options import RunOptions, TimeGrid

    for cls, names, title in ((Dosing, dosing, "dosing (workbench.Dosing)"),
                              (TimeGrid, grid, "time grid (workbench.TimeGrid)"),
                              (RunOptions, run, "run options (workbench.RunOptions)")):
        if names:
            add_options(p, cls, names, defaults=defaults, helps=helps, required=required,
                        title=title)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per API verb)."""
    p = argparse.ArgumentParser(prog="workbench", description="QSP workbench: load, validate, "
                                "simulate and dose models for MABEL first-in-human dose selection.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.add_argument("--limit", action="append", metavar="NAME=VALUE",
                   help="raise or lower a resource limit, e.g. --limit administrations=200000 "
                        "(repeatable; names and defaults: workbench.core.limits.describe(); also "
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
    _bundle_options(s, ("into", "mw", "weight"), ("end", "points"), ("rtol", "atol"),
                    defaults={"points": 101}, required=("end",))
    s.add_argument("--height", type=float, default=170.0, help="height in cm (default 170)")
    s.add_argument("--bsa-formula", default="mosteller", help="mosteller|du_bois|haycock|gehan_george")
    s.add_argument("--outputs", help="comma-separated output ids (default: every species)")
    s.add_argument("--set", action="append", help="id=value (model units); repeatable")
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
    e.add_argument("--dose", help="regimen text, e.g. '0.1 mg/kg iv q1w x4'")
    _bundle_options(e, ("into", "mw", "weight"), ("end", "points", "times"),
                    ("rtol", "atol", "workers", "backend", "scheduler"),
                    defaults={"points": 201, "rtol": None, "atol": None},
                    helps={"times": "comma-separated times (model units) for --outputs",
                           "points": "output points for metrics"})
    e.add_argument("--levels", type=int, default=4, help="Morris: grid levels (default 4)")
    e.add_argument("--second-order", action="store_true", help="Sobol: also S2 indices")
    e.add_argument("--convergence", action="store_true", help="Sobol: repeat with 2N and "
                   "report whether the top parameters keep their order")
    e.add_argument("--seed", type=int, help="seed of the sampling and bootstrap")
    e.add_argument("--out", required=True, help="output directory")
    e.set_defaults(func=cmd_sensitivity)

    f = sub.add_parser("verify", help="verification checks (no drug -> no effect, saturation, "
                       "units, solver, conservation, ...): a pass/fail/warn table")
    f.add_argument("model")
    f.add_argument("--drug", required=True, help="species receiving the doses")
    f.add_argument("--effect", required=True, help="output measuring the effect, e.g. IL6")
    f.add_argument("--occupancy", help="target-occupancy output, e.g. RO_CD3")
    _bundle_options(f, ("mw", "weight"), ("end",), ("rtol", "atol"),
                    defaults={"end": "672 h"}, helps={"end": "simulated span"})
    f.add_argument("--doses", help="comma-separated grid doses, e.g. '0.01 ug/kg,1 ug/kg,100 ug/kg'")
    f.add_argument("--dose-range", nargs=2, metavar=("LOW", "HIGH"),
                   help="grid range (default 0.001 ug/kg to 100 mg/kg)")
    f.add_argument("--n-doses", type=int, default=9, help="log-spaced grid doses (default 9)")
    f.add_argument("--skip", action="append", help="CHECK=reason (repeatable)")
    f.add_argument("--stochastic", action=argparse.BooleanOptionalAction, default=None,
                   help="force (or switch off) the Gillespie check; default: by molecule counts")
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
    _bundle_options(u, ("into", "mw", "weight"), ("times", "end", "points"),
                    ("rtol", "atol", "workers"),
                    helps={"times": "comma-separated times (model units); default: --points "
                                    "times up to --end",
                           "points": "output points (default 101)"})
    u.add_argument("--outputs", help="comma-separated outputs for time-course bands")
    u.add_argument("--metric", action="append", help="dose-response metric, e.g. 'max(IL6)'")
    u.add_argument("--n", type=int, default=256, help="samples (default 256)")
    u.add_argument("--method", choices=["lhs", "sobol", "random"], default="lhs")
    u.add_argument("--seed", type=int, default=0)
    u.add_argument("--percentiles", default="5,50,95")
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
    _bundle_options(w, ("into", "mw", "weight"), ("end", "points"),
                    helps={"into": "species receiving the doses (base model)",
                           "points": "output points for metrics (default 201)"})
    w.add_argument("--out", help="directory for the CSV tables and the figure")
    w.set_defaults(func=cmd_variants)

    pv = sub.add_parser("provenance", help="parameter provenance table: write the template "
                        "(provenance MODEL -o prov.csv) or check one (provenance lint MODEL TABLE)",
                        description="`workbench provenance MODEL [-o prov.csv|prov.xlsx]` writes "
                        "the provenance template seeded from the model's annotations; "
                        "`workbench provenance lint MODEL TABLE` lists every finding and exits 1 "
                        "when there are errors; MODEL may be a study file (its model with the "
                        "study's model.set values; its sensitivity.parameters are the default "
                        "influential set). Example: workbench provenance lint "
                        "studies/reference/mosunetuzumab/study.yaml "
                        "studies/reference/mosunetuzumab/provenance.csv --influential koff_CD3")
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
    _bundle_options(x, ("into", "mw", "weight"), ("end", "points"), defaults={"points": 101},
                    helps={"end": "end of the time courses, e.g. '672 h' (default: 4 weeks "
                                  "after the last dose)"})
    x.add_argument("--height", type=float, default=170.0, help="height in cm (default 170)")
    x.add_argument("--outputs", help="comma-separated outputs of the time courses (default: "
                   "every species)")
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
    cb.add_argument("problem", help="PEtab YAML file (v1; v2 with Python >= 3.12)")
    cb.add_argument("--out", help="output directory (required unless --check)")
    cb.add_argument("--starts", type=int, default=20, help="Latin-hypercube starts (default 20)")
    cb.add_argument("--seed", type=int, default=0)
    _bundle_options(cb, run=("workers", "rtol", "atol"), defaults={"workers": 1})
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
    _bundle_options(cd, ("into", "mw", "weight"), ("end",), ("workers",),
                    defaults={"workers": 1},
                    helps={"end": "end of the re-predicted runs, e.g. '672 h' (default: the "
                                  "last observation)"})
    cd.add_argument("--height", type=float, default=170.0, help="height in cm (default 170)")
    cd.add_argument("--refine", action="store_true", help="reweight --samples with the data "
                    "(importance sampling) and re-predict --next-dose")
    cd.add_argument("--next-dose", action="append", help="regimen of the next cohort (repeatable)")
    cd.add_argument("--metric", action="append", help="metric to re-predict, e.g. 'max(RO)'")
    cd.add_argument("--sd-log", type=float, default=0.3, help="residual sd of ln(obs/pred)")
    cd.add_argument("--seed", type=int, default=0)
    cd.set_defaults(func=cmd_check_data)
    mb = sub.add_parser("mabel", help="the main job: QSP MABEL, dose decision, report.html/.pdf "
                        "and exchange package from a study file (default: the bundled CD3 study)")
    mb.add_argument("study", nargs="?", help="study YAML (default: studies/cd3_bispecific.yaml)")
    mb.add_argument("--out", default="out/mabel", help="output directory (default out/mabel)")
    mb.add_argument("--quick", action="store_true", help="reduced sample sizes (indicative only)")
    _bundle_options(mb, run=("workers",), helps={"workers": "ensemble processes (default: "
                                                             "every core)"})
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
    _bundle_options(bm, run=("workers",), defaults={"workers": 1},
                    helps={"workers": "ensemble processes"})
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
    _bundle_options(rf, run=("workers",), defaults={"workers": 1})
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
    _bundle_options(po, run=("workers",))
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
    _bundle_options(rg, ("into", "mw"), (), ("workers",))
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
    rg.add_argument("--out", default="out/regimens")
    rg.set_defaults(func=cmd_regimens)
    for sp in sub.choices.values():  # the convergence switches of every verb that simulates
        sp.add_argument("--no-convergence-check", action="store_true",
                        help="skip the re-run at 100-fold tighter tolerances (see README, "
                        "Numerical accuracy); blow-up is still detected")
        sp.add_argument("--strict", action="store_true",
                        help="fail (exit 1) instead of warning when a result is not converged")
    from workbench._cli_help import add_help

    add_help(sub)  # a description and an example for every verb
    return p


class _Line(logging.Handler):
    """Stage lines to stderr, through tqdm.write when a bar is on screen."""

    def emit(self, record: logging.LogRecord) -> None:
        msg = "workbench: " + record.getMessage()
        if sys.stderr.isatty():
            from tqdm.auto import tqdm

            tqdm.write(msg, file=sys.stderr)
        else:
            print(msg, file=sys.stderr, flush=True)


def enable_stage_lines() -> None:
    """Send the stage announcements of :class:`workbench.core.progress.Stages` (logger
    ``workbench.progress``) to stderr, one line each (idempotent)."""
    log = logging.getLogger("workbench.progress")
    if not any(isinstance(h, _Line) for h in log.handlers):
        log.addHandler(_Line())
    log.setLevel(logging.INFO)
    log.propagate = False


def _on_sigterm(signum, frame):  # SIGTERM ends the run like Ctrl-C
    raise KeyboardInterrupt


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"workbench: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command; returns the exit code."""
    import signal
    import warnings

    from workbench.errors import WorkbenchError
    from workbench.sim._runtime import capture_solver_log, environment_error
    from workbench.sim.convergence import convergence_options

    parser = build_parser()
    a = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING,
                        format="workbench: %(message)s")
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
                from workbench.core.input_checks import check_cli_numbers
                from workbench.core.limits import set_limit

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
