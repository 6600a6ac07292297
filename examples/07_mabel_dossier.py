#!/usr/bin/env python
"""07 - The whole pipeline: a MABEL first-in-human dossier from a study file.

Runs the bundled study (studies/cd3_bispecific.yaml: CD3 x TAA bispecific, QSP
model, provenance table, effects with their assay limits, uncertainty, virtual
population, step-up regimens) through every stage -- model checks, verification,
QSP MABEL with its uncertainty, traditional estimates, sensitivity, the decision
and the escalation ladder -- and writes the dossier (report.html, report.md, tables
and figures). --reduced (the default here) shrinks every sample size for a quick
look; --full runs the study's own sizes, as `workbench mabel` does.

Usage: .venv/bin/python examples/07_mabel_dossier.py [--full] [--workers 1] [--out out/examples/07]
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the study's own sample sizes")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "out" / "examples" / "07"))
    a = ap.parse_args()
    import workbench as wb

    run = wb.run_mabel(ROOT / "studies" / "cd3_bispecific.yaml", reduced=not a.full,
                       workers=a.workers, progress=False)
    files = wb.write_report(run, a.out)
    print(f"wrote {len(files)} files to {a.out}; open {files.get('report.html', a.out)}")


if __name__ == "__main__":
    main()
