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

__all__ = ["SolverLog", "capture_solver_log", "die_with_parent", "environment_error"]

_SOLVER_LINE = re.compile(rb"^(\x1b\[[0-9;]*m)*\[(ERROR|WARNING|Error|Warning|CRITICAL|"
                          rb"critical|error|warning)\]|cvodes?\.c|CVODE|KINSOL|kinsol\.c")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class SolverLog:
    """Lines the solver printed while captured (ANSI colours removed)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def summary(self) -> str:
        """`` (solver log: first line; N more)`` or an empty string."""
        if not self.lines:
            return ""
        first = _ANSI.sub("", self.lines[0]).strip()
        first = re.sub(r"^\[[^\]]*\](\[rank \d+\])?(\[[^\]]*\])*\s*", "", first)[:300]
        more = f"; {len(self.lines) - 1} more line(s)" if len(self.lines) > 1 else ""
        return f" (solver log: {first}{more})"


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
                if _SOLVER_LINE.search(ln):
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
    try:
        yield log
    finally:
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
