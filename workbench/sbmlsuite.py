"""Old import path of :mod:`workbench.testing.sbmlsuite` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.testing import sbmlsuite as _new

sys.modules[__name__] = _new
