"""Old import path of :mod:`workbench.sim.simulate` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.sim import simulate as _new

sys.modules[__name__] = _new
