#!/usr/bin/env python3
"""The ratio table of etape_bench_nn, from its Google Benchmark JSON output.

    scripts/bench_nn_ratios.py OUT.json [MORE.json ...] [--time cpu|real] [--markdown]

Benchmark names are nn/<case>/<impl> (impl: hand, etape, torch). For each
case and impl the script pools the repetitions of every file given (the
processes of one scripts/bench_nn.sh run) and takes the median time per
training step; the ratios are of those medians.

Targets (issue 16): etape <= 1.10 x hand on mlp_small and mlp_large; etape
faster than torch (torch/etape > 1) on cnn and lstm.

Exit status: 0, also when a target is missed (the table says so); 1 when the
files hold no nn benchmark.
"""

import argparse
import json
import statistics
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
CASES = ["mlp_small", "mlp_large", "cnn", "lstm"]
ETAPE_OVER_HAND = {"mlp_small": 1.10, "mlp_large": 1.10}
FASTER_THAN_TORCH = {"cnn", "lstm"}


def load(path, time_key, samples, contexts):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    contexts.append(data.get("context", {}))
    for b in data.get("benchmarks", []):
        parts = b.get("run_name", b["name"]).split("/")
        if len(parts) != 3 or parts[0] != "nn" or b.get("error_occurred") or b.get("run_type") == "aggregate":
            continue
        samples.setdefault((parts[1], parts[2]), []).append(float(b[time_key]) * UNIT_NS[b.get("time_unit", "ns")])


def format_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def print_table(header, rows, markdown):
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
        print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
        for row in rows:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="+", help="--benchmark_out files of etape_bench_nn (JSON)")
    parser.add_argument("--time", choices=["cpu", "real"], default="cpu",
                        help="which time to compare (default: cpu, robust against other processes on the machine)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    time_key = "cpu_time" if args.time == "cpu" else "real_time"
    samples, contexts = {}, []
    for path in args.json:
        load(path, time_key, samples, contexts)
    if not samples:
        sys.exit(f"{', '.join(args.json)}: no nn/<case>/<impl> benchmarks")
    median = {key: statistics.median(v) for key, v in samples.items()}
    cv = {key: statistics.stdev(v) / statistics.mean(v) for key, v in samples.items() if len(v) > 1}

    print(f"# {args.time} time per training step; medians over all repetitions of {len(args.json)} file(s)")
    for context in contexts:
        if context:
            load_avg = ", ".join(f"{x:.2f}" for x in context.get("load_avg", []))
            print(f"# process of {context.get('date', '?')}: {context.get('num_cpus', '?')} CPUs at "
                  f"{context.get('mhz_per_cpu', '?')} MHz, load average {load_avg or '?'}")
    print()

    header = ["case", "hand", "etape", "torch", "etape/hand", "torch/hand", "torch/etape", "target", "status",
              "samples", "max cv"]
    rows = []
    cases = sorted({case for case, _ in samples}, key=lambda c: CASES.index(c) if c in CASES else len(CASES))
    for case in cases:
        hand, etape, torch = (median.get((case, impl)) for impl in ("hand", "etape", "torch"))
        target, status = "-", "-"
        if case in ETAPE_OVER_HAND:
            target = f"etape/hand <= {ETAPE_OVER_HAND[case]:.2f}"
            if hand and etape:
                status = "met" if etape / hand <= ETAPE_OVER_HAND[case] else "MISSED"
        elif case in FASTER_THAN_TORCH:
            target = "torch/etape > 1"
            if torch and etape:
                status = "met" if torch / etape > 1 else "MISSED"
        spreads = [cv[(case, impl)] for impl in ("hand", "etape", "torch") if (case, impl) in cv]
        rows.append([case] + [format_time(t) if t else "-" for t in (hand, etape, torch)] +
                    [f"{etape / hand:.2f}" if hand and etape else "-",
                     f"{torch / hand:.2f}" if hand and torch else "-",
                     f"{torch / etape:.2f}" if etape and torch else "-",
                     target, status, str(len(samples.get((case, "etape"), []))),
                     f"{100 * max(spreads):.1f}%" if spreads else "-"])
    print_table(header, rows, args.markdown)


if __name__ == "__main__":
    main()
