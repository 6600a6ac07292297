# Sourced by scripts/demo and scripts/test: create .venv when missing and
# install the project with its test extras. Re-installs only when
# pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "workbench: creating .venv" >&2
    "$PY" -m venv .venv
fi
STAMP=.venv/.workbench-installed
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    echo "workbench: installing the project and its test extras into .venv" >&2
    .venv/bin/python -m pip install --quiet --upgrade pip >&2
    .venv/bin/python -m pip install --quiet -e ".[test]" >&2
    touch "$STAMP"
fi
# system libraries of the report (pango, Graphviz; Chromium for the browser test)
source "$ROOT/scripts/_system_deps.sh"
export PATH="$ROOT/.venv/bin:$PATH"
# no display on CI machines: render figures off-screen
export MPLBACKEND=Agg
