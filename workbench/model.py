"""Old import path of :mod:`workbench.core.model` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.core import model as _new

sys.modules[__name__] = _new
