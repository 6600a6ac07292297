"""One error hierarchy for the workbench.

Every class derives from :class:`WorkbenchError` and also from the built-in
exception a caller would expect (``ValueError`` for bad input, ``RuntimeError``
for solver failures, ...), so ``except ValueError`` keeps working. Errors keep
structured fields (``source``, ``element``, ``fix``) and survive pickling, so
they cross process boundaries of the ensemble engine unchanged (the pattern of
pint's ``errors.py``).

The message of every error is one readable paragraph: what is wrong, where
(file and element), and how to fix it. The CLI prints it without a traceback.
"""

from __future__ import annotations

__all__ = [
    "CalibrationError",
    "DoseError",
    "InputFileError",
    "MissingDependencyError",
    "ModelCheckError",
    "ModelLoadError",
    "PetabVersionError",
    "ProvenanceError",
    "SimulationError",
    "SpecError",
    "UnitError",
    "UnknownIdError",
    "UnsupportedFeatureError",
    "WorkbenchError",
]


class WorkbenchError(Exception):
    """Base class of every error raised by the workbench.

    Parameters
    ----------
    message
        What is wrong, in one sentence or two.
    source
        The file (or ``"<string>"``) the problem is in, when there is one.
    element
        The model element, table column or option concerned, when there is one.
    fix
        How to fix it, when known.
    """

    #: exit code the CLI uses for this error (1: bad content, 2: unreadable input)
    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        element: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.element = element
        self.fix = fix
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = []
        if self.source:
            parts.append(f"{self.source}:")
        if self.element:
            parts.append(f"[{self.element}]")
        parts.append(self.message.rstrip())
        text = " ".join(parts)
        if self.fix:
            text = text.rstrip(".") + ". Fix: " + self.fix.rstrip(".") + "."
        return text

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self._compose()

    def __reduce__(self):  # keyword-only fields survive pickling
        return (_rebuild, (type(self), self.message, self.source, self.element, self.fix))


def _rebuild(cls, message, source, element, fix):
    return cls(message, source=source, element=element, fix=fix)


class InputFileError(WorkbenchError, OSError):
    """A file is missing, empty, unreadable or not of the expected kind."""

    exit_code = 2


class ModelLoadError(WorkbenchError, ValueError):
    """A model cannot be read: malformed XML, invalid Antimony, not SBML."""

    exit_code = 2


class ModelCheckError(WorkbenchError, ValueError):
    """A model is readable but cannot be simulated as written: duplicate ids, undefined
    symbols, a read parameter without a value, a NaN value, a compartment of size <= 0.

    ``findings`` (when set) holds the gate's findings
    (:class:`workbench.core.model_gate.GateFinding`).
    """

    # ``object``: the errors module sits below model_gate and may not import it, even for typing
    findings: tuple[object, ...] = ()


class UnsupportedFeatureError(WorkbenchError, NotImplementedError):
    """The model uses a feature the simulator does not support.

    The message starts with ``unsupported: <feature>``.
    """

    def __init__(self, feature: str, *, source: str | None = None,
                 element: str | None = None, fix: str | None = None,
                 detail: str | None = None) -> None:
        self.feature = feature
        msg = f"unsupported: {feature}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg, source=source, element=element, fix=fix)

    def __reduce__(self):
        return (_rebuild_unsupported,
                (self.feature, self.source, self.element, self.fix, self.message))


def _rebuild_unsupported(feature, source, element, fix, message):
    err = UnsupportedFeatureError(feature, source=source, element=element, fix=fix)
    err.message = message
    err.args = (err._compose(),)
    return err


class UnknownIdError(WorkbenchError, LookupError):
    """An id (output, parameter, species) does not exist in the model."""


class UnitError(WorkbenchError, ValueError):
    """A unit cannot be parsed, or two quantities have incompatible units."""


class DoseError(WorkbenchError, ValueError):
    """A dose or regimen is invalid (text that does not parse, negative amount, ...)."""


class SimulationError(WorkbenchError, RuntimeError):
    """The ODE solver failed or produced non-finite values."""


class SpecError(WorkbenchError, ValueError):
    """An analysis specification is invalid: a metric text, a parameter-space table,
    sensitivity or ensemble settings."""


class ProvenanceError(WorkbenchError, ValueError):
    """A provenance table is invalid; the message lists every finding at once.

    ``findings`` (when set) is the lint table, columns
    :data:`workbench.columns.PROVENANCE_LINT_COLUMNS`.
    """

    findings = None


class CalibrationError(WorkbenchError, ValueError):
    """A calibration problem (PEtab) or a data table is invalid; the message lists every
    finding at once, and no fit is run.

    ``findings`` (when set) is the findings table, columns
    :data:`workbench.columns.CALIBRATION_LINT_COLUMNS`.
    """

    findings = None


class PetabVersionError(CalibrationError):
    """The installed ``petab`` library cannot read this PEtab format version (PEtab v2
    needs petab >= 0.10, hence Python >= 3.12): the environment, not the problem, is
    at fault (exit code 2)."""

    exit_code = 2


class MissingDependencyError(WorkbenchError, RuntimeError):
    """A program or system library the workbench needs is missing from this machine (e.g.
    the pango library WeasyPrint renders the PDF report with)."""

    exit_code = 2
