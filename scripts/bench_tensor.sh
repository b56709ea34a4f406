#!/usr/bin/env bash
# Builds the tensor benchmark (etape_bench_tensor) in Release, runs it and
# prints its ratio tables (scripts/bench_tensor_ratios.py). How it runs,
# and its environment variables: scripts/bench_suite.sh.
#
#   scripts/bench_tensor.sh                       # the whole suite: 2 processes x 5 interleaved repetitions
#   scripts/bench_tensor.sh --benchmark_filter=X  # one process, with these extra arguments
exec "$(dirname "${BASH_SOURCE[0]}")/bench_suite.sh" tensor "$@"
