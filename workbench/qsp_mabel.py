"""Old import path of :mod:`workbench.mabel.qsp` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.mabel import qsp as _new

sys.modules[__name__] = _new
