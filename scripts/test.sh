#!/usr/bin/env bash
# Installs what the test suite needs (Debian 12, as root), then builds and
# runs the whole suite twice: a Release build with g++, and a Release build
# with Clang under AddressSanitizer + UndefinedBehaviorSanitizer; the libFuzzer target for a
# short while from the committed seed corpus; then the threading tests under
# ThreadSanitizer. Each ctest prints its summary.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make libboost-dev libfmt-dev doctest-dev libcli11-dev gnuplot-nox libopenblas-dev libxsimd-dev zlib1g-dev
          libopenmpi-dev openmpi-bin clang libclang-rt-14-dev libeigen3-dev pkg-config doxygen)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

jobs=${ETAPE_JOBS:-2}

# ETAPE_UNITY_TESTS: each test program compiles its files four to a
# translation unit, which takes a quarter off the g++ step and a sixth off
# the sanitizer step (docs/compile-time.md); a build without it (the
# default) checks that every test file compiles alone.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DETAPE_UNITY_TESTS=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

# The sanitizer build is Clang's Release build: the Release configuration
# (optimised at -O2, NDEBUG) under ASan + UBSan. So the suite builds
# warning-free and passes optimised under both compilers (g++ above) without
# a third build, and Clang compiles the tests under ASan in about two thirds
# of g++'s time (at -O2 about 5 % longer than at -O1). -g1 (line
# tables only): sanitizer reports still name file and line, and the build
# takes about half the time of -g. The examples run in the g++ build only:
# the test programs cover their code under the sanitizers.
cmake -S . -B build-sanitize -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release -DETAPE_SANITIZE=ON \
    -DETAPE_UNITY_TESTS=ON -DETAPE_BUILD_EXAMPLES=OFF "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG -g1"
cmake --build build-sanitize -j"$jobs"
ctest --test-dir build-sanitize --output-on-failure -j"$jobs"

cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETAPE_BUILD_FUZZERS=ON \
    -DETAPE_BUILD_TESTS=OFF -DETAPE_BUILD_EXAMPLES=OFF
cmake --build build-fuzz -j"$jobs" --target etape_fuzz_expression
rm -rf build-fuzz/corpus && mkdir -p build-fuzz/corpus && cp fuzz/corpus/* build-fuzz/corpus/
./build-fuzz/fuzz/etape_fuzz_expression build-fuzz/corpus -max_total_time="${ETAPE_FUZZ_SECONDS:-30}" -print_final_stats=1

cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DETAPE_SANITIZE_THREAD=ON -DCMAKE_CXX_FLAGS=-O1 -DCMAKE_CXX_FLAGS_DEBUG=-g1
cmake --build build-tsan -j"$jobs" --target etape_tests_threads
ctest --test-dir build-tsan --output-on-failure -j"$jobs" -R thread
