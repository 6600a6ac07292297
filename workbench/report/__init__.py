"""The dossier: render a :class:`workbench.study.pipeline.MabelRun` as HTML (interactive) and
PDF (printed from the same HTML), with the decision summary first.
"""

# The names of the old flat module ``workbench.report``, kept for one release.
from workbench.report.render import write_report
from workbench.study.pipeline import (
    BASE_VARIANT,
    BUNDLED_STUDY,
    MabelRun,
    mabel_stages,
    run_mabel,
    software_versions,
)

__all__ = [
    "BASE_VARIANT",
    "BUNDLED_STUDY",
    "MabelRun",
    "mabel_stages",
    "run_mabel",
    "software_versions",
    "write_report",
]
