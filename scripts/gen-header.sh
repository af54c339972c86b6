#!/bin/sh
# Regenerate include/kiln.h from src/ffi with cbindgen (build.rs generates it into OUT_DIR;
# the header test copies it into place when KILN_BLESS_HEADER is set). Commit the result.
set -eu
cd "$(dirname "$0")/.."
KILN_BLESS_HEADER=1 cargo test --quiet --test integration -- header::committed_header_is_current
echo "include/kiln.h regenerated"
