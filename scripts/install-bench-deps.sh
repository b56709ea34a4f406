#!/usr/bin/env bash
# Installs what the benchmarks need on Debian/Ubuntu, non-interactively:
# the build tools and etape's own dependencies (Boost, fmt, OpenBLAS, which
# etape's matrix products use when found), Google Benchmark, Sacado
# (Trilinos) and ADOL-C; xsimd (the tensor benchmark's hand-written
# baseline) and libtorch (its optional torch baseline, a large download);
# valgrind for profiling (docs/performance.md).
# Run as root or with sudo available.
set -euo pipefail

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo)
fi

"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    cmake make g++ python3 \
    libboost-dev libfmt-dev libopenblas-dev \
    libbenchmark-dev libtrilinos-sacado-dev libadolc-dev \
    libxsimd-dev libtorch-dev \
    valgrind
