"""Old import path of :mod:`workbench.analysis.sensitivity_plots` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.analysis import sensitivity_plots as _new

sys.modules[__name__] = _new
