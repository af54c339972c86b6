#!/usr/bin/env bash
# Python binding tests: a fresh virtual environment, the package installed the way a user
# installs it (pip install ./bindings/python), the test dependencies, then pytest.
#
#   KILN_LIBRARY=/path/libkiln.so  package this already-built library instead of running cargo
#   KILN_PY_VENV=/path             where to create the venv (default: target/python-venv)
#   PYTHON=python3.x               interpreter for the venv
# Installs from PyPI: setuptools, wheel (build), numpy, pytest, pandas, pyarrow, polars, and
# whatever bindings/python/tests/requirements-*.txt name.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${KILN_PY_VENV:-$root/target/python-venv}"
python="${PYTHON:-python3}"

rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet pytest numpy pandas pyarrow polars
# Each test area lists what else it needs (training libraries for the parity suites, ...).
for req in "$here"/tests/requirements-*.txt; do
  [ -e "$req" ] && "$venv/bin/python" -m pip install --quiet -r "$req"
done
# KILN_LIBRARY (if set) passes through to the build step.
"$venv/bin/python" -m pip install --quiet "$here"

# Run from outside the source tree so `import kiln` finds the installed package, not src/.
cd "$here/tests"
unset KILN_DEV_LIBRARY
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests" "$@"
