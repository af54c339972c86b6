#!/usr/bin/env bash
# Installs what the JVM binding's build and tests need on a fresh Debian/Ubuntu machine:
# a JDK 17 (javac and the JNI headers), Maven, and a C compiler for the JNI shim. Rust/cargo
# (for the core) is the repository's own prerequisite. Maven itself downloads the plugins and
# test dependencies (JUnit 5, Arrow Java, Jackson) into ~/.m2 on first use.
set -euo pipefail

missing=()
command -v javac >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v cc >/dev/null 2>&1 || missing+=(gcc)
if [ ${#missing[@]} -eq 0 ]; then
    echo "install_deps.sh: javac, mvn and cc are already installed"
    exit 0
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
