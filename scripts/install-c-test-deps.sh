#!/bin/sh
# What tests/c/run.sh needs beyond cargo: a C compiler with ASan/UBSan and valgrind (Debian).
set -eu
if command -v gcc >/dev/null && command -v valgrind >/dev/null; then exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends gcc libc6-dev valgrind
