#!/usr/bin/env bash
# Runs every test suite of kiln: Rust (unit, integration, property, golden, header drift), the
# C ABI test (AddressSanitizer + valgrind), Python, R and Java. Builds the Rust library once, in
# release mode, and hands the same library to every host. Installs what each suite needs.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TERM_COLOR=never
lib_dir="$root/target/release"

passed=0
failed=0
failures=()
suite() {
  local name=$1
  shift
  echo
  echo "=== suite: $name ==="
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "=== $name: ok ($((SECONDS - t0)) s) ==="
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "=== $name: FAILED ($((SECONDS - t0)) s) ==="
  fi
}

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }

# One release build of the library and the CLI, shared by every suite below.
suite "rust build (release)" cargo build --release --lib --bin kiln
suite "rust tests" cargo test --release
suite "benchmarks build and run once" cargo bench --bench kiln -- --test
suite "c abi (asan + valgrind)" bash -c "bash scripts/install-c-test-deps.sh && bash tests/c/run.sh"
suite "python" env KILN_LIBRARY="$lib_dir/libkiln.so" bash bindings/python/run_tests.sh
suite "r" env KILN_LIB_DIR="$lib_dir" bash bindings/r/run_tests.sh
suite "java" bash -c "bash bindings/java/install_deps.sh && KILN_LIB_DIR='$lib_dir' bash bindings/java/run_tests.sh"

echo
if [ "$failed" -gt 0 ]; then
  echo "failed suites: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
