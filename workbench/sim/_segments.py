"""Integration plans: dose events and the segments a run integrates between them.

Pure data (no libRoadRunner): :meth:`workbench.sim._engine.Engine.integrate` executes
a :class:`SegmentPlan`; :class:`workbench.sim._batch.BatchRunner` builds one per batch
(one row for :func:`workbench.simulate`) and reuses it for every sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workbench.errors import SimulationError

__all__ = ["DoseEvent", "SegmentPlan"]


@dataclass(frozen=True)
class DoseEvent:
    """A change applied at ``time`` (model units): add ``amount`` to ``target``
    (bolus) or add ``rate`` to its infusion input (negative to stop)."""

    time: float
    target: str
    amount: float = 0.0
    rate: float = 0.0

@dataclass(frozen=True)
class _Segment:
    doses: tuple[DoseEvent, ...]     # applied at the segment start
    sim_times: list[float]            # one element: a snapshot, no integration
    keep: np.ndarray                 # rows of the segment's result that are output rows
    keep_all: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "keep_all", bool(np.all(self.keep)))


@dataclass(frozen=True)
class SegmentPlan:
    """The integration segments of a run for fixed times and doses, planned once
    (:class:`workbench.sim._batch.BatchRunner` reuses one plan for every sample)."""

    segments: tuple[_Segment, ...]
    end_doses: tuple[DoseEvent, ...]  # doses exactly at the last time point
    predose: bool
    times: np.ndarray = field(default_factory=lambda: np.empty(0), compare=False)  # output times

    @classmethod
    def build(cls, times: np.ndarray, doses: list[DoseEvent], predose: bool) -> SegmentPlan:
        """Segments for sorted output ``times`` and dose events (model units).

        A segment runs from one dose time to the next; the state at a dose time
        is the state after the dose; with ``predose`` a dose time that is an
        output time also keeps the state just before the dose.
        """
        times = np.asarray(times, dtype=float)
        t0, tend = float(times[0]), float(times[-1])
        if not doses:
            return cls((_Segment((), times.tolist(), np.ones(len(times), bool)),), (), predose,
                       times)
        by_time: dict[float, list[DoseEvent]] = {}
        for d in doses:
            if d.time < t0 - 1e-12:
                raise SimulationError(f"a dose at t={d.time:g} comes before the simulation start "
                                      f"t={t0:g}", element=d.target, fix="start the simulation at "
                                      "or before the first dose")
            if d.time <= tend:
                by_time.setdefault(float(d.time), []).append(d)
        bounds = [*sorted(t for t in by_time if t0 < t < tend), tend]
        seg_all = set(times.tolist())
        segs = []
        t = t0
        for b in bounds:
            mask = (times >= t) & ((times < b) | (b == tend))
            seg = times[mask]
            sim_t = [t, *[x for x in seg.tolist() if x > t]]
            if sim_t[-1] < b:
                sim_t.append(b)
            keep = np.isin(np.asarray(sim_t), seg)
            if predose and b != tend and b in seg_all:
                keep[-1] = True
            segs.append(_Segment(tuple(by_time.get(t, [])), sim_t, keep))
            t = b
        end = tuple(by_time[tend]) if tend in by_time and tend > t0 else ()
        return cls(tuple(segs), end, predose, times)
