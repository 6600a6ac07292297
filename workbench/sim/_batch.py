"""Rows of runs: the same ids set, times, outputs and doses, many value rows.

:class:`BatchRunner` compiles what is fixed for a batch once (the
:class:`~workbench.sim._model_index.Assignment` of the ids, the
:class:`~workbench.sim._segments.SegmentPlan` of the doses) and runs each row through
:meth:`workbench.sim._engine.Engine.run_row`. :func:`workbench.simulate` is a batch
of one row, and every sample of :func:`workbench.run_ensemble` a row of a batch,
so a single simulation and an ensemble row run the same code and agree exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench.sim._engine import DoseEvent, Engine, IntegratorSettings, SegmentPlan, engine_for

__all__ = ["BatchRunner", "get_batch_engine"]

#: former name of :func:`workbench.sim._engine.engine_for` (the one engine cache)
get_batch_engine = engine_for


class BatchRunner:
    """Runs rows of values on one :class:`~workbench.sim._engine.Engine`.

    Parameters
    ----------
    engine
        The engine (usually :func:`~workbench.sim._engine.engine_for`).
    ids
        Ids set by each row, in the order of its values.
    times, outputs, doses, predose
        Output times (sorted), output names, dose events and whether a dose time
        keeps the state just before the dose, as for :meth:`Engine.run`.

    Raises
    ------
    UnknownIdError, SpecError
        An id cannot be set, or an output is not in the model.
    """

    def __init__(self, engine: Engine, ids: Sequence[str], times: np.ndarray,
                 outputs: Sequence[str], doses: Sequence[DoseEvent], predose: bool) -> None:
        self.engine = engine
        self.ids = list(ids)
        self.outputs = tuple(outputs)
        self.assignment = engine.assignment(tuple(self.ids))
        for o in self.outputs:
            engine.selection(o)  # UnknownIdError now, not at the first row
        self.plan = SegmentPlan.build(np.asarray(times, float), list(doses), predose)

    def run(self, values: np.ndarray, settings: IntegratorSettings | None = None,
            dose_scale: float = 1.0, check_finite: bool = True) -> np.ndarray:
        """One row (values in the order of ``ids``; every dose times ``dose_scale``)
        -> array (rows, 1 + len(outputs)).

        Raises
        ------
        SimulationError
            The solver failed, a value is not finite, or the result is not finite.
        """
        return self.engine.run_row(self.assignment, values, self.plan, self.outputs, settings,
                                   dose_scale, check_finite)
