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
import statistics
import sys

from benchmark_json import coefficients_of_variation, format_time, print_contexts, print_table, repetitions

CASES = ["mlp_small", "mlp_large", "cnn", "lstm"]
ETAPE_OVER_HAND = {"mlp_small": 1.10, "mlp_large": 1.10}
FASTER_THAN_TORCH = {"cnn", "lstm"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("json", nargs="+", help="--benchmark_out files of etape_bench_nn (JSON)")
    parser.add_argument("--time", choices=["cpu", "real"], default="cpu",
                        help="which time to compare (default: cpu, robust against other processes on the machine)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    time_key = "cpu_time" if args.time == "cpu" else "real_time"
    contexts = []
    samples = repetitions(args.json, "nn", time_key, contexts)
    if not samples:
        sys.exit(f"{', '.join(args.json)}: no nn/<case>/<impl> benchmarks")
    median = {key: statistics.median(v) for key, v in samples.items()}
    cv = coefficients_of_variation(samples)

    print(f"# {args.time} time per training step; medians over all repetitions of {len(args.json)} file(s)")
    print_contexts(contexts)
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
