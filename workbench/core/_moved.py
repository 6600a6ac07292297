"""Names that moved to another module stay importable from their old home for one release.

A module whose function moved (for example a figure that went to its subpackage's
``plots`` module) sets ``__getattr__ = moved_names(__name__, {...})`` (PEP 562). The
old name then resolves on first use, with a :class:`DeprecationWarning` naming the new
home. The new module is imported by name only when an old name is used, so the old home
does not depend on it: figures depend on results, never the reverse.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping

__all__ = ["moved_names"]


def moved_names(home: str, names: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``home`` resolving each old name to its new place.

    Parameters
    ----------
    home
        The old module's ``__name__``.
    names
        Old name -> ``"new.module.attribute"``.

    Returns
    -------
    The function to bind as the old module's ``__getattr__``; other names raise
    :class:`AttributeError` as usual.
    """
    table = dict(names)

    def __getattr__(name: str) -> object:
        try:
            target = table[name]
        except KeyError:
            raise AttributeError(f"module {home!r} has no attribute {name!r}") from None
        module, attr = target.rsplit(".", 1)
        warnings.warn(f"{home}.{name} moved to {target}; the old name goes in the next release",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), attr)

    return __getattr__
