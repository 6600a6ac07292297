"""The study: the study file (``schema``), the pipeline that runs it (``pipeline``:
``run_mabel``), its calibration and validation data, refinement with a first cohort, and the
retrospective benchmark on molecules whose clinical outcome is known.
"""

# The names of the old flat module ``workbench.study``, kept for one release.
from workbench.study.schema import (
    REQUIRED_ANALYSES,
    RISK_MATRIX,
    Study,
    lint_study,
    read_study,
    risk_level,
)

__all__ = [
    "REQUIRED_ANALYSES",
    "RISK_MATRIX",
    "Study",
    "lint_study",
    "read_study",
    "risk_level",
]
