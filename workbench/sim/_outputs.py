"""Output names: the one reader of ``S``, ``[S]`` and ``amount(S)``.

Every place that turns an output name into something (a libRoadRunner
selection, a unit, a SED-ML variable, a check that the id exists) reads it
here, so the grammar has one definition:

=============  ===========================================================
``S``          the species as its SBML symbol means it: a concentration,
               or an amount when the species has only substance units
``[S]``        the concentration of species ``S``
``amount(S)``  the amount of species ``S``
``X``          any other id: its value (parameter, compartment, reaction
               rate, species reference stoichiometry), or ``time``
=============  ===========================================================
"""

from __future__ import annotations

from typing import Literal, NamedTuple

__all__ = ["OutputName", "parse_output"]

Form = Literal["symbol", "concentration", "amount"]


class OutputName(NamedTuple):
    """A parsed output name: ``form`` and the element ``id`` it reads.

    ``form`` is ``"concentration"`` for ``[S]``, ``"amount"`` for ``amount(S)``
    and ``"symbol"`` otherwise (the id as the model means it). Only the
    bracket forms say the id is a species; whether it is one is for the caller
    to check against the model.
    """

    form: Form
    id: str


def parse_output(text: str) -> OutputName:
    """Read an output name (module docstring); surrounding blanks are ignored.

    >>> parse_output("[Drug]")
    OutputName(form='concentration', id='Drug')
    >>> parse_output(" amount(Drug) ")
    OutputName(form='amount', id='Drug')
    >>> parse_output("RO")
    OutputName(form='symbol', id='RO')
    """
    o = str(text).strip()
    if len(o) > 2 and o.startswith("[") and o.endswith("]"):
        return OutputName("concentration", o[1:-1].strip())
    if len(o) > 8 and o.startswith("amount(") and o.endswith(")"):
        return OutputName("amount", o[7:-1].strip())
    return OutputName("symbol", o)
