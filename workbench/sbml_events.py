"""Old import path of :mod:`workbench.exchange.events` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.exchange import events as _new

sys.modules[__name__] = _new
