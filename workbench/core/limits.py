"""Resource limits on inputs: each stated in the error that enforces it, each adjustable.

A hostile or careless input (a 400 MB archive entry in a 0.4 MB file, a regimen of
ten million administrations, a YAML alias bomb, a kinetic law nested 10,000
levels deep) must be refused quickly with a message, not exhaust memory, hang or
crash the process. Every cap lives here, with its default and why.

Each limit can be raised (or lowered) without editing code:

* on the command line, ``workbench --limit NAME=VALUE ...`` (repeatable), or
* in the environment, ``WORKBENCH_LIMIT_<NAME>=VALUE`` (``NAME`` upper-case), which
  worker processes inherit.

:data:`LIMITS` is the table; :func:`describe` prints it with the values in force
(``python -c "import workbench.core.limits as L; print(L.describe())"``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from workbench.errors import WorkbenchError

__all__ = ["LIMITS", "Limit", "check_limit", "describe", "limit", "limit_hint", "set_limit"]

_ENV = "WORKBENCH_LIMIT_"


@dataclass(frozen=True)
class Limit:
    """One cap: its name, default and what it counts (with the reason for the default)."""

    name: str
    default: int
    counts: str
    why: str


#: every limit by name
LIMITS: dict[str, Limit] = {lim.name: lim for lim in (
    Limit("file_bytes", 200 * 1024 * 1024, "bytes read from one input file, and bytes inflated "
          "from one archive", "the largest published SBML models are a few MB"),
    Limit("archive_bytes", 1024 * 1024 * 1024, "bytes one COMBINE archive inflates to "
          "(all entries, as declared)", "a 0.4 MB zip can declare 400 MB of zeros"),
    Limit("archive_entries", 10_000, "entries in one COMBINE archive (.omex)",
          "real archives hold tens of files"),
    Limit("xml_depth", 256, "nesting depth of XML elements in a model (MathML included)",
          "libSBML and libRoadRunner recurse once per level and crash the process (stack "
          "overflow) between 500 and 6,000 levels, depending on the thread's stack; published "
          "models nest at most about 20 levels"),
    Limit("administrations", 100_000, "administrations in one regimen",
          "daily dosing for 270 years; every administration is a solver restart"),
    Limit("output_points", 1_000_000, "output time points of one simulation",
          "one million rows per output column already take tens of MB"),
    Limit("table_rows", 1_000_000, "data rows of one input table (CSV/XLSX)",
          "parameter, provenance and data tables hold hundreds of rows"),
    Limit("population", 1_000_000, "virtual subjects in one population",
          "each subject is one or more simulations"),
    Limit("yaml_bytes", 10 * 1024 * 1024, "bytes of one YAML study or problem file",
          "study files are a few kB"),
    Limit("yaml_aliases", 1_000, "aliases (*name) in one YAML document",
          "study files need few or none"),
    Limit("yaml_nodes", 1_000_000, "values in one YAML document after expanding its aliases",
          "a 'billion laughs' alias bomb expands a few hundred bytes into 10^9 values"),
)}


def limit(name: str) -> int:
    """The value of limit ``name``: ``WORKBENCH_LIMIT_<NAME>`` when set, else the default."""
    lim = LIMITS[name]
    raw = os.environ.get(_ENV + name.upper())
    if raw is None or not raw.strip():
        return lim.default
    try:
        value = int(float(raw))
    except ValueError:
        raise WorkbenchError(f"{_ENV}{name.upper()}={raw!r} is not a number",
                             element=_ENV + name.upper(),
                             fix=f"set a whole number (default {lim.default})") from None
    if value < 1:
        raise WorkbenchError(f"{_ENV}{name.upper()}={raw!r} must be at least 1",
                             element=_ENV + name.upper())
    return value


def set_limit(text: str) -> None:
    """Apply ``NAME=VALUE`` (the CLI's ``--limit``) for this process and its children."""
    name, sep, value = text.partition("=")
    name = name.strip().lower().replace("-", "_")
    if not sep or name not in LIMITS:
        raise WorkbenchError(f"--limit {text!r}: expected NAME=VALUE with NAME one of "
                             + ", ".join(LIMITS), element="--limit")
    os.environ[_ENV + name.upper()] = value.strip()
    limit(name)  # validate now, not at first use


def limit_hint(name: str) -> str:
    """How to change limit ``name`` (for the ``fix`` of an error)."""
    return (f"if the input is genuine, raise the limit with `workbench --limit {name}=N ...` "
            f"or the environment variable {_ENV}{name.upper()}=N (now {limit(name):,})")


def check_limit(name: str, value: float, what: str, *, source: str | None = None,
                element: str | None = None, error: type[WorkbenchError] = WorkbenchError) -> None:
    """Raise ``error`` naming the limit when ``value`` exceeds limit ``name``."""
    cap = limit(name)
    if value > cap:
        raise error(f"{what} ({value:,.0f}) exceeds the limit of {cap:,} {LIMITS[name].counts} "
                    f"(limit '{name}')", source=source, element=element or name,
                    fix=limit_hint(name))


def describe() -> str:
    """The limits as a plain-text table (name, value now, default, what, why)."""
    rows = [f"{'name':17} {'value':>12} {'default':>12}  counts (why)"]
    for lim in LIMITS.values():
        rows.append(f"{lim.name:17} {limit(lim.name):>12,} {lim.default:>12,}  {lim.counts} "
                    f"({lim.why})")
    return "\n".join(rows)
