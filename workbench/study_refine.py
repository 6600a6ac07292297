"""Old import path of :mod:`workbench.study.refine` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.study import refine as _new

sys.modules[__name__] = _new
