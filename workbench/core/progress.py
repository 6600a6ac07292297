"""Stage progress of the long verbs (mabel, sensitivity, uncertainty, population, calibrate).

Library code announces stages through :class:`Stages`; it never prints. The
announcement goes to the ``workbench.progress`` logger, which the CLI
(:func:`enable_stage_lines`) sends to stderr as one line per stage,
``[3/12] sensitivity ...``, the form a log file or CI keeps. On a terminal the
CLI also draws a tqdm bar over the stages (the ensembles' own bars appear under
it), so minutes of computing are never silent.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Stages"]


class _Bar(Protocol):
    """The part of a tqdm bar :class:`Stages` uses."""

    total: float
    n: float

    def update(self, n: float = 1) -> object: ...

    def set_description_str(self, desc: str | None = None, refresh: bool = True) -> None: ...

    def close(self) -> None: ...

log = logging.getLogger("workbench.progress")


@dataclass
class Stages:
    """Announce numbered stages: ``with Stages(["a", "b"], "mabel") as st: st.next("a")``.

    ``bar`` (default: when stderr is a terminal and stage lines are enabled) also draws a
    tqdm bar over the stages.
    """

    names: list[str]
    verb: str = ""
    bar: bool | None = None
    _k: int = 0
    _t0: float = field(default_factory=time.perf_counter)
    _tqdm: _Bar | None = None

    def __enter__(self) -> Stages:
        on = self.bar if self.bar is not None else (sys.stderr.isatty()
                                                    and log.isEnabledFor(logging.INFO))
        if on:
            from tqdm.auto import tqdm

            self._tqdm = tqdm(total=len(self.names), desc=self.verb or "stages", unit="stage",
                              position=0, leave=False)
        return self

    def next(self, name: str | None = None) -> None:
        """Start the next stage (``name`` replaces the planned one, e.g. with a count)."""
        if self._tqdm is not None and self._k:
            self._tqdm.update(1)
        self._k += 1
        label = name or (self.names[self._k - 1] if self._k <= len(self.names) else "")
        total = max(len(self.names), self._k)
        if self._tqdm is not None:
            self._tqdm.set_description_str(f"[{self._k}/{total}] {label}")
        log.info("[%d/%d] %s%s ...", self._k, total, f"{self.verb}: " if self.verb else "",
                 label)

    def skip(self, n: int = 1) -> None:
        """Drop ``n`` planned stages that this run does not have (the total shrinks)."""
        for _ in range(n):
            if len(self.names) > self._k:
                self.names.pop(self._k)
        if self._tqdm is not None:
            self._tqdm.total = len(self.names)

    def __exit__(self, *exc) -> None:
        if self._tqdm is not None:
            self._tqdm.update(self._tqdm.total - self._tqdm.n)
            self._tqdm.close()
        if exc[0] is None:
            log.info("%sdone in %.0f s", f"{self.verb}: " if self.verb else "",
                     time.perf_counter() - self._t0)
