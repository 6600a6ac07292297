"""Old import path of :mod:`workbench.core.model_gate` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.core import model_gate as _new

sys.modules[__name__] = _new
