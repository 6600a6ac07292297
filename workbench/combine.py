"""Old import path of :mod:`workbench.exchange.combine` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.exchange import combine as _new

sys.modules[__name__] = _new
