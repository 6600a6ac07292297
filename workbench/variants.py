"""Old import path of :mod:`workbench.analysis.variants` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.analysis import variants as _new

sys.modules[__name__] = _new
