#!/bin/sh
# Compiles the JNI shim (kiln_jni.c) into libkiln_jni.so. Called by Maven (exec-maven-plugin,
# phase process-classes) as:
#   build.sh JAVA_HOME JNI_HEADER_DIR KILN_LIB_DIR OUTPUT_DIR
# KILN_LIB_DIR in the environment overrides the third argument; KILN_INCLUDE_DIR overrides the
# repository's include/ (where kiln.h lives). libkiln.a is linked statically
# when present, so the jar carries one self-contained library and nothing has to be installed
# beside it; otherwise the shim links libkiln.so with an rpath to KILN_LIB_DIR (for development).
set -eu

java_home=$1
jni_headers=$2
lib_dir=${KILN_LIB_DIR:-$3}
out_dir=$4
here=$(cd "$(dirname "$0")" && pwd)
include_dir=${KILN_INCLUDE_DIR:-$(cd "$here/../../../../../include" 2>/dev/null && pwd || true)}
cc=${CC:-cc}

if [ -z "$include_dir" ] || [ ! -f "$include_dir/kiln.h" ]; then
    echo "build.sh: include/kiln.h not found at the repository root ($here/../../../../../include)" >&2
    exit 1
fi

mkdir -p "$out_dir"
cflags="-std=c11 -O2 -fPIC -Wall -Wextra -Werror -fvisibility=hidden"
includes="-I$java_home/include -I$java_home/include/linux -I$jni_headers -I$include_dir"

if [ -f "$lib_dir/libkiln.a" ]; then
    # --exclude-libs keeps kiln's (and Rust's std) symbols out of the dynamic symbol table, so
    # they cannot clash with another native library loaded into the same JVM; only the JNI
    # entry points are exported.
    # shellcheck disable=SC2086
    $cc $cflags $includes -shared -o "$out_dir/libkiln_jni.so" "$here/kiln_jni.c" \
        "$lib_dir/libkiln.a" -Wl,--exclude-libs,ALL -Wl,--gc-sections -Wl,--strip-debug -Wl,-z,defs \
        -lpthread -ldl -lm -lgcc_s -lc
    echo "build.sh: linked $out_dir/libkiln_jni.so with $lib_dir/libkiln.a (static)"
elif [ -f "$lib_dir/libkiln.so" ]; then
    # shellcheck disable=SC2086
    $cc $cflags $includes -shared -o "$out_dir/libkiln_jni.so" "$here/kiln_jni.c" \
        -L"$lib_dir" -lkiln -Wl,-rpath,"$lib_dir" -Wl,-z,defs
    echo "build.sh: linked $out_dir/libkiln_jni.so against $lib_dir/libkiln.so (dynamic, rpath)"
else
    echo "build.sh: neither libkiln.a nor libkiln.so in '$lib_dir'; build the core first" \
         "(cargo build --release --lib) or set KILN_LIB_DIR" >&2
    exit 1
fi
