#!/usr/bin/env bash
# The activation lab's time per epoch against libtorch on the lab's digits
# MLP protocol (64-128-128-10, ELU, Adam 1e-3, batch 32), one thread on
# both sides: builds etape_bench_lab in Release, runs it with interleaved
# repetitions and prints each side's median epoch and the ratio.
#
#   bench/lab_vs_torch.sh              # time per epoch (about a minute)
#   bench/lab_vs_torch.sh --accuracy   # the protocol's test accuracies, etape's lab and libtorch (a few minutes)
#
# Needs Google Benchmark and, for the torch side, libtorch
# (scripts/install-bench-deps.sh installs both on Debian/Ubuntu).
# Environment: ETAPE_BENCH_BUILD_DIR (default build-bench),
# ETAPE_BENCH_REPETITIONS (default 7), ETAPE_BENCH_JOBS (default 2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -m "${ETAPE_BENCH_BUILD_DIR:-$root/build-bench}")
repetitions=${ETAPE_BENCH_REPETITIONS:-7}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DETAPE_BUILD_BENCHMARKS=ON \
      -DETAPE_BUILD_TESTS=OFF -DETAPE_BUILD_EXAMPLES=OFF > /dev/null
cmake --build "$build" --target etape_bench_lab -j"${ETAPE_BENCH_JOBS:-2}"

export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
if [ "${1:-}" = "--accuracy" ]; then
    exec "$build/bench/etape_bench_lab" --accuracy
fi

json="$build/bench_lab.json"
"$build/bench/etape_bench_lab" --benchmark_repetitions="$repetitions" --benchmark_enable_random_interleaving=true \
    --benchmark_out="$json" --benchmark_out_format=json > /dev/null
python3 - "$json" <<'PY'
import json, statistics, sys
runs = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") == "iteration":
        runs.setdefault(b["run_name"].removesuffix("/manual_time"), []).append(b["real_time"])
medians = {name: statistics.median(times) for name, times in runs.items()}
for name, ms in medians.items():
    print(f"{name:<24} {ms:7.2f} ms an epoch (median of {len(runs[name])})")
etape, torch = medians.get("lab/digits_mlp/etape"), medians.get("lab/digits_mlp/torch")
if etape and torch:
    print(f"libtorch / etape: {torch / etape:.2f}x")
else:
    print("no libtorch side: etape_bench_lab was built without libtorch")
PY
