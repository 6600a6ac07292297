"""Quiet start of worker processes: preloaded by the multiprocessing forkserver only.

Why this module exists: a worker of the process pool (:mod:`workbench._backends`) or
of a calibration (:mod:`workbench.calibrate`) is forked by the forkserver and then
unpickles its process object, which re-opens the pool's named semaphores. When the
user presses Ctrl-C (or SIGTERM arrives) while a worker is still starting, the parent
stops the pool and unlinks those semaphores; the starting worker then fails in
``SemLock._rebuild`` with ``FileNotFoundError`` *before* any workbench code (the pool
initialiser) runs, and the forkserver prints that exception's traceback, through
``sys.excepthook``, to the user's terminal after "interrupted; no output written".

Importing this module installs :func:`quiet_excepthook` -- but only inside the
forkserver process (``python -c 'from multiprocessing.forkserver import main; ...'``),
so importing it anywhere else changes nothing. The forkserver's children inherit the
hook: a worker that cannot start because its parent is gone or stopping (``OSError``,
``EOFError``: the parent's resources vanished) exits 1 silently; any other failure is
one line without a traceback. The parent always learns of a worker that died (a
broken pool) and reports it with the fix, so nothing is lost. Worker warnings are
logging records and are not affected.

:func:`start_forkserver` starts the forkserver (and the resource tracker) with
SIGINT ignored: a terminal's Ctrl-C goes to the whole foreground process group, and
a forkserver still importing its preload modules would otherwise die with a
``KeyboardInterrupt`` traceback. The parent stops its workers itself.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType, TracebackType

__all__ = ["in_forkserver", "quiet_excepthook", "start_forkserver"]


def quiet_excepthook(kind: type[BaseException], exc: BaseException,
                     tb: TracebackType | None) -> None:
    """Report an exception of a starting worker without a traceback.

    Resources of a stopping parent that are gone (``OSError``, ``EOFError``) and
    Ctrl-C are silent; anything else is one line on stderr.
    """
    if issubclass(kind, (OSError, EOFError, KeyboardInterrupt, SystemExit)):
        return
    try:
        sys.stderr.write(f"workbench: a worker process could not start ({kind.__name__}: "
                         f"{str(exc)[:300]}); the run reports it\n")
        sys.stderr.flush()
    except (OSError, ValueError):  # stderr closed
        pass


def in_forkserver() -> bool:
    """True in the multiprocessing forkserver process (and its forked children)."""
    return sys.argv[:1] == ["-c"] and _called_from_forkserver_main()


def start_forkserver() -> None:
    """Start the multiprocessing forkserver now, with SIGINT ignored in it.

    An ignored signal stays ignored across ``exec``, so the forkserver, the resource
    tracker and the workers forked from them never turn a terminal's Ctrl-C into a
    traceback; the parent handles Ctrl-C (it terminates its workers). A Ctrl-C in the
    parent during these few milliseconds is lost.
    """
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, old)


def _called_from_forkserver_main() -> bool:
    """True when ``multiprocessing.forkserver.main`` is importing us (its preload)."""
    f: FrameType | None = sys._getframe(1)
    while f is not None:
        if f.f_code.co_name == "main" and f.f_code.co_filename.endswith("forkserver.py"):
            return True
        f = f.f_back
    return False


if in_forkserver():  # the one intended side effect, confined to the forkserver process
    sys.excepthook = quiet_excepthook
