#!/usr/bin/env bash
# Builds the simulation benchmark (etape_bench_sim) in Release, runs it and
# prints its ratio table (scripts/bench_sim_ratios.py).
#
#   scripts/bench_sim.sh                       # the whole suite
#   scripts/bench_sim.sh --benchmark_filter=X  # with these extra arguments
#
# ETAPE_BENCH_REPETITIONS (default 5) randomly interleaved repetitions of
# every benchmark, ETAPE_BENCH_MIN_TIME seconds each (default 0.5); the
# table takes medians. One thread: OPENBLAS_NUM_THREADS=1, OMP_NUM_THREADS=1.
# Environment: ETAPE_BENCH_BUILD_DIR (default build-bench), ETAPE_BENCH_JOBS
# (build jobs, default 2). The JSON output goes to <build dir>/bench_sim.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ETAPE_BENCH_BUILD_DIR:-$root/build-bench}
repetitions=${ETAPE_BENCH_REPETITIONS:-5}
min_time=${ETAPE_BENCH_MIN_TIME:-0.5}
jobs=${ETAPE_BENCH_JOBS:-2}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DETAPE_BUILD_BENCHMARKS=ON \
      -DETAPE_BUILD_TESTS=OFF -DETAPE_BUILD_EXAMPLES=OFF
cmake --build "$build" --target etape_bench_sim -j"$jobs"

echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uptime)" >&2
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$build/bench/etape_bench_sim" \
    --benchmark_repetitions="$repetitions" --benchmark_display_aggregates_only=true \
    --benchmark_enable_random_interleaving=true --benchmark_min_time="$min_time" \
    --benchmark_out="$build/bench_sim.json" --benchmark_out_format=json "$@"
echo
python3 "$root/scripts/bench_sim_ratios.py" "$build/bench_sim.json"
