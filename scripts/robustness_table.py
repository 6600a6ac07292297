"""Run the robustness suite and print the count table by kind of input.

Usage::

    .venv/bin/python scripts/robustness_table.py            # every case, slow ones included
    .venv/bin/python scripts/robustness_table.py --fast     # the fast selection only
    .venv/bin/python scripts/robustness_table.py --json out/robustness.json --no-run

Each test of ``tests/robustness`` is one hostile input or fault, tagged with a
kind (``@pytest.mark.robust("kind")`` or the module name). The helpers in
``tests/robustness/robust_harness.py`` record which part of the contract a case
broke; the hook in ``tests/robustness/conftest.py`` writes those records as JSON
and this script counts them. The input-side cases (``test_inputs_*.py``, helpers in
``tests/robustness/inputs_support.py``) record through the same mechanism, so this is
the one table for the whole folder. "inputs tried" counts the hostile inputs of the
cases that ran (passed or failed; a case that tries several inputs counts each;
skipped cases are listed apart). A failed case that no helper classified
is counted under "other failures", so a broken case can never look clean.

Exit status: 0 when every count except "inputs tried" is zero, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COLUMNS = ("tracebacks", "crashes", "wrong-success", "partial outputs", "changed inputs",
           "hangs", "unclear messages", "orphans", "wrong exit code", "other failures")


def run_suite(json_path: Path, fast: bool, extra: list[str]) -> int:
    """Run pytest on tests/robustness, writing the records to ``json_path``."""
    env = dict(os.environ, WORKBENCH_ROBUSTNESS_JSON=str(json_path))
    marks = ["-m", "not slow"] if fast else ["-m", "slow or not slow"]
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           str(ROOT / "tests" / "robustness"), *marks, *extra]
    print("$ " + " ".join(cmd), file=sys.stderr)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def count(records: list[dict]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Per kind: inputs tried and cases per broken column; and skipped cases per kind."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(("inputs tried",
                                                                          *COLUMNS), 0))
    skipped: dict[str, int] = defaultdict(int)
    for r in records:
        if r["outcome"] == "skipped":
            skipped[r["kind"]] += 1
            continue
        row = table[r["kind"]]
        row["inputs tried"] += int(r.get("tried", 1))
        kinds = {p["kind"] for p in r["problems"]}
        for k in kinds:
            row[k] += 1
        if r["outcome"] == "failed" and not kinds:
            row["other failures"] += 1
    return dict(table), dict(skipped)


def render(table: dict[str, dict[str, int]], skipped: dict[str, int]) -> str:
    """A Markdown table, one row per kind and a total row."""
    cols = ("inputs tried", *COLUMNS)
    lines = ["| kind | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
    total = dict.fromkeys(cols, 0)
    for kind in sorted(table):
        row = table[kind]
        lines.append(f"| {kind} | " + " | ".join(str(row[c]) for c in cols) + " |")
        for c in cols:
            total[c] += row[c]
    lines.append("| **total** | " + " | ".join(f"**{total[c]}**" for c in cols) + " |")
    if skipped:
        lines.append("\nskipped (resource missing or not applicable): "
                     + ", ".join(f"{k} {n}" for k, n in sorted(skipped.items())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fast", action="store_true", help="skip the slow fault cases")
    ap.add_argument("--json", help="records file (default: a temporary file)")
    ap.add_argument("--no-run", action="store_true", help="only count an existing --json file")
    ap.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(a.json) if a.json else Path(tmp) / "robustness.json"
        if not a.no_run:
            run_suite(path, a.fast, a.pytest_args)
        if not path.exists():
            print(f"no records at {path}", file=sys.stderr)
            return 2
        table, skipped = count(json.loads(path.read_text(encoding="utf-8")))
    print(render(table, skipped))
    bad = sum(row[c] for row in table.values() for c in COLUMNS)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
