"""Old import path of :mod:`workbench.study.benchmark` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.study import benchmark as _new

sys.modules[__name__] = _new
