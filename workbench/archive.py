"""Old import path of :mod:`workbench.core.archive` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.core import archive as _new

sys.modules[__name__] = _new
