#!/usr/bin/env python
"""Prototype runner for the SBML semantic test suite on raw libRoadRunner + libSBML.

Usage:
    .venv/bin/python scripts/sbml_suite_probe.py [--cases 1-1821] [--jobs 2]
        [--profile suite|fast|global|default] [--timeout 60] [--sample] [--verbose]
        [--rtol X] [--rtol-disc X] [--atol X] [--max-step N|interval|interval/K|none]
        [--stiff true|false] [--ignore-unsupported] [--tsv out.tsv]

For each case: pick the highest-level SBML file, read it with libSBML, flatten the
comp package, detect unsupported features (-> "unsupported: <feature>"), hand the SBML
*string* to roadrunner, simulate start..start+duration with steps+1 points, select
the settings' variables (amount -> "S", concentration -> "[S]", others by id), and
compare each point with |sim - exp| <= absolute + relative * |exp|.

This is a probe; the package's engine will be derived from it.
"""
from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import re
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

SUITE = Path(os.environ.get("SBML_SUITE", "/work/shared/sbml-test-suite/semantic"))
LEVELS = ["l3v2", "l3v1", "l2v5", "l2v4", "l2v3", "l2v2", "l2v1", "l1v2", "l1v1"]
ALL_CASES = range(1, 1822)

# Deterministic fast sample: every 18th case from 1 (102 cases, spread over the suite)
# plus sentinels for known pitfalls and for tags the stride misses.
SENTINELS = [
    28, 173, 269,     # discontinuous rate ceiling(S1*p1)!: BDF at rtol >= 1e-8 steps over it
    196, 197,         # floor(S1*p1)/p2: same family (fail at rtol 1e-7/1e-8 + some max steps)
    1511,             # event trigger true for only 0.025 (= interval/4): needs max_step < that
    989, 1000,        # exponential growth: rtol 1e-6 gives ~3e-4 relative error (marginal)
    952,              # parameter named "reset" (class-level dynamic property pitfall)
    1244,             # <algebraicRule/> without math: supported
    1820, 1821,       # results header "Time" collides with a variable id "Time"
    48,               # 0D-compartment
    928,              # EventT0Firing
    960,              # CSymbolAvogadro
    1143,             # comp:ExtentConversionFactor
    1282,             # BoolNumericSwap
    1475,             # comp:ExternalModelDefinition (needs the document location)
    1195,             # fbc (unsupported)
    1518, 1523,       # delay in trigger / event assignment (unsupported)
    1565,             # multiple fast reactions (unsupported)
]
SAMPLE = sorted(set(range(1, 1822, 18)) | set(SENTINELS))

# ----------------------------------------------------------------------------------
# Integrator profiles.  "max_step" may be a number, or "interval" (= output interval
# (duration / steps)), or None (no limit).
PROFILES = {
    # libRoadRunner defaults: CVODE BDF, rtol 1e-6, atol 1e-12 (scaled per state variable
    # by roadrunner: atol * |initial amount|, see report), no maximum step.
    # -> fails 00028, 00173, 00269, 01511.
    "default": dict(rtol=None, atol=None, max_step=None, stiff=None),
    # RECOMMENDED: BDF; rtol 1e-8 (1e-10 when the RHS has discontinuous math);
    # max step = output interval / 5.  All 1579 simulatable cases pass, and still pass
    # for every max step from interval/3 to interval/20.  ~1.4-1.9x the cost of the
    # roadrunner defaults on smooth PK/PD models (scripts/integrator_bench.py).
    "suite": dict(rtol=1e-8, atol=1e-12, max_step="interval/5", stiff=True, rtol_discontinuous=1e-10),
    # cheaper: rtol 1e-7 (1e-10 discontinuous); all pass for max step interval/4..interval/20
    # (~1.2-1.6x cost), but only ~3x margin on the exponential-growth cases (00989 family).
    "fast": dict(rtol=1e-7, atol=1e-12, max_step="interval/5", stiff=True, rtol_discontinuous=1e-10),
    # one global tolerance, no discontinuity detection: all pass for max step interval/2..
    # interval/20 at rtol 1e-9 or 1e-10 (~1.7-3x cost).
    "global": dict(rtol=1e-9, atol=1e-12, max_step="interval/5", stiff=True),
}


# ----------------------------------------------------------------------------------
# settings / files

def case_dir(case: int) -> Path:
    return SUITE / f"{case:05d}"


def read_settings(case: int) -> dict:
    out: dict = {}
    for line in (case_dir(case) / f"{case:05d}-settings.txt").read_text().splitlines():
        if ":" not in line:
            continue
        key, _, val = line.partition(":")
        out[key.strip()] = val.strip()

    def ids(key):
        return [v.strip() for v in out.get(key, "").split(",") if v.strip()]

    def num(key, conv=float):
        v = out.get(key, "")
        return conv(v) if v else None

    return dict(
        start=num("start"),
        duration=num("duration"),
        steps=num("steps", lambda s: int(float(s))),
        variables=ids("variables"),
        absolute=num("absolute"),
        relative=num("relative"),
        amount=set(ids("amount")),
        concentration=set(ids("concentration")),
    )


def read_tags(case: int) -> tuple[list[str], list[str], str]:
    txt = (case_dir(case) / f"{case:05d}-model.m").read_text()

    def grab(key):
        m = re.search(rf"^{key}:(.*)$", txt, re.M)
        return [t.strip() for t in m.group(1).split(",") if t.strip()] if m else []

    m = re.search(r"^testType:\s*(\S+)", txt, re.M)
    return grab("componentTags"), grab("testTags"), (m.group(1) if m else "")


def pick_sbml(case: int) -> Path | None:
    d = case_dir(case)
    for lv in LEVELS:
        p = d / f"{case:05d}-sbml-{lv}.xml"
        if p.exists():
            return p
    return None


def read_results(case: int):
    import numpy as np

    lines = (case_dir(case) / f"{case:05d}-results.csv").read_text().strip().splitlines()
    header = [h.strip() for h in lines[0].split(",")]

    def conv(s):
        s = s.strip().upper()
        if s in ("INF", "+INF"):
            return math.inf
        if s == "-INF":
            return -math.inf
        if s == "NAN":
            return math.nan
        return float(s)

    data = np.array([[conv(x) for x in ln.split(",")] for ln in lines[1:]], dtype=float)
    return header, data


# ----------------------------------------------------------------------------------
# libSBML: load, flatten, detect unsupported features

def load_document(path: Path, text: str | None = None):
    """Parse SBML *text* with libSBML and flatten the comp package.

    The text is read from `path` unless given.  The document's location URI is set to
    `path` so that comp ExternalModelDefinitions (cases 01165-01168, 01471-01477,
    01778) resolve relative to the file; without it flattening fails (comp-90101).
    Returns (doc, error-or-None)."""
    import libsbml

    if text is None:
        text = Path(path).read_text()
    doc = libsbml.readSBMLFromString(text)
    doc.setLocationURI(Path(path).resolve().as_uri())
    if doc.getNumErrors(libsbml.LIBSBML_SEV_FATAL) or doc.getModel() is None:
        return doc, "libsbml read error: " + doc.getErrorLog().toString()[:300]
    if doc.isPackageEnabled("comp"):
        props = libsbml.ConversionProperties()
        props.addOption("flatten comp", True)
        props.addOption("leavePorts", False)
        props.addOption("performValidation", False)
        rc = doc.convert(props)
        if rc != libsbml.LIBSBML_OPERATION_SUCCESS:
            return doc, f"comp flattening failed (rc={rc}): " + doc.getErrorLog().toString()[:300]
    return doc, None


def _iter_math(model):
    """Yield every ASTNode root in the model (after flattening)."""
    for fd in model.getListOfFunctionDefinitions():
        if fd.isSetMath():
            yield fd.getMath()
    for ia in model.getListOfInitialAssignments():
        if ia.isSetMath():
            yield ia.getMath()
    for r in model.getListOfRules():
        if r.isSetMath():
            yield r.getMath()
    for c in model.getListOfConstraints():
        if c.isSetMath():
            yield c.getMath()
    for rx in model.getListOfReactions():
        kl = rx.getKineticLaw()
        if kl is not None and kl.isSetMath():
            yield kl.getMath()
        for lst in (rx.getListOfReactants(), rx.getListOfProducts()):
            for sr in lst:
                if sr.isSetStoichiometryMath() and sr.getStoichiometryMath().isSetMath():
                    yield sr.getStoichiometryMath().getMath()
    for ev in model.getListOfEvents():
        for part in (ev.getTrigger(), ev.getDelay(), ev.getPriority()):
            if part is not None and part.isSetMath():
                yield part.getMath()
        for ea in ev.getListOfEventAssignments():
            if ea.isSetMath():
                yield ea.getMath()


def _ast_has(node, pred) -> bool:
    """Iterative AST search (deep binary chains would overflow Python recursion)."""
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if pred(n):
            return True
        stack.extend(n.getChild(i) for i in range(n.getNumChildren()))
    return False


IGNORED_PACKAGES = {"comp", "l3v2extendedmath", "layout", "render", "groups"}


def unsupported_features(doc) -> list[str]:
    """Features libRoadRunner cannot simulate, detected from the (flattened) SBML.
    Returns [] when the model is simulatable."""
    import libsbml

    feats: list[str] = []
    # packages other than comp (comp is flattened before this is called)
    core_ns = libsbml.SBMLNamespaces.getSBMLNamespaceURI(doc.getLevel(), doc.getVersion())
    for i in range(doc.getNumPlugins()):
        plugin = doc.getPlugin(i)
        pkg = plugin.getPackageName()
        # l3v2extendedmath is libSBML's internal plugin for L3v2 core math, not a package;
        # layout/render (also read from L2 annotations) and groups carry no semantics.
        if pkg in IGNORED_PACKAGES or plugin.getURI() == core_ns:
            continue
        if pkg == "fbc":
            feats.append("flux balance constraints (fbc package)")
        else:
            feats.append(f"SBML package '{pkg}'")
    model = doc.getModel()
    if model is None:
        return feats
    # an <algebraicRule/> without math (case 01244) constrains nothing; roadrunner ignores it
    if any(r.isAlgebraic() and r.isSetMath() for r in model.getListOfRules()):
        feats.append("algebraic rules")
    if any(rx.isSetFast() and rx.getFast() for rx in model.getListOfReactions()):
        feats.append("fast reactions")
    if any(_ast_has(m, lambda n: n.getType() == libsbml.AST_FUNCTION_DELAY) for m in _iter_math(model)):
        feats.append("delay csymbol")
    return feats


def has_discontinuous_rhs(doc) -> bool:
    """True when the ODE right-hand side contains discontinuous math (piecewise,
    relational/logical operators, ceiling/floor/factorial, rem/quotient) in a kinetic
    law, rate rule, assignment rule or function definition.  CVODE's BDF (stiff) mode
    with its difference-quotient Jacobian can step straight over a state-dependent
    discontinuity at default tolerances (cases 00028/00173/00269); such models get the
    tight relative tolerance."""
    import libsbml

    model = doc.getModel()
    if model is None:
        return False
    disc = {libsbml.AST_FUNCTION_PIECEWISE, libsbml.AST_FUNCTION_CEILING, libsbml.AST_FUNCTION_FLOOR,
            libsbml.AST_FUNCTION_FACTORIAL, libsbml.AST_RELATIONAL_EQ, libsbml.AST_RELATIONAL_GEQ,
            libsbml.AST_RELATIONAL_GT, libsbml.AST_RELATIONAL_LEQ, libsbml.AST_RELATIONAL_LT,
            libsbml.AST_RELATIONAL_NEQ, libsbml.AST_LOGICAL_AND, libsbml.AST_LOGICAL_NOT,
            libsbml.AST_LOGICAL_OR, libsbml.AST_LOGICAL_XOR}
    for name in ("AST_FUNCTION_REM", "AST_FUNCTION_QUOTIENT", "AST_LOGICAL_IMPLIES"):
        if hasattr(libsbml, name):
            disc.add(getattr(libsbml, name))
    roots = [fd.getMath() for fd in model.getListOfFunctionDefinitions() if fd.isSetMath()]
    roots += [r.getMath() for r in model.getListOfRules() if not r.isAlgebraic() and r.isSetMath()]
    for rx in model.getListOfReactions():
        kl = rx.getKineticLaw()
        if kl is not None and kl.isSetMath():
            roots.append(kl.getMath())
    return any(_ast_has(m, lambda n: n.getType() in disc) for m in roots)


# ----------------------------------------------------------------------------------
# roadrunner

def selections_for(settings: dict) -> list[str]:
    sel = []
    for v in settings["variables"]:
        if v in settings["concentration"]:
            sel.append(f"[{v}]")
        else:  # amounts and non-species ids: bare id (bare species id = amount in rr)
            sel.append(v)
    return sel


def configure_integrator(rr, profile: dict, settings: dict, discontinuous: bool = False):
    integ = rr.integrator
    rtol = profile.get("rtol")
    if discontinuous and profile.get("rtol_discontinuous") is not None:
        rtol = profile["rtol_discontinuous"]
    if rtol is not None:
        integ.setValue("relative_tolerance", rtol)
    if profile.get("atol") is not None:
        integ.setValue("absolute_tolerance", profile["atol"])
    if profile.get("stiff") is not None:
        integ.setValue("stiff", profile["stiff"])
    ms = profile.get("max_step")
    if ms == "interval":
        ms = settings["duration"] / settings["steps"]
    elif isinstance(ms, str) and ms.startswith("interval/"):
        ms = settings["duration"] / settings["steps"] / float(ms.split("/", 1)[1])
    if ms:
        integ.setValue("maximum_time_step", float(ms))
    if profile.get("max_num_steps"):
        integ.setValue("maximum_num_steps", int(profile["max_num_steps"]))


def compare(sim, exp, absolute, relative):
    """Return (ok, n_bad, worst_col_index, worst_excess)."""
    import numpy as np

    both_nan = np.isnan(sim) & np.isnan(exp)
    with np.errstate(invalid="ignore"):
        same_inf = np.isinf(exp) & (sim == exp)
        err = np.abs(sim - exp)
        ok = (err <= absolute + relative * np.abs(exp)) | both_nan | same_inf
    bad = ~ok
    n_bad = int(bad.sum())
    if not n_bad:
        return True, 0, None, 0.0
    with np.errstate(invalid="ignore"):
        excess = np.where(bad, np.nan_to_num(err, nan=np.inf) - (absolute + relative * np.abs(exp)), -np.inf)
    r, c = np.unravel_index(int(np.argmax(excess)), excess.shape)
    return False, n_bad, (int(r), int(c)), float(excess[r, c])


STOCHASTIC_TAG = "RandomEventExecution"


def run_case(case: int, profile_name: str = "suite", profile: dict | None = None) -> dict:
    """Run one case; a failing case tagged RandomEventExecution gets one retry
    (roadrunner's order of simultaneous equal-priority events is random and cannot be
    seeded: rr.setSeed / Config RANDOM_SEED do not affect it; 00966 fails ~1 in 300)."""
    out = _run_case_once(case, profile_name, profile)
    if out["status"] == "fail" and STOCHASTIC_TAG in read_tags(case)[1]:
        again = _run_case_once(case, profile_name, profile)
        again["retried"] = out["reason"]
        return again
    return out


def _run_case_once(case: int, profile_name: str = "suite", profile: dict | None = None) -> dict:
    t0 = time.perf_counter()
    out = dict(case=case, status="error", reason="", seconds=0.0)
    try:
        import libsbml
        import numpy as np
        import roadrunner

        setup_roadrunner()
        profile = profile or PROFILES[profile_name]
        settings = read_settings(case)
        path = pick_sbml(case)
        if path is None:
            out.update(status="error", reason="no SBML file")
            return out
        out["file"] = path.name
        doc, err = load_document(path)
        if err:
            out.update(status="error", reason=err)
            return out
        feats = unsupported_features(doc)
        out["features"] = feats
        if feats and not profile.get("ignore_unsupported"):
            out.update(status="unsupported", reason="unsupported: " + ", ".join(feats))
            return out
        sbml = libsbml.writeSBMLToString(doc)
        t_load = time.perf_counter()
        rr = roadrunner.RoadRunner(sbml)
        out["load_s"] = time.perf_counter() - t_load
        disc = has_discontinuous_rhs(doc)
        out["discontinuous"] = disc
        configure_integrator(rr, profile, settings, disc)
        sel = ["time", *selections_for(settings)]
        start, dur, steps = settings["start"], settings["duration"], settings["steps"]
        t_sim = time.perf_counter()
        res = rr.simulate(start, start + dur, steps + 1, sel)
        out["sim_s"] = time.perf_counter() - t_sim
        sim = np.asarray(res)[:, 1:]
        header, exp = read_results(case)
        # align expected columns to the variable order; column 0 is always time, and
        # its header may collide with a variable id ("Time" in 01820/01821)
        idx = [1 + header[1:].index(v) for v in settings["variables"]]
        exp = exp[:, idx]
        if sim.shape != exp.shape:
            out.update(status="fail", reason=f"shape {sim.shape} != expected {exp.shape}")
            return out
        ok, n_bad, where, _excess = compare(sim, exp, settings["absolute"], settings["relative"])
        if ok:
            out.update(status="pass")
        else:
            r, c = where
            out.update(
                status="fail",
                reason=(f"{n_bad} bad points; worst {settings['variables'][c]} at t={exp_time(case, r)}: "
                        f"sim={sim[r, c]!r} exp={exp[r, c]!r}"),
            )
        return out
    except Exception as e:
        out.update(status="error", reason=f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"[:300])
        if os.environ.get("PROBE_TRACE"):
            traceback.print_exc()
        return out
    finally:
        out["seconds"] = time.perf_counter() - t0


def exp_time(case, row):
    s = read_settings(case)
    return s["start"] + row * s["duration"] / s["steps"]


# ----------------------------------------------------------------------------------
# parallel driver with per-case timeout (workers are killed and replaced on timeout)

def setup_roadrunner():
    """Process-wide roadrunner configuration; call before creating any RoadRunner.
    Dynamic properties must be off: otherwise every model id becomes a *class-level*
    property of roadrunner.RoadRunner, so a model with a parameter called "reset"
    (case 00952) replaces RoadRunner.reset for every later instance in the process."""
    import roadrunner

    roadrunner.Config.setValue(roadrunner.Config.ROADRUNNER_DISABLE_PYTHON_DYNAMIC_PROPERTIES, True)
    roadrunner.Logger.setLevel(roadrunner.Logger.LOG_FATAL)


def _worker(conn, profile_name, profile):
    setup_roadrunner()
    while True:
        case = conn.recv()
        if case is None:
            return
        conn.send(run_case(case, profile_name, profile))


class _Slot:
    def __init__(self, ctx, profile_name, profile):
        self.ctx, self.profile_name, self.profile = ctx, profile_name, profile
        self.start()

    def start(self):
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.profile_name, self.profile), daemon=True)
        self.proc.start()
        self.case = None
        self.t = 0.0

    def submit(self, case):
        self.case, self.t = case, time.perf_counter()
        self.conn.send(case)

    def kill(self):
        self.proc.kill()
        self.proc.join()


def run_cases(cases, jobs=2, timeout=60.0, profile_name="suite", profile=None, progress=None):
    from multiprocessing.connection import wait

    ctx = mp.get_context("fork")
    slots = [_Slot(ctx, profile_name, profile) for _ in range(max(1, jobs))]
    pending = list(cases)
    results = []
    while pending or any(s.case is not None for s in slots):
        for s in slots:
            if s.case is None and pending:
                s.submit(pending.pop(0))
        busy = [s for s in slots if s.case is not None]
        ready = wait([s.conn for s in busy], timeout=0.5)
        now = time.perf_counter()
        for s in busy:
            if s.conn in ready:
                try:
                    r = s.conn.recv()
                except EOFError:  # worker crashed (segfault etc.)
                    r = dict(case=s.case, status="error", reason="worker crashed", seconds=now - s.t)
                    s.kill()
                    s.start()
                results.append(r)
                s.case = None
                if progress:
                    progress(r)
            elif not s.proc.is_alive():
                results.append(dict(case=s.case, status="error", reason=f"worker died (exit {s.proc.exitcode})", seconds=now - s.t))
                s.start()
            elif now - s.t > timeout:
                results.append(dict(case=s.case, status="timeout", reason=f"timeout after {timeout:.0f} s", seconds=now - s.t))
                s.kill()
                s.start()
    for s in slots:
        try:
            s.conn.send(None)
        except Exception:
            pass
        s.proc.join(timeout=2)
        if s.proc.is_alive():
            s.kill()
    return sorted(results, key=lambda r: r["case"])


def parse_cases(spec: str) -> list[int]:
    out = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="1-1821", help="e.g. 1-1821 or 28,173,269")
    ap.add_argument("--sample", action="store_true",
                    help=f"run the fixed fast sample (every 18th case + sentinels, {len(SAMPLE)} cases)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--profile", default="suite", choices=sorted(PROFILES))
    ap.add_argument("--rtol", type=float)
    ap.add_argument("--rtol-disc", type=float, help="relative tolerance for models with discontinuous RHS")
    ap.add_argument("--atol", type=float)
    ap.add_argument("--max-step", help="number, 'interval', 'interval/N' or 'none'")
    ap.add_argument("--stiff", choices=["true", "false"])
    ap.add_argument("--ignore-unsupported", action="store_true",
                    help="simulate even when unsupported features are detected (to audit the detection)")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every non-passing case")
    ap.add_argument("--tsv", help="write per-case results to this TSV file")
    a = ap.parse_args(argv)

    profile = dict(PROFILES[a.profile])
    if a.rtol is not None:
        profile["rtol"] = a.rtol
    if a.rtol_disc is not None:
        profile["rtol_discontinuous"] = a.rtol_disc
    if a.atol is not None:
        profile["atol"] = a.atol
    if a.max_step is not None:
        profile["max_step"] = None if a.max_step == "none" else (a.max_step if a.max_step.startswith("interval") else float(a.max_step))
    if a.stiff is not None:
        profile["stiff"] = a.stiff == "true"
    profile["ignore_unsupported"] = a.ignore_unsupported

    cases = SAMPLE if a.sample else parse_cases(a.cases)
    cases = [c for c in cases if case_dir(c).is_dir()]
    print(f"running {len(cases)} cases on {a.jobs} processes, profile {a.profile}: {profile}", flush=True)
    t0 = time.perf_counter()
    results = run_cases(cases, jobs=a.jobs, timeout=a.timeout, profile_name=a.profile, profile=profile)
    wall = time.perf_counter() - t0

    counts = Counter(r["status"] for r in results)
    reasons = Counter(r["reason"] for r in results if r["status"] == "unsupported")
    print(f"\npassed {counts['pass']} / failed {counts['fail']} / unsupported {counts['unsupported']}"
          f" / error {counts['error']} / timeout {counts['timeout']}   (of {len(results)}; wall {wall:.1f} s)")
    if reasons:
        print("unsupported reasons:")
        for why, n in reasons.most_common():
            print(f"  {n:4d}  {why}")
    bad = [r for r in results if r["status"] in ("fail", "error", "timeout")]
    if bad:
        print("not passing:")
        for r in bad:
            print(f"  {r['case']:05d} {r['status']}: {r['reason']}")
    retried = [r for r in results if r.get("retried")]
    if retried:
        print("stochastic cases that passed on retry:")
        for r in retried:
            print(f"  {r['case']:05d} first attempt: {r['retried']}")
    if a.verbose:
        for r in results:
            if r["status"] == "unsupported":
                ct, tt, ty = read_tags(r["case"])
                print(f"  {r['case']:05d} {r['reason']}   [tags: {', '.join(ct + tt + [ty])}]")
    sim_total = sum(r.get("sim_s", 0.0) for r in results)
    load_total = sum(r.get("load_s", 0.0) for r in results)
    print(f"total roadrunner load {load_total:.1f} s, simulate {sim_total:.2f} s (summed over cases)")
    if a.tsv:
        with open(a.tsv, "w") as f:
            f.write("case\tstatus\tseconds\tload_s\tsim_s\treason\tfeatures\n")
            for r in results:
                f.write(f"{r['case']}\t{r['status']}\t{r['seconds']:.4f}\t{r.get('load_s', 0):.4f}\t{r.get('sim_s', 0):.5f}"
                        f"\t{r['reason']}\t{'; '.join(r.get('features', []))}\n")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
