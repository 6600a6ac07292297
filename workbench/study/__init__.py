"""The study: the study file (``schema``), the pipeline that runs it (``pipeline``:
``run_mabel``), its calibration and validation data, refinement with a first cohort, and the
retrospective benchmark on molecules whose clinical outcome is known.
"""
