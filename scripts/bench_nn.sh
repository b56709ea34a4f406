#!/usr/bin/env bash
# Builds the network benchmark (etape_bench_nn) in Release, runs it and
# prints the table of median times per training step and their ratios
# (scripts/bench_nn_ratios.py). How it runs, and its environment
# variables: scripts/bench_suite.sh.
#
#   scripts/bench_nn.sh                       # the whole suite: 2 processes x 5 interleaved repetitions
#   scripts/bench_nn.sh --benchmark_filter=X  # one process, with these extra arguments
exec "$(dirname "${BASH_SOURCE[0]}")/bench_suite.sh" nn "$@"
