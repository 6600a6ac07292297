"""Old import path of :mod:`workbench.sim.ensemble` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.sim import ensemble as _new

sys.modules[__name__] = _new
