#!/usr/bin/env bash
# Builds the data-parallel benchmark (etape_bench_mpi) in Release, runs it
# under mpirun on 1 rank and on ETAPE_BENCH_RANKS (default 2), one thread
# and one core per rank, and prints the table of docs/distributed.md
# (scripts/bench_mpi_table.py): step times, weak-scaling efficiency and the
# part of the exchange that overlap did not hide.
#
# Environment: ETAPE_BENCH_BUILD_DIR (default build-bench), ETAPE_BENCH_RANKS,
# ETAPE_BENCH_REPETITIONS (default 9), ETAPE_BENCH_JOBS (build jobs, default 2).
# The JSON output goes to <build dir>/bench_mpi.<label>.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath -m "${ETAPE_BENCH_BUILD_DIR:-$root/build-bench}")
ranks=${ETAPE_BENCH_RANKS:-2}
repetitions=${ETAPE_BENCH_REPETITIONS:-9}
jobs=${ETAPE_BENCH_JOBS:-2}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DETAPE_BUILD_BENCHMARKS=ON \
      -DETAPE_BUILD_TESTS=OFF -DETAPE_BUILD_EXAMPLES=OFF
cmake --build "$build" --target etape_bench_mpi -j"$jobs"

# Open MPI: consent to run as root (containers), more ranks than cores if asked
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
outputs=()
run() { # run <ranks> <label> [environment...]
    local n=$1 label=$2
    shift 2
    local out="$build/bench_mpi.$label.json"
    echo "# $label: $n rank(s), $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uptime)" >&2
    env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$@" mpirun -np "$n" --oversubscribe --bind-to core \
        "$build/bench/etape_bench_mpi" --benchmark_repetitions="$repetitions" \
        --benchmark_display_aggregates_only=true --benchmark_out="$out" --benchmark_out_format=json
    outputs+=("$label=$out")
}
run 1 "1 rank"
run "$ranks" "$ranks ranks"
# Open MPI's shared-memory transport copies large messages through the
# kernel (CMA, process_vm_readv) by default; without it, through its own
# shared buffers: measured both ways (docs/distributed.md)
run "$ranks" "$ranks ranks, no single copy" OMPI_MCA_btl_vader_single_copy_mechanism=none
# and with Open MPI's ring algorithm for the non-blocking allreduce as well
# (by default Open MPI chooses one by message size and number of ranks)
run "$ranks" "$ranks ranks, ring, no single copy" OMPI_MCA_btl_vader_single_copy_mechanism=none \
    OMPI_MCA_coll_libnbc_iallreduce_algorithm=1

echo
python3 "$root/scripts/bench_mpi_table.py" "${outputs[@]}"
