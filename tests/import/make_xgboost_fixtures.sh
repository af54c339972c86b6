#!/bin/sh
# Regenerate tests/data/xgboost/ (the Rust test needs only the committed files, not Python).
# Installs XGBoost and its companions from PyPI into a venv outside the repository.
set -eu
cd "$(dirname "$0")/../.."
VENV="${XGB_VENV:-/tmp/xgbenv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q xgboost==3.2.0 numpy==2.4.6 scikit-learn==1.9.1 pandas==3.1.1
"$VENV/bin/python" tests/import/make_xgboost_fixtures.py
