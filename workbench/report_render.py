"""Old import path of :mod:`workbench.report.render` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.report import render as _new

sys.modules[__name__] = _new
