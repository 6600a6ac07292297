"""Process-level safety of the CLI: solver log capture, environment errors, worker lifetime.

- :func:`capture_solver_log`: SUNDIALS/CVODE print their failures straight to file
  descriptor 2 (coloured ``[ERROR][rank 0]...cvodes.c`` lines), outside Python's
  logging. The CLI routes fd 2 through a pipe whose reader forwards every other
  byte at once and keeps the solver's lines, so an error message can summarise
  them (``solver log: ...``) instead of raw lines preceding it.
- :func:`environment_error`: one paragraph for an ``OSError`` (disk full,
  permission denied, a directory where a file is expected, an unreachable host);
  the CLI exits 2 with it.
- :func:`die_with_parent`: called in worker initialisers; on Linux the kernel
  sends SIGKILL to the worker when its parent dies (``PR_SET_PDEATHSIG``), and a
  watchdog thread (every platform) exits when the parent pid changes, so a killed
  ``workbench`` never leaves workers, a forkserver or a resource tracker behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

__all__ = ["SolverLog", "capture_solver_log", "die_with_parent", "environment_error"]

#: a line of libRoadRunner's or SUNDIALS' own log: ``[ERROR][rank 0][.../cvodes.c:...]``,
#: possibly coloured; never a line of workbench's own (``workbench: ...``)
_SOLVER_LINE = re.compile(
    rb"^\x1b\["  # coloured: libRoadRunner's Logger (workbench never colours its lines)
    rb"|^\[(ERROR|WARNING|Error|Warning|CRITICAL|critical|error|warning|info|notice)\]"
    rb"|^(Error|Warning|Critical|Fatal|Notice|Information|Debug|Trace): "  # Logger, no colour
    rb"|^\[[^\]]*\]\S*\s.*(cvodes?|kinsol|idas?)\.c")  # SUNDIALS' own logger
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SYNC = b"\x00workbench-stderr-sync\x00"


class SolverLog:
    """Lines the solver printed while captured (ANSI colours removed)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._synced = threading.Event()
        self._active = False

    def sync(self, timeout: float = 2.0) -> None:
        """Wait until everything written to fd 2 so far has been sorted."""
        if not self._active:
            return
        self._synced.clear()
        try:
            sys.stderr.flush()
            os.write(2, _SYNC + b"\n")
        except (OSError, ValueError):
            return
        self._synced.wait(timeout)

    def summary(self) -> str:
        """`` Solver log: first line; N more.`` or an empty string."""
        self.sync()
        if not self.lines:
            return ""
        first = _ANSI.sub("", self.lines[0]).strip()
        first = re.sub(r"^\[[^\]]*\](\[rank \d+\])?(\[[^\]]*\])*\s*", "", first)[:300].rstrip(".")
        more = f"; {len(self.lines) - 1} more line(s)" if len(self.lines) > 1 else ""
        return f" Solver log: {first}{more}."


@contextlib.contextmanager
def capture_solver_log() -> Iterator[SolverLog]:
    """Route file descriptor 2 through a filter that keeps the solver's lines.

    A no-op (empty log) when fd 2 cannot be duplicated (no real stderr).
    """
    log = SolverLog()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):
        yield log
        return
    r, w = os.pipe()
    os.dup2(w, 2)
    os.close(w)

    def pump() -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(r, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            out = []
            for ln in lines:
                if ln == _SYNC:
                    log._synced.set()
                    continue
                if not ln.startswith(b"workbench:") and _SOLVER_LINE.search(ln):
                    log.lines.append(ln.decode("utf-8", "replace"))
                else:
                    out.append(ln + b"\n")
            if buf and not buf.startswith((b"[", b"\x1b")):  # progress bars (\r, no newline)
                out.append(buf)
                buf = b""
            if out:
                with contextlib.suppress(OSError):
                    os.write(saved, b"".join(out))
        if buf:
            with contextlib.suppress(OSError):
                os.write(saved, buf)

    t = threading.Thread(target=pump, name="workbench-stderr", daemon=True)
    t.start()
    log._active = True
    try:
        yield log
    finally:
        log._active = False
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end held by this process
        t.join(timeout=5)
        os.close(r)
        os.close(saved)


_ENV_FIX = {
    errno.ENOSPC: ("the disk is full", "free space or write to another place (--out, -o)"),
    errno.EDQUOT: ("the disk quota is exceeded", "free space or write to another place"),
    errno.EACCES: ("permission denied", "choose a place you can write to, or fix the "
                   "permissions"),
    errno.EPERM: ("operation not permitted", "choose a place you can write to"),
    errno.EROFS: ("the file system is read-only", "write to another place (--out, -o)"),
    errno.EISDIR: ("a directory is in the way of a file", "give a file name, not a directory"),
    errno.ENOTDIR: ("a file is in the way of a directory", "give a directory that does not "
                    "exist yet or is a directory, not a file"),
    errno.EEXIST: ("the path exists already", "remove it or choose another name"),
    errno.ECONNREFUSED: ("the connection was refused", "check the address (--scheduler) and "
                         "that the service runs"),
    errno.EHOSTUNREACH: ("the host is unreachable", "check the address (--scheduler)"),
    errno.ENETUNREACH: ("the network is unreachable", "check the address (--scheduler)"),
    errno.ETIMEDOUT: ("the connection timed out", "check the address (--scheduler)"),
    errno.ENOENT: ("no such file or directory", "check the path"),
    errno.ENAMETOOLONG: ("the file name is too long", "use a shorter path"),
}


def environment_error(exc: OSError) -> str:
    """One paragraph naming the path, what is wrong and the fix, for an ``OSError``."""
    what, fix = _ENV_FIX.get(exc.errno or -1, (exc.strerror or type(exc).__name__,
                                                "check the path, the disk and the permissions"))
    if isinstance(exc, TimeoutError) and exc.errno is None:
        what, fix = "the connection timed out", "check the address (--scheduler)"
    where = exc.filename if exc.filename is not None else None
    if exc.filename2:
        where = f"{exc.filename} -> {exc.filename2}"
    head = f"{where}: " if where else ""
    detail = "" if where or not str(exc) else f" ({str(exc)[:200]})"
    return f"{head}{what}{detail}. Fix: {fix}."


def _gone(pid: int) -> bool:
    """The process ``pid`` does not exist or is a zombie (killed, not yet reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except OSError:
        return False


def die_with_parent(root: int | None = None) -> None:
    """Make this (worker) process end when its parent, or the process ``root``, ends.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through libc, then a check that
    the parent did not die before the call. Everywhere: a daemon thread that
    polls every second and exits the process when the parent pid changes (the
    parent died and the process was re-parented) or ``root`` is gone. ``root``
    is the ``workbench`` process itself: pool workers are children of the
    forkserver, which outlives a killed ``workbench``.
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):  # pragma: no cover - no libc symbol
            pass
    if os.getppid() != parent or parent == 1:
        os._exit(1)

    def watch() -> None:
        import time

        while True:
            time.sleep(1.0)
            if os.getppid() != parent or (root is not None and _gone(root)):
                os._exit(1)

    threading.Thread(target=watch, name="workbench-parent-watch", daemon=True).start()


def check_output_dir(out: str | os.PathLike[str], inputs) -> None:
    """Refuse an output folder that equals or contains an input (or the folder of one).

    ``mabel --out`` onto the study's folder would overwrite the study's model files;
    an output folder is written as a whole (a temporary sibling renamed at the end),
    so it may not hold anything the run reads.
    """
    from pathlib import Path

    from workbench.errors import SpecError

    o = Path(out).resolve()
    for i in inputs:
        if i is None:
            continue
        p = Path(i).resolve()
        if p == o or o in p.parents:
            raise SpecError(f"the output folder {out} contains the input {i}; writing there "
                            "could overwrite it", source=str(i), element="--out",
                            fix="choose an output folder outside the inputs' folders")
    if o.exists() and not o.is_dir():
        raise SpecError(f"the output folder {out} is an existing file", source=str(out),
                        element="--out", fix="give a folder name that is not a file")


@contextlib.contextmanager
def staged_output_dir(out: str | os.PathLike[str]) -> Iterator[Path]:
    """Write a multi-file output into a temporary sibling of ``out``, then move it in.

    Yields the staging folder. On success every file written there is moved onto
    the same relative path under ``out`` (files of ``out`` the run did not write
    stay); on any error or interruption the staging folder is removed and ``out``
    is exactly as before.
    """
    import shutil
    import tempfile

    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        from workbench.errors import InputFileError

        raise InputFileError("the output folder is an existing file", source=str(out),
                             element="--out", fix="give a folder name that is not a file")
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield stage
        mask = os.umask(0o022)
        os.umask(mask)
        for src in sorted(stage.rglob("*")):
            dst = target / src.relative_to(stage)
            if src.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
                os.chmod(dst, 0o777 & ~mask)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                if dst.is_dir() and not dst.is_symlink():
                    shutil.rmtree(dst)
                os.replace(src, dst)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
