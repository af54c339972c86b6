#!/usr/bin/env bash
# Test entry point of the JVM binding (what CI calls):
#   bindings/java/run_tests.sh
# Builds the kiln core library (cargo build --release --lib) unless KILN_LIB_DIR names a
# directory already holding libkiln.a or libkiln.so, then runs the Maven build and JUnit tests
# (mvn -q -B test). Maven downloads its plugins and the test dependencies (JUnit, Arrow Java,
# Jackson) into ~/.m2 on first use. Needs: JDK 17+ (javac, JNI headers), Maven 3.8+, a C
# compiler (cc), and cargo when KILN_LIB_DIR is not given.
# On a fresh Debian machine run install_deps.sh first (JDK 17, Maven, gcc).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

for tool in java javac mvn cc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "run_tests.sh: '$tool' not found; run bindings/java/install_deps.sh (Debian: JDK 17, Maven, gcc)" >&2
        exit 2
    fi
done

if [ -z "${KILN_LIB_DIR:-}" ]; then
    echo "run_tests.sh: building the kiln core (cargo build --release --lib)"
    (cd "$repo" && cargo build --release --lib)
    target_dir=${CARGO_TARGET_DIR:-$repo/target}
    case "$target_dir" in /*) ;; *) target_dir=$repo/$target_dir ;; esac
    export KILN_LIB_DIR=$target_dir/release
fi
echo "run_tests.sh: using libkiln from $KILN_LIB_DIR"

# JAVA_HOME is where Maven's javac and the JNI headers come from; derive it from javac if unset.
if [ -z "${JAVA_HOME:-}" ]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    export JAVA_HOME
fi

cd "$here"
rm -rf target/surefire-reports
rc=0
mvn -q -B test || rc=$?

# -q hides Surefire's summary: print one closing line from its reports instead.
tests=0 failures=0 errors=0 skipped=0
for report in target/surefire-reports/TEST-*.xml; do
    [ -f "$report" ] || continue
    line=$(grep -m1 -o '<testsuite [^>]*>' "$report")
    attr() { echo "$line" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
    tests=$((tests + $(attr tests))); failures=$((failures + $(attr failures)))
    errors=$((errors + $(attr errors))); skipped=$((skipped + $(attr skipped)))
done
failed=$((failures + errors))
echo "java: $((tests - failed - skipped)) passed, $failed failed, $skipped skipped"
if [ "$rc" -eq 0 ] && [ "$tests" -eq 0 ]; then
    echo "run_tests.sh: no test ran" >&2
    exit 1
fi
exit "$rc"
