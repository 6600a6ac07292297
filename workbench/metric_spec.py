"""Old import path of :mod:`workbench.sim.metric_spec` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.sim import metric_spec as _new

sys.modules[__name__] = _new
