"""Old import path of the sensitivity figures, now in :mod:`workbench.analysis.plots`; kept for one release."""
# shim: old import path
import sys

from workbench.analysis import plots as _new

sys.modules[__name__] = _new
