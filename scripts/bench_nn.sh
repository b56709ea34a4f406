#!/usr/bin/env bash
# Builds the network benchmark (etape_bench_nn) in Release, runs it and
# prints the table of median times per training step and their ratios
# (scripts/bench_nn_ratios.py).
#
#   scripts/bench_nn.sh                       # the whole suite (below)
#   scripts/bench_nn.sh --benchmark_filter=X  # one process, with these extra arguments
#
# The suite runs in several processes (ETAPE_BENCH_PROCESSES, default 2),
# each with ETAPE_BENCH_REPETITIONS (default 5) randomly interleaved
# repetitions of every benchmark; the table pools the repetitions of all
# processes and takes medians (see scripts/bench.sh for why). One thread
# everywhere: OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1, and the benchmark
# calls openblas_set_num_threads(1) and torch::set_num_threads(1) itself.
#
# Environment: ETAPE_BENCH_BUILD_DIR (default build-bench), ETAPE_BENCH_PROCESSES,
# ETAPE_BENCH_REPETITIONS, ETAPE_BENCH_MIN_TIME (seconds per repetition,
# default 0.5), ETAPE_BENCH_JOBS (build jobs, default 2). The JSON output
# (every repetition) goes to <build dir>/bench_nn*.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -m "${ETAPE_BENCH_BUILD_DIR:-$root/build-bench}")
processes=${ETAPE_BENCH_PROCESSES:-2}
repetitions=${ETAPE_BENCH_REPETITIONS:-5}
min_time=${ETAPE_BENCH_MIN_TIME:-0.5}
jobs=${ETAPE_BENCH_JOBS:-2}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DETAPE_BUILD_BENCHMARKS=ON \
      -DETAPE_BUILD_TESTS=OFF -DETAPE_BUILD_EXAMPLES=OFF
cmake --build "$build" --target etape_bench_nn -j"$jobs"

cd "$build"
rm -f "$build"/bench_nn*.json
outputs=()
run() { # run <json output> [arguments...]
    local out=$1
    shift
    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uptime)" >&2
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 ./bench/etape_bench_nn \
        --benchmark_repetitions="$repetitions" --benchmark_display_aggregates_only=true \
        --benchmark_enable_random_interleaving=true --benchmark_min_time="$min_time" \
        --benchmark_out="$out" --benchmark_out_format=json "$@"
    outputs+=("$out")
}

if [ $# -gt 0 ]; then
    run "$build/bench_nn.json" "$@"
else
    for p in $(seq 1 "$processes"); do
        run "$build/bench_nn.$p.json"
    done
fi

echo
python3 "$root/scripts/bench_nn_ratios.py" "${outputs[@]}"
