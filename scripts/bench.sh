#!/usr/bin/env bash
# Builds the scalar benchmark in Release, runs it and prints the ratios to
# Sacado Rad (scripts/bench_ratios.py).
#
#   scripts/bench.sh                       # the whole suite (below)
#   scripts/bench.sh --benchmark_filter=X  # one process, with these extra arguments
#
# The suite runs in several processes (ETAPE_BENCH_PROCESSES, default 3),
# each with ETAPE_BENCH_REPETITIONS (default 5) randomly interleaved
# repetitions of every benchmark; the table pools the repetitions of all
# processes and takes medians. Why: on a small shared or virtual machine a
# process's timings shift as a whole from one process to the next (where
# its memory landed, which core, what else runs), by more than the
# differences measured here; interleaving spreads a burst of load over all
# the implementations, and several processes average the placement.
# Within each process, elu_sum_100000 runs in a process of its own: ADOL-C
# keeps one global store of locations that grows to the largest recording
# and never shrinks, and every later ADOL-C tape pays for its size.
#
# Environment: ETAPE_BENCH_BUILD_DIR (default build-bench), ETAPE_BENCH_PROCESSES,
# ETAPE_BENCH_REPETITIONS, ETAPE_BENCH_JOBS (build jobs, default 2). The JSON
# output (every repetition) goes to <build dir>/bench_scalar*.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ETAPE_BENCH_BUILD_DIR:-$root/build-bench}
processes=${ETAPE_BENCH_PROCESSES:-3}
repetitions=${ETAPE_BENCH_REPETITIONS:-5}
jobs=${ETAPE_BENCH_JOBS:-2}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DETAPE_BUILD_BENCHMARKS=ON \
      -DETAPE_BUILD_TESTS=OFF -DETAPE_BUILD_EXAMPLES=OFF
cmake --build "$build" --target etape_bench_scalar -j"$jobs"

# ADOL-C writes tapes that outgrow their buffers to files in the working
# directory; run in the build directory, where that would be harmless (the
# benchmark sizes the buffers so that it does not happen, and aborts if it does).
cd "$build"
rm -f "$build"/bench_scalar*.json
outputs=()
run() { # run <json output> [arguments...]
    local out=$1
    shift
    OPENBLAS_NUM_THREADS=1 ./bench/etape_bench_scalar \
        --benchmark_repetitions="$repetitions" --benchmark_display_aggregates_only=true \
        --benchmark_enable_random_interleaving=true \
        --benchmark_out="$out" --benchmark_out_format=json "$@"
    outputs+=("$out")
}

if [ $# -gt 0 ]; then
    run "$build/bench_scalar.json" "$@"
else
    for p in $(seq 1 "$processes"); do
        run "$build/bench_scalar.$p.json" --benchmark_filter=-/elu_sum_100000/
        run "$build/bench_scalar_large.$p.json" --benchmark_filter=/elu_sum_100000/
    done
fi

echo
python3 "$root/scripts/bench_ratios.py" "${outputs[@]}"
