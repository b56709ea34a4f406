#!/usr/bin/env bash
# What the recording marks' checks cost a scalar recording: etape's
# implementation of each case of etape_bench_scalar, built with the headers
# as they are and with the Release checks removed from a copy of them (each
# statement's test of its operands, and var's check at the gradient front
# ends). docs/tape.md, "What it costs", quotes both tables.
#
#   scripts/mark-cost.sh [case...]          instructions per gradient, counted
#                                           by callgrind (repeatable, unlike time
#                                           on a shared machine)
#   scripts/mark-cost.sh --time [rounds]    time per gradient: etape_bench_scalar
#                                           built both ways, run alternately on
#                                           core 1, `rounds` times (default 5)
#   scripts/mark-cost.sh --time [rounds] --against COMMIT
#                                           the same, against etape_bench_scalar
#                                           as it was at COMMIT (its headers and
#                                           bench/scalar), instead of the copy
#                                           without the checks
#
# Needs g++, python3, and valgrind (instructions) or Google Benchmark (time).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=instructions
rounds=5
against=
if [ "${1:-}" = --time ]; then
    mode=time
    shift
    if [ $# -gt 0 ] && [ "$1" != --against ]; then
        rounds=$1
        shift
    fi
    if [ "${1:-}" = --against ]; then
        against=${2:?"--against needs a commit"}
        shift 2
    fi
    [ $# -eq 0 ] || { echo "usage: scripts/mark-cost.sh [case...] | --time [rounds] [--against COMMIT]" >&2; exit 2; }
fi
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
patch("var.hpp", """        else if (mark_and_only_ != mark_now) [[unlikely]]
            check_on(t);""", "        else\n            (void)t, (void)mark_now;")
patch("var.hpp", "            return mark_and_only_ ^ t.recording_mark();", "            return (void)t, 0;")
patch("var.hpp", """        } else if (!t.surely_holds(slot_, mark())) [[unlikely]] {
            t.require_held(slot_, mark());
        }""", "        }")
PY

if [ $mode = instructions ]; then
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
    exit 0
fi

flags=(-std=c++20 -O3 -DNDEBUG -march=native)
sources=(bench/scalar/main.cpp bench/scalar/impl_reference.cpp bench/scalar/impl_etape.cpp
         bench/scalar/first_recording.cpp)
baseline_label=without
if [ -n "$against" ]; then
    mkdir "$work/against"
    git archive "$against" include bench/scalar | tar -x -C "$work/against"
    baseline_label="at $(git rev-parse --short "$against")"
fi
for variant in checked unchecked; do
    tree=.
    headers=include
    if [ $variant = unchecked ] && [ -n "$against" ]; then
        tree=$work/against
        headers=$work/against/include
    elif [ $variant = unchecked ]; then
        headers=$work/unchecked
    fi
    (cd "$tree" && g++ "${flags[@]}" -Ibench/scalar -I"$headers" "${sources[@]}" -lbenchmark -lpthread -lfmt \
        -o "$work/bench_$variant") &
done
wait
for round in $(seq "$rounds"); do
    for variant in checked unchecked; do
        taskset -c 1 "$work/bench_$variant" --benchmark_filter='scalar/.*/etape$' --benchmark_repetitions=5 \
            --benchmark_min_time=0.2 --benchmark_report_aggregates_only=true --benchmark_format=json \
            >"$work/$variant.$round.json" 2>"$work/$variant.$round.log" || { cat "$work/$variant.$round.log" >&2; exit 1; }
    done
done
python3 - "$work" "$rounds" "$baseline_label" <<'PY'
import json, statistics, sys
work, rounds, baseline_label = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def medians(variant, r):
    runs = json.load(open(f"{work}/{variant}.{r}.json"))["benchmarks"]
    return {b["run_name"].split("/")[1]: b["real_time"] for b in runs if b.get("aggregate_name") == "median"}
checked = [medians("checked", r) for r in range(1, rounds + 1)]
unchecked = [medians("unchecked", r) for r in range(1, rounds + 1)]
def shown(ns):
    return f"{ns / 1e6:.2f} ms" if ns >= 1e6 else f"{ns / 1e3:.1f} us"
print(f"| case | with the checks | {baseline_label} | each round's ratio | median ratio |")
print("| --- | ---: | ---: | --- | ---: |")
for case in checked[0]:
    ratios = [c[case] / u[case] for c, u in zip(checked, unchecked)]
    print(f"| {case} | {shown(statistics.median(c[case] for c in checked))} | "
          f"{shown(statistics.median(u[case] for u in unchecked))} | "
          f"{', '.join(f'{x:.2f}' for x in ratios)} | {statistics.median(ratios):.3f} |")
PY
