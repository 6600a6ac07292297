"""Old import path of :mod:`workbench.calibrate.observations` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.calibrate import observations as _new

sys.modules[__name__] = _new
