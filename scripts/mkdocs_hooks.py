"""mkdocs hooks of the documentation site (``hooks:`` in mkdocs.yml).

* Example pages: every numbered script ``examples/NN_name.py`` gets a page and a
  nav entry under "Examples", in number order, so a new example appears without
  editing mkdocs.yml. A hand-written ``docs/examples/NN_name.md`` is used when it
  exists; otherwise the page is generated from the script's module docstring
  (title: its first line) and its source.
* API coverage: every public name of ``workbench.__all__`` must be documented on a
  page of ``docs/api/`` (``::: workbench.NAME``, or its module); a missing one is a
  warning, which ``mkdocs build --strict`` turns into a failed build.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

log = logging.getLogger("mkdocs.hooks.workbench")

ROOT = Path(__file__).resolve().parents[1]
#: a numbered example script: two digits, an underscore, a name
EXAMPLE = re.compile(r"^(\d\d)_\w+\.py$")
SECTION = "Examples"


def example_scripts(examples: Path) -> list[Path]:
    """The numbered example scripts of ``examples``, in number order."""
    return sorted(p for p in examples.glob("*.py") if EXAMPLE.match(p.name))


def _docstring(path: Path) -> str:
    try:
        return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except SyntaxError:
        return ""


def example_title(path: Path, docs: Path | None = None) -> str:
    """The heading of the hand-written page ``docs/examples/NN_name.md`` when there is
    one, else ``"NN <first line of the docstring>"`` (without its final full stop)."""
    page = (docs or ROOT / "docs") / "examples" / f"{path.stem}.md"
    if page.is_file():
        m = re.search(r"^#\s+(.+)$", page.read_text(encoding="utf-8"), re.M)
        if m:
            return m.group(1).strip()
    number = path.name[:2]
    first = _docstring(path).strip().splitlines()
    text = first[0].strip().rstrip(".") if first else path.stem[3:].replace("_", " ")
    return f"{number} {text}"


def example_page(path: Path, root: Path = ROOT) -> str:
    """Markdown of a generated example page: title, docstring, how to run, source."""
    doc = _docstring(path).strip().splitlines()
    body = "\n".join(doc[1:]).strip()
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    parts = [f"# {example_title(path)}", "",
             f"`{rel}` (this page is generated from the script's docstring and source).", ""]
    if body:
        parts += ["```text", body, "```", ""]
    parts += ["## Run it", "", "```bash", f".venv/bin/python {rel}", "```", "",
              "## Source", "", "```python", path.read_text(encoding="utf-8").rstrip(), "```", ""]
    return "\n".join(parts)


def example_nav(nav: list, scripts: list[Path], docs: Path | None = None) -> list:
    """``nav`` with its Examples section listing ``scripts`` first (then the section's
    other, unnumbered pages)."""
    numbered = [{example_title(p, docs): f"examples/{p.stem}.md"} for p in scripts]
    out, placed = [], False
    for entry in nav:
        if isinstance(entry, dict) and SECTION in entry:
            rest = [e for e in entry[SECTION] or []
                    if not (isinstance(e, dict) and any(
                        isinstance(v, str) and EXAMPLE.match(Path(v).stem + ".py")
                        for v in e.values()))]
            out.append({SECTION: numbered + rest})
            placed = True
        else:
            out.append(entry)
    if not placed and numbered:
        out.append({SECTION: numbered})
    return out


def undocumented_api(api_dir: Path) -> list[str]:
    """Public names of ``workbench.__all__`` on no page of ``api_dir``."""
    import importlib

    wb = importlib.import_module("workbench")
    targets = set()
    for page in sorted(api_dir.glob("*.md")):
        targets |= set(re.findall(r"^:::\s*(\S+)", page.read_text(encoding="utf-8"), re.M))
    missing = []
    for name in wb.__all__:
        if name.startswith("__"):
            continue
        module = getattr(getattr(wb, name), "__module__", None)
        if f"workbench.{name}" not in targets and module not in targets:
            missing.append(name)
    return missing


# -- the hooks -----------------------------------------------------------------

def on_config(config):
    config["nav"] = example_nav(list(config["nav"] or []), example_scripts(ROOT / "examples"),
                                Path(config["docs_dir"]))
    for name in undocumented_api(Path(config["docs_dir"]) / "api"):
        log.warning("API reference: workbench.%s is public (workbench.__all__) but on no page "
                    "of docs/api/; add `::: workbench.%s` to one", name, name)
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    for script in example_scripts(ROOT / "examples"):
        uri = f"examples/{script.stem}.md"
        if files.get_file_from_path(uri) is None:
            files.append(File.generated(config, uri, content=example_page(script)))
    return files
