#!/usr/bin/env python
"""Round trip of workbench.export_sbml: load, export (SBML L3V2), reload, simulate.

Usage:
    .venv/bin/python scripts/export_roundtrip.py suite [--cases 1-1821 | --sample]
    .venv/bin/python scripts/export_roundtrip.py published [DIR]

``suite``: every case of the SBML semantic test suite (../shared/sbml-test-suite/
semantic, settings and comparison from scripts/sbml_suite_probe.py). A case passes
the round trip when the exported model reproduces the expected results; when it
does not, the model as loaded directly is simulated too, and the round trip
*breaks* the case only if the direct simulation passes. Exit 1 when any case is
broken.

``published``: every model of ../shared/models-external/published: trajectories of
the exported model equal those of the source (every species, 0-100 time units),
and no annotation, note or unit definition is lost (counted).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import sbml_suite_probe as probe  # noqa: E402  (settings parsing and comparison)

PUBLISHED = HERE.parent.parent / "shared" / "models-external" / "published"


def _outputs(model, settings: dict) -> list[str]:
    species = set(model.species["id"])
    out = []
    for v in settings["variables"]:
        if v in species and v in settings["concentration"]:
            out.append(f"[{v}]")
        elif v in species:
            out.append(f"amount({v})")
        else:
            out.append(v)
    return out


def _simulate_case(model, settings: dict, case: int):
    """(status, reason) of one model against the expected results of ``case``."""
    import numpy as np

    from workbench import IntegratorSettings, simulate
    from workbench.errors import UnsupportedFeatureError, WorkbenchError

    start, dur, steps = settings["start"], settings["duration"], settings["steps"]
    if start is None or dur is None or not steps:
        return "error", "the case has no time-course settings"
    try:
        df = simulate(model, start=start, end=start + dur, points=steps + 1,
                      outputs=_outputs(model, settings),
                      integrator=IntegratorSettings(max_step=dur / steps))
    except UnsupportedFeatureError as exc:
        return "unsupported", str(exc)
    except WorkbenchError as exc:
        return "error", str(exc)[:300]
    except Exception as exc:
        return "error", f"{type(exc).__name__}: {exc}"[:300]
    sim = df.to_numpy()[:, 1:]
    header, exp = probe.read_results(case)
    idx = [1 + header[1:].index(v) for v in settings["variables"]]
    exp = exp[:, idx]
    if sim.shape != exp.shape:
        return "fail", f"shape {sim.shape} != {exp.shape}"
    ok, n_bad, _, _ = probe.compare(np.asarray(sim, float), exp, settings["absolute"],
                                    settings["relative"])
    return ("pass", "") if ok else ("fail", f"{n_bad} points outside tolerance")


def roundtrip_case(case: int, direct_always: bool = False) -> dict:
    """Export round trip of one suite case; ``broken`` is True when export breaks it.

    The model as loaded is simulated only when the export does not pass (or always
    with ``direct_always``, to count the cases that pass directly).
    """
    from workbench import load_model
    from workbench.errors import WorkbenchError
    from workbench.export import export_sbml_string

    out = {"case": case, "export": "", "direct": "", "broken": False, "reason": "",
           "not_converted": 0}
    t0 = time.perf_counter()
    try:
        settings = probe.read_settings(case)
        path = probe.pick_sbml(case)
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
            out["export"], out["reason"] = _simulate_case(m2, settings, case)
        if out["export"] != "pass" or direct_always:
            out["direct"], _ = _simulate_case(m, settings, case)
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


def _collides(case: int) -> bool:
    """True when a model id shadows a RoadRunner attribute (ids 'reset', 'error', ...).

    libRoadRunner 2.10 installs model ids as attributes of the RoadRunner class, so
    such a model breaks every later simulation in the same process: these cases
    run in a child process.
    """
    import re

    import roadrunner

    path = probe.pick_sbml(case)
    if path is None:
        return False
    ids = set(re.findall(r'\bid="([^"]+)"', path.read_text(errors="replace")))
    # the methods (model ids become properties, so they do not count)
    methods = {n for klass in roadrunner.RoadRunner.__mro__ for n, v in vars(klass).items()
               if callable(v)}
    return bool(ids & methods)


def _isolated(case: int, direct_always: bool = False) -> dict:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
        try:
            return ex.submit(roundtrip_case, case, direct_always).result(timeout=600)
        except Exception as exc:
            return {"case": case, "export": "crash", "direct": "", "broken": False,
                    "reason": f"child process: {type(exc).__name__}: {exc}", "not_converted": 0,
                    "seconds": 0.0}


def published_roundtrip(path: Path) -> dict:
    """Trajectories and metadata of one published model before and after export."""
    import numpy as np

    from workbench import load_model, simulate
    from workbench.errors import UnsupportedFeatureError
    from workbench.export import export_sbml_string

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
    return probe.parse_cases(spec)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("suite")
    s.add_argument("--cases", default="1-1821")
    s.add_argument("--sample", action="store_true", help="the probe's fixed ~100-case sample")
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

    cases = probe.SAMPLE if a.sample else _parse_cases(a.cases)
    cases = [c for c in cases if probe.case_dir(c).is_dir()]
    from tqdm import tqdm

    t0 = time.perf_counter()
    results = [_isolated(c, a.direct) if _collides(c) else roundtrip_case(c, a.direct)
               for c in tqdm(cases, desc="export round trip", unit="case", mininterval=5.0)]
    exp = Counter(r["export"] for r in results)
    broken = [r for r in results if r["broken"] or (r["export"] in ("crash", "export-error")
              and r["direct"] == "pass")]
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
        with open(a.tsv, "w") as fh:
            fh.write("case\texport\tdirect\tbroken\tnot_converted\tseconds\treason\n")
            for r in results:
                fh.write(f"{r['case']}\t{r['export']}\t{r['direct']}\t{r['broken']}\t"
                         f"{r['not_converted']}\t{r['seconds']:.3f}\t{r['reason']}\n")
    return 1 if broken else 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.exit(main())
