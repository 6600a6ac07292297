"""Old import path of :mod:`workbench.calibrate.plots` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.calibrate import plots as _new

sys.modules[__name__] = _new
