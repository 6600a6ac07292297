"""Old import path of :mod:`workbench.mabel.population` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.mabel import population as _new

sys.modules[__name__] = _new
