"""Atomic file output: write to a temporary file beside the target, then rename.

A crash or Ctrl-C never leaves a half-written output file. The file gets the
permissions of an ordinary new file (0666 minus the user's umask), not the
0600 of the temporary file. A target that is a symbolic link is written
*through*: the link stays and the file it points to is replaced (deliberately:
a link to a shared results folder keeps working). A target that is a special
file (device such as ``/dev/stdout``, named pipe, socket) or a directory is
refused with :class:`~workbench.errors.InputFileError` (exit 2): renaming onto
it would replace the device node or pipe.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "checked_target"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def checked_target(path: str | os.PathLike[str]) -> Path:
    """The file an output to ``path`` replaces: symbolic links resolved; special files and
    directories refused (:class:`~workbench.errors.InputFileError`)."""
    from workbench.errors import InputFileError

    target = Path(path)
    if target.exists():  # following links: what a write would reach
        mode = target.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputFileError("the output is a directory", source=str(path), element="output",
                                 fix="give a file name (e.g. DIR/result.csv)")
        if not stat.S_ISREG(mode):
            raise InputFileError("the output is a special file (device, pipe or socket); "
                                 "workbench writes regular files only", source=str(path),
                                 element="output", fix="give a regular file name; to see the "
                                 "table on screen, leave out -o")
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputFileError(f"the folder {parent} of the output is a file",
                                     source=str(path), element="output",
                                     fix="give a path whose folders are folders")
            break
    if target.is_symlink():
        target = target.resolve()
    return target


def atomic_write(path: str | os.PathLike[str], writer: Callable[[str], object]) -> None:
    """Call ``writer(tmp_path)`` then move the temporary file onto ``path`` (module docstring:
    permissions, links, special files)."""
    target = checked_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))
