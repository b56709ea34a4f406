#!/usr/bin/env python3
"""Ratios to Sacado Rad from Google Benchmark JSON output of etape_bench_scalar.

Benchmark names are scalar/<case>/<impl> (impl: plain, hand, etape, sacado,
adolc). For each case the script takes the median time of each impl over the
repetitions (the "median" aggregate when the run reported aggregates,
otherwise the median of the individual runs) and prints each impl's time
divided by Sacado's, with etape's target ratio where the team set one.

    scripts/bench_ratios.py OUT.json [MORE.json ...] [--time cpu|real] [--markdown]

Several files (runs of different cases, e.g. the two processes of
scripts/bench.sh) are merged; each case's ratios come from one file, so
they are always ratios within one run.

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

# Row order (the order of the cases in bench/scalar/cases.hpp); other cases follow.
CASE_ORDER = ["elu_mlp", "elu_sum_1000", "elu_sum_100000", "logsumexp", "normal_lpdf", "matmul", "advection"]

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def load_medians(path, time_key):
    """{(case, impl): median time in ns}, and the case order of the file."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    aggregated = {}
    spread = {}
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
            elif b.get("aggregate_name") == "cv":
                spread[(case, impl)] = float(b[time_key])
        elif b.get("error_occurred"):
            continue
        else:
            samples.setdefault((case, impl), []).append(ns)
    medians = {key: statistics.median(values) for key, values in samples.items()}
    for key, values in samples.items():
        if len(values) > 1 and statistics.mean(values) > 0:
            spread[key] = statistics.stdev(values) / statistics.mean(values)
    medians.update(aggregated)  # the library's own median wins
    return medians, spread, order, data.get("context", {})


def format_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="+", help="--benchmark_out files of etape_bench_scalar (JSON)")
    parser.add_argument("--time", choices=["cpu", "real"], default="cpu",
                        help="which time to compare (default: cpu, robust against other processes on the machine)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    time_key = "cpu_time" if args.time == "cpu" else "real_time"
    medians, spread, order, contexts = {}, {}, [], []
    for path in args.json:
        m, s, o, context = load_medians(path, time_key)
        for case in o:
            if case in order:
                sys.exit(f"{path}: case {case} is also in an earlier file; ratios must come from one run")
        medians.update(m)
        spread.update(s)
        order += o
        contexts.append(context)
    if not order:
        sys.exit(f"{', '.join(args.json)}: no scalar/<case>/<impl> benchmarks")
    order.sort(key=lambda case: CASE_ORDER.index(case) if case in CASE_ORDER else len(CASE_ORDER))
    if not any(impl == "sacado" for (_, impl) in medians):
        sys.exit(f"{', '.join(args.json)}: no Sacado times (was etape_bench_scalar built with Sacado?)")

    header = ["case", "sacado (median)"] + [f"{impl}/sacado" for impl in IMPLS] + ["etape target", "etape", "max cv"]
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
        # Run-to-run spread: the largest coefficient of variation over the
        # repetitions among the case's etape and Sacado times.
        cvs = [spread[(case, impl)] for impl in ("etape", "sacado") if (case, impl) in spread]
        row.append(f"{100 * max(cvs):.1f}%" if cvs else "-")
        rows.append(row)

    print(f"# {args.time} time, median over repetitions; ratios are impl time / Sacado Rad time in the same run")
    for context in contexts:
        if context:
            load = ", ".join(f"{x:.2f}" for x in context.get("load_avg", []))
            print(f"# run of {context.get('date', '?')}: {context.get('num_cpus', '?')} CPUs at "
                  f"{context.get('mhz_per_cpu', '?')} MHz, load average {load or '?'}")
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
