"""Old import path of :mod:`workbench.core.priors` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.core import priors as _new

sys.modules[__name__] = _new
