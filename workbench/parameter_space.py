"""Old import path of :mod:`workbench.core.parameter_space` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.core import parameter_space as _new

sys.modules[__name__] = _new
