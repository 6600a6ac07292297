"""Simulation: the engine, single runs, ensembles and the metrics of runs.

``_engine`` is the only module that talks to libRoadRunner; ``_model_index`` and
``_batch`` compile what is set and read once; ``simulate`` is an ensemble of one row;
``ensemble`` runs many rows (``_backends``) through an executor (``executors``: this
process, the kept process pool or a Dask cluster; calibration uses the same ones);
``metric_spec``/``metrics`` compute Cmax, AUC and the metric language; ``convergence``
checks every path against tighter tolerances.
"""
