"""Old import path of :mod:`workbench.mabel.stepup` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.mabel import stepup as _new

sys.modules[__name__] = _new
