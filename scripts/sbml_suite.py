#!/usr/bin/env python
"""SBML semantic test suite through workbench.load_model + workbench.simulate.

Usage: .venv/bin/python scripts/sbml_suite.py [--cases 1-1821] [--workers 2] [--tsv out.tsv]
Prints pass / fail / unsupported / error counts, every non-passing case with its
reason, and the unsupported features with their case counts.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from workbench.testing.sbmlsuite import run_cases

SUITE = Path(__file__).resolve().parents[2] / "shared" / "sbml-test-suite" / "semantic"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="1-1821")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--suite", default=str(SUITE))
    ap.add_argument("--tsv")
    a = ap.parse_args()
    lo, _, hi = a.cases.partition("-")
    cases = range(int(lo), int(hi or lo) + 1)
    t0 = time.perf_counter()
    bar = tqdm(total=len(cases), unit="case", file=sys.stderr)
    res = run_cases(Path(a.suite), cases, workers=a.workers, progress=lambda r: bar.update())
    bar.close()
    counts = Counter(r["status"] for r in res)
    for r in res:
        if r["status"] in ("fail", "error"):
            print(f"{r['case']}\t{r['status']}\t{r['reason']}")
    feats = Counter(r["reason"] for r in res if r["status"] == "unsupported")
    for f, n in feats.most_common():
        print(f"unsupported\t{n}\t{f}")
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['unsupported']} unsupported, "
          f"{counts['error']} errors of {len(res)} cases in {time.perf_counter() - t0:.0f} s")
    if a.tsv:
        pd.DataFrame(res, columns=["case", "status", "seconds", "reason"]).to_csv(
            a.tsv, sep="\t", index=False, float_format="%.3f")
    return 0 if counts["fail"] == 0 and counts["error"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
