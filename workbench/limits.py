"""Old import path of :mod:`workbench.core.limits` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.core import limits as _new

sys.modules[__name__] = _new
