#!/usr/bin/env python3
"""Ratios to Sacado Rad from Google Benchmark JSON output of etape_bench_scalar.

    scripts/bench_ratios.py OUT.json [MORE.json ...] [--time cpu|real] [--markdown]

Benchmark names are scalar/<case>/<impl> (impl: plain, hand, etape, sacado,
adolc). For each case and impl the script pools the repetitions of every
file given (the processes of one scripts/bench.sh run) and takes the median;
files that hold only aggregates contribute their "median" aggregate. It
prints each impl's median divided by Sacado's, etape's target ratio where the
team set one, and the spread: the largest coefficient of variation of the
etape and Sacado samples.

Exit status: 0, also when a target is missed (the table says so); 1 when the
files hold no scalar benchmark or no Sacado times.
"""

import argparse
import statistics
import sys

from benchmark_json import coefficients_of_variation, entries, format_time, print_contexts, print_table

# Team targets: etape time / Sacado Rad time, same run.
ETAPE_TARGETS = {
    "elu_mlp": 0.38,
    "elu_sum_1000": 0.58,
    "elu_sum_100000": 0.20,
    "logsumexp": 0.65,
    "normal_lpdf": 0.23,
    "matmul": 0.36,
    "advection": 0.21,
}

IMPLS = ["plain", "hand", "etape", "adolc"]  # columns, each divided by sacado

# Row order (the order of the cases in bench/scalar/cases.hpp); other cases follow.
CASE_ORDER = ["elu_mlp", "elu_sum_1000", "elu_sum_100000", "logsumexp", "normal_lpdf", "matmul", "advection"]

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="+", help="--benchmark_out files of etape_bench_scalar (JSON)")
    parser.add_argument("--time", choices=["cpu", "real"], default="cpu",
                        help="which time to compare (default: cpu, robust against other processes on the machine)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    time_key = "cpu_time" if args.time == "cpu" else "real_time"
    samples, aggregate_medians, contexts = {}, {}, []
    for path in args.json:
        for case, impl, ns, b in entries(path, "scalar", time_key, contexts):
            if b.get("run_type") != "aggregate":
                samples.setdefault((case, impl), []).append(ns)
            elif b.get("aggregate_name") == "median":
                aggregate_medians.setdefault((case, impl), []).append(ns)
    pooled = {key: values for key, values in aggregate_medians.items() if key not in samples}
    pooled.update(samples)  # individual repetitions, where present, win over aggregates
    if not pooled:
        sys.exit(f"{', '.join(args.json)}: no scalar/<case>/<impl> benchmarks")
    medians = {key: statistics.median(values) for key, values in pooled.items()}
    spread = coefficients_of_variation(samples)
    if not any(impl == "sacado" for (_, impl) in medians):
        sys.exit(f"{', '.join(args.json)}: no Sacado times (was etape_bench_scalar built with Sacado?)")
    order = sorted({case for case, _ in medians},
                   key=lambda c: (CASE_ORDER.index(c) if c in CASE_ORDER else len(CASE_ORDER), c))

    header = (["case", "sacado (median)"] + [f"{impl}/sacado" for impl in IMPLS] +
              ["etape target", "etape", "samples", "max cv"])
    rows = []
    for case in order:
        sacado = medians.get((case, "sacado"))
        row = [case, format_time(sacado) if sacado else "-"]
        for impl in IMPLS:
            t = medians.get((case, impl))
            row.append(f"{t / sacado:.3f}" if t is not None and sacado else "-")
        target = ETAPE_TARGETS.get(case)
        etape = medians.get((case, "etape"))
        row.append(f"<= {target:.2f}" if target is not None else "-")
        if target is None or etape is None or not sacado:
            row.append("-")
        else:
            row.append("met" if etape / sacado <= target else "MISSED")
        row.append(str(len(pooled.get((case, "sacado"), []))))
        cvs = [spread[(case, impl)] for impl in ("etape", "sacado") if (case, impl) in spread]
        row.append(f"{100 * max(cvs):.1f}%" if cvs else "-")
        rows.append(row)

    print(f"# {args.time} time; each impl's median over all repetitions of {len(args.json)} file(s), "
          "divided by Sacado Rad's median; samples: repetitions pooled per impl")
    print_contexts(contexts)
    print_table(header, rows, args.markdown)

if __name__ == "__main__":
    main()
