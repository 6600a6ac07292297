"""Old import path of :mod:`workbench.mabel.ladder` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.mabel import ladder as _new

sys.modules[__name__] = _new
