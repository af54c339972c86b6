#!/bin/sh
# The C ABI from C: builds the release cdylib (cargo is incremental, so this is a no-op when it
# is current, and never tests a stale library), compiles tests/c/test_kiln.c against
# include/kiln.h twice, and runs it under AddressSanitizer+UBSan and under valgrind.
# Needs: cargo, gcc (with libasan/libubsan, part of Debian's gcc), valgrind
# (`apt-get install -y gcc valgrind`). Exits non-zero on any failure; the last line reads
# "N passed, M failed".
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="${KILN_C_TEST_DIR:-$root/target/c-tests}"
mkdir -p "$out"

cargo build --release --lib --quiet
lib="$root/target/release"
test -f "$lib/libkiln.so" || { echo "no $lib/libkiln.so after cargo build" >&2; exit 1; }

cflags="-std=c11 -Wall -Wextra -Werror -g -I$root/include"
gcc $cflags -O1 -o "$out/test_kiln" tests/c/test_kiln.c -L"$lib" -lkiln -Wl,-rpath,"$lib" -lm -lpthread
gcc $cflags -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
    -o "$out/test_kiln_asan" tests/c/test_kiln.c -L"$lib" -lkiln -Wl,-rpath,"$lib" -lm -lpthread

total_passed=0
total_failed=0
run() {
    label="$1"
    shift
    echo "== $label"
    if "$@" tests/data >"$out/$label.log" 2>&1; then status=0; else status=$?; fi
    cat "$out/$label.log"
    summary="$(tail -n 1 "$out/$label.log")"
    p="$(echo "$summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')"
    f="$(echo "$summary" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')"
    if [ -z "$p" ]; then
        echo "$label: no summary line (exit $status)" >&2
        total_failed=$((total_failed + 1))
        return
    fi
    total_passed=$((total_passed + p))
    total_failed=$((total_failed + f))
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$label: exit status $status (sanitizer or valgrind error)" >&2
        total_failed=$((total_failed + 1))
    fi
}

# LeakSanitizer runs with ASan; the Rust runtime's per-thread error message is freed by its
# thread-local destructor, so no suppression is needed.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1" UBSAN_OPTIONS="print_stacktrace=1" \
    run asan "$out/test_kiln_asan"
run valgrind valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
    --suppressions="$root/tests/c/valgrind.supp" "$out/test_kiln"

echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
