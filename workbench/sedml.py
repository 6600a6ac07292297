"""Old import path of :mod:`workbench.exchange.sedml` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.exchange import sedml as _new

sys.modules[__name__] = _new
