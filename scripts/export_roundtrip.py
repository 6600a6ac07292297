#!/usr/bin/env python
"""Round trip of workbench.export_sbml: load, export (SBML L3V2), reload, simulate.

Usage:
    .venv/bin/python scripts/export_roundtrip.py suite [--cases 1-1821] [--direct] [--tsv F]
    .venv/bin/python scripts/export_roundtrip.py published [DIR]

``suite``: every case of the SBML semantic test suite (../shared/sbml-test-suite/
semantic; settings, simulation and comparison of workbench.testing.sbmlsuite.simulate_case,
as in scripts/sbml_suite.py). A case passes the round trip when the exported model
reproduces the expected results; when it does not, the model as loaded directly is
simulated too, and the round trip *breaks* the case only if the direct simulation
passes. Exit 1 when any case is broken.

``published``: every model of ../shared/models-external/published: trajectories of
the exported model equal those of the source (every species, 0-100 time units),
and no annotation, note or unit definition is lost (counted).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

SUITE = HERE.parent.parent / "shared" / "sbml-test-suite" / "semantic"
PUBLISHED = HERE.parent.parent / "shared" / "models-external" / "published"


def roundtrip_case(case: int, direct_always: bool = False, suite: Path = SUITE) -> dict:
    """Export round trip of one suite case; ``broken`` is True when export breaks it.

    The model as loaded is simulated only when the export does not pass (or always
    with ``direct_always``, to count the cases that pass directly).
    """
    from workbench import load_model
    from workbench.errors import WorkbenchError
    from workbench.exchange.sbml import export_sbml_string
    from workbench.testing.sbmlsuite import sbml_file, simulate_case

    out = {"case": case, "export": "", "direct": "", "broken": False, "reason": "",
           "not_converted": 0}
    t0 = time.perf_counter()
    try:
        case_dir = Path(suite) / f"{case:05d}"
        path = sbml_file(case_dir)
        try:
            m = load_model(path)
        except WorkbenchError as exc:
            out.update(export="load-error", direct="load-error", reason=str(exc)[:200])
            return out
        try:
            rep = export_sbml_string(m, check=False, infer_units=False)
            out["not_converted"] = len(rep.not_converted)
            m2 = load_model(rep.sbml)
        except WorkbenchError as exc:
            out.update(export="export-error", reason=str(exc)[:300])
            rep = None
        if rep is not None:
            out["export"], out["reason"] = simulate_case(m2, case_dir)
        if out["export"] != "pass" or direct_always:
            out["direct"], _ = simulate_case(m, case_dir)
            out["broken"] = out["direct"] == "pass" and out["export"] != "pass"
            if out["broken"]:
                out["reason"] = f"export {out['export']}: {out['reason']}"
        else:
            out["direct"] = "(not run)"
        return out
    except Exception as exc:
        out.update(export="crash", reason=f"{type(exc).__name__}: {exc}"[:300])
        return out
    finally:
        out["seconds"] = time.perf_counter() - t0


def published_roundtrip(path: Path) -> dict:
    """Trajectories and metadata of one published model before and after export."""
    import numpy as np

    from workbench import load_model, simulate
    from workbench.errors import UnsupportedFeatureError
    from workbench.exchange.sbml import export_sbml_string

    m = load_model(path)
    rep = export_sbml_string(m, lossy=True)
    m2 = load_model(rep.sbml)
    counts = {w: (b, a) for w, b, a in rep.counts}
    out = {"file": path.name, "lost": list(rep.lost), "counts": counts,
           "errors": len(rep.errors), "unit_warnings": len(rep.unit_warnings),
           "not_converted": list(rep.not_converted), "max_rel_diff": float("nan"),
           "simulated": False}
    outputs = list(m.species["id"]) or list(m.parameters.query("scope == 'global'")["id"])[:5]
    try:
        a = simulate(m, end=100, points=101, outputs=outputs)
    except UnsupportedFeatureError:
        return out
    b = simulate(m2, end=100, points=101, outputs=outputs)
    x, y = a.to_numpy(), b.to_numpy()
    scale = np.maximum(np.abs(x), 1e-9 * max(1.0, float(np.nanmax(np.abs(x)))))
    out["max_rel_diff"] = float(np.max(np.abs(x - y) / scale))
    out["simulated"] = True
    return out


def _parse_cases(spec: str) -> list[int]:
    """``1-1821`` or ``28,173,269`` (ranges and numbers, comma separated)."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("suite")
    s.add_argument("--cases", default="1-1821", help="e.g. 1-1821 or 28,173,269")
    s.add_argument("--suite", default=str(SUITE))
    s.add_argument("--tsv", help="write one row per case to this file")
    s.add_argument("--direct", action="store_true", help="also simulate every case as loaded "
                   "(counts the cases that pass directly)")
    p = sub.add_parser("published")
    p.add_argument("dir", nargs="?", default=str(PUBLISHED))
    a = ap.parse_args(argv)

    if a.what == "published":
        files = sorted(Path(a.dir).glob("*.xml"))
        total: Counter = Counter()
        bad = 0
        for f in files:
            r = published_roundtrip(f)
            for w, (b, af) in r["counts"].items():
                total[w + "_before"] += b
                total[w + "_after"] += af
            flag = "" if not r["lost"] and (not r["simulated"] or r["max_rel_diff"] < 1e-6) else " !"
            bad += bool(flag)
            print(f"{r['file']:28s} sim={'yes' if r['simulated'] else 'no '} "
                  f"max_rel_diff={r['max_rel_diff']:.2e} lost={len(r['lost'])} "
                  f"errors={r['errors']} unit_warnings={r['unit_warnings']} "
                  + " ".join(f"{w}={b}->{af}" for w, (b, af) in r["counts"].items()) + flag)
        print(f"\n{len(files)} models; " + ", ".join(
            f"{w}: {total[w + '_before']} -> {total[w + '_after']}"
            for w in ("annotations", "cv_terms", "notes", "unit_definitions", "sbo_terms")))
        return 1 if bad else 0

    suite = Path(a.suite)
    cases = [c for c in _parse_cases(a.cases) if (suite / f"{c:05d}").is_dir()]
    from tqdm import tqdm

    t0 = time.perf_counter()
    results = [roundtrip_case(c, a.direct, suite)
               for c in tqdm(cases, desc="export round trip", unit="case", mininterval=5.0)]
    exp = Counter(r["export"] for r in results)
    broken = [r for r in results if r["broken"]]
    print(f"{len(results)} cases in {time.perf_counter() - t0:.0f} s: after export "
          + ", ".join(f"{k} {v}" for k, v in sorted(exp.items()))
          + "; direct simulation of the non-passing: "
          + ", ".join(f"{k} {v}" for k, v in sorted(Counter(
              r["direct"] for r in results if r["export"] != "pass").items()))
          + f"; converted from an older level with notes: "
          f"{sum(1 for r in results if r['not_converted'])}; broken by the export: {len(broken)}")
    if a.direct:
        direct = sum(1 for r in results if r["direct"] == "pass")
        both = sum(1 for r in results if r["direct"] == "pass" and r["export"] == "pass")
        print(f"pass when loaded directly: {direct}; of these pass after export: {both}")
    for r in broken:
        print(f"  BROKEN {r['case']:05d}: {r['reason']}")
    crashes = Counter(r["reason"] for r in results if r["export"] == "crash")
    for why, n in crashes.most_common(5):
        print(f"  {n} harness crash(es): {why}")
    if a.tsv:
        import pandas as pd

        pd.DataFrame(results, columns=["case", "export", "direct", "broken", "not_converted",
                                       "seconds", "reason"]).to_csv(
            a.tsv, sep="\t", index=False, float_format="%.3f")
    return 1 if broken else 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.exit(main())
