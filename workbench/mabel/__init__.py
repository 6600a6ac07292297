"""MABEL: traditional estimates (``traditional``), the QSP MABEL (``qsp``) alone and in a
virtual population, the dose decision, its escalation ladder, step-up regimens and the
analyses that inform the decision.
"""

# The names of the old flat module ``workbench.mabel``, kept for one release.
from workbench.mabel.traditional import (
    KM_FACTORS,
    HumanEquivalentDose,
    Quantity,
    activity_concentration,
    animal_to_human_dose,
    concentration_for_occupancy,
    concentration_to_dose,
    css_infusion,
    dose_to_concentration,
    hed_from_noael,
    occupancy,
    receptor_concentration,
)

__all__ = [
    "KM_FACTORS",
    "HumanEquivalentDose",
    "Quantity",
    "activity_concentration",
    "animal_to_human_dose",
    "concentration_for_occupancy",
    "concentration_to_dose",
    "css_infusion",
    "dose_to_concentration",
    "hed_from_noael",
    "occupancy",
    "receptor_concentration",
]
