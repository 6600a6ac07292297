"""The documentation hooks (scripts/mkdocs_hooks.py): a new numbered example gets a
generated page and a nav entry without editing mkdocs.yml; a public name missing from
the API pages is found."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _hooks():
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "scripts" /
                                                  "mkdocs_hooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_new_numbered_example_gets_a_page_and_a_nav_entry(tmp_path):
    h = _hooks()
    ex = tmp_path / "examples"
    ex.mkdir()
    (ex / "07_first_dose.py").write_text(
        '"""Pick the first dose of a new antibody.\n\nUsage: python examples/07_first_dose.py'
        '\n"""\nprint("hello")\n')
    (ex / "02_regimens.py").write_text('"""Compare regimens."""\n')
    (ex / "make_data.py").write_text('"""Not an example page."""\n')
    (tmp_path / "docs" / "examples").mkdir(parents=True)
    (tmp_path / "docs" / "examples" / "02_regimens.md").write_text("# 02 Hand-written\n")
    scripts = h.example_scripts(ex)
    assert [p.name for p in scripts] == ["02_regimens.py", "07_first_dose.py"]
    nav = [{"Home": "index.md"}, {"Examples": [{"Data check": "examples/check_data.md"},
                                               {"old title": "examples/02_regimens.md"}]}]
    out = h.example_nav(nav, scripts, tmp_path / "docs")
    assert out[0] == {"Home": "index.md"}
    assert out[1]["Examples"] == [{"02 Hand-written": "examples/02_regimens.md"},
                                  {"07 Pick the first dose of a new antibody":
                                   "examples/07_first_dose.py".replace(".py", ".md")},
                                  {"Data check": "examples/check_data.md"}]
    page = h.example_page(scripts[1], tmp_path)
    assert page.startswith("# 07 Pick the first dose of a new antibody\n")
    assert "Usage: python examples/07_first_dose.py" in page
    assert "```python\n\"\"\"Pick the first dose" in page and 'print("hello")' in page


def test_every_public_name_is_on_an_api_page(tmp_path):
    h = _hooks()
    assert h.undocumented_api(ROOT / "docs" / "api") == []
    (tmp_path / "api.md").write_text("::: workbench.load_model\n\n::: workbench.errors\n")
    missing = h.undocumented_api(tmp_path)
    assert "simulate" in missing and "load_model" not in missing
    assert "WorkbenchError" not in missing  # documented through its module
