"""Old import path of :mod:`workbench.verify.check_result` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.verify import check_result as _new

sys.modules[__name__] = _new
