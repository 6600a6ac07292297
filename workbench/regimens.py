"""Old import path of :mod:`workbench.analysis.regimens` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.analysis import regimens as _new

sys.modules[__name__] = _new
