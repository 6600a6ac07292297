"""Helpers of the input-side robustness tests (test_inputs_*.py): generate hostile
inputs at run time, run the CLI as a subprocess, and check the contract.

Every hostile input is recorded through the suite's one mechanism
(:mod:`tests.robustness.robust_harness`: the running test's record counts the inputs
tried and the broken columns), so ``scripts/robustness_table.py`` prints one table for
the whole folder. ``WB_INPUTS_LOG=path`` still appends one JSON line per input
(``python tests/robustness/inputs_support.py path`` counts those alone).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<sbml xmlns="http://www.sbml.org/sbml/level3/'
        'version2/core" level="3" version="2">\n')
KL = "<apply><times/><ci>k</ci><ci>S</ci></apply>"


def sbml(body: str = KL, extra_params: str = "", size: str = "1", k: str = "0.1",
         name: str = "") -> str:
    """A one-reaction SBML L3V2 model (S -> , rate k*S) with hooks for defects."""
    return HEAD + f'''<model id="m"{f' name="{name}"' if name else ""}>
<listOfCompartments><compartment id="c" size="{size}" constant="true"/></listOfCompartments>
<listOfSpecies><species id="S" compartment="c" initialConcentration="10" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/></listOfSpecies>
<listOfParameters><parameter id="k" value="{k}" constant="true"/>{extra_params}</listOfParameters>
<listOfReactions><reaction id="r" reversible="false"><listOfReactants><speciesReference species="S" stoichiometry="1" constant="true"/></listOfReactants>
<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">{body}</math></kineticLaw></reaction></listOfReactions>
</model></sbml>
'''


def deep_sbml(levels: int) -> str:
    body = KL
    for _ in range(levels):
        body = f"<apply><plus/>{body}<cn>0</cn></apply>"
    return sbml(body)


def _digest(paths) -> dict[str, str]:
    out = {}
    for p in paths:
        p = Path(p)
        if p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run_cli(args, cwd: Path, timeout: float = 120.0) -> tuple[int, str, str, float]:
    """``workbench ARGS`` in a subprocess: (exit code, stdout, stderr, seconds)."""
    env = {**os.environ, "WORKBENCH_DEBUG": ""}
    env.pop("WORKBENCH_DEBUG")
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-m", "workbench.cli", *map(str, args)], cwd=cwd,
                           capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return -999, "", "TIMEOUT", time.perf_counter() - t0
    return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0


#: flag of :func:`record` -> column of the count table (robust_harness.PROBLEMS)
_COLUMN = {"traceback": "tracebacks", "crash": "crashes", "wrong_success": "wrong-success",
           "partial_output": "partial outputs", "changed_input": "changed inputs",
           "hang": "hangs", "unclear_message": "unclear messages",
           "wrong_exit_code": "wrong exit code"}


def record(kind: str, case: str, **flags) -> None:
    """Record one hostile input of the running test: counted as one input tried of
    ``kind`` (unless the test carries its own ``robust`` marker), each true flag as a
    broken column."""
    from . import robust_harness as rh

    rec = rh._CURRENT
    if rec is not None:
        n = getattr(rec, "_inputs_seen", 0) + 1
        rec._inputs_seen = n  # type: ignore[attr-defined]
        rec.tried = n
        if not rec.kind_marked:
            rec.kind = kind
        for flag, column in _COLUMN.items():
            if flags.get(flag):
                rh.record_problem(column, f"{case}: {flag}")
    log = os.environ.get("WB_INPUTS_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"kind": kind, "case": case, **flags}) + "\n")


def refused(kind: str, case: str, args, cwd: Path, *, codes=(1, 2), says=(),
            inputs=(), outputs=(), timeout: float = 120.0) -> str:
    """Run the CLI on a hostile input and check the contract; returns stderr.

    exit code in ``codes``; stderr has every text in ``says`` (file, element, value)
    and no traceback; no file in ``outputs`` exists; every file in ``inputs`` is
    unchanged; the run ends within ``timeout``.
    """
    before = _digest(inputs)
    rc, out, err, secs = run_cli(args, cwd, timeout)
    after = _digest(inputs)
    flags = {"traceback": "Traceback" in err or "Traceback" in out,
             "crash": rc < 0 and rc != -999, "hang": rc == -999,
             "wrong_success": rc == 0, "partial_output": any(Path(o).exists() for o in outputs),
             "changed_input": before != after,
             "unclear_message": not all(s.lower() in err.lower() for s in says)
             or "internal error" in err,
             "wrong_exit_code": rc not in codes and rc >= 0}
    record(kind, case, rc=rc, seconds=round(secs, 2), **flags)
    assert not flags["hang"], f"{case}: no answer within {timeout} s"
    assert not flags["crash"], f"{case}: killed by signal {-rc}: {err[-500:]}"
    assert not flags["traceback"], f"{case}: traceback printed:\n{err[-2000:]}"
    assert rc in codes, f"{case}: exit {rc}, expected {codes}:\n{err[-1000:]}"
    assert "internal error" not in err, err
    for s in says:
        assert s.lower() in err.lower(), f"{case}: message lacks {s!r}:\n{err}"
    assert not flags["partial_output"], f"{case}: output written"
    assert not flags["changed_input"], f"{case}: an input changed"
    return err


def count_table(path: str) -> str:
    rows: dict[str, dict[str, int]] = {}
    cols = ("inputs", "traceback", "crash", "wrong_success", "partial_output", "changed_input",
            "hang", "unclear_message")
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            c = rows.setdefault(r["kind"], dict.fromkeys(cols, 0))
            c["inputs"] += 1
            for k in cols[1:]:
                c[k] += int(bool(r.get(k)))
    total = {k: sum(r[k] for r in rows.values()) for k in cols}
    lines = ["| kind | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for kind, c in [*sorted(rows.items()), ("total", total)]:
        lines.append(f"| {kind} | " + " | ".join(str(c[k]) for k in cols) + " |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(count_table(sys.argv[1]))
