"""Old import path of :mod:`workbench.analysis.population` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.analysis import population as _new

sys.modules[__name__] = _new
