#!/usr/bin/env bash
# Builds the scalar benchmark in Release, runs it and prints the ratios to
# Sacado Rad (scripts/bench_ratios.py).
#
#   scripts/bench.sh                       # the whole suite, two processes (below)
#   scripts/bench.sh --benchmark_filter=X  # one process, with these extra arguments
#
# The suite runs in two processes: every case but elu_sum_100000, then
# elu_sum_100000 alone. ADOL-C keeps one global store of locations that
# grows to the largest recording and never shrinks, and every later ADOL-C
# tape pays for its size; a separate process keeps the large case from
# slowing ADOL-C down on the small ones. Repetitions are randomly
# interleaved, so that a burst of load from other processes spreads over
# all the implementations instead of falling on one.
#
# Environment: ETAPE_BENCH_BUILD_DIR (default build-bench), ETAPE_BENCH_REPETITIONS
# (default 10), ETAPE_BENCH_JOBS (build jobs, default 2). The JSON output goes
# to <build dir>/bench_scalar*.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ETAPE_BENCH_BUILD_DIR:-$root/build-bench}
repetitions=${ETAPE_BENCH_REPETITIONS:-10}
jobs=${ETAPE_BENCH_JOBS:-2}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DETAPE_BUILD_BENCHMARKS=ON \
      -DETAPE_BUILD_TESTS=OFF -DETAPE_BUILD_EXAMPLES=OFF
cmake --build "$build" --target etape_bench_scalar -j"$jobs"

# ADOL-C writes tapes that outgrow their buffers to files in the working
# directory; run in the build directory, where that would be harmless (the
# benchmark sizes the buffers so that it does not happen, and aborts if it does).
cd "$build"
run() { # run <json output> [arguments...]
    local out=$1
    shift
    OPENBLAS_NUM_THREADS=1 ./bench/etape_bench_scalar \
        --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
        --benchmark_enable_random_interleaving=true \
        --benchmark_out="$out" --benchmark_out_format=json "$@"
}

if [ $# -gt 0 ]; then
    run "$build/bench_scalar.json" "$@"
    outputs=("$build/bench_scalar.json")
else
    run "$build/bench_scalar.json" --benchmark_filter=-/elu_sum_100000/
    run "$build/bench_scalar_large.json" --benchmark_filter=/elu_sum_100000/
    outputs=("$build/bench_scalar.json" "$build/bench_scalar_large.json")
fi

echo
python3 "$root/scripts/bench_ratios.py" "${outputs[@]}"
