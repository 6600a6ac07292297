"""The study linter reports a block of the wrong kind as a finding instead of crashing.

``lint_study`` promises every problem of a study file at once; before these fixes a
``drug`` that is not a mapping (with a ``stepup`` block), a population ``bsv``,
``correlations``, ``clearances``, ``volumes`` or ``plausible`` of the wrong kind, or a
decision category given as a list, or ``decision.factors`` of the wrong kind, raised
AttributeError/TypeError/ValueError (a traceback
for the user) instead of the one-paragraph error listing the findings.
"""

from __future__ import annotations

import pytest

from workbench.errors import SpecError
from workbench.study.schema import lint_study, read_study

_BASE = ("name: x\nquestion: q\ncontext_of_use: c\n"
         "model_risk: {influence: low, consequence: low}\n"
         "outputs: {exposure: C, effect: E}\n"
         "effects: ['max(E) >= 1']\n")


@pytest.mark.parametrize(("extra", "finding"), [
    ("drug: 3\nstepup: {target_dose: 10 ug/kg}\n", "drug: must be a mapping, got int 3"),
    ("drug: [1, 2]\nstepup: {target_dose: 10 ug/kg}\n", "drug: must be a mapping, got list"),
    ("population: {bsv: 3}\n", "population.bsv: must be a mapping, got int 3"),
    ("population: {bsv: [1, 2]}\n", "population.bsv: must be a mapping, got list"),
    ("population: {bsv: x}\n", "population.bsv: must be a mapping, got str"),
    ("population: {plausible: 3}\n", "population.plausible: must be a mapping, got int 3"),
    ("population: {correlations: 3}\n", "population.correlations: must be a list, got int 3"),
    ("population: {clearances: 3}\n", "population.clearances: must be a list, got int 3"),
    ("population: {volumes: 2.5}\n", "population.volumes: must be a list, got float 2.5"),
    ("decision: {severity: [severe]}\n", "decision.severity: ['severe'] is not one of"),
    ("decision: {novelty: {a: 1}}\n", "decision.novelty: {'a': 1} is not one of"),
    *((f"decision: {{severity: severe, factors: {factors}}}\n", finding)
      for factors, finding in [
          ("3", "decision.factors: must be a mapping of category -> {word: factor}, got int 3"),
          ("[severe]", "decision.factors: must be a mapping"),
          ("{severity: 10}", "decision.factors.severity: must be a mapping of word -> factor"),
          ("{toxicity: {bad: 3}}", "decision.factors.toxicity: unknown category"),
          ("{severity: {severe: 0.5}}",
           "decision.factors.severity.severe: 0.5 is not a safety factor"),
          ("{severity: {severe: x}}",
           "decision.factors.severity.severe: 'x' is not a safety factor"),
          ("{severity: {severe: .inf}}", "decision.factors.severity.severe: inf is not a safety"),
      ]),
])
def test_block_of_the_wrong_kind_is_a_finding(tmp_path, extra, finding):
    p = tmp_path / "study.yaml"
    p.write_text(_BASE + extra)
    errs = lint_study(p)
    assert any(finding in e for e in errs), errs
    with pytest.raises(SpecError, match="problem"):
        read_study(p)


def test_valid_shapes_keep_their_findings(tmp_path):
    """The item checks still run on blocks of the right kind."""
    p = tmp_path / "study.yaml"
    p.write_text(_BASE + "drug: {species: D, mw: 150 kDa}\n"
                 "population: {bsv: {CL: -1}, correlations: [[CL, V, 0.5]], volumes: [3],\n"
                 "             plausible: {'value(R, 0)': [5, 1]}}\n"
                 "decision: {severity: awful}\n")
    text = "\n".join(lint_study(p))
    for expected in ("population.bsv.CL: CV -1", "population.correlations[0]: CL and V both "
                     "need a bsv CV", "population.volumes: give a list of parameter ids",
                     "population.plausible.value(R, 0):", "decision.severity: 'awful'"):
        assert expected in text, expected


def test_own_factor_words_are_accepted(tmp_path):
    p = tmp_path / "study.yaml"
    p.write_text(_BASE + "decision: {severity: grave, factors: {severity: {grave: 10}}}\n")
    assert not [e for e in lint_study(p) if e.startswith("decision")]
