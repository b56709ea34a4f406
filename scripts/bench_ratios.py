#!/usr/bin/env python3
"""Ratios to Sacado Rad from Google Benchmark JSON output of etape_bench_scalar.

Benchmark names are scalar/<case>/<impl> (impl: plain, hand, etape, sacado,
adolc). For each case the script takes the median time of each impl over the
repetitions (the "median" aggregate when the run reported aggregates,
otherwise the median of the individual runs) and prints each impl's time
divided by Sacado's, with etape's target ratio where the team set one.

    scripts/bench_ratios.py build-bench/bench_scalar.json [--time cpu|real] [--markdown]

Exit status: 0, also when a target is missed (the table says so); 1 when the
file holds no scalar benchmark or no Sacado times.
"""

import argparse
import json
import statistics
import sys

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

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load_medians(path, time_key):
    """{(case, impl): median time in ns}, and the case order of the file."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    aggregated = {}
    samples = {}
    order = []
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        parts = name.split("/")
        if len(parts) != 3 or parts[0] != "scalar":
            continue
        _, case, impl = parts
        if case not in order:
            order.append(case)
        ns = float(b[time_key]) * UNIT_NS[b.get("time_unit", "ns")]
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                aggregated[(case, impl)] = ns
        elif b.get("error_occurred"):
            continue
        else:
            samples.setdefault((case, impl), []).append(ns)
    medians = {key: statistics.median(values) for key, values in samples.items()}
    medians.update(aggregated)  # the library's own median wins
    return medians, order, data.get("context", {})


def format_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", help="--benchmark_out file of etape_bench_scalar (JSON)")
    parser.add_argument("--time", choices=["cpu", "real"], default="cpu",
                        help="which time to compare (default: cpu, robust against other processes on the machine)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    medians, order, context = load_medians(args.json, "cpu_time" if args.time == "cpu" else "real_time")
    if not order:
        sys.exit(f"{args.json}: no scalar/<case>/<impl> benchmarks")
    if not any(impl == "sacado" for (_, impl) in medians):
        sys.exit(f"{args.json}: no Sacado times (was etape_bench_scalar built with Sacado?)")

    header = ["case", "sacado (median)"] + [f"{impl}/sacado" for impl in IMPLS] + ["etape target", "etape"]
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
        rows.append(row)

    print(f"# {args.time} time, median over repetitions; ratios are impl time / Sacado Rad time in the same run")
    if context:
        print(f"# {context.get('date', '?')}, {context.get('num_cpus', '?')} CPUs at {context.get('mhz_per_cpu', '?')} MHz, "
              f"load average {context.get('load_avg', '?')}")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
        print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
        for row in rows:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


if __name__ == "__main__":
    main()
