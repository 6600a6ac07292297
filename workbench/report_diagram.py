"""Old import path of :mod:`workbench.report.diagram` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.report import diagram as _new

sys.modules[__name__] = _new
