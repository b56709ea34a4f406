#!/usr/bin/env bash
# What the recording marks' checks cost a scalar recording, counted in
# instructions (repeatable, unlike time on a shared machine): each case of
# etape_bench_scalar, etape's implementation, one gradient, with the headers
# as they are and with the Release checks removed from a copy of them (each
# operand's test in the recording loop, and var's check at the gradient
# front ends). docs/tape.md, "What it costs", quotes it.
# Needs g++, python3 and valgrind. Usage: scripts/mark-cost.sh [case...]
set -euo pipefail
cd "$(dirname "$0")/.."
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(elu_mlp elu_sum_1000 logsumexp normal_lpdf matmul advection elu_sum_100000)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r include "$work/unchecked"
python3 - "$work/unchecked/etape/core" <<'PY'
import sys
core = sys.argv[1]
def patch(name, old, new):
    path = f"{core}/{name}"
    text = open(path).read()
    if text.count(old) != 1:
        sys.exit(f"mark-cost.sh: {name} no longer holds the check it removes:\n{old}")
    open(path, "w").write(text.replace(old, new))
patch("expression.hpp", """        if (word != mark_now) [[unlikely]] {
            const std::uint32_t mark = word & ~std::uint32_t{1};
            if (!owner->surely_holds(s, mark)) [[unlikely]]
                owner->require_held(s, mark);
        }""", "        (void)s;\n        (void)word;")
patch("var.hpp", "            return t.doubt(slot_, mark());", "            return 0;")
patch("var.hpp", """        } else if (!t.surely_holds(slot_, mark())) [[unlikely]] {
            t.require_held(slot_, mark());
        }""", "        }")
PY

# -march=x86-64-v3: valgrind runs no AVX-512
flags=(-std=c++20 -O3 -DNDEBUG -march=x86-64-v3 -Ibench/scalar)
for variant in checked unchecked; do
    headers=include
    [ $variant = unchecked ] && headers=$work/unchecked
    g++ "${flags[@]}" -I"$headers" bench/scalar/impl_etape.cpp bench/scalar/count_gradients.cpp -lfmt \
        -o "$work/count_$variant" &
done
wait

instructions() { # binary case times
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" "$3" 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,
}
per_gradient() { # binary case: the count of 11 gradients taken from that of 21, over 10
    local few many
    few=$(instructions "$1" "$2" 11)
    many=$(instructions "$1" "$2" 21)
    echo $(((many - few) / 10))
}
echo "| case | instructions per gradient | without the checks | ratio |"
echo "| --- | ---: | ---: | ---: |"
for c in "${cases[@]}"; do
    with=$(per_gradient "$work/count_checked" "$c")
    without=$(per_gradient "$work/count_unchecked" "$c")
    echo "| $c | $with | $without | $(python3 -c "print(f'{$with / $without:.3f}')") |"
done
