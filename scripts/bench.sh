#!/usr/bin/env bash
# Builds and runs the scalar benchmark in Release and prints the ratios to
# Sacado Rad (scripts/bench_ratios.py).
#
#   scripts/bench.sh [extra etape_bench_scalar arguments, e.g. --benchmark_filter=elu_mlp]
#
# Environment: ETAPE_BENCH_BUILD_DIR (default build-bench), ETAPE_BENCH_OUT
# (JSON output, default <build dir>/bench_scalar.json), ETAPE_BENCH_REPETITIONS
# (default 5), ETAPE_BENCH_JOBS (build jobs, default 2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ETAPE_BENCH_BUILD_DIR:-$root/build-bench}
out=${ETAPE_BENCH_OUT:-$build/bench_scalar.json}
repetitions=${ETAPE_BENCH_REPETITIONS:-5}
jobs=${ETAPE_BENCH_JOBS:-2}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DETAPE_BUILD_BENCHMARKS=ON \
      -DETAPE_BUILD_TESTS=OFF -DETAPE_BUILD_EXAMPLES=OFF
cmake --build "$build" --target etape_bench_scalar -j"$jobs"

# ADOL-C writes tapes that outgrow their buffers to files in the working
# directory; run where that is harmless (the benchmark sizes the buffers so
# that it does not happen, and aborts if it does).
cd "$build"
OPENBLAS_NUM_THREADS=1 ./bench/etape_bench_scalar \
    --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
    --benchmark_out="$out" --benchmark_out_format=json "$@"

echo
python3 "$root/scripts/bench_ratios.py" "$out"
