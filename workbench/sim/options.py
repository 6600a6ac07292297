"""The time grid and the run options of a simulation, as value objects, and the adapter
from the older keywords.

:class:`TimeGrid` (start, end, points or explicit times) is the input of the one grid
builder (:func:`workbench.sim._timegrid.time_grid`); :class:`RunOptions` holds where and
how runs happen (integrator settings, workers, backend, scheduler, chunk size, progress).
With :class:`workbench.core.options.Dosing` they are the bundles every analysis repeats
(:mod:`workbench.core.options`). :func:`bundles` turns the older keywords of an analysis
(``end=``, ``points=``, ``workers=``, ``mw=`` ...) into the same objects, so both ways of
calling give the same results, and refuses a bundle given together with one of its keywords.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from workbench.core.options import CliFlag, Dosing, check_choice, cli
from workbench.errors import SpecError
from workbench.sim._engine import IntegratorSettings
from workbench.sim._timegrid import TimeGrid

__all__ = ["BACKENDS", "RunOptions", "TimeGrid", "bundles"]

#: where ensembles run (:func:`workbench.run_ensemble`)
BACKENDS = ("processes", "dask")


@dataclass(frozen=True)
class RunOptions:
    """Where and how the runs of an analysis happen.

    Attributes
    ----------
    integrator
        Solver settings (:class:`~workbench.IntegratorSettings`); None: the defaults.
    workers
        Processes; None: every core (ensembles) or the analysis's default.
    backend
        ``"processes"`` (a local pool) or ``"dask"``.
    scheduler
        Address of a running Dask scheduler or a ``distributed.Client``.
    chunk_size
        Samples per task; None: automatic.
    progress
        Show a progress bar; None: when stderr is a terminal.

    Raises
    ------
    SpecError
        Tolerances that are not positive (relative below 1), workers or chunk size below 1,
        an unknown backend.
    """

    integrator: IntegratorSettings | None = field(default=None, metadata=cli(
        CliFlag("--rtol", "relative tolerance; see README, Numerical accuracy", type=float,
                default=1e-11, none="the engine's"),
        CliFlag("--atol", "absolute tolerance", type=float, default=1e-12, none="the engine's")))
    workers: int | None = field(default=None, metadata=cli(
        CliFlag("--workers", "processes", type=int, none="every core")))
    backend: str = field(default="processes", metadata=cli(
        CliFlag("--backend", "where ensembles run", choices=BACKENDS,
                default="processes")))
    scheduler: Any = field(default=None, metadata=cli(
        CliFlag("--scheduler", "Dask scheduler address, e.g. tcp://host:8786 (default with "
                "--backend dask: a local cluster)")))
    chunk_size: int | None = field(default=None, metadata=cli(
        CliFlag("--chunk-size", "samples per task (default: automatic)", type=int)))
    progress: bool | None = field(default=None, metadata=cli(
        CliFlag("--no-progress", "no progress bar", action="store_false", dest="progress")))

    def __post_init__(self) -> None:
        if self.integrator is not None and not isinstance(self.integrator, IntegratorSettings):
            raise SpecError(f"integrator must be IntegratorSettings, got "
                            f"{type(self.integrator).__name__}", element="RunOptions.integrator",
                            fix="pass workbench.IntegratorSettings(relative_tolerance=1e-8, ...)")
        from workbench.core.input_checks import check_integrator

        check_integrator(self.integrator)
        for name, what in (("workers", "number of processes"), ("chunk_size", "samples per task")):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise SpecError(f"{name} ({what}) must be a whole number >= 1, got {v!r}",
                                element=f"RunOptions.{name}",
                                fix="leave it out (automatic) or give a whole number >= 1")
            object.__setattr__(self, name, int(v))
        check_choice(self.backend, BACKENDS, "RunOptions.backend", "use 'processes' or 'dask'")
        if self.progress is not None and not isinstance(self.progress, bool):
            raise SpecError(f"progress must be True, False or None, got {self.progress!r}",
                            element="RunOptions.progress", fix="use True, False or None")


#: the older keywords of each bundle
DOSING_KEYS = ("target", "mw", "subject", "route", "dose_unit")
GRID_KEYS = ("start", "end", "points", "times")
RUN_KEYS = ("integrator", "workers", "backend", "scheduler", "chunk_size", "progress")


def _build(cls, key, obj, legacy, allowed, defaults, func):
    keys = [k for k in allowed if k in legacy]
    if obj is not None:
        if keys:
            raise SpecError(f"{func}: give {key}= or its keywords ({', '.join(keys)}), not both",
                            element=key, fix=f"put {', '.join(keys)} into the {cls.__name__} "
                                             f"passed as {key}=, or leave {key}= out")
        if not isinstance(obj, cls):
            raise SpecError(f"{func}: {key}= must be a {cls.__name__}, got {type(obj).__name__}",
                            element=key, fix=f"pass workbench.{cls.__name__}(...)")
        return obj
    kw = {**{k: v for k, v in defaults.items() if k in allowed}, **{k: legacy[k] for k in keys}}
    return cls(**kw)


def bundles(func: str, legacy: Mapping[str, Any], *, dosing: Dosing | None = None,
            grid: TimeGrid | None = None, run: RunOptions | None = None,
            allowed: Sequence[str] = DOSING_KEYS + GRID_KEYS + RUN_KEYS,
            defaults: Mapping[str, Any] | None = None) -> tuple[Dosing, TimeGrid, RunOptions]:
    """The three bundles of a call: the objects given, or built from the older keywords.

    Parameters
    ----------
    func
        Name of the analysis, for messages.
    legacy
        The older keywords the caller passed (``**kwargs`` of the analysis).
    dosing, grid, run
        The bundles passed as objects (None: built from ``legacy`` and ``defaults``).
    allowed
        The older keywords this analysis takes; any other raises :class:`TypeError`, as
        for an unknown keyword.
    defaults
        The analysis's own defaults of older keywords (``workers=1``, ``end="672 h"``).

    Raises
    ------
    TypeError
        A keyword the analysis does not take.
    SpecError
        A bundle given together with one of its keywords; a bundle of the wrong type; a
        bad value (named by its field).
    """
    unknown = [k for k in legacy if k not in allowed]
    if unknown:
        raise TypeError(f"{func}() got an unexpected keyword argument {unknown[0]!r}")
    defaults = defaults or {}
    return (_build(Dosing, "dosing", dosing, legacy,
                   [k for k in DOSING_KEYS if k in allowed], defaults, func),
            _build(TimeGrid, "grid", grid, legacy,
                   [k for k in GRID_KEYS if k in allowed], defaults, func),
            _build(RunOptions, "run", run, legacy,
                   [k for k in RUN_KEYS if k in allowed], defaults, func))
