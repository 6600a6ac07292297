"""Fingerprint of the bundled study's reduced MABEL run (tests/integration/test_pipeline_stages.py).

Runs ``run_mabel(BUNDLED_STUDY, reduced=True)`` and prints one SHA-256 (first 16 hex
digits) per table of the result as JSON, so a refactor of the pipeline can show that the
decision (start dose, ladder, tables) did not change. Floats are written with 12
significant digits: the same seed gives the same draws, so the tables agree far beyond
that; the rounding only absorbs last-bit differences between BLAS builds.

Regenerate the stored fingerprints (e.g. after the bundled study or its model changes), one
per libRoadRunner release, each in its own environment::

    .venv/bin/python scripts/mabel_fingerprint.py > tests/data/mabel_fingerprint_rr2.10.json
    .venv313/bin/python scripts/mabel_fingerprint.py > tests/data/mabel_fingerprint_rr2.11.json

``--study PATH`` fingerprints another study file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import numpy as np
import pandas as pd


def _canon(x) -> str:
    """Canonical text of a table, array or number (12 significant digits)."""
    if x is None:
        return "None"
    if isinstance(x, pd.DataFrame):
        return x.reset_index(drop=True).to_csv(index=False, float_format="%.12g")
    if isinstance(x, np.ndarray):
        return pd.DataFrame(np.atleast_2d(np.asarray(x, float))).to_csv(
            index=False, float_format="%.12g")
    if isinstance(x, float):
        return f"{x:.12g}"
    return str(x)


def tables(run) -> dict:
    """The tables of a :class:`workbench.study.pipeline.MabelRun` that carry the decision
    and every analysis behind it (the same attributes before and after the typed pipeline)."""
    dec, lev, pop, sl, su, var = (run.decision, run.levels, run.population, run.slider,
                                  run.stepup, run.variants)
    t = {
        "start_dose": dec.start_dose, "decision.table": dec.table, "ladder": dec.ladder,
        "decision.margin": dec.margin, "decision.minimal_active": dec.minimal_active,
        "decision.tradeoff": dec.tradeoff, "traditional": run.traditional,
        "qsp.to_frame": run.qsp.to_frame(), "qsp.dose_response": run.qsp.dose_response,
        "levels.doses": lev.doses if lev else None, "levels.local": lev.local if lev else None,
        "levels.sobol": lev.sobol if lev else None,
        "variants.table": var.table if var else None,
        "variant_decisions": run.variant_decisions,
        "population.frame": pop.to_frame() if pop else None,
        "population.joint_samples": pop.joint_samples if pop else None,
        "population.reach": pop.reach if pop else None,
        "population.overlap": pop.overlap if pop else None,
        "stepup.summary": su.summary if su else None,
        "slider.effect_values": sl.effect_values if sl else None,
        "verification": run.verification.to_frame() if hasattr(run.verification, "to_frame")
        else None,
    }
    for reg, prof in sorted((run.profiles or {}).items()):
        t[f"profile {reg}"] = prof
    return t


def fingerprint_of(x) -> str:
    """First 16 hex digits of the SHA-256 of a table's canonical text."""
    return hashlib.sha256(_canon(x).encode()).hexdigest()[:16]


def fingerprint(run) -> dict[str, str]:
    """``{table name: fingerprint_of(table)}`` of a run."""
    return {k: fingerprint_of(v) for k, v in tables(run).items()}


def main(argv: list[str] | None = None) -> int:
    from workbench.study.pipeline import BUNDLED_STUDY, run_mabel

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--study", default=str(BUNDLED_STUDY))
    a = ap.parse_args(argv)
    run = run_mabel(a.study, reduced=True, progress=False)
    json.dump(fingerprint(run), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
