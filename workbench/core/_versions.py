"""Versions: the workbench's own and those of the software a result was made with.

Every record the workbench writes (calibration summary, exchange package,
report) names the versions that produced it. They live here, below every
writer, so no module imports the package root (``workbench/__init__``, which
imports everything) to learn its version.
"""

from __future__ import annotations

import platform
from importlib import metadata

import pandas as pd

from workbench import columns as C

__all__ = ["__version__", "software_versions", "software_versions_table"]

__version__ = "0.1.0"

_PACKAGES = (("workbench", "workbench"), ("libRoadRunner", "libroadrunner"),
             ("libSBML", "python-libsbml"), ("Antimony", "antimony"), ("SALib", "SALib"),
             ("NumPy", "numpy"), ("pandas", "pandas"), ("SciPy", "scipy"), ("pint", "pint"),
             ("libSEDML", "python-libsedml"), ("libCOMBINE", "python-libcombine"),
             ("tellurium", "tellurium"), ("openpyxl", "openpyxl"))


def software_versions() -> dict[str, str]:
    """Versions of the workbench, its libraries (numerical, figures, study files), Python
    and the platform."""
    out = {}
    for label, dist in (*_PACKAGES, ("matplotlib", "matplotlib"), ("PyYAML", "PyYAML")):
        if dist == "workbench":
            out[label] = __version__
            continue
        try:
            out[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[label] = "not installed"
    out["Python"] = platform.python_version()
    out["platform"] = platform.platform()
    return out


def software_versions_table() -> pd.DataFrame:
    """:func:`software_versions` as a table: columns ``name, value``."""
    return pd.DataFrame(list(software_versions().items()), columns=[C.NAME, C.VALUE])
