#!/usr/bin/env bash
# kiln against the engines a user would otherwise pick, on the same data, models and threads,
# in one run. Not a test: it installs large wheels and takes minutes.
#
#   bash benches/peers/run.sh [run.py options]     e.g. --rows 200000 --threads 2 --skip-compile
#
#   KILN_LIBRARY=/path/libkiln.so  score with this library (default: target/release/libkiln.so,
#                                  brought up to date with `cargo build --release --lib` first)
#   KILN_PEERS_VENV=/path          the virtual environment (default: target/peers-venv; kept
#                                  between runs, re-made when requirements.txt changes)
#   PYTHON=python3.x               interpreter for the venv
#   CC=cc                          C compiler for the C ABI driver (kiln_capi.c)
# Installs from PyPI: the pinned packages of benches/peers/requirements.txt, and the kiln
# Python package from ./bindings/python.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${KILN_PEERS_VENV:-$root/target/peers-venv}"
python="${PYTHON:-python3}"
lib="${KILN_LIBRARY:-$root/target/release/libkiln.so}"
work="$root/target/peers"
mkdir -p "$work"

# Built every run unless KILN_LIBRARY names a library: cargo leaves an up-to-date build alone,
# and a library left from an older checkout would be measured without a word.
if [ -z "${KILN_LIBRARY:-}" ]; then
  (cd "$root" && cargo build --release --lib)
fi
lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"

# The venv is reused while its requirements are unchanged: the wheels are hundreds of MB.
stamp="$venv/.kiln-peers-requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$stamp"; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$stamp"
fi
# Always re-install kiln, so the package carries the library being measured.
KILN_LIBRARY="$lib" "$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$root/bindings/python"

# The C ABI driver, linked against the same library the Python package carries.
libdir="$(dirname "$lib")"
"${CC:-cc}" -O2 -std=c11 -Wall -Wextra -I "$root/include" -o "$work/kiln_capi" "$here/kiln_capi.c" \
  -L "$libdir" -lkiln -Wl,-rpath,"$libdir" -lm

# run.py works in $work; relative paths the caller gave (--out) stay relative to the caller.
export KILN_PEERS_CALLER_DIR="$PWD"
cd "$work"
unset KILN_DEV_LIBRARY
exec "$venv/bin/python" "$here/run.py" --capi "$work/kiln_capi" --work "$work" "$@"
