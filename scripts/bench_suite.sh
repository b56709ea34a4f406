#!/usr/bin/env bash
# Builds one benchmark program in Release, runs it and prints its ratio
# tables: the common part of scripts/bench_tensor.sh and scripts/bench_nn.sh.
#
#   scripts/bench_suite.sh <name>                        # the whole suite (below)
#   scripts/bench_suite.sh <name> --benchmark_filter=X   # one process, with these extra arguments
#
# <name> is tensor or nn: the target etape_bench_<name>, whose tables
# scripts/bench_<name>_ratios.py prints. The suite runs in several
# processes (ETAPE_BENCH_PROCESSES, default 2), each with
# ETAPE_BENCH_REPETITIONS (default 5) randomly interleaved repetitions of
# every benchmark; the tables pool the repetitions of all processes and take
# medians (see scripts/bench.sh for why). One thread everywhere:
# OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1, and the benchmarks call
# torch::set_num_threads(1) themselves (etape_bench_nn also
# openblas_set_num_threads(1)).
#
# Environment: ETAPE_BENCH_BUILD_DIR (default build-bench), ETAPE_BENCH_PROCESSES,
# ETAPE_BENCH_REPETITIONS, ETAPE_BENCH_MIN_TIME (seconds per repetition,
# default 0.5), ETAPE_BENCH_JOBS (build jobs, default 2). The JSON output
# (every repetition) goes to <build dir>/bench_<name>*.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=${1:?"usage: $0 tensor|nn [benchmark arguments...]"}
shift
if [ ! -f "$root/scripts/bench_${name}_ratios.py" ]; then
    echo "$0: no benchmark suite '$name' (tensor or nn)" >&2
    exit 2
fi
build=$(realpath -m "${ETAPE_BENCH_BUILD_DIR:-$root/build-bench}")
processes=${ETAPE_BENCH_PROCESSES:-2}
repetitions=${ETAPE_BENCH_REPETITIONS:-5}
min_time=${ETAPE_BENCH_MIN_TIME:-0.5}
jobs=${ETAPE_BENCH_JOBS:-2}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DETAPE_BUILD_BENCHMARKS=ON \
      -DETAPE_BUILD_TESTS=OFF -DETAPE_BUILD_EXAMPLES=OFF
cmake --build "$build" --target "etape_bench_$name" -j"$jobs"

cd "$build"
rm -f "$build/bench_$name"*.json
outputs=()
run() { # run <json output> [arguments...]
    local out=$1
    shift
    echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uptime)" >&2
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "./bench/etape_bench_$name" \
        --benchmark_repetitions="$repetitions" --benchmark_display_aggregates_only=true \
        --benchmark_enable_random_interleaving=true --benchmark_min_time="$min_time" \
        --benchmark_out="$out" --benchmark_out_format=json "$@"
    outputs+=("$out")
}

if [ $# -gt 0 ]; then
    run "$build/bench_$name.json" "$@"
else
    for p in $(seq 1 "$processes"); do
        run "$build/bench_$name.$p.json"
    done
fi

echo
python3 "$root/scripts/bench_${name}_ratios.py" "${outputs[@]}"
