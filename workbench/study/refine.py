"""Refine a study with its first cohort's data and re-predict the next ladder level.

``workbench refine STUDY --data first_cohort.csv`` (Python: :func:`refine_study`)
is the model-update step of the dossier: after a cohort has been dosed, its PK/PD
(the observed-data table of :mod:`workbench.validation_data`, with an ``lloq``
column for values below the limit of quantification) updates the study's
parameter uncertainty, and the next escalation level is re-predicted with its
interval before anyone is dosed at it.

Steps:

1. The prior: ``n`` draws of the study's parameter uncertainty (the provenance
   table and ``uncertainty.params``; seed and method of the study).
2. The update: importance reweighting of the draws by the likelihood of the data
   (:func:`workbench.calibrate.observations.refine`), log-normal residual error
   ``sd_log``, observations below the limit kept through the M3 likelihood (Beal
   2001). Between-patient variability is not modelled separately here: the
   residual error absorbs it, so ``sd_log`` should cover both.
3. The next level: the first dose of the study's escalation ladder (the
   ``escalation_ladder.csv`` that ``workbench mabel`` writes) above the highest
   dose in the data, or a dose given directly; its exposure, occupancy and effect
   metrics before and after the update, with the ``level`` interval.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from workbench import columns as C
from workbench.core import units as U
from workbench.errors import CalibrationError, InputFileError, SpecError

if TYPE_CHECKING:
    from workbench.calibrate.observations import Refinement
    from workbench.study.schema import Study

__all__ = ["DEFAULT_LADDER", "StudyRefinement", "refine_study", "write_study_refinement"]

log = logging.getLogger(__name__)

#: where ``workbench mabel`` writes the ladder by default (relative to the working directory)
DEFAULT_LADDER = Path("out") / "mabel" / "escalation_ladder.csv"


@dataclass(frozen=True, eq=False)
class StudyRefinement:
    """Result of :func:`refine_study`.

    Attributes
    ----------
    refinement
        The :class:`workbench.calibrate.observations.Refinement` (weights, checks, parameters).
    next_dose, dose_unit, next_regimen
        The re-predicted level.
    highest_dose
        The highest dose in the data (study dose unit).
    basis
        Where the next level comes from (the ladder file, or given).
    prediction
        :data:`workbench.columns.DOSE_RESPONSE_UPDATE_COLUMNS` at the next level.
    """

    study: Study
    refinement: Refinement
    next_dose: float
    dose_unit: str
    next_regimen: str
    highest_dose: float
    basis: str
    prediction: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    n_prior: int = 0

    def summary(self) -> str:
        """What the update did, in one paragraph (printed by the CLI)."""
        r = self.refinement
        n_obs = len(r.prior_check.table)
        out = (f"{n_obs} observation(s), {r.n_below} below the limit of quantification "
               f"(handled by {'the M3 likelihood' if r.blq == 'm3' else 'dropping them'}); "
               f"effective sample size {r.ess:.1f} of {self.n_prior} prior draws. Next level: "
               f"{self.next_dose:.4g} {self.dose_unit} ({self.basis}), above the highest dose "
               f"in the data ({self.highest_dose:.4g} {self.dose_unit}).")
        if r.revision_needed:
            out += (f" {len(r.prior_check.outside)} observation(s) lie outside the prior "
                    "prediction band: revise the model before escalating.")
        return out


def _highest_dose(obs: pd.DataFrame, dose_unit: str) -> float:
    """The largest single administration in the data, in ``dose_unit``."""
    from workbench.core.dosing import _dose_unit_kind, parse_regimen

    kind = _dose_unit_kind(dose_unit)[1]
    best = -math.inf
    for reg in set(obs[C.REGIMEN]) - {""}:
        for d in parse_regimen(reg).doses:
            if _dose_unit_kind(d.unit)[1] != kind:
                raise CalibrationError(f"the dose {reg!r} is not in a unit like the study's "
                                       f"{dose_unit!r}", element="regimen",
                                       fix=f"write the cohort's doses in {dose_unit}")
            best = max(best, U.convert(d.amount, d.unit, dose_unit))
    if not math.isfinite(best):
        raise CalibrationError("the data name no dose (regimen column empty)", element="regimen",
                               fix="give each cohort's dose, e.g. '0.1 ug/kg iv'")
    return best


def _next_from_ladder(path: Path, highest: float, dose_unit: str) -> float:
    if not path.is_file():
        raise InputFileError("escalation ladder not found", source=str(path),
                             fix="run `workbench mabel STUDY --out out/mabel` first, or give "
                                 "--ladder PATH or --next DOSE")
    try:
        lad = pd.read_csv(path)
        doses = lad[C.DOSE].to_numpy(float)
        unit = str(lad[C.DOSE_UNIT].iloc[0])
    except Exception as exc:
        raise InputFileError(f"not an escalation ladder ({exc})", source=str(path),
                             fix="give the escalation_ladder.csv written by workbench mabel"
                             ) from None
    doses = sorted(U.convert(float(d), unit, dose_unit) for d in doses)
    above = [d for d in doses if d > highest * (1 + 1e-6)]
    if not above:
        raise CalibrationError(f"the data reach the top of the ladder ({doses[-1]:.4g} "
                               f"{dose_unit})", source=str(path), fix="give --next DOSE")
    return above[0]


def refine_study(study, data, *, ladder: str | os.PathLike[str] | None = None,
                 next_dose: str | float | None = None, n: int = 512, sd_log: float = 0.3,
                 level: float = 0.9, blq: str = "m3", seed: int | None = None,
                 workers: int | None = 1, progress: bool | None = None) -> StudyRefinement:
    """Update the study's parameter uncertainty with a cohort's data; re-predict the next level.

    Parameters
    ----------
    study
        Study file or :class:`workbench.study.schema.Study`.
    data
        Observed-data table or CSV (:func:`workbench.calibrate.observations.read_observed`).
    ladder
        ``escalation_ladder.csv`` of ``workbench mabel`` (default :data:`DEFAULT_LADDER`
        when it exists); ignored when ``next_dose`` is given.
    next_dose
        The dose to re-predict (``"0.3 ug/kg"``, or a number in the study's dose unit).
    n
        Prior draws of the study's uncertainty.
    sd_log, level, blq
        As for :func:`workbench.calibrate.observations.refine`.
    seed
        Seed of the draws and of the resampling (default: the study's uncertainty seed).

    Raises
    ------
    SpecError, InputFileError, CalibrationError
    """
    from workbench.analysis.uncertainty import build_uncertainty
    from workbench.calibrate.observations import read_observed, refine
    from workbench.core.dosing import Subject
    from workbench.core.options import Dosing
    from workbench.core.provenance import read_provenance
    from workbench.study.schema import Study, read_study
    from workbench.study.stages import study_model

    st = study if isinstance(study, Study) else read_study(study)
    drug, out, sim = st.data["drug"], st.data["outputs"], st.data["simulation"]
    unit = drug["dose_unit"]
    us = st.data["uncertainty"]
    m = study_model(st)  # with the study's model.set values (platform studies)
    prov = read_provenance(st.data["provenance"]) if st.data.get("provenance") else None
    if not (us.get("params") or (prov is not None and us.get("from_provenance", True))):
        raise SpecError("the study states no parameter uncertainty to refine",
                        source=st.path, element="uncertainty",
                        fix="give a provenance table or uncertainty.params")
    obs = read_observed(data)
    highest = _highest_dose(obs, unit)
    if next_dose is not None:
        if isinstance(next_dose, str):
            v, u = U.parse_quantity(next_dose)
            nxt, basis = v * U.factor(u, unit), "given"
        else:
            nxt, basis = float(next_dose), "given"
    else:
        path = Path(ladder) if ladder is not None else DEFAULT_LADDER
        nxt, basis = _next_from_ladder(path, highest, unit), f"next ladder level of {path}"
    if not nxt > 0:
        raise CalibrationError(f"next dose {nxt!r} must be positive", element="next_dose")
    unc = build_uncertainty(m, params=list(us.get("params") or []),
                            provenance=prov if us.get("from_provenance", True) else None)
    sd = int(us.get("seed", 0)) if seed is None else int(seed)
    prior = unc.with_model(m).sample(int(n), seed=sd, method=str(us.get("method", "lhs")))
    # the next level as a number: every dose of the schedule is nxt exactly
    reg = Dosing(route=drug["route"], dose_unit=unit).regimen(nxt, drug["schedule"] or "")
    metrics = [f"max({out['exposure']})", *([f"max({out['occupancy']})"]
                                            if out.get("occupancy") else []),
               f"max({out['effect']})"]
    metrics += [str(e["definition"]).split(">")[0].split("<")[0].strip()
                for e in st.data["effects"]]
    metrics = list(dict.fromkeys(metrics))
    ref = refine(m, obs, prior, next_regimens=[reg], metrics=metrics, sd_log=sd_log,
                 level=level, seed=sd, blq=blq, end=sim["end"], points=int(sim["points"]),
                 target=drug["species"], mw=drug["mw"],
                 subject=Subject(weight=float(drug["body_weight"])), workers=workers,
                 progress=progress)
    return StudyRefinement(st, ref, nxt, unit, str(reg), highest, basis, ref.dose_response,
                           len(prior))


def write_study_refinement(r: StudyRefinement, out: str | os.PathLike[str]) -> list[Path]:
    """The files of :func:`workbench.calibrate.observations.write_refinement`, plus
    ``next_level.csv`` (the re-predicted next level)."""
    from workbench.calibrate.observations import write_refinement
    from workbench.core._io import atomic_write_text

    d = Path(out)
    files = write_refinement(r.refinement, d)
    atomic_write_text(d / "next_level.csv", r.prediction.to_csv(index=False, float_format="%.10g"))
    return [*files, d / "next_level.csv"]
