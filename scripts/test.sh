#!/usr/bin/env bash
# Installs what the test suite needs (Debian 12, as root), then builds and
# runs the whole suite twice: a Release build, and a build under
# AddressSanitizer + UndefinedBehaviorSanitizer; then the threading tests
# under ThreadSanitizer. Each ctest prints its summary.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make libboost-dev libfmt-dev doctest-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

jobs=${ETAPE_JOBS:-2}

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DETAPE_SANITIZE=ON -DCMAKE_CXX_FLAGS=-O1
cmake --build build-sanitize -j"$jobs"
ctest --test-dir build-sanitize --output-on-failure -j"$jobs"

cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DETAPE_SANITIZE_THREAD=ON -DCMAKE_CXX_FLAGS=-O1
cmake --build build-tsan -j"$jobs" --target etape_tests etape_tests_checked
ctest --test-dir build-tsan --output-on-failure -j"$jobs" -R thread
