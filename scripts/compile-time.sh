#!/usr/bin/env bash
# Times the compilation of each example (Release flags, one translation unit,
# median of 3 runs) and of an empty program that only includes <cmath> and
# fmt, as a baseline. Prints a markdown table for docs/compile-time.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cxx=${CXX:-g++}
flags=(-std=c++20 -O2 -DNDEBUG -Iinclude -c -o /dev/null)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <cmath>\n#include <fmt/format.h>\nint main() { return fmt::format("{}", std::exp(1.0)).size() > 0 ? 0 : 1; }\n' > "$tmp/baseline.cpp"

median_seconds() {
    local times=()
    for _ in 1 2 3; do
        local start end
        start=$(date +%s.%N)
        "$cxx" "${flags[@]}" "$1"
        end=$(date +%s.%N)
        times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')")
    done
    printf '%s\n' "${times[@]}" | sort -n | sed -n 2p
}

echo "| translation unit | seconds (median of 3) |"
echo "| --- | --- |"
echo "| baseline: <cmath> + fmt only | $(median_seconds "$tmp/baseline.cpp") |"
for f in examples/*.cpp; do
    echo "| $f | $(median_seconds "$f") |"
done
