#!/usr/bin/env bash
# Regenerate tests/data/lightgbm/ (only needed when the fixtures change; the Rust test
# tests/integration/import_lightgbm.rs reads the committed files and needs nothing installed).
# Installs lightgbm, numpy, scikit-learn and pandas from PyPI into a venv outside the repo.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${LGBM_VENV:-/tmp/lgbenv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "lightgbm==4.7.0" numpy scikit-learn pandas
"$venv/bin/python" "$here/make_lightgbm_fixtures.py" "$here/../data/lightgbm"
