# Sourced by scripts/demo and scripts/test: create the virtual environment when
# missing and install the project with its test extras. Re-installs only when
# pyproject.toml changed since the last install.
#   PYTHON  interpreter that creates the environment (default python3)
#   VENV    its directory (default .venv; .ci/run uses .venv313 for Python 3.13)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "workbench: creating $VENV with $("$PY" --version 2>&1)" >&2
    "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.workbench-installed"
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
    echo "workbench: installing the project and its test extras into $VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet -e ".[test]" >&2
    touch "$STAMP"
fi
# system libraries of the report (pango, Graphviz; Chromium for the browser test)
source "$ROOT/scripts/_system_deps.sh"
export PATH="$ROOT/$VENV/bin:$PATH"
# no display on CI machines: render figures off-screen
export MPLBACKEND=Agg
