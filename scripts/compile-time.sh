#!/usr/bin/env bash
# Times the compilation of each example, of the README's program and of each
# test file (Release flags, one translation unit each) with its compiler's
# peak memory, next to an empty program that only includes <cmath> and fmt
# as a baseline. Prints markdown tables for docs/compile-time.md.
#
#   scripts/compile-time.sh [examples|tests|all]   (default: all)
#
# Examples: median of 3 runs. Tests: one run each (they are long; the
# target is a bound, not a ranking). CXX picks the compiler (default g++).
# Without CMake's definitions the headers find xsimd and CBLAS themselves,
# as a user's `g++ -I include app.cpp` does.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
cxx=${CXX:-g++}
flags=(-std=c++20 -O2 -DNDEBUG -Iinclude -Itests -c -o /dev/null)
mpi_flags=(-DOMPI_SKIP_MPICXX=1 -isystem /usr/lib/x86_64-linux-gnu/openmpi/include)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <cmath>\n#include <fmt/format.h>\nint main() { return fmt::format("{}", std::exp(1.0)).size() > 0 ? 0 : 1; }\n' > "$tmp/baseline.cpp"
# the README's program: its first C++ block
awk '/^```cpp$/ { inside = 1; next } /^```$/ { if (inside) exit } inside' README.md > "$tmp/readme.cpp"

# "seconds peak-MiB" of one compilation of $1 (extra flags after it);
# stops the script, naming the file, when it does not compile
measure_once() {
    local file=$1
    shift
    if ! /usr/bin/time -f '%e %M' -o "$tmp/time" "$cxx" "${flags[@]}" "$@" "$file"; then
        echo "compile-time.sh: $file does not compile with these flags" >&2
        exit 1
    fi
    awk '{ printf "%.1f %d\n", $1, $2 / 1024 }' "$tmp/time"
}

# "seconds peak-MiB": the median of 3 runs' seconds, the largest peak
measure_median() {
    local runs=()
    for _ in 1 2 3; do
        runs+=("$(measure_once "$@")")
    done
    printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p | awk -v peak="$(printf '%s\n' "${runs[@]}" | awk '{ print $2 }' | sort -n | tail -1)" '{ print $1, peak }'
}

row() { # name, "seconds MiB"
    set -- "$1" $2
    echo "| $1 | $2 | $3 |"
}

if [ "$what" = examples ] || [ "$what" = all ]; then
    echo "| example | seconds (median of 3) | peak MiB |"
    echo "| --- | ---: | ---: |"
    row "baseline: \`<cmath>\` + fmt only" "$(measure_median "$tmp/baseline.cpp")"
    row "README.md's program" "$(measure_median "$tmp/readme.cpp")"
    for f in examples/*.cpp; do
        row "$f" "$(measure_median "$f")"
    done
    echo
fi

if [ "$what" = tests ] || [ "$what" = all ]; then
    echo "| test file | seconds | peak MiB |"
    echo "| --- | ---: | ---: |"
    for f in $(find tests -name '*.cpp' -not -path 'tests/build/*' | sort); do
        extra=()
        case $f in
        tests/mpi/*) [ -d /usr/lib/x86_64-linux-gnu/openmpi/include ] || continue; extra=("${mpi_flags[@]}") ;;
        tests/eigen/*) [ -d /usr/include/eigen3 ] || continue; extra=(-isystem /usr/include/eigen3) ;;
        tests/sim/checked/*) extra=(-DETAPE_CHECKED=1) ;; # belongs to the checked test program
        esac
        measured=$(measure_once "$f" "${extra[@]}") # set -e: a file that does not compile stops the script
        row "$f" "$measured"
    done
fi
