"""Old import path of :mod:`workbench.study.data` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.study import data as _new

sys.modules[__name__] = _new
