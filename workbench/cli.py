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
        counts = df.groupby("severity")["count"].sum().to_dict()
        _print_table(df[["severity", "code", "element", "line", "message", "fix"]])
        print(f"\n{a.model}: {n_err} error(s), {counts.get('warning', 0)} warning(s), "
              f"{counts.get('info', 0)} note(s)")
    return 1 if n_err else 0


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (one sub-command per API verb)."""
    p = argparse.ArgumentParser(prog="workbench", description="QSP workbench: load, validate, "
                                "simulate and dose models for MABEL first-in-human dose selection.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
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
    s.add_argument("--rtol", type=float, default=1e-8)
    s.add_argument("--atol", type=float, default=1e-12)
    s.add_argument("--max-step", type=float, default=0.0)
    s.add_argument("-o", help="output CSV (default: stdout)")
    s.add_argument("--plot", help="output PNG")
    s.add_argument("--metrics", help="output CSV of exposure/occupancy metrics per regimen and output")
    s.set_defaults(func=cmd_simulate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command; returns the exit code."""
    from .errors import WorkbenchError

    parser = build_parser()
    a = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if a.verbose else logging.WARNING,
                        format="workbench: %(message)s")
    try:
        return int(a.func(a) or 0)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("workbench: interrupted; no output written", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for the user
        if os.environ.get("WORKBENCH_DEBUG"):
            raise
        print(f"workbench: internal error: {type(exc).__name__}: {exc}. This is a bug in "
              "workbench; rerun with WORKBENCH_DEBUG=1 for the traceback and report it.",
              file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
