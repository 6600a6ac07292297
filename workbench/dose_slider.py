"""Old import path of :mod:`workbench.mabel.dose_slider` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.mabel import dose_slider as _new

sys.modules[__name__] = _new
