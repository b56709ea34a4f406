#!/usr/bin/env bash
# Where a build's compile time goes. As CMake's compiler launcher it runs
# each compilation and appends "seconds object-file" to the log named by
# ETAPE_COMPILE_LOG (default: compile-times.log in the directory CMake
# compiles from, i.e. one log per target folder); with --summary it prints
# the logged seconds per target, largest first, and their sum.
#
#   ETAPE_COMPILE_LOG=/tmp/release.log cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
#       -DCMAKE_CXX_COMPILER_LAUNCHER="$PWD/scripts/compile-log.sh"
#   ETAPE_COMPILE_LOG=/tmp/release.log cmake --build build -j2
#   scripts/compile-log.sh --summary /tmp/release.log
#
# The seconds are wall-clock per compilation: with -j2 on two cores their
# sum is about twice the build's wall time.
set -uo pipefail

if [ "${1:-}" = --summary ]; then
    awk '{
        target = $2
        sub(/\.dir\/.*/, "", target)  # CMakeFiles/etape_tests.dir/core/var.cpp.o -> CMakeFiles/etape_tests
        sub(/.*CMakeFiles\//, "", target)
        if (target ~ /^doc_/) target = "docs snippets"
        seconds[target] += $1
        total += $1
    } END {
        for (t in seconds) printf "%8.0f s  %s\n", seconds[t], t
        printf "%8.0f s  in all\n", total
    }' "$2" | sort -rn
    exit 0
fi

log=${ETAPE_COMPILE_LOG:-$PWD/compile-times.log}
start=$(date +%s.%N)
"$@"
status=$?
end=$(date +%s.%N)
object=
previous=
for argument in "$@"; do
    [ "$previous" = -o ] && object=$argument
    previous=$argument
done
echo "$(echo "$end - $start" | bc) $object" >> "$log"
exit $status
