"""Descriptions and examples of the ``workbench`` verbs (``workbench VERB --help``).

Kept apart from :mod:`workbench.cli` so that the parser code stays short. Each
verb has a one-line description (what it does and which Python function it
wraps) and at least one example that runs as written from the repository root
(the bundled models in ``models/``). :func:`add_help` applies them to the
sub-parsers; ``tests/integration/test_cli_help.py`` checks every verb.
"""

from __future__ import annotations

import argparse
import textwrap

__all__ = ["VERB_HELP", "add_help"]

#: verb -> (one-line description, example lines)
VERB_HELP: dict[str, tuple[str, str]] = {
    "validate": (
        "Run every libSBML consistency check (units included) on a model; print a summary, "
        "then each finding with its fix (Python: workbench.validate).",
        "workbench validate models/cd3_bispecific.ant\n"
        "workbench validate models/cd3_bispecific.ant --json > findings.json"),
    "info": (
        "List the compartments, species, parameters, reactions, rules and events of a model "
        "with values and units (Python: workbench.load_model and its tables).",
        "workbench info models/mab_tmdd.ant\n"
        "workbench info models/mab_tmdd.ant --json"),
    "simulate": (
        "Simulate a model under one or more dosing regimens and write the time courses as "
        "CSV with units in the header (Python: workbench.simulate).",
        'workbench simulate models/cd3_bispecific.ant --dose "0.1 mg/kg iv q1w x4" --into Drug \\\n'
        '    --mw "150 kDa" --end "672 h" --points 673 --outputs Cfree,RO_CD3,IL6 -o out.csv'),
    "sensitivity": (
        "Local, Morris or Sobol sensitivity of metrics over a parameter space; tables as CSV, "
        "figures as PNG (Python: workbench.run_sensitivity).",
        "workbench sensitivity models/mab_tmdd.ant --params params.csv --method morris --n 20 \\\n"
        '    --metric "max(RO)" --dose "0.1 mg/kg iv" --into L --mw "150 kDa" --end "672 h" \\\n'
        "    --seed 1 --out out/morris"),
    "verify": (
        "Verification checks of a dosed model (no drug -> no effect, saturation, conservation, "
        "units, solver, dose proportionality): a pass/warn/fail table; exit 1 when a check "
        "fails (Python: workbench.verify).",
        "workbench verify models/cd3_bispecific.ant --drug Drug --effect IL6 --occupancy RO_CD3 \\\n"
        '    --mw "150 kDa" --out out/verify'),
    "uncertainty": (
        "Monte Carlo prediction bands (time courses and dose-response) under parameter "
        "uncertainty, with a convergence check; exit 1 when the bands have not converged "
        "unless --allow-unconverged (Python: workbench.propagate).",
        'workbench uncertainty models/cd3_bispecific.ant --param "koff_CD3=lognormal,cv=0.5" \\\n'
        '    --dose "1 ug/kg iv" --into Drug --mw "150 kDa" --metric "max(IL6)" --end "168 h" \\\n'
        "    --n 256 --seed 1 --out out/unc"),
    "variants": (
        "Evaluate the same metrics and dose searches on alternative model structures beside "
        "the base model, which is always included and is the reference of the relative "
        "differences (Python: workbench.compare_variants).",
        "workbench variants models/cd3_bispecific.ant --variants models/cd3_bispecific.variants.toml \\\n"
        '    --into Drug --mw "150 kDa" --metric "max(IL6)" --dose "1 ug/kg iv" --end "168 h"'),
    "provenance": (
        "Write the parameter provenance template of a model, or check a provenance table "
        "against it (Python: workbench.provenance_template, workbench.lint_provenance).",
        "workbench provenance models/cd3_bispecific.ant -o prov.csv\n"
        "workbench provenance lint models/cd3_bispecific.ant models/cd3_bispecific.provenance.csv"),
    "export": (
        "Export exchange-ready SBML L3V2 with provenance, SED-ML time courses and a COMBINE "
        "archive (Python: workbench.export_archive, workbench.export_sbml).",
        "workbench export models/cd3_bispecific.ant --provenance models/cd3_bispecific.provenance.csv \\\n"
        '    --dose "10 ug/kg iv" --into Drug --mw "150 kDa" --end "672 h" --outputs IL6,RO_CD3 \\\n'
        "    --out out/export"),
    "calibrate": (
        "Fit a PEtab problem from seeded multi-start optimisation and write the calibration "
        "record, goodness of fit, profiles and figures; --check lists every PEtab finding "
        "(Python: workbench.calibrate, workbench.lint_petab).",
        "workbench calibrate tests/data/study_with_data/petab/problem.yaml --check\n"
        "workbench calibrate tests/data/study_with_data/petab/problem.yaml --starts 5 --seed 0 "
        "--out out/fit"),
    "check-data": (
        "Compare predictions with independent observations (fold errors, GMFE, coverage of "
        "the prediction band); --refine reweights a parameter sample with early clinical data "
        "and re-predicts the next cohort (Python: workbench.check_data, workbench.refine).",
        "workbench check-data models/cd3_bispecific.ant examples/data/cd3_first_cohort.csv \\\n"
        '    --samples out/unc/samples.csv --into Drug --mw "150 kDa" --out out/check'),
    "mabel": (
        "The main job: QSP MABEL, traditional MABEL, dose decision, escalation ladder, "
        "report.html/report.pdf and the exchange package from a study file "
        "(Python: workbench.run_mabel, workbench.write_report).",
        "workbench mabel                      # the bundled CD3 study into out/mabel\n"
        "workbench mabel studies/cd3_bispecific.yaml --quick --out out/quick"),
    "benchmark": (
        "Retrospective validation: run every reference study (studies/reference) through "
        "the MABEL job and compare the proposed start with the clinical outcome "
        "(Python: workbench.study.benchmark.retrospective).",
        "workbench benchmark --quick --out out/benchmark"),
    "population": (
        "Build a virtual population (covariates, between-subject variability, allometry, "
        "plausible-patient filter) and write it as CSV "
        "(Python: workbench.analysis.population.build_population).",
        "workbench population models/mab_tmdd.ant --n 200 --bsv CL=0.3 --bsv R0=0.5 \\\n"
        "    --allometric-cl CL,Q --allometric-v central,peripheral --out pop.csv"),
    "regimens": (
        "Compare regimens across a virtual population: exposure, overlap between dose levels, "
        "target attainment and safety-limit exceedance; tables and figures "
        "(Python: workbench.analysis.regimens.compare_regimens).",
        'workbench regimens models/mab_tmdd.ant --n 50 --into L --mw "150 kDa" \\\n'
        '    --regimen "0.1 mg/kg iv q1w x4" --regimen "1 mg/kg iv q1w x4" --exposure Cfree \\\n'
        "    --out out/regimens"),
}


def add_help(subparsers: argparse._SubParsersAction) -> None:
    """Give every sub-parser its description and an ``Example:`` epilog.

    A description or epilog the parser already has is kept; verbs added
    elsewhere without one fall back to their one-line ``help``.
    """
    helps = {a.dest: a.help for a in subparsers._choices_actions}
    for verb, parser in subparsers.choices.items():
        desc, example = VERB_HELP.get(verb, (helps.get(verb) or "", ""))
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        text = parser.description or desc
        # the raw formatter keeps the example's line breaks; wrap the prose here
        parser.description = "\n".join(textwrap.fill(par, 79) for par in text.split("\n"))
        if not parser.epilog and example:
            parser.epilog = "Example:\n" + "\n".join("  " + ln for ln in example.splitlines())
