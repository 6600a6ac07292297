"""Old import path of :mod:`workbench.exchange.sbml` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.exchange import sbml as _new

sys.modules[__name__] = _new
