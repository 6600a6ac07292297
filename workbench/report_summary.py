"""Old import path of :mod:`workbench.report.summary` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.report import summary as _new

sys.modules[__name__] = _new
