#!/usr/bin/env bash
# Test entry point of the kiln R package: installs R from Debian if missing, builds the kiln
# library (unless KILN_LIB_DIR points at a built one), then R CMD build, R CMD check --no-manual
# (any ERROR or WARNING fails), installs the package into a temporary library and runs testthat.
#
#   bindings/r/run_tests.sh              # from anywhere; builds target/release/libkiln.{a,so}
#   KILN_LIB_DIR=/path/to/lib KILN_INCLUDE_DIR=/path/to/include bindings/r/run_tests.sh
#   KILN_LINK=shared ...                 # link libkiln.so (rpath) instead of libkiln.a
#
# Installs (apt-get, only when missing): r-base-core r-base-dev r-cran-testthat r-cran-jsonlite.
set -euo pipefail

pkg_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$pkg_dir/../.." && pwd)

need_r() {
  for tool in R Rscript gcc make; do
    command -v "$tool" >/dev/null 2>&1 || return 0
  done
  ! Rscript -e 'quit(status = !all(c("testthat", "jsonlite") %in% rownames(installed.packages())))' >/dev/null 2>&1
}
if need_r; then
  echo "== installing R from Debian"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends r-base-core r-base-dev r-cran-testthat r-cran-jsonlite
fi

if [ -z "${KILN_LIB_DIR:-}" ]; then
  echo "== building the kiln library (cargo build --release --lib)"
  (cd "$repo" && cargo build --release --lib)
  KILN_LIB_DIR="$repo/target/release"
fi
export KILN_LIB_DIR=$(cd "$KILN_LIB_DIR" && pwd)
export KILN_INCLUDE_DIR=$(cd "${KILN_INCLUDE_DIR:-$repo/include}" && pwd)
# The shared golden cases must run here: a missing folder is a failure, not a skip.
export KILN_GOLDEN_DIR="${KILN_GOLDEN_DIR:-$repo/tests/golden}"
export KILN_REQUIRE_GOLDEN=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "== R CMD build"
R CMD build --no-build-vignettes "$pkg_dir"
tarball=$(ls kiln_*.tar.gz)

echo "== R CMD check --no-manual"
# Check runs the package's tests too. R CMD check exits non-zero on ERROR; WARNINGs are read from
# its final status line.
_R_CHECK_FORCE_SUGGESTS_=true R CMD check --no-manual "$tarball" || { cat kiln.Rcheck/00check.log; exit 1; }
status_line=$(grep '^Status:' kiln.Rcheck/00check.log || true)
echo "check: $status_line"
if echo "$status_line" | grep -Eq 'ERROR|WARNING'; then
  cat kiln.Rcheck/00check.log
  exit 1
fi

echo "== install into a temporary library and run testthat"
mkdir lib
R CMD INSTALL --library=lib "$tarball"
R_LIBS="$work/lib" Rscript -e '
  library(testthat)
  library(kiln)
  res <- test_dir(commandArgs(TRUE)[1], reporter = "summary", stop_on_failure = TRUE, package = "kiln", load_package = "installed")
' "$pkg_dir/tests/testthat"
echo "== R tests passed"
