"""Old import path of :mod:`workbench.calibrate.petab_objective` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.calibrate import petab_objective as _new

sys.modules[__name__] = _new
