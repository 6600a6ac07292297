"""Every verb's ``--help`` has a description and an example that parses; ``validate``
prints a readable summary first, then wrapped findings, and ``--json`` for machines."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from workbench.cli import build_parser, main


def _verbs():
    p = build_parser()
    sub = next(a for a in p._actions if a.__class__.__name__ == "_SubParsersAction")
    return sub.choices


@pytest.mark.parametrize("verb", sorted(_verbs()))
def test_every_verb_has_a_description_and_an_example(verb, capsys):
    with pytest.raises(SystemExit) as e:
        main([verb, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    parser = _verbs()[verb]
    first = (parser.description or "").strip().splitlines()
    assert first and len(first[0]) > 20, f"{verb}: no description"
    m = re.search(r"\n(?:Example|example)s?:\n", out)
    assert m, f"{verb}: no example in --help"
    # each example line is a `workbench ...` command whose options exist, one of them VERB
    example = out[m.end():].replace("\\\n", " ")
    commands = [ln.split("#")[0].split(">")[0].strip() for ln in example.splitlines()]
    commands = [c for c in commands if c.startswith("workbench ")]
    assert commands, f"{verb}: the example has no workbench command"
    assert any(shlex.split(c)[1] == verb for c in commands), commands
    for c in commands:
        build_parser().parse_args(shlex.split(c)[1:])  # SystemExit(2) on an unknown option


def test_validate_prints_summary_first_then_wrapped_findings(tmp_path, capsys):
    m = tmp_path / "w.ant"
    m.write_text("model w\n  unit per_h = 1 / 3600 second\n  unit nM = 1e-9 mole / litre\n"
                 "  compartment c = 1\n  c has litre\n  species S in c = 1\n  S has nM\n"
                 "  k = 0.1\n  k has per_h\n  k2 = 3\n  k2 has second\n"
                 "  J: S -> ; k * S + k2\nend\n")
    assert main(["validate", str(m)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(str(m)) and "error(s)" in lines[0] and "warning(s)" in lines[0]
    assert "10501" in out and "reaction J" in out  # the unit mismatch k*S + k2
    assert max(len(ln) for ln in lines[1:]) <= 100
    assert main(["validate", str(m), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["errors"] == 0 and any(f["code"] == 10501 or f["code"] == "10501"
                                      for f in doc["findings"])
