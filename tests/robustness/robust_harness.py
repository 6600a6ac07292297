"""Helpers of the robustness suite (``tests/robustness``): hostile inputs and faults against the CLI.

Import them in a test module of this folder with
``from .robust_harness import run_cli, snapshot, ...`` (``tests/robustness`` is a
package, so that its ``conftest.py``, which installs the hooks, does not shadow
``tests/conftest.py``: both would otherwise be imported as the module ``conftest``).

Every test here tries one input (or one fault) the way a careless or hostile user
would, and checks the contract of the workbench: exit 1 (readable but wrong) or
2 (unreadable, environment), one clear paragraph naming the file and the element,
never a traceback, a crash, a hang, a partial output, a changed input or an
orphaned process.

How to write a case
-------------------
Tag the test with its *kind* (the row of the count table) and use the helpers::

    from .robust_harness import assert_no_output, assert_unchanged, run_cli, snapshot

    pytestmark = pytest.mark.robust("archives")      # whole module, or per test

    def test_bad_crc_zip(tmp_path):
        src = tmp_path / "m.omex"; ...                # build the hostile input at run time
        before = snapshot(src)                        # hash the inputs
        out = tmp_path / "out.csv"
        r = run_cli("simulate", src, "--end", "10", "-o", out)
        r.expect_error(2, "m.omex", "CRC")            # exit code + words the message must name
        assert_no_output(out)                         # nothing (half-)written
        assert_unchanged(before)                      # inputs byte-identical

Without a marker the kind is the module name without ``test_`` and ``inputs_``
(``test_inputs_archives.py`` -> ``archives``).

The helpers classify each failure into the columns of the table printed by
``scripts/robustness_table.py`` (tracebacks, crashes, wrong-success, partial
outputs, changed inputs, hangs, unclear messages, orphans, wrong exit code) and
still fail the test with a readable assertion. At the end of the session the
records go to the JSON file named by ``WORKBENCH_ROBUSTNESS_JSON`` (when set).

Helpers
-------
run_cli(*args, timeout=..., env=..., cwd=..., stdin=...) -> CliResult
    the ``workbench`` CLI in a fresh interpreter (``python -m workbench.cli``),
    killed (and recorded as a hang) after ``timeout`` seconds.
CliResult.expect_error(code, *words) / CliResult.expect_ok()
    the contract on one run (exit code, no traceback, no crash, message names words).
start_cli(*args) -> subprocess.Popen
    the CLI in its own process group, for fault injection (signals).
snapshot(*paths) / assert_unchanged(snap)
    SHA-256 of every file under the paths, before and after.
assert_no_output(*paths, before=None)
    the outputs do not exist, or a directory is exactly as ``before`` (a snapshot).
descendants(pid) / wait_for_descendants(pid, n) / assert_no_orphans(pids)
    process-tree helpers from /proc (psutil when installed).
record_problem(kind, detail)
    record a failure of one of the table's columns yourself (then assert).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: the columns of the count table, in order (besides "inputs tried")
PROBLEMS = ("tracebacks", "crashes", "wrong-success", "partial outputs", "changed inputs",
            "hangs", "unclear messages", "orphans", "wrong exit code")

#: default time limit of one CLI run (seconds); generous for a loaded 2-core machine
DEFAULT_TIMEOUT = 120.0


# --------------------------------------------------------------------------- records


@dataclass
class CaseRecord:
    """What one test tried and which contract columns it broke."""

    nodeid: str
    kind: str
    tried: int = 1
    problems: list[tuple[str, str]] = field(default_factory=list)
    outcome: str = "not run"
    kind_marked: bool = False  # the kind comes from a ``robust`` marker (not the file name)


_RECORDS: list[CaseRecord] = []
_CURRENT: CaseRecord | None = None


def record_problem(kind: str, detail: str) -> None:
    """Record one broken contract column for the running test (see :data:`PROBLEMS`)."""
    if kind not in PROBLEMS:
        raise ValueError(f"unknown problem kind {kind!r}; one of {PROBLEMS}")
    if _CURRENT is not None:
        _CURRENT.problems.append((kind, detail[:500]))


def _kind_of(item: pytest.Item) -> str:
    mark = item.get_closest_marker("robust")
    if mark is not None and mark.args:
        return str(mark.args[0])
    stem = Path(str(item.fspath)).stem
    for prefix in ("test_", "inputs_", "runtime_"):
        stem = stem.removeprefix(prefix)
    return stem


def configure(config: pytest.Config) -> None:
    """Register the ``robust`` marker (called from conftest's ``pytest_configure``)."""
    config.addinivalue_line("markers", "robust(kind): kind of hostile input or fault "
                            "(the row of scripts/robustness_table.py)")


@pytest.fixture(autouse=True)
def robust_record(request: pytest.FixtureRequest):
    """The :class:`CaseRecord` of the running test (autouse through conftest)."""
    global _CURRENT
    mark = request.node.get_closest_marker("robust")
    rec = CaseRecord(request.node.nodeid, _kind_of(request.node),
                     kind_marked=mark is not None and bool(mark.args))
    _RECORDS.append(rec)
    _CURRENT = rec
    try:
        yield rec
    finally:
        _CURRENT = None


def note_report(item: pytest.Item, rep) -> None:
    """Keep the outcome of a test's call phase (from conftest's makereport hook)."""
    for rec in reversed(_RECORDS):
        if rec.nodeid == item.nodeid:
            if rep.when == "call" or (rep.when == "setup" and rep.outcome != "passed"):
                rec.outcome = rep.outcome
            break


def write_records() -> None:
    """Write every record to ``$WORKBENCH_ROBUSTNESS_JSON`` (when set), at session end."""
    path = os.environ.get("WORKBENCH_ROBUSTNESS_JSON")
    if not path:
        return
    data = [{"nodeid": r.nodeid, "kind": r.kind, "tried": r.tried, "outcome": r.outcome,
             "problems": [{"kind": k, "detail": d} for k, d in r.problems]}
            for r in _RECORDS if r.outcome != "not run"]
    Path(path).write_text(json.dumps(data, indent=1), encoding="utf-8")


# --------------------------------------------------------------------------- running the CLI


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a CLI run: this interpreter's, without debug switches."""
    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_DEBUG"}
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("MPLBACKEND", "Agg")
    env.update(extra or {})
    return env


@dataclass
class CliResult:
    """One finished CLI run."""

    args: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def _fail(self, kind: str, why: str) -> None:
        record_problem(kind, f"{' '.join(self.args)}: {why}")
        pytest.fail(f"[{kind}] {why}\n$ workbench {' '.join(self.args)}\n--- exit "
                    f"{self.returncode} after {self.seconds:.1f} s\n--- stderr:\n"
                    f"{self.stderr[-3000:]}\n--- stdout:\n{self.stdout[-1500:]}", pytrace=False)

    def check_sane(self) -> CliResult:
        """No hang, no crash (signal, segfault), no traceback in the output."""
        if self.timed_out:
            self._fail("hangs", f"no exit within {self.seconds:.0f} s")
        if self.returncode is not None and (self.returncode < 0 or self.returncode >= 128) \
                and self.returncode != 130:
            self._fail("crashes", f"exit {self.returncode} (killed by a signal?)")
        if "Traceback (most recent call last)" in self.output:
            self._fail("tracebacks", "a traceback was printed")
        return self

    def expect_error(self, code: int | tuple[int, ...] = (1, 2), *words: str) -> CliResult:
        """A clean refusal: exit ``code``, ``workbench: error:`` and every one of ``words``.

        ``words`` are matched case-insensitively; use them for the file name, the
        element, row or field, and the nature of the problem.
        """
        self.check_sane()
        codes = (code,) if isinstance(code, int) else tuple(code)
        if self.returncode == 0:
            self._fail("wrong-success", "exit 0 although the input is bad")
        if self.returncode not in codes:
            self._fail("wrong exit code", f"exit {self.returncode}, expected {codes}")
        low = self.stderr.lower()
        if "workbench: error:" not in low:
            self._fail("unclear messages", "no 'workbench: error:' paragraph on stderr")
        missing = [w for w in words if str(w).lower() not in low]
        if missing:
            self._fail("unclear messages", f"the message does not name {missing}")
        return self

    def expect_ok(self, *words: str) -> CliResult:
        """A successful run (exit 0) whose output names every one of ``words``."""
        self.check_sane()
        if self.returncode != 0:
            self._fail("wrong exit code", f"exit {self.returncode}, expected 0")
        missing = [w for w in words if str(w).lower() not in self.output.lower()]
        if missing:
            self._fail("unclear messages", f"the output does not name {missing}")
        return self


def run_cli(*args, timeout: float = DEFAULT_TIMEOUT, env: dict[str, str] | None = None,
            cwd: str | os.PathLike[str] | None = None, stdin: bytes | None = None) -> CliResult:
    """Run ``workbench ARGS`` in a fresh interpreter; kill it after ``timeout`` s.

    The process runs in its own session so a hang is killed with its whole tree.
    """
    argv = [str(a) for a in args]
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, "-m", "workbench.cli", *argv], cwd=cwd,
                         env=cli_env(env), stdin=subprocess.PIPE if stdin is not None
                         else subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(stdin, timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(p.pid)
        out, err = p.communicate()
        timed_out = True
    return CliResult(argv, p.returncode, out.decode("utf-8", "replace"),
                     err.decode("utf-8", "replace"), time.monotonic() - t0, timed_out)


def start_cli(*args, env: dict[str, str] | None = None,
              cwd: str | os.PathLike[str] | None = None) -> subprocess.Popen:
    """Start ``workbench ARGS`` in the background (own session) for fault injection.

    Stop it with ``os.kill(p.pid, signal.SIGTERM)`` (the fault) and always call
    :func:`cleanup_group` in a ``finally`` so a failing test leaves nothing behind.
    """
    return subprocess.Popen([sys.executable, "-m", "workbench.cli", *map(str, args)], cwd=cwd,
                            env=cli_env(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def cleanup_group(p: subprocess.Popen, pids: list[int] = ()) -> None:
    """Kill the process group of ``p`` and any listed pid still alive (test hygiene only)."""
    _kill_group(p.pid)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


# --------------------------------------------------------------------------- files


def _files(path: Path):
    if path.is_dir():
        yield from sorted(q for q in path.rglob("*") if q.is_file() or q.is_symlink())
    elif path.exists() or path.is_symlink():
        yield path


def snapshot(*paths: str | os.PathLike[str]) -> dict[str, str]:
    """SHA-256 (and mode) of every file under ``paths``: call before the run."""
    snap = {}
    for p in map(Path, paths):
        if not p.exists() and not p.is_symlink():
            snap[str(p)] = "<absent>"
        for f in _files(p):
            if f.is_symlink():
                snap[str(f)] = "symlink->" + os.readlink(f)
            else:
                st = f.stat()
                snap[str(f)] = hashlib.sha256(f.read_bytes()).hexdigest() + f":{st.st_mode:o}"
        if p.is_dir():
            snap[str(p) + "/"] = "dir"
    return snap


def _diff(before: dict[str, str], paths) -> list[str]:
    after = snapshot(*paths)
    return [k for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]


def assert_unchanged(before: dict[str, str]) -> None:
    """The inputs snapshotted in ``before`` are byte-identical (same files, contents, modes)."""
    roots = [k.rstrip("/") for k in before if k.endswith("/") or not any(
        k.startswith(d.rstrip("/") + "/") for d in before if d.endswith("/"))]
    changed = _diff(before, roots)
    if changed:
        record_problem("changed inputs", ", ".join(changed[:5]))
        pytest.fail(f"[changed inputs] {changed[:10]}", pytrace=False)


def assert_no_output(*paths: str | os.PathLike[str], before: dict[str, str] | None = None) -> None:
    """Nothing was written: each path is absent, or (with ``before``) exactly as snapshotted.

    Temporary siblings (``.name.*.tmp``, ``.name.partial*``) left in the parent
    folder count as partial output too.
    """
    bad = []
    for p in map(Path, paths):
        if before is not None and (str(p) in before or str(p) + "/" in before):
            bad += _diff({k: v for k, v in before.items() if k == str(p) or k.startswith(
                str(p) + "/") or k == str(p) + "/"}, [p])
        elif p.exists() or p.is_symlink():
            bad.append(str(p))
        if p.parent.is_dir():
            bad += [str(q) for q in p.parent.iterdir()
                    if q.name.startswith(f".{p.name}.") and q.name != p.name]
    if bad:
        record_problem("partial outputs", ", ".join(bad[:5]))
        pytest.fail(f"[partial outputs] {bad[:10]}", pytrace=False)


# --------------------------------------------------------------------------- processes


def _children_proc(pid: int) -> list[int]:
    kids = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            except OSError:
                continue
            kids += [int(x) for x in text.split()]
    except OSError:
        pass
    return kids


def descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (children, grandchildren, ...)."""
    try:
        import psutil

        try:
            return [c.pid for c in psutil.Process(pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
    except ImportError:
        out, todo = [], [pid]
        while todo:
            kids = _children_proc(todo.pop())
            out += kids
            todo += kids
        return out


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_for_descendants(pid: int, n: int, timeout: float = 90.0) -> list[int]:
    """Wait until ``pid`` has at least ``n`` live descendants; return them (may be fewer)."""
    t_end = time.monotonic() + timeout
    kids: list[int] = []
    while time.monotonic() < t_end:
        kids = [k for k in descendants(pid) if alive(k)]
        if len(kids) >= n:
            return kids
        time.sleep(0.2)
    return kids


def assert_no_orphans(pids, within: float = 10.0) -> None:
    """Every process in ``pids`` has exited within ``within`` seconds."""
    t_end = time.monotonic() + within
    left = list(pids)
    while time.monotonic() < t_end:
        left = [p for p in left if alive(p)]
        if not left:
            return
        time.sleep(0.2)
    cmd = []
    for p in left:
        try:
            cmd.append(Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ")[:120]
                       .decode(errors="replace"))
        except OSError:
            cmd.append("?")
    record_problem("orphans", f"{len(left)} process(es) alive: {cmd}")
    pytest.fail(f"[orphans] still alive after {within} s: {list(zip(left, cmd, strict=True))}", pytrace=False)


__all__ = [
    "DEFAULT_TIMEOUT",
    "PROBLEMS",
    "CaseRecord",
    "CliResult",
    "alive",
    "assert_no_orphans",
    "assert_no_output",
    "assert_unchanged",
    "cleanup_group",
    "cli_env",
    "configure",
    "descendants",
    "note_report",
    "record_problem",
    "robust_record",
    "run_cli",
    "snapshot",
    "start_cli",
    "wait_for_descendants",
    "write_records",
]
