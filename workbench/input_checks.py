"""Old import path of :mod:`workbench.core.input_checks` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.core import input_checks as _new

sys.modules[__name__] = _new
