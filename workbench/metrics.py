"""Old import path of :mod:`workbench.sim.metrics` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.sim import metrics as _new

sys.modules[__name__] = _new
