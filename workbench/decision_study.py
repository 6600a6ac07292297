"""Old import path of :mod:`workbench.mabel.decision_study` (the flat layout), kept for one release."""
# shim: old import path
import sys

from workbench.mabel import decision_study as _new

sys.modules[__name__] = _new
